// kubectl's port-forward transport: SPDY/3.1 (portforward.k8s.io), either tunnelled in a WebSocket
// (`SPDY/3.1+portforward.k8s.io`, kubectl >= 1.31) or over a raw `Upgrade: SPDY/3.1` connection.
// Only what kubectl's spdystream needs: SYN_STREAM/SYN_REPLY, DATA, PING, RST_STREAM, GOAWAY.
import {connect, type Socket} from 'node:net'
import {constants, inflateSync} from 'node:zlib'
import type {SimPod} from './model.js'

/** The SPDY/3 header compression dictionary: length-prefixed common header words, then a tail. */
const DICTIONARY: Buffer = (() => {
  const words = [
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow',
    'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5',
    'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
    'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after',
    'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK',
    'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
  ]
  const tail = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found' +
    '500 Internal Server Error501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ' +
    'Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,' +
    'text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.'
  return Buffer.concat([...words.map((w) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(w.length)
    return Buffer.concat([len, Buffer.from(w, 'latin1')])
  }), Buffer.from(tail, 'latin1')])
})()

const SYN_STREAM = 1
const SYN_REPLY = 2
const RST_STREAM = 3
const PING = 6
const GOAWAY = 7
const HEADERS = 8
const FLAG_FIN = 0x01

export interface SpdyTransport {
  write(bytes: Buffer): void
  close(): void
}

export interface SpdyContext {
  pod: SimPod
  /** Local port behind `pod:port`, undefined when nothing listens. */
  portServer(port: number): Promise<number | undefined>
  refused(port: number): boolean
}

interface PortStream {errorId?: number; dataId?: number; port: number; target?: Socket; pending: Buffer[]; finished: boolean}

export class SpdySession {
  private input: Buffer = Buffer.alloc(0)
  private compressedIn: Buffer[] = []
  private inflatedSoFar = 0
  private wroteZlibHeader = false
  private streams = new Map<string, PortStream>() // by requestid
  private byStreamId = new Map<number, PortStream>()
  private closed = false

  constructor(private transport: SpdyTransport, private ctx: SpdyContext) {}

  feed(chunk: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, chunk]) : chunk
    while (this.input.length >= 8 && !this.closed) {
      const length = this.input.readUIntBE(5, 3)
      if (this.input.length < 8 + length) return
      const frame = this.input.subarray(0, 8 + length)
      this.input = this.input.subarray(8 + length)
      if (frame[0] & 0x80) this.control(frame)
      else this.data(frame)
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const s of this.streams.values()) s.target?.destroy()
    this.transport.close()
  }

  private headerBlock(block: Buffer): Map<string, string> {
    // One zlib stream per direction for the whole connection: inflate everything so far, keep the new tail.
    this.compressedIn.push(block)
    const all = inflateSync(Buffer.concat(this.compressedIn), {dictionary: DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH})
    const fresh = all.subarray(this.inflatedSoFar)
    this.inflatedSoFar = all.length
    const headers = new Map<string, string>()
    let offset = 4
    const count = fresh.readUInt32BE(0)
    for (let i = 0; i < count; i++) {
      const nameLen = fresh.readUInt32BE(offset)
      const name = fresh.subarray(offset + 4, offset + 4 + nameLen).toString('latin1')
      offset += 4 + nameLen
      const valueLen = fresh.readUInt32BE(offset)
      headers.set(name, fresh.subarray(offset + 4, offset + 4 + valueLen).toString('latin1'))
      offset += 4 + valueLen
    }
    return headers
  }

  private compressedHeaders(): Buffer {
    // An empty header block (count 0) in stored deflate blocks, sync-flushed: Go's flate needs the
    // trailing empty stored block before it releases the bytes.
    const raw = Buffer.alloc(4)
    const stored = Buffer.from([0x00, raw.length & 0xff, raw.length >> 8, ~raw.length & 0xff, (~raw.length >> 8) & 0xff])
    const parts = [stored, raw, Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff])]
    if (!this.wroteZlibHeader) {
      this.wroteZlibHeader = true
      parts.unshift(Buffer.from([0x78, 0x01]))
    }
    return Buffer.concat(parts)
  }

  private controlFrame(type: number, flags: number, payload: Buffer): Buffer {
    const head = Buffer.alloc(8)
    head.writeUInt16BE(0x8003, 0)
    head.writeUInt16BE(type, 2)
    head[4] = flags
    head.writeUIntBE(payload.length, 5, 3)
    return Buffer.concat([head, payload])
  }

  private sendData(streamId: number, data: Buffer, fin: boolean): void {
    if (this.closed) return
    for (let offset = 0; offset < data.length || (offset === 0 && data.length === 0); offset += 65536) {
      const piece = data.subarray(offset, offset + 65536)
      const last = offset + 65536 >= data.length
      const head = Buffer.alloc(8)
      head.writeUInt32BE(streamId & 0x7fffffff, 0)
      head[4] = fin && last ? FLAG_FIN : 0
      head.writeUIntBE(piece.length, 5, 3)
      this.transport.write(Buffer.concat([head, piece]))
      if (data.length === 0) break
    }
  }

  private control(frame: Buffer): void {
    const type = frame.readUInt16BE(2)
    const flags = frame[4]
    switch (type) {
      case SYN_STREAM: {
        const streamId = frame.readUInt32BE(8) & 0x7fffffff
        const headers = this.headerBlock(frame.subarray(18))
        const streamIdBuf = Buffer.alloc(4)
        streamIdBuf.writeUInt32BE(streamId)
        this.transport.write(this.controlFrame(SYN_REPLY, 0, Buffer.concat([streamIdBuf, this.compressedHeaders()])))
        const requestId = headers.get('requestid') ?? String(streamId)
        const port = Number(headers.get('port'))
        const stream = this.streams.get(requestId) ?? {port, pending: [], finished: false}
        this.streams.set(requestId, stream)
        this.byStreamId.set(streamId, stream)
        if (headers.get('streamtype') === 'error') stream.errorId = streamId
        else if (headers.get('streamtype') === 'data') {
          stream.dataId = streamId
          this.open(stream)
        }
        if (flags & FLAG_FIN) this.byStreamId.get(streamId)?.target?.end()
        return
      }
      case RST_STREAM: {
        const stream = this.byStreamId.get(frame.readUInt32BE(8) & 0x7fffffff)
        stream?.target?.destroy()
        return
      }
      case PING:
        this.transport.write(frame)
        return
      case GOAWAY:
        this.close()
        return
      case HEADERS:
        this.headerBlock(frame.subarray(12)) // keeps the shared zlib stream in step
        return
      default:
        return // SETTINGS, WINDOW_UPDATE: spdystream does no flow control
    }
  }

  private data(frame: Buffer): void {
    const streamId = frame.readUInt32BE(0) & 0x7fffffff
    const flags = frame[4]
    const stream = this.byStreamId.get(streamId)
    if (!stream || streamId !== stream.dataId) return
    const payload = frame.subarray(8)
    if (stream.target && !stream.target.connecting) {
      if (payload.length) stream.target.write(payload)
      if (flags & FLAG_FIN) stream.target.end()
    } else {
      if (payload.length) stream.pending.push(payload)
      if (flags & FLAG_FIN) stream.finished = true
    }
  }

  private fail(stream: PortStream, message: string): void {
    if (stream.errorId !== undefined) {
      this.sendData(stream.errorId, Buffer.from(message), true)
    }
    if (stream.dataId !== undefined) this.sendData(stream.dataId, Buffer.alloc(0), true)
  }

  private open(stream: PortStream): void {
    const {pod} = this.ctx
    const refusedText = `error forwarding port ${stream.port} to pod ${pod.uid.replace(/-/g, '')}, uid : failed to execute portforward in network namespace "/var/run/netns/cni-${pod.uid}": failed to connect to localhost:${stream.port} inside namespace "${pod.uid.replace(/-/g, '')}", IPv4: dial tcp4 127.0.0.1:${stream.port}: connect: connection refused IPv6 dial tcp6 [::1]:${stream.port}: connect: connection refused `
    if (!Number.isInteger(stream.port) || this.ctx.refused(stream.port)) return this.fail(stream, refusedText)
    this.ctx.portServer(stream.port).then((local) => {
      if (this.closed) return
      if (local === undefined) return this.fail(stream, refusedText)
      const target = connect({host: '127.0.0.1', port: local})
      stream.target = target
      target.on('connect', () => {
        for (const p of stream.pending.splice(0)) target.write(p)
        if (stream.finished) target.end()
      })
      target.on('data', (chunk: Buffer) => this.sendData(stream.dataId!, chunk, false))
      target.on('end', () => {
        this.sendData(stream.dataId!, Buffer.alloc(0), true)
        if (stream.errorId !== undefined) this.sendData(stream.errorId, Buffer.alloc(0), true)
      })
      target.on('error', () => this.fail(stream, refusedText))
    }, () => this.fail(stream, refusedText))
  }
}

export const SPDY_WS_PROTOCOL = 'SPDY/3.1+portforward.k8s.io'
