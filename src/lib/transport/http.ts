import {usageError} from '../errors.js'
import {unsafeRequestTarget} from './http1.js'

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
  if (unsafeRequestTarget(withSlash)) throw usageError(`malformed request path ${JSON.stringify(path)}: spaces and control characters must be percent-encoded`)
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
 * A signal of one request's own, aborted with `parent`. undici adds an abort listener to the signal
 * of every request it runs: on the command's shared signal, more than 10 requests at once make Node
 * print a MaxListenersExceededWarning. AbortSignal.any links without a listener on the parent.
 */
export function requestSignal(parent: AbortSignal): AbortSignal {
  return AbortSignal.any([parent])
}

export interface HttpResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** What went wrong in transport terms; the caller knows which pod and port to name. */
export type TransportFailure =
  | {kind: 'aborted'; received: number}
  | {kind: 'timeout'; phase: 'headers' | 'body'; received: number}
  | {kind: 'socket'; phase: 'headers' | 'body'; received: number; declared?: number; code?: string; message: string}
  | {kind: 'too-large'; limit: number; received: number}

export class TransportError extends Error {
  constructor(
    readonly failure: TransportFailure,
    /** What ended the exchange (a tunnel's own error carries what happened to the tunnel). */
    readonly source?: unknown,
  ) {
    super(`transport failure: ${failure.kind}`)
    this.name = 'TransportError'
  }
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
