import {finished} from 'node:stream/promises'

import {Agent, request, type buildConnector} from 'undici'

import {usageError} from '../errors.js'

export type HttpMethod = 'GET' | 'POST'


/**
 * Admin API paths meshdbg must never call: they stop, drain or fail a live proxy. Checked on the
 * decoded path, whatever a command asks for, so no flag or typo can reach them.
 */
const FORBIDDEN_PATHS = [/^\/quitquitquit(\/|$)/, /^\/drain/, /^\/healthcheck\/fail(\/|$)/]
/** POST is only for deliberate changes (log levels). */
const POST_ALLOWED = [/^\/logging(\/|$)/]

/** Validates and normalises a request target; throws a usage error (exit 2) for forbidden ones. */
export function safeRequestPath(method: string, path: string): string {
  if (method !== 'GET' && method !== 'POST') throw usageError(`HTTP method ${method} is not allowed (meshdbg only reads, plus POST for log levels)`)
  const withSlash = path.startsWith('/') ? path : `/${path}`
  const queryAt = withSlash.indexOf('?')
  const rawPath = queryAt >= 0 ? withSlash.slice(0, queryAt) : withSlash
  const query = queryAt >= 0 ? withSlash.slice(queryAt + 1) : ''
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    throw usageError(`malformed request path "${path}"`)
  }
  const canonical = decoded.replace(/\/{2,}/g, '/').replace(/\/\.(?=\/|$)/g, '').toLowerCase()
  if (FORBIDDEN_PATHS.some((pattern) => pattern.test(canonical))) {
    throw usageError(`refusing to call ${rawPath}: it would stop, drain or fail the proxy`)
  }
  const params = new URLSearchParams(query)
  for (const [key, value] of params) {
    if (key.toLowerCase() === 'push' && value.toLowerCase() !== 'false') {
      throw usageError(`refusing to send ${key}=${value}: meshdbg never triggers a config push`)
    }
  }
  if (method === 'POST' && !POST_ALLOWED.some((pattern) => pattern.test(canonical))) {
    throw usageError(`refusing to POST to ${rawPath}: only log-level changes (/logging) may be posted`)
  }
  return withSlash
}

/**
 * One keep-alive agent per forward: requests of one command reuse its tunnel. `connect` hands
 * undici a stream that is already the tunnel (no local listener: nothing else can use it). One
 * tunnel per pod port, requests queued on it: each tunnel is an upgrade through the API server and
 * a stream the kubelet sets up, far dearer than a request on an open one, and a command that reads
 * many pods (diagnose -A, snapshot) gets its parallelism from the pods, not from one pod's reads.
 */
export function createForwardAgent(timeoutMs: number, connect: buildConnector.connector): Agent {
  return new Agent({
    connections: 1,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect,
  })
}

/**
 * A signal of one request's own, aborted with `parent`. undici adds an abort listener to the signal
 * of every request it runs: on the command's shared signal, more than 10 requests at once make Node
 * print a MaxListenersExceededWarning. AbortSignal.any links without a listener on the parent.
 */
export function requestSignal(parent: AbortSignal): AbortSignal {
  return AbortSignal.any([parent])
}

export interface HttpRequest {
  origin: string
  path: string
  method: HttpMethod
  headers?: Record<string, string>
  dispatcher: Agent
  /**
   * Ends the request when aborted. undici adds an abort listener to it for as long as the request
   * runs: pass a signal of the caller's own (requestSignal, or one per forward with no listener
   * limit), never the command's shared one.
   */
  signal: AbortSignal
  maxBytes: number
  /** A buffer of at least `size` bytes for a body of declared length, this request's alone (a reused one); else a new one. */
  bodyBuffer?: BodyBuffers
}

/** Lends buffers for response bodies (see HttpRequest.bodyBuffer); undefined: allocate one. */
export type BodyBuffers = (size: number) => Buffer | undefined

export interface HttpResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** What went wrong in transport terms; the caller knows which pod and port to name. */
export type TransportFailure =
  | {kind: 'aborted'; received: number}
  | {kind: 'timeout'; phase: 'headers' | 'body' | 'connect'; received: number}
  | {kind: 'socket'; phase: 'headers' | 'body'; received: number; declared?: number; code?: string; message: string}
  | {kind: 'too-large'; limit: number; received: number}

export class TransportError extends Error {
  constructor(
    readonly failure: TransportFailure,
    /** What undici threw (a tunnel's own error carries what happened to the tunnel). */
    readonly source?: unknown,
  ) {
    super(`transport failure: ${failure.kind}`)
    this.name = 'TransportError'
  }
}

/**
 * Sends one request and reads the whole body, bounded by maxBytes and the signal. Never resolves
 * with a short body when the framing says more was due (that surfaces as a `socket` failure with
 * `declared` set).
 */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  let response: Awaited<ReturnType<typeof request>>
  try {
    response = await request(req.origin + req.path, {
      method: req.method,
      headers: req.headers,
      dispatcher: req.dispatcher,
      signal: req.signal,
    })
  } catch (error) {
    throw new TransportError(classify(error, req.signal, 'headers', 0, undefined), error)
  }
  const declaredHeader = response.headers['content-length']
  const declared = typeof declaredHeader === 'string' && /^\d+$/.test(declaredHeader) ? Number(declaredHeader) : undefined
  if (declared !== undefined && declared > req.maxBytes) {
    discard(response.body)
    throw new TransportError({kind: 'too-large', limit: req.maxBytes, received: declared})
  }
  // With a declared length the body is copied into one buffer as it arrives: holding every chunk
  // until a final concat doubled the memory of each megabytes-large admin answer in flight.
  const whole = declared !== undefined && declared > 0 ? (req.bodyBuffer?.(declared) ?? Buffer.allocUnsafeSlow(declared)) : undefined
  const chunks: Buffer[] = []
  let received = 0
  /** Bytes in `whole`; anything past the declared length (undici fails such a body) goes to chunks. */
  let filled = 0
  let tooLarge: TransportError | undefined
  const body = response.body
  // 'data' hands over each chunk as undici parsed it; an async iterator read()s the body, which
  // joins every chunk buffered meanwhile into a fresh buffer first (one more copy of the answer).
  body.on('data', (bytes: Buffer) => {
    if (tooLarge) return
    if (whole && chunks.length === 0 && filled + bytes.length <= whole.length) filled += bytes.copy(whole, filled)
    else chunks.push(bytes)
    received += bytes.length
    if (received > req.maxBytes) {
      tooLarge = new TransportError({kind: 'too-large', limit: req.maxBytes, received})
      discard(body)
    }
  })
  try {
    await finished(body)
  } catch (error) {
    throw tooLarge ?? new TransportError(classify(error, req.signal, 'body', received, declared), error)
  }
  if (tooLarge) throw tooLarge
  const bytes = whole === undefined ? Buffer.concat(chunks, received) : chunks.length === 0 ? whole.subarray(0, filled) : Buffer.concat([whole.subarray(0, filled), ...chunks], received)
  return {status: response.statusCode, headers: response.headers, body: bytes}
}

/** Drops a body we will not read; undici's abort error on it must not become an uncaught exception. */
function discard(body: {on(event: 'error', listener: () => void): unknown; destroy(): unknown}): void {
  body.on('error', () => {})
  body.destroy()
}

function classify(error: unknown, signal: AbortSignal, phase: 'headers' | 'body', received: number, declared: number | undefined): TransportFailure {
  if (signal.aborted) return {kind: 'aborted', received}
  const code = (error as {code?: string}).code
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return {kind: 'timeout', phase: 'headers', received}
  if (code === 'UND_ERR_BODY_TIMEOUT') return {kind: 'timeout', phase: 'body', received}
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return {kind: 'timeout', phase: 'connect', received}
  return {kind: 'socket', phase, received, declared, code, message: (error as Error)?.message ?? String(error)}
}

/**
 * True when a JSON body visibly stops early: its last character cannot close it. Cheap on 20 MB;
 * the parse that follows catches the rest. Envoy's admin API often labels JSON as text/plain, so a
 * body that starts like JSON counts too.
 */
export function looksCutOffJson(contentType: string | undefined, body: string | Buffer): boolean {
  const declaredJson = contentType !== undefined && /json/i.test(contentType)
  const ends = typeof body === 'string' ? textEnds(body) : byteEnds(body)
  if (ends === undefined) return false
  const {open, close, openAt} = ends
  if (!declaredJson && !(openAt < 64 && (open === '{' || open === '['))) return false
  if (open === '{') return close !== '}'
  if (open === '[') return close !== ']'
  return false
}

/** A body's first and last non-space characters and where the first is; undefined when it is all space. */
interface BodyEnds {
  open: string
  close: string
  openAt: number
}

function textEnds(body: string): BodyEnds | undefined {
  const trimmed = body.trimEnd()
  if (trimmed === '') return undefined
  const openAt = trimmed.length - trimmed.trimStart().length
  return {open: trimmed[openAt], close: trimmed[trimmed.length - 1], openAt}
}

const isSpaceByte = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0b || c === 0x0c

/** textEnds on the bytes, reading only their ends: a body scanned as bytes is never decoded whole. */
function byteEnds(body: Buffer): BodyEnds | undefined {
  let first = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0 // a BOM, which trimStart() drops
  while (first < body.length && isSpaceByte(body[first])) first++
  let last = body.length - 1
  while (last >= first && isSpaceByte(body[last])) last--
  if (last < first) return undefined
  return {open: String.fromCharCode(body[first]), close: String.fromCharCode(body[last]), openAt: first}
}
