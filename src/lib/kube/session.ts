import type {AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig} from '@kubernetes/client-node'
// Deep import, like KubeConfig in kubeconfig.ts: the index would load the generated API.
import {Observable} from '@kubernetes/client-node/dist/gen/rxjsStub.js'
import {Agent, ProxyAgent, request, type Dispatcher} from 'undici'

import type {RunContext} from '../context.js'
import {MeshdbgError} from '../errors.js'
import {DEFAULT_MAX_BYTES} from '../limits.js'
import {requestSignal} from '../transport/http.js'
import {snapshotReplayOf} from '../snapshot/replay.js'
import {replaySession} from '../snapshot/replay-session.js'
import {socksConnector} from '../transport/socks.js'
import {isConnectionReset, retryAfterMs, retryIdempotent} from './api-retry.js'
import {loadKubeconfig} from './kubeconfig.js'
import {USER_AGENT} from './user-agent.js'

/** What one command shares for all its Kubernetes calls (created once, owned by ctx.scope). */
export interface KubeSession {
  readonly kubeConfig: KubeConfig
  readonly contextName: string
  /** -n, else the context's namespace, else "default". */
  readonly namespace: string
  readonly server: string
  /**
   * client-node API clients. Call `loadClients()` first (the `openKube` and `callKube` exported by
   * src/lib/kube/index.ts do): they are a separate, heavier chunk that most commands never need.
   */
  core(): CoreV1Api
  apps(): AppsV1Api
  batch(): BatchV1Api
  loadClients(): Promise<void>
  /** A GET of an API path (`/api/v1/...`) with the kubeconfig's credentials, parsed as JSON. */
  getJson<T>(path: string): Promise<T>
  /** A write (POST to create, PUT to replace) of a JSON object; never retried (`meshdbg demo` applies fixes with it). */
  sendJson<T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<T>
  /** Per-call options for client-node API methods: ties the call to the command's deadline. */
  callOptions(): ApiCallOptions
}

// client-node's per-call configuration: middleware that hands the deadline's signal to fetch.
type ApiCallOptions = Parameters<CoreV1Api['readNamespacedPod']>[1]

const SESSION = Symbol.for('meshdbg.kube.session')

/**
 * Loads the kubeconfig and creates API clients on first use in a command. The result is cached in
 * the command's scope, so every helper of one command shares one config and one set of clients.
 */
export function openKube(ctx: RunContext): KubeSession {
  return ctx.scope.memo(SESSION, () => createSession(ctx))
}

function createSession(ctx: RunContext): KubeSession {
  const replay = snapshotReplayOf(ctx)
  if (replay) return replaySession(ctx, replay)
  const loaded = loadKubeconfig({kubeconfig: ctx.kubeconfig, context: ctx.context, namespace: ctx.namespace, impersonate: ctx.impersonate})
  const lazily = <T>(create: () => T): (() => T) => {
    let value: T | undefined
    return () => (value ??= create())
  }
  let restPromise: ReturnType<typeof restTransport> | undefined
  const transport = () => (restPromise ??= restTransport(loaded.kubeConfig, ctx.timeoutMs))
  // API connections belong to the command: without this, keep-alive sockets hold the process
  // open after the command is done.
  ctx.scope.defer(async () => {
    if (restPromise) await (await restPromise.catch(() => undefined))?.dispatcher.destroy().catch(() => {})
  })
  // The object-parameter API runs per-call middleware as client-node's Observable stubs. Its
  // calls go through the same dispatcher as getJson (one connection pool, the response size cap,
  // the proxy), under the deadline, with meshdbg's User-Agent.
  const requestMiddleware = {
    pre: (request: {setSignal(signal: AbortSignal): void; setDispatcher(dispatcher: Dispatcher): void; setHeaderParam(name: string, value: string): void}) => {
      request.setSignal(requestSignal(ctx.signal))
      request.setHeaderParam('User-Agent', USER_AGENT)
      return new Observable(
        transport().then(({dispatcher}) => {
          request.setDispatcher(dispatcher)
          return request
        }),
      )
    },
    post: <R>(response: R) => new Observable(Promise.resolve(response)),
  }
  /** One REST call's body as text; an answer of 400 or more is an ApiStatusError (Status body kept). */
  const apiText = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<string> => {
    const {headers, dispatcher} = await transport()
    const response = await request(loaded.server + path, {
      method,
      headers: {...headers, accept: 'application/json', ...(body === undefined ? {} : {'content-type': 'application/json'})},
      ...(body === undefined ? {} : {body: JSON.stringify(body)}),
      dispatcher,
      signal: requestSignal(ctx.signal),
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    })
    const text = await response.body.text()
    if (response.statusCode >= 400) throw new ApiStatusError(response.statusCode, text, response.headers['retry-after'])
    return text
  }
  let clients: typeof import('./api-clients.js') | undefined
  const loadedClients = () => {
    if (!clients) throw new MeshdbgError('internal', 'Kubernetes API clients used before KubeSession.loadClients()')
    return clients
  }
  return {
    kubeConfig: loaded.kubeConfig,
    contextName: loaded.contextName,
    namespace: loaded.namespace,
    server: loaded.server,
    core: lazily(() => loaded.kubeConfig.makeApiClient(loadedClients().CoreV1Api)),
    apps: lazily(() => loaded.kubeConfig.makeApiClient(loadedClients().AppsV1Api)),
    batch: lazily(() => loaded.kubeConfig.makeApiClient(loadedClients().BatchV1Api)),
    loadClients: async () => {
      clients ??= await import('./api-clients.js')
    },
    getJson: async <T>(path: string): Promise<T> => {
      const text = await retryIdempotent(ctx.signal, () => apiText('GET', path), (error) => {
        if (error instanceof ApiStatusError) return error.code === 429 ? {kind: 'throttled', retryAfterMs: retryAfterMs(error.retryAfter)} : undefined
        return isConnectionReset(error) ? {kind: 'reset'} : undefined
      })
      return JSON.parse(text) as T
    },
    // Writes are not retried: a create or replace may have landed before the connection dropped.
    sendJson: async <T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> => JSON.parse(await apiText(method, path, body)) as T,
    callOptions: () => ({middleware: [requestMiddleware], middlewareMergeStrategy: 'append'}) as unknown as ApiCallOptions,
  }
}

/** An API error answer, shaped like client-node's ApiException (code, raw Status body). */
class ApiStatusError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
    readonly retryAfter?: string | string[],
  ) {
    super(`HTTP ${code}`)
  }
}

/**
 * Headers and an undici dispatcher from the kubeconfig, as client-node applies them to its own
 * requests: bearer tokens (also from exec plugins and auth providers), basic auth, impersonation,
 * client certificates, CA, skip-verify, TLS server name and the proxy (proxy-url or the
 * environment, see kubeconfig.ts: http(s):// or socks5://). Answers above 256 MiB (the admin
 * path's cap) fail as soon as they cross it: an endless body must not eat the machine's memory.
 */
async function restTransport(kubeConfig: KubeConfig, timeoutMs: number): Promise<{headers: Record<string, string>; dispatcher: Dispatcher}> {
  const options: {headers?: Record<string, string | string[]>; auth?: string; ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string} = {}
  await kubeConfig.applyToHTTPSOptions(options as Parameters<KubeConfig['applyToHTTPSOptions']>[0])
  const headers: Record<string, string> = {'User-Agent': USER_AGENT}
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
  if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`
  const tls = {
    ...(options.ca ? {ca: options.ca} : {}),
    ...(options.cert ? {cert: options.cert} : {}),
    ...(options.key ? {key: options.key} : {}),
    ...(options.rejectUnauthorized === undefined ? {} : {rejectUnauthorized: options.rejectUnauthorized}),
    ...(options.servername ? {servername: options.servername} : {}),
  }
  const proxyUrl = kubeConfig.getCurrentCluster()?.proxyUrl
  const limits = {connections: 4, maxResponseSize: DEFAULT_MAX_BYTES}
  let dispatcher: Dispatcher
  if (proxyUrl && /^socks5h?:/i.test(proxyUrl)) dispatcher = new Agent({...limits, connect: socksConnector(proxyUrl, tls, timeoutMs)})
  else if (proxyUrl) dispatcher = new ProxyAgent({...limits, uri: proxyUrl, requestTls: tls})
  else dispatcher = new Agent({...limits, connect: tls})
  return {headers, dispatcher}
}

/**
 * Runs one API call under the command's deadline and turns client-node's failures into one-line
 * errors: `what` names the object ("deployment "x" in namespace "y"").
 */
export async function callApi<T>(ctx: RunContext, session: KubeSession, what: string, call: () => Promise<T>): Promise<T> {
  if (ctx.signal.aborted) throw apiError(ctx, session, what, ctx.signal.reason)
  try {
    return await call()
  } catch (error) {
    throw apiError(ctx, session, what, error)
  }
}

function abortError(ctx: RunContext): MeshdbgError {
  const reason = ctx.signal.reason
  return reason instanceof MeshdbgError ? reason : new MeshdbgError('timeout', `timed out after ${ctx.timeoutMs}ms (raise --timeout)`)
}

export function apiError(ctx: RunContext, session: KubeSession, what: string, error: unknown): MeshdbgError {
  if (ctx.signal.aborted) {
    const reason = abortError(ctx)
    return new MeshdbgError('timeout', `${reason.message.replace(/ \(raise --timeout\)$/, '')} waiting for the Kubernetes API (${what})`, {hint: 'raise --timeout'})
  }
  if (error instanceof MeshdbgError) return error
  const code = (error as {code?: unknown}).code
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE' || (error as {cause?: {code?: unknown}}).cause?.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new MeshdbgError('bad-data', `the Kubernetes API server's answer for ${what} is larger than ${DEFAULT_MAX_BYTES / 1024 / 1024} MiB; refusing to read it`, {
      hint: 'an API server (or a proxy in front of it) sent an endless or huge body',
    })
  }
  if (typeof code === 'number') {
    const status = statusMessage((error as {body?: unknown}).body)
    switch (code) {
      case 404:
        return new MeshdbgError('not-found', `${what} not found`)
      case 401:
        return new MeshdbgError('connection', `the Kubernetes API server rejected the credentials of context "${session.contextName}" (401 Unauthorized)`, {
          hint: 'log in again or refresh the kubeconfig token',
        })
      case 403:
        return new MeshdbgError('forbidden', `forbidden to read ${what}${status ? `: ${status}` : ''}`)
      default:
        return new MeshdbgError('connection', `Kubernetes API error ${code} reading ${what}${status ? `: ${status}` : ''}`)
    }
  }
  const cause = (error as {cause?: {code?: string; message?: string}}).cause
  const causeCode = cause?.code ?? (error as {code?: string}).code
  if (causeCode && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|UND_ERR_\w+)$/.test(causeCode)) {
    return new MeshdbgError('connection', `cannot reach the Kubernetes API server at ${session.server} (${causeCode})`, {
      hint: `check the cluster of context "${session.contextName}" is up and reachable`,
    })
  }
  if (causeCode && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(causeCode)) {
    return new MeshdbgError('connection', `TLS error talking to the Kubernetes API server at ${session.server}: ${cause?.message ?? causeCode}`)
  }
  const message = firstLine(cause?.message ?? (error as Error)?.message ?? String(error))
  return new MeshdbgError('connection', `Kubernetes API request failed (${what}): ${message}`)
}

/** The `message` of a Kubernetes Status body (client-node 2.x gives the raw JSON string). */
export function statusMessage(body: unknown): string | undefined {
  let value: unknown = body
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body)
    } catch {
      return body.trim() === '' ? undefined : firstLine(body).slice(0, 300)
    }
  }
  if (value && typeof value === 'object' && typeof (value as {message?: unknown}).message === 'string') {
    return (value as {message: string}).message
  }
  return undefined
}

function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim() !== '') ?? text).trim()
}
