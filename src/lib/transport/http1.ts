// HTTP/1.1 for requests to a pod through a port-forward tunnel: the request's bytes and a reader
// of the answer's. Written here instead of handing the tunnel to undici as a socket: each 32 KiB
// message the kubelet sends went through a Duplex, undici's read loop, its wasm llhttp (a copy into
// wasm memory and a call out per body span) and a body stream before reaching the body buffer, and
// that was ~1.2 s of main-thread time in a 500-proxy `diagnose -A` (for ~2 GB of answers). Here a
// message is one bounds check and one copy into the body buffer. The grammar is the part of RFC
// 9112 a client of Envoy's admin API, pilot-agent and istiod needs: a status line, header fields,
// and a body framed by content-length, chunked coding or the connection's end.
import type {HttpMethod} from './http.js'

/** Lends buffers for response bodies; undefined: allocate one. */
export type BodyBuffers = (size: number) => Buffer | undefined

export type BodyFraming =
  | {kind: 'length'; length: number}
  | {kind: 'chunked'}
  /** Read until the connection ends (no length and no chunked coding). */
  | {kind: 'until-close'}
  | {kind: 'none'}

export interface ResponseHead {
  status: number
  /** Field names in lower case; a repeated field's values in order. */
  headers: Record<string, string | string[] | undefined>
  framing: BodyFraming
  /** The connection may carry another request once this answer is read. */
  keepAlive: boolean
}

/** The answer breaks HTTP/1.1's grammar; the connection cannot be used again. */
export class MalformedResponse extends Error {
  constructor(message: string) {
    super(`malformed HTTP response: ${message}`)
    this.name = 'MalformedResponse'
  }
}

/** The body is larger than the reader's cap (`received`: the declared length, or the bytes so far). */
export class BodyTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly received: number,
  ) {
    super(`response body larger than ${limit} bytes`)
    this.name = 'BodyTooLarge'
  }
}

/** A byte a request target may not hold: a control, space or DEL (what undici refused too). */
const UNSAFE_TARGET = /[^\u0021-\u007e\u0080-\u00ff]/

/** True when `target` holds a space, control or DEL, which would split or bend the request line. */
export function unsafeRequestTarget(target: string): boolean {
  return UNSAFE_TARGET.test(target)
}
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const UNSAFE_FIELD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/

/** The request line and fields, as sent on the tunnel. Throws on a target or field that could split the request. */
export function encodeRequestHead(method: HttpMethod, target: string, host: string, headers: Record<string, string> = {}): Buffer {
  if (!target.startsWith('/') || unsafeRequestTarget(target)) throw new TypeError(`invalid request target ${JSON.stringify(target)}`)
  let head = `${method} ${target} HTTP/1.1\r\nhost: ${host}\r\n`
  for (const [name, value] of Object.entries(headers)) {
    if (!FIELD_NAME.test(name) || UNSAFE_FIELD_VALUE.test(value)) throw new TypeError(`invalid request header ${JSON.stringify(name)}`)
    head += `${name}: ${value}\r\n`
  }
  // A POST without a body still says so (RFC 9110 8.6): some servers wait for one otherwise.
  if (method === 'POST' && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) head += 'content-length: 0\r\n'
  return Buffer.from(`${head}\r\n`, 'latin1')
}

/** A head this long without its end is not an answer worth waiting for. */
const MAX_HEAD_BYTES = 64 * 1024
/** A chunk-size line, or a trailer field, longer than this is refused. */
const MAX_LINE_BYTES = 8 * 1024
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1')

type ChunkState = 'size' | 'data' | 'data-end' | 'trailers'

export interface ResponseReaderOptions {
  maxBytes: number
  /** Where a body of declared length goes (a buffer of at least that size, the request's alone). */
  bodyBuffer?: BodyBuffers
}

/**
 * Reads one answer from the bytes a connection delivers, in any split: feed() each piece as it
 * arrives, end() when the connection ends. A body of declared length is copied into one buffer of
 * that size as it comes; other bodies are kept as the pieces that carried them.
 */
export class ResponseReader {
  head?: ResponseHead
  /** Body bytes received so far. */
  received = 0
  /** The whole answer has been read. */
  done = false
  private pendingHead?: Buffer
  private whole?: Buffer
  private readonly pieces: Buffer[] = []
  private chunkState: ChunkState = 'size'
  private chunkLeft = 0
  private line = ''

  constructor(private readonly options: ResponseReaderOptions) {}

  /** The body length the head declared, if it did. */
  get declared(): number | undefined {
    return this.head?.framing.kind === 'length' ? this.head.framing.length : undefined
  }

  /**
   * Takes the next bytes of the connection. Returns how many belong to this answer (fewer than
   * given only once it is done: the rest came after it). Throws MalformedResponse or BodyTooLarge.
   */
  feed(bytes: Buffer): number {
    let at = 0
    while (at < bytes.length && !this.done) {
      at = this.head === undefined ? this.readHead(bytes, at) : this.readBody(bytes, at)
    }
    return at
  }

  /**
   * The connection ended. True when that completes the answer (a body read until the close);
   * false when the answer was cut short.
   */
  end(): boolean {
    if (!this.done && this.head?.framing.kind === 'until-close') this.done = true
    return this.done
  }

  /** The body, once done. */
  body(): Buffer {
    if (this.whole !== undefined) return this.whole.subarray(0, this.received)
    return this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.received)
  }

  /** Reads the head from `bytes` at `at`; returns where its end left off (all of them when not there yet). */
  private readHead(bytes: Buffer, at: number): number {
    const pending = this.pendingHead
    // `text` holds the head so far; its index i is bytes' index i + offset.
    const text = pending === undefined ? bytes.subarray(at) : Buffer.concat([pending, bytes.subarray(at)])
    const offset = at - (pending?.length ?? 0)
    const end = text.indexOf(CRLF_CRLF)
    if (end < 0) {
      if (text.length > MAX_HEAD_BYTES) throw new MalformedResponse(`no end of the header section in ${MAX_HEAD_BYTES} bytes`)
      this.pendingHead = Buffer.from(text)
      return bytes.length
    }
    this.pendingHead = undefined
    const head = parseHead(text.toString('latin1', 0, end))
    // An interim answer (100 Continue, 103 Early Hints) precedes the real one.
    if (head.status >= 100 && head.status < 200) {
      if (head.status === 101) throw new MalformedResponse('101 Switching Protocols to a request that asked for no upgrade')
    } else {
      this.startBody(head)
    }
    return end + CRLF_CRLF.length + offset
  }

  private startBody(head: ResponseHead): void {
    this.head = head
    const {framing} = head
    if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0)) {
      this.done = true
      return
    }
    if (framing.kind === 'length') {
      if (framing.length > this.options.maxBytes) throw new BodyTooLarge(this.options.maxBytes, framing.length)
      this.whole = this.options.bodyBuffer?.(framing.length) ?? Buffer.allocUnsafeSlow(framing.length)
    }
  }

  private readBody(bytes: Buffer, at: number): number {
    const framing = this.head!.framing
    if (framing.kind === 'length') {
      const take = Math.min(bytes.length - at, framing.length - this.received)
      bytes.copy(this.whole!, this.received, at, at + take)
      this.received += take
      if (this.received === framing.length) this.done = true
      return at + take
    }
    if (framing.kind === 'until-close') {
      this.keep(bytes.subarray(at))
      return bytes.length
    }
    return this.readChunked(bytes, at)
  }

  private keep(piece: Buffer): void {
    if (piece.length === 0) return
    this.received += piece.length
    if (this.received > this.options.maxBytes) throw new BodyTooLarge(this.options.maxBytes, this.received)
    this.pieces.push(piece)
  }

  private readChunked(bytes: Buffer, at: number): number {
    if (this.chunkState === 'data') {
      const take = Math.min(bytes.length - at, this.chunkLeft)
      this.keep(bytes.subarray(at, at + take))
      this.chunkLeft -= take
      if (this.chunkLeft === 0) this.chunkState = 'data-end'
      return at + take
    }
    // The other states read a line at a time.
    const newline = bytes.indexOf(0x0a, at)
    const end = newline < 0 ? bytes.length : newline
    this.line += bytes.toString('latin1', at, end)
    if (this.line.length > MAX_LINE_BYTES) throw new MalformedResponse(`a chunk line longer than ${MAX_LINE_BYTES} bytes`)
    if (newline < 0) return bytes.length
    const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line
    this.line = ''
    if (this.chunkState === 'size') {
      const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line)
      if (!size) throw new MalformedResponse(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`)
      this.chunkLeft = Number.parseInt(size[1], 16)
      this.chunkState = this.chunkLeft === 0 ? 'trailers' : 'data'
    } else if (this.chunkState === 'data-end') {
      if (line !== '') throw new MalformedResponse('chunk data longer than its size')
      this.chunkState = 'size'
    } else if (line === '') {
      this.done = true
    }
    return newline + 1
  }
}

/** The status line and fields of an answer's head (the text before its empty line). */
function parseHead(text: string): ResponseHead {
  const statusEnd = endOfLine(text, 0)
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(text.slice(0, statusEnd))
  if (!statusLine) throw new MalformedResponse(`bad status line ${JSON.stringify(text.slice(0, Math.min(statusEnd, 40)))}`)
  const minorVersion = Number(statusLine[1])
  const status = Number(statusLine[2])
  const headers: Record<string, string | string[] | undefined> = {}
  for (let at = statusEnd + 2; at < text.length; ) {
    const end = endOfLine(text, at)
    const colon = text.indexOf(':', at)
    const name = colon > at && colon < end ? text.slice(at, colon) : ''
    // Folded lines (obs-fold) and names with spaces are refused, as RFC 9112 asks of a client.
    if (!FIELD_NAME.test(name)) throw new MalformedResponse(`bad header line ${JSON.stringify(text.slice(at, Math.min(end, at + 40)))}`)
    const key = name.toLowerCase()
    const value = text.slice(colon + 1, end).trim()
    const existing = headers[key]
    headers[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value]
    at = end + 2
  }
  const connection = tokens(headers.connection)
  let keepAlive = minorVersion === 1 ? !connection.includes('close') : connection.includes('keep-alive')
  let framing: BodyFraming
  const codings = tokens(headers['transfer-encoding'])
  const contentLength = headers['content-length']
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    framing = {kind: 'none'}
  } else if (codings.length > 0) {
    // A length beside a coding is ignored, and the connection not reused (RFC 9112 6.3).
    if (contentLength !== undefined) keepAlive = false
    framing = codings.at(-1) === 'chunked' ? {kind: 'chunked'} : {kind: 'until-close'}
  } else if (contentLength !== undefined) {
    const length = typeof contentLength === 'string' && /^\d{1,15}$/.test(contentLength) ? contentLength : agreedLength(tokens(contentLength))
    if (length === undefined) throw new MalformedResponse(`bad content-length ${JSON.stringify(String(contentLength).slice(0, 40))}`)
    framing = {kind: 'length', length: Number(length)}
  } else {
    framing = {kind: 'until-close'}
  }
  if (framing.kind === 'until-close') keepAlive = false
  return {status, headers, framing, keepAlive}
}

function endOfLine(text: string, from: number): number {
  const end = text.indexOf('\r\n', from)
  return end < 0 ? text.length : end
}

/** A list-valued field's tokens, in lower case (`Connection: keep-alive, Upgrade`). */
function tokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  const tokens: string[] = []
  for (const each of typeof value === 'string' ? [value] : value) {
    for (const token of each.split(',')) {
      const trimmed = token.trim().toLowerCase()
      if (trimmed !== '') tokens.push(trimmed)
    }
  }
  return tokens
}

/** The one length that repeated content-length values (`5, 5`) agree on, else undefined. */
function agreedLength(values: string[]): string | undefined {
  const lengths = new Set(values)
  const [length] = lengths
  return lengths.size === 1 && /^\d{1,15}$/.test(length) ? length : undefined
}
