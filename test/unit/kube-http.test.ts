import {describe, expect, it} from 'vitest'

import {MeshdbgError} from '../../src/lib/errors.js'
import {looksCutOffJson, safeRequestPath} from '../../src/lib/transport/http.js'

function refusal(method: string, path: string): MeshdbgError {
  try {
    safeRequestPath(method, path)
  } catch (error) {
    expect(error).toBeInstanceOf(MeshdbgError)
    expect((error as MeshdbgError).exitCode).toBe(2)
    return error as MeshdbgError
  }
  throw new Error(`expected ${method} ${path} to be refused`)
}

describe('safeRequestPath: the transport never stops, drains or fails a proxy', () => {
  it('adds the leading slash and keeps the query', () => {
    expect(safeRequestPath('GET', 'config_dump?mask=bootstrap')).toBe('/config_dump?mask=bootstrap')
    expect(safeRequestPath('GET', '/clusters?format=json')).toBe('/clusters?format=json')
    expect(safeRequestPath('POST', 'logging?level=debug')).toBe('/logging?level=debug')
  })

  it.each([
    ['GET', '/quitquitquit'],
    ['POST', 'quitquitquit'],
    ['GET', '/drain_listeners?graceful'],
    ['GET', '/drain'],
    ['POST', '/healthcheck/fail'],
    ['GET', '//healthcheck//fail'],
    ['GET', '/%71uitquitquit'],
    ['GET', '/QUITQUITQUIT'],
    ['GET', '/./drain_listeners'],
  ])('refuses %s %s', (method, path) => {
    expect(refusal(method, path).message).toMatch(/^refusing to call .*: it would stop, drain or fail the proxy$/)
  })

  it('refuses push=true in any query', () => {
    expect(refusal('GET', '/debug/syncz?push=true').message).toBe('refusing to send push=true: meshdbg never triggers a config push')
    expect(refusal('GET', '/x?a=1&Push=1').message).toMatch(/^refusing to send Push=1/)
    expect(safeRequestPath('GET', '/debug/syncz?push=false')).toBe('/debug/syncz?push=false')
  })

  it('only GET, and POST only to /logging', () => {
    expect(refusal('POST', '/reset_counters').message).toBe('refusing to POST to /reset_counters: only log-level changes (/logging) may be posted')
    expect(refusal('DELETE', '/logging').message).toMatch(/^HTTP method DELETE is not allowed/)
  })
})

describe('looksCutOffJson', () => {
  it('spots a JSON object or array whose last character cannot close it', () => {
    expect(looksCutOffJson('application/json', '{"configs": [{"a": 1}, {"b": "tru')).toBe(true)
    expect(looksCutOffJson('application/json; charset=utf-8', '{"configs": [{"a": 1},')).toBe(true)
    // Envoy's admin API labels JSON text/plain: a body that starts like JSON counts.
    expect(looksCutOffJson('text/plain; charset=UTF-8', '{"configs": [')).toBe(true)
    expect(looksCutOffJson('application/json', '[1, 2')).toBe(true)
  })

  it('accepts complete JSON (with trailing whitespace) and ignores other types', () => {
    expect(looksCutOffJson('application/json', '{"configs": []}\n')).toBe(false)
    expect(looksCutOffJson('text/plain', 'cluster::outbound|80||a::cx_active::0')).toBe(false)
    expect(looksCutOffJson('application/json', '"text"')).toBe(false)
    expect(looksCutOffJson('application/json', '')).toBe(false)
  })
})

describe('httpRequest framing and limits', () => {
  async function rawServer(reply: string): Promise<{origin: string; close: () => Promise<void>}> {
    const {createServer} = await import('node:net')
    const server = createServer((socket) => socket.once('data', () => socket.end(reply)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as {port: number}
    return {origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve()))}
  }

  async function failureOf(reply: string, maxBytes = 1 << 20): Promise<unknown> {
    const {createForwardAgent, httpRequest, TransportError} = await import('../../src/lib/transport/http.js')
    const {buildConnector} = await import('undici')
    const server = await rawServer(reply)
    // A plain TCP connector stands in for the port-forward tunnel.
    const agent = createForwardAgent(5000, buildConnector({}))
    try {
      await httpRequest({origin: server.origin, path: '/config_dump', method: 'GET', dispatcher: agent, signal: AbortSignal.timeout(5000), maxBytes})
    } catch (error) {
      expect(error).toBeInstanceOf(TransportError)
      return (error as InstanceType<typeof TransportError>).failure
    } finally {
      await agent.destroy()
      await server.close()
    }
    throw new Error('expected a transport failure')
  }

  it('a body shorter than its content-length is reported with both counts', async () => {
    const failure = await failureOf('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"configs": [')
    expect(failure).toMatchObject({kind: 'socket', phase: 'body', received: 13, declared: 100})
  })

  it('a body over the cap is refused, from content-length or while streaming', async () => {
    expect(await failureOf('HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n' + 'x'.repeat(5000), 1000)).toEqual({kind: 'too-large', limit: 1000, received: 5000})
    const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' + '800\r\n' + 'y'.repeat(2048) + '\r\n0\r\n\r\n'
    expect(await failureOf(chunked, 1000)).toMatchObject({kind: 'too-large', limit: 1000})
  })
})
