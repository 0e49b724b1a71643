import {describe, expect, it} from 'vitest'

import {BodyTooLarge, encodeRequestHead, MalformedResponse, ResponseReader, type ResponseReaderOptions} from '../../src/lib/transport/http1.js'

const MB = 1 << 20

/** Feeds `answer` to a reader in pieces of `size` bytes; returns the reader and the bytes it left over. */
function read(answer: string | Buffer, size: number, options: ResponseReaderOptions = {maxBytes: MB}): {reader: ResponseReader; rest: number} {
  const bytes = typeof answer === 'string' ? Buffer.from(answer, 'latin1') : answer
  const reader = new ResponseReader(options)
  let rest = 0
  for (let at = 0; at < bytes.length; at += size) {
    const piece = bytes.subarray(at, at + size)
    if (reader.done) {
      rest += piece.length
      continue
    }
    rest += piece.length - reader.feed(piece)
  }
  return {reader, rest}
}

/** Every way to split `answer` into pieces of equal size, down to single bytes. */
const SPLITS = [1, 2, 3, 7, 64, 4096]

describe('encodeRequestHead', () => {
  it('writes the request line, host and fields, and a zero length for a bodiless POST', () => {
    expect(encodeRequestHead('GET', '/config_dump?mask=bootstrap', 'localhost:15000').toString('latin1')).toBe('GET /config_dump?mask=bootstrap HTTP/1.1\r\nhost: localhost:15000\r\n\r\n')
    expect(encodeRequestHead('POST', '/logging?rbac=debug', 'localhost:15000', {connection: 'close'}).toString('latin1')).toBe(
      'POST /logging?rbac=debug HTTP/1.1\r\nhost: localhost:15000\r\nconnection: close\r\ncontent-length: 0\r\n\r\n',
    )
  })

  it('refuses a target or field that would split the request', () => {
    expect(() => encodeRequestHead('GET', '/ready HTTP/1.1\r\nx: y', 'h')).toThrow(/invalid request target/)
    expect(() => encodeRequestHead('GET', 'ready', 'h')).toThrow(/invalid request target/)
    expect(() => encodeRequestHead('GET', '/ready', 'h', {'x-a': 'b\r\nx-injected: 1'})).toThrow(/invalid request header/)
    expect(() => encodeRequestHead('GET', '/ready', 'h', {'bad name': 'v'})).toThrow(/invalid request header/)
  })
})

describe('ResponseReader', () => {
  it('reads a body of declared length in any split, into the buffer lent for it', () => {
    const body = '{"configs": [' + 'x'.repeat(300) + ']}'
    const answer = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nserver: envoy\r\n\r\n${body}`
    for (const size of SPLITS) {
      const lent = Buffer.alloc(body.length + 100)
      const sizes: number[] = []
      const {reader, rest} = read(answer, size, {maxBytes: MB, bodyBuffer: (length) => (sizes.push(length), lent)})
      expect(reader.done).toBe(true)
      expect(rest).toBe(0)
      expect(reader.head).toMatchObject({status: 200, keepAlive: true, framing: {kind: 'length', length: body.length}})
      expect(reader.head?.headers['content-type']).toBe('application/json')
      expect(reader.body().toString()).toBe(body)
      expect(reader.body().buffer).toBe(lent.buffer)
      expect(sizes).toEqual([body.length])
    }
  })

  it('decodes chunked bodies, with extensions and trailers, in any split', () => {
    const answer = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n1A\r\n' + 'abcdefghijklmnopqrstuvwxyz' + '\r\n0\r\nx-trailer: 1\r\n\r\n'
    for (const size of SPLITS) {
      const {reader, rest} = read(answer, size)
      expect(reader.done).toBe(true)
      expect(rest).toBe(0)
      expect(reader.body().toString()).toBe('helloabcdefghijklmnopqrstuvwxyz')
      expect(reader.received).toBe(31)
      expect(reader.head?.keepAlive).toBe(true)
    }
  })

  it('reads a body with no length until the connection ends, and never reuses that connection', () => {
    for (const size of SPLITS) {
      const {reader} = read('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nactive loggers:\n  rbac: debug\n', size)
      expect(reader.done).toBe(false)
      expect(reader.head?.keepAlive).toBe(false)
      expect(reader.end()).toBe(true)
      expect(reader.body().toString()).toBe('active loggers:\n  rbac: debug\n')
    }
  })

  it('skips interim answers and knows which statuses have no body', () => {
    const {reader, rest} = read('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nx: y\r\n\r\n', 5)
    expect(reader.head?.status).toBe(204)
    expect(reader.done).toBe(true)
    expect(rest).toBe(0)
    expect(reader.body().length).toBe(0)
  })

  it('says how many bytes were its own when more follow the answer', () => {
    const reader = new ResponseReader({maxBytes: MB})
    const bytes = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n')
    expect(reader.feed(bytes)).toBe(bytes.indexOf('okHTTP') + 2)
    expect(reader.body().toString()).toBe('ok')
  })

  it('follows connection: close, HTTP/1.0 keep-alive, and a length beside a coding', () => {
    expect(read('HTTP/1.1 200 OK\r\nConnection: Close\r\ncontent-length: 0\r\n\r\n', 64).reader.head?.keepAlive).toBe(false)
    expect(read('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n', 64).reader.head?.keepAlive).toBe(false)
    expect(read('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n', 64).reader.head?.keepAlive).toBe(true)
    const both = read('HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', 64).reader
    expect(both.body().toString()).toBe('ok')
    expect(both.head?.keepAlive).toBe(false)
  })

  it('keeps repeated fields in order and field names in lower case', () => {
    const {reader} = read('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Empty:\r\ncontent-length: 0\r\n\r\n', 64)
    expect(reader.head?.headers).toEqual({'set-cookie': ['a=1', 'b=2'], 'x-empty': '', 'content-length': '0'})
  })

  it('reports a cut-off body with what arrived and what was declared', () => {
    const {reader} = read('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"configs": [', 4)
    expect(reader.done).toBe(false)
    expect(reader.end()).toBe(false)
    expect(reader.received).toBe(13)
    expect(reader.declared).toBe(100)
    const chunked = read('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\nabc', 4).reader
    expect(chunked.end()).toBe(false)
    expect(chunked.received).toBe(3)
    const headOnly = read('HTTP/1.1 200 OK\r\ncontent-le', 4).reader
    expect(headOnly.head).toBeUndefined()
    expect(headOnly.end()).toBe(false)
  })

  it('refuses a body over the cap, declared or counted as it streams', () => {
    const declared = new ResponseReader({maxBytes: 1000})
    expect(() => declared.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n'))).toThrow(BodyTooLarge)
    let refusal: unknown
    try {
      new ResponseReader({maxBytes: 1000}).feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n'))
    } catch (error) {
      refusal = error
    }
    expect(refusal).toMatchObject({limit: 1000, received: 5000})
    const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n800\r\n' + 'y'.repeat(2048) + '\r\n0\r\n\r\n'
    expect(() => read(chunked, 512, {maxBytes: 1000})).toThrow(BodyTooLarge)
    expect(() => read('HTTP/1.1 200 OK\r\n\r\n' + 'z'.repeat(1001), 100, {maxBytes: 1000})).toThrow(BodyTooLarge)
  })

  it('refuses answers that break the grammar', () => {
    const malformed = (answer: string) => () => read(answer, 3)
    expect(malformed('SSH-2.0-OpenSSH_9.6\r\n\r\n')).toThrow(MalformedResponse)
    expect(malformed('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab')).toThrow(/bad content-length/)
    expect(malformed('HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n')).toThrow(/bad content-length/)
    expect(malformed('HTTP/1.1 200 OK\r\nfolded: a\r\n b\r\ncontent-length: 0\r\n\r\n')).toThrow(/bad header line/)
    expect(malformed('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n')).toThrow(/bad chunk size/)
    expect(malformed('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n')).toThrow(/longer than its size/)
    expect(malformed('HTTP/1.1 101 Switching Protocols\r\n\r\n')).toThrow(/101/)
    expect(() => new ResponseReader({maxBytes: MB}).feed(Buffer.from('HTTP/1.1 200 OK\r\nx: ' + 'a'.repeat(70_000)))).toThrow(/no end of the header section/)
  })

  it('takes a repeated content-length that agrees as one length', () => {
    const {reader} = read('HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\n\r\nok', 1)
    expect(reader.done).toBe(true)
    expect(reader.body().toString()).toBe('ok')
  })
})
