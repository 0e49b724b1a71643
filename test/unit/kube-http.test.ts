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

  it('refuses spaces, controls and DEL, which would split or bend the request line', () => {
    expect(refusal('GET', '/stats?filter=a b').message).toMatch(/percent-encoded/)
    expect(refusal('GET', '/ready\r\nx-injected: 1').message).toContain('\\r\\n')
    expect(refusal('GET', '/ready\u007f').message).toMatch(/malformed request path/)
    expect(safeRequestPath('GET', '/stats?filter=a%20b')).toBe('/stats?filter=a%20b')
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
