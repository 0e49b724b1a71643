import type {RunContext} from '../context.js'
import {formatDuration} from '../duration.js'
import {MeshdbgError} from '../errors.js'
import {DEFAULT_MAX_BYTES} from '../limits.js'
import {looksCutOffJson, safeRequestPath, TransportError, type HttpMethod, type TransportFailure} from '../transport/http.js'
import type {BodyBuffers} from '../transport/http1.js'
import {snapshotReplayOf} from '../snapshot/replay.js'
import {podForward, type ForwardFailure, type PodRef, TunnelError} from './port-forward.js'
import {openKube} from './session.js'

export interface FetchFromPodOptions {
  method?: HttpMethod
  /** Refuse bodies larger than this (default 256 MiB). */
  maxBytes?: number
  headers?: Record<string, string>
  /** Statuses other than 200 that the caller handles itself ('any': every status). */
  acceptStatus?: readonly number[] | 'any'
  /** Replaces the generic hint when nothing listens on the port inside the pod. */
  refusedHint?: string
  /** Where a body of declared length is read into (live answers). */
  bodyBuffer?: BodyBuffers
}

export interface PodHttpResponse {
  status: number
  text: string
  /** The body as received (live answers): a reader that scans JSON bytes never decodes it whole. */
  bytes?: Buffer
}

/**
 * A live answer whose text is decoded on first read. `bytes` is not enumerable: callers that
 * spread or serialise an answer (`{istiod, ...response}`) get status and text, as before.
 */
function answerOf(status: number, bytes: Buffer): PodHttpResponse {
  let text: string | undefined
  const answer: PodHttpResponse = {
    status,
    get text(): string {
      return (text ??= bytes.toString('utf8'))
    },
  }
  Object.defineProperty(answer, 'bytes', {value: bytes, enumerable: false})
  return answer
}

/**
 * An HTTP request to a port inside a pod, through a port-forward shared by the command. Every
 * failure becomes a one-line MeshdbgError with its exit code: forbidden (4), pod gone (3), nothing
 * listening (4), stream lost (4), deadline (5), non-200 (4), truncated (6).
 */
export async function fetchFromPod(ctx: RunContext, pod: PodRef, port: number, path: string, options: FetchFromPodOptions = {}): Promise<PodHttpResponse> {
  const method = options.method ?? 'GET'
  const requestPath = safeRequestPath(method, path)
  const label = `${pod.name}.${pod.namespace}`
  const what = `${method} ${requestPath.split('?')[0]} on pod ${label} port ${port}`
  if (ctx.signal.aborted) throw timeoutError(ctx, what, 0)
  const replay = snapshotReplayOf(ctx)
  if (replay) return acceptStatus(what, replay.podAnswer(pod, port, method, requestPath), options)
  const forward = await podForward(ctx, pod, port)
  let response
  for (let attempt = 1; response === undefined; attempt++) {
    const failuresBefore = forward.failureCount
    try {
      response = await forward.request({
        path: requestPath,
        method,
        headers: options.headers,
        signal: forward.requestSignal(ctx.signal),
        maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
        bodyBuffer: options.bodyBuffer,
      })
    } catch (error) {
      if (!(error instanceof TransportError)) throw error
      // The tunnel's own error names what happened to it; failing that (the request failed for a
      // reason of its own), the forward's most recent failure during this request.
      const tunnelFailure = error.source instanceof TunnelError ? error.source.failure : forward.failureCount > failuresBefore ? forward.lastFailure : undefined
      // A kept-alive tunnel that ended cleanly as the request went out (the pod's server closed an
      // idle connection while this process was busy): nothing was answered, so a GET is sent
      // once more, on a new tunnel. Requests queue on one tunnel per pod port, which makes this
      // race likelier than with a tunnel per request.
      const unanswered = error.failure.kind === 'socket' && error.failure.phase === 'headers' && error.failure.received === 0
      if (attempt === 1 && method === 'GET' && unanswered && tunnelFailure === undefined && !ctx.signal.aborted) continue
      throw describeFailure(ctx, {pod, label, port, what, options}, error.failure, tunnelFailure)
    }
  }
  const answer = answerOf(response.status, response.body)
  acceptStatus(what, answer, options)
  const contentType = response.headers['content-type']
  if (looksCutOffJson(Array.isArray(contentType) ? contentType[0] : contentType, response.body)) {
    throw new MeshdbgError('bad-data', `${what}: the JSON response stops after ${response.body.length} bytes (truncated)`, {
      hint: 'the proxy or the connection cut it short; retry, and raise --timeout if the dump is large',
    })
  }
  return answer
}

/** The answer when its status is 200 or one the caller handles; else a one-line error (exit 4). */
function acceptStatus(what: string, response: PodHttpResponse, options: FetchFromPodOptions): PodHttpResponse {
  const accepted = response.status === 200 || options.acceptStatus === 'any' || (options.acceptStatus ?? []).includes(response.status)
  if (!accepted) {
    const firstLine = response.text.split('\n').find((line) => line.trim() !== '')?.trim().slice(0, 200)
    throw new MeshdbgError('connection', `${what} returned HTTP ${response.status}${firstLine ? `: ${firstLine}` : ''}`)
  }
  return response
}

interface FailureContext {
  pod: PodRef
  label: string
  port: number
  what: string
  options: FetchFromPodOptions
}

function timeoutError(ctx: RunContext, what: string, received: number): MeshdbgError {
  const progress = received > 0 ? ` (${received} bytes received)` : ''
  return new MeshdbgError('timeout', `timed out after ${formatDuration(ctx.timeoutMs)} waiting for ${what}${progress}`, {hint: 'raise --timeout'})
}

function describeFailure(ctx: RunContext, at: FailureContext, failure: TransportFailure, tunnel: ForwardFailure | undefined): MeshdbgError {
  if (failure.kind === 'aborted' || failure.kind === 'timeout') return timeoutError(ctx, at.what, failure.received)
  if (tunnel) return tunnelError(ctx, at, tunnel, failure)
  switch (failure.kind) {
    case 'too-large':
      return new MeshdbgError('bad-data', `${at.what}: the response is larger than ${Math.round(failure.limit / 1024 / 1024)} MiB; refusing to read it`)
    case 'socket':
      if (failure.phase === 'body' && failure.declared !== undefined && failure.received < failure.declared) {
        return new MeshdbgError('bad-data', `${at.what}: the response was truncated (${failure.received} of ${failure.declared} bytes)`)
      }
      return new MeshdbgError(
        'connection',
        failure.phase === 'body'
          ? `${at.what}: the connection closed mid-response (after ${failure.received} bytes)`
          : `${at.what}: the connection closed before a response`,
      )
  }
}

function tunnelError(ctx: RunContext, at: FailureContext, tunnel: ForwardFailure, failure: TransportFailure): MeshdbgError {
  const session = openKube(ctx)
  switch (tunnel.kind) {
    case 'upgrade': {
      const detail = tunnel.message ? `: ${tunnel.message}` : ''
      if (tunnel.status === 403) {
        return new MeshdbgError('forbidden', `port-forward to pod ${at.label} is forbidden${detail || ' (403)'}`, {
          hint: `your Kubernetes user needs the "create" verb on "pods/portforward" in namespace "${at.pod.namespace}"`,
        })
      }
      if (tunnel.status === 404) {
        return new MeshdbgError('not-found', `pod ${at.label} not found when starting the port-forward${detail}`, {hint: 'it may have been deleted or restarted; retry'})
      }
      if (tunnel.status === 401) {
        return new MeshdbgError('connection', `the Kubernetes API server rejected the credentials of context "${session.contextName}" for port-forward (401)`)
      }
      return new MeshdbgError('connection', `port-forward to pod ${at.label} failed: the API server answered HTTP ${tunnel.status}${detail}`, {
        hint: tunnel.status === 400 ? 'a proxy between you and the API server may not support WebSocket upgrades' : undefined,
      })
    }
    case 'pod-error':
      // Bytes arrived, so something did accept the connection: it was reset mid-answer (the
      // kubelet reports that on the same error channel as a refused port).
      if (tunnel.received > 0) {
        return new MeshdbgError('connection', `${at.what}: the connection was reset after ${tunnel.received} bytes of the response arrived: ${oneLine(tunnel.text)}`, {
          hint: 'the proxy (or the kubelet) cut the answer short; retry, and check whether the proxy restarted',
        })
      }
      return new MeshdbgError('connection', `nothing accepted the connection to port ${at.port} inside pod ${at.label}: ${oneLine(tunnel.text)}`, {
        hint: at.options.refusedHint ?? 'port-forward reaches 127.0.0.1 inside the pod only (not [::1]); check the port',
      })
    case 'closed': {
      const received = failure.kind === 'socket' ? failure.received : 0
      const how = `the port-forward stream closed (code ${tunnel.code}${tunnel.reason ? `: ${oneLine(tunnel.reason)}` : ''})`
      return new MeshdbgError('connection', received > 0 || (failure.kind === 'socket' && failure.phase === 'body')
        ? `${at.what}: ${how} mid-response after ${received} bytes`
        : `${at.what}: ${how} before a response`)
    }
    case 'network': {
      if (tunnel.code && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT)$/.test(tunnel.code)) {
        return new MeshdbgError('connection', `cannot reach the Kubernetes API server at ${session.server} (${tunnel.code})`)
      }
      const received = failure.kind === 'socket' ? failure.received : 0
      return new MeshdbgError('connection', `${at.what}: the port-forward connection failed${received > 0 ? ` mid-response after ${received} bytes` : ''}: ${oneLine(tunnel.message)}`)
    }
  }
}

/** Kubelet errors put the cause last (after runtime details): a long one keeps both ends. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 260 ? `${line.slice(0, 90)} ... ${line.slice(-160)}` : line
}
