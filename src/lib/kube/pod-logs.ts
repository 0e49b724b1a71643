import type {IncomingMessage} from 'node:http'

import type {RunContext} from '../context.js'
import {formatDuration} from '../duration.js'
import {MeshdbgError} from '../errors.js'
import {isConnectionReset, retryAfterMs, retryIdempotent} from './api-retry.js'
import {openKube} from './index.js'
import {snapshotReplayOf} from '../snapshot/replay.js'
import {USER_AGENT} from './user-agent.js'
import {DEFAULT_MAX_BYTES} from '../limits.js'

/**
 * A container's log through the Kubernetes API (`GET /api/v1/namespaces/<ns>/pods/<pod>/log`),
 * as `kubectl logs` reads it: with the kubeconfig's credentials and TLS settings (client-node's
 * applyToHTTPSOptions, on the session the command already has), no client-node import here.
 */

export interface PodLogOptions {
  container: string
  /** Keep the stream open for new lines (`kubectl logs -f`). */
  follow: boolean
  sinceSeconds?: number
  tailLines?: number
  /** Prefix each line with the kubelet's RFC3339 timestamp (`kubectl logs --timestamps`). */
  timestamps?: boolean
  /**
   * Ends the stream (follow mode: Ctrl-C, or the command ending). Without follow the command's
   * deadline (ctx.signal) bounds the whole read; with follow it bounds only the wait for the answer.
   */
  stop?: AbortSignal
}

const MAX_ERROR_BODY = 64 * 1024

/** An open log stream: its chunks, until the container's log ends (or forever with follow). */
export interface PodLogStream extends AsyncIterable<Buffer> {
  readonly pod: {name: string; namespace: string}
  readonly container: string
}

/**
 * Opens one container's log. Resolves once the API server answered 200; every other answer
 * becomes a one-line error: no such container or not started (exit 3), pod gone (3), forbidden
 * (4), other statuses (4), unreachable (4), deadline (5). Iterating after `stop` ends quietly.
 */
export async function openPodLog(ctx: RunContext, pod: {name: string; namespace: string}, options: PodLogOptions): Promise<PodLogStream> {
  const replay = snapshotReplayOf(ctx)
  if (replay) return replayedLog(pod, options.container, replay.podLog(pod, options.container, options))
  const session = await openKube(ctx)
  const cluster = session.kubeConfig.getCurrentCluster()
  if (!cluster) throw new MeshdbgError('usage', 'no cluster in the current kubeconfig context')
  const query = new URLSearchParams({container: options.container})
  if (options.follow) query.set('follow', 'true')
  if (options.sinceSeconds !== undefined) query.set('sinceSeconds', String(Math.max(1, Math.ceil(options.sinceSeconds))))
  if (options.tailLines !== undefined) query.set('tailLines', String(options.tailLines))
  if (options.timestamps) query.set('timestamps', 'true')
  const url = new URL(`${cluster.server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/log?${query}`)
  const what = `the log of container "${options.container}" in pod ${pod.name}.${pod.namespace}`

  // The request's own signal: the stop signal always, the deadline until the answer (follow) or
  // throughout. The listeners go on linked signals of this stream's own: with more than 10 pods,
  // listeners on the shared ones would make Node print a MaxListenersExceededWarning.
  const request = new AbortController()
  const stopLink = options.stop ? AbortSignal.any([options.stop]) : undefined
  const deadlineLink = AbortSignal.any([ctx.signal])
  const abortWith = (signal: AbortSignal) => () => request.abort(signal.reason)
  const onStop = stopLink ? abortWith(stopLink) : undefined
  const onDeadline = abortWith(deadlineLink)
  // Stopped (Ctrl-C) before the API server answered: nothing to show, and not a timeout.
  const stopped = (): PodLogStream => ({pod, container: options.container, async *[Symbol.asyncIterator]() {}})
  if (options.stop?.aborted) return stopped()
  if (ctx.signal.aborted) throw deadlineError(ctx, what)
  if (onStop) stopLink!.addEventListener('abort', onStop, {once: true})
  deadlineLink.addEventListener('abort', onDeadline, {once: true})
  const detachDeadline = () => deadlineLink.removeEventListener('abort', onDeadline)
  const detachAll = () => {
    detachDeadline()
    if (onStop) stopLink!.removeEventListener('abort', onStop)
  }

  const httpOptions: Record<string, unknown> = {}
  await session.kubeConfig.applyToHTTPSOptions(httpOptions as never)
  const {request: send} = url.protocol === 'https:' ? await import('node:https') : await import('node:http')
  const headers = {...(httpOptions.headers as Record<string, string> | undefined), Accept: '*/*', 'User-Agent': USER_AGENT}
  const attempt = async () => {
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, {...httpOptions, method: 'GET', headers, signal: request.signal}, resolve)
      req.once('error', reject)
      req.end()
    })
    if (answer.statusCode !== 429) return answer
    answer.resume()
    throw new Throttled(answer.headers['retry-after'])
  }
  let response: IncomingMessage
  try {
    // Opening a log is a GET: a 429 or a reset before the answer is tried again.
    response = await retryIdempotent(request.signal, attempt, (error) =>
      error instanceof Throttled ? {kind: 'throttled', retryAfterMs: retryAfterMs(error.retryAfter)} : isConnectionReset(error) ? {kind: 'reset'} : undefined,
    )
  } catch (error) {
    detachAll()
    if (options.stop?.aborted) return stopped()
    if (request.signal.aborted) throw deadlineError(ctx, what)
    if (error instanceof Throttled) throw statusError(429, '', what, pod, options.container, session.contextName)
    const code = (error as {code?: string}).code
    throw new MeshdbgError('connection', `cannot reach the Kubernetes API server at ${cluster.server} to read ${what}${code ? ` (${code})` : `: ${(error as Error).message}`}`, {
      hint: `check the cluster of context "${session.contextName}" is up and reachable`,
    })
  }
  if (response.statusCode !== 200) {
    const body = await readSome(response)
    detachAll()
    throw statusError(response.statusCode ?? 0, body, what, pod, options.container, session.contextName)
  }
  if (options.follow) detachDeadline()
  response.once('close', detachAll)

  return {
    pod,
    container: options.container,
    async *[Symbol.asyncIterator]() {
      let received = 0
      try {
        for await (const chunk of response) {
          received += (chunk as Buffer).length
          // A finished log is kept whole to merge pods by time, so the read cap stops an endless one;
          // a followed log is streamed and never held.
          if (!options.follow && received > DEFAULT_MAX_BYTES) {
            throw new MeshdbgError('bad-data', `${what}: the API server sent more than ${DEFAULT_MAX_BYTES / 1024 / 1024} MiB; refusing to read more`, {hint: 'narrow it with --since or --tail'})
          }
          yield chunk as Buffer
        }
      } catch (error) {
        if (error instanceof MeshdbgError) throw error
        if (options.stop?.aborted) return
        if (ctx.signal.aborted && !options.follow) throw deadlineError(ctx, what, received)
        throw new MeshdbgError('connection', `${what}: the stream broke after ${received} bytes (${(error as Error).message})`)
      } finally {
        response.destroy()
        detachAll()
      }
    },
  }
}

/** A recorded log as a finished stream (replay never follows: the snapshot holds no newer lines). */
function replayedLog(pod: {name: string; namespace: string}, container: string, text: string): PodLogStream {
  return {
    pod,
    container,
    async *[Symbol.asyncIterator]() {
      if (text !== '') yield Buffer.from(text)
    },
  }
}

/** A 429 answer, to be retried after Retry-After. */
class Throttled extends Error {
  constructor(readonly retryAfter: string | string[] | undefined) {
    super('HTTP 429')
  }
}

function deadlineError(ctx: RunContext, what: string, received = 0): MeshdbgError {
  return new MeshdbgError('timeout', `timed out after ${formatDuration(ctx.timeoutMs)} reading ${what}${received > 0 ? ` (${received} bytes received)` : ''}`, {
    hint: 'raise --timeout, or narrow it with --since/--tail',
  })
}

async function readSome(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of response) {
      if (size < MAX_ERROR_BODY) chunks.push(chunk as Buffer)
      size += (chunk as Buffer).length
    }
  } catch {
    // A partial error body is still worth quoting.
  }
  return Buffer.concat(chunks).toString('utf8')
}

function statusError(status: number, body: string, what: string, pod: {name: string; namespace: string}, container: string, contextName: string): MeshdbgError {
  let message = body.trim()
  try {
    const parsed = JSON.parse(body) as {message?: unknown}
    if (typeof parsed.message === 'string') message = parsed.message
  } catch {
    message = message.split('\n')[0] ?? ''
  }
  const detail = message ? `: ${message.slice(0, 300)}` : ''
  switch (status) {
    case 400:
      if (/is not valid for pod|not found|choose one of/i.test(message)) {
        return new MeshdbgError('not-found', `pod ${pod.name}.${pod.namespace} has no container "${container}"${detail}`, {hint: 'pick the proxy container with -c'})
      }
      if (/waiting to start|not running|ContainerCreating|PodInitializing/i.test(message)) {
        return new MeshdbgError('not-found', `container "${container}" in pod ${pod.name}.${pod.namespace} is not running${detail}`)
      }
      return new MeshdbgError('connection', `the API server refused to read ${what} (400)${detail}`)
    case 401:
      return new MeshdbgError('connection', `the Kubernetes API server rejected the credentials of context "${contextName}" (401 Unauthorized)`, {hint: 'log in again or refresh the kubeconfig token'})
    case 403:
      return new MeshdbgError('forbidden', `forbidden to read ${what}${detail}`, {hint: `your Kubernetes user needs the "get" verb on "pods/log" in namespace "${pod.namespace}"`})
    case 404:
      return new MeshdbgError('not-found', `pod ${pod.name}.${pod.namespace} not found when reading its log${detail}`)
    default:
      return new MeshdbgError('connection', `Kubernetes API error ${status} reading ${what}${detail}`)
  }
}
