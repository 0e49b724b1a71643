import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {
  closeMatches,
  diffLevels,
  normaliseLevel,
  parseActiveLoggers,
  parseLevelSpec,
  planLevelChanges,
  resetLevelFor,
  validateLevelSpec,
} from '../../src/lib/envoy/log-levels.js'
import {MeshdbgError} from '../../src/lib/errors.js'
import {corpusDir, corpusNotice} from '../helpers/corpus.js'

const LOGGERS = ['admin', 'aws', 'assert', 'backtrace', 'client', 'config', 'connection', 'dubbo', 'file', 'filter', 'forward_proxy', 'grpc', 'hc', 'health_checker', 'http', 'http2', 'hystrix', 'init', 'io', 'jwt', 'kafka', 'lua', 'main', 'misc', 'mongo', 'quic', 'pool', 'rbac', 'redis', 'router', 'runtime', 'stats', 'secret', 'tap', 'testing', 'thrift', 'tracing', 'upstream', 'udp', 'wasm']
const BODY = `active loggers:\n${LOGGERS.map((name) => `  ${name}: warning`).join('\n')}\n\n`

function usageErrorOf(run: () => unknown): MeshdbgError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(MeshdbgError)
    expect((error as MeshdbgError).exitCode).toBe(2)
    return error as MeshdbgError
  }
  throw new Error('expected a usage error')
}

describe('parseActiveLoggers', () => {
  it('reads name: level pairs in the proxy\'s order', () => {
    const loggers = parseActiveLoggers(BODY)
    expect([...loggers.keys()]).toEqual(LOGGERS)
    expect(loggers.get('rbac')).toBe('warning')
  })

  it('reads the list after the usage text of an error answer', () => {
    const body = 'error: unknown logger name\n\nusage: /logging?<name>=<level> (change single level)\nlevels: trace debug info warning error critical off \nactive loggers:\n  admin: info\n  http: debug\n'
    expect([...parseActiveLoggers(body)]).toEqual([['admin', 'info'], ['http', 'debug']])
  })

  it('keeps fine-grain logger names (file paths)', () => {
    expect([...parseActiveLoggers('active loggers:\n  source/common/http/conn_manager_impl.cc: debug\n')]).toEqual([['source/common/http/conn_manager_impl.cc', 'debug']])
  })

  it('rejects a body that is not a /logging answer (bad data, exit 6)', () => {
    expect(() => parseActiveLoggers('<html>404</html>')).toThrow(expect.objectContaining({exitCode: 6}))
  })

  corpusNotice('the logging.txt fixture')
  it.skipIf(!corpusDir)('reads istioctl\'s logging.txt fixture in place', () => {
    const loggers = parseActiveLoggers(readFileSync(join(corpusDir!, 'istioctl', 'logging', 'logging.txt'), 'utf8'))
    expect([...loggers.keys()]).toEqual(LOGGERS)
  })
})

describe('parseLevelSpec', () => {
  it('a bare level', () => {
    expect(parseLevelSpec('debug')).toEqual({level: 'debug', loggers: []})
  })

  it('named loggers, with : or =, in the order given', () => {
    expect(parseLevelSpec('http:debug,router:debug,connection=debug,pool:debug')).toEqual({
      loggers: [
        {name: 'http', level: 'debug'},
        {name: 'router', level: 'debug'},
        {name: 'connection', level: 'debug'},
        {name: 'pool', level: 'debug'},
      ],
    })
  })

  it('a bare level combines with named ones instead of wiping them (unlike istioctl)', () => {
    expect(parseLevelSpec('http:debug,info')).toEqual({level: 'info', loggers: [{name: 'http', level: 'debug'}]})
    expect(parseLevelSpec('level=info,rbac:debug')).toEqual({level: 'info', loggers: [{name: 'rbac', level: 'debug'}]})
  })

  it('warn means warning; levels are case-insensitive', () => {
    expect(parseLevelSpec('rbac:warn,WARN')).toEqual({level: 'warning', loggers: [{name: 'rbac', level: 'warning'}]})
    expect(normaliseLevel('Critical')).toBe('critical')
  })

  it('namespaced names keep their last part', () => {
    expect(parseLevelSpec('envoy::http:debug,a::b=trace')).toEqual({loggers: [{name: 'http', level: 'debug'}, {name: 'b', level: 'trace'}]})
  })

  it('ignores empty items, collapses exact repeats', () => {
    expect(parseLevelSpec('rbac:debug,,rbac:debug,')).toEqual({loggers: [{name: 'rbac', level: 'debug'}]})
  })

  it.each([
    ['', /needs a value/],
    ['http:loud', /unrecognized logging level "loud"/],
    ['verbose', /unrecognized logging level "verbose"/],
    ['http:', /use name:level/],
    [':debug', /use name:level/],
    ['debug,info', /two global levels/],
    ['http:debug,http:info', /sets logger "http" twice/],
  ])('rejects %j', (spec, message) => {
    expect(usageErrorOf(() => parseLevelSpec(spec)).message).toMatch(message)
  })
})

describe('validateLevelSpec', () => {
  const loggers = parseActiveLoggers(BODY)

  it('accepts names the proxy lists', () => {
    expect(() => validateLevelSpec(parseLevelSpec('http:debug,router:debug,connection:debug,pool:debug,info'), loggers)).not.toThrow()
  })

  it('rejects a typo istioctl accepts as a substring, with close matches', () => {
    const error = usageErrorOf(() => validateLevelSpec(parseLevelSpec('ttp:debug'), loggers))
    expect(error.message).toBe('unrecognized logger name "ttp" (did you mean http, tap?)')
    expect(error.message).not.toContain('\n')
  })

  it('lists every bad name, with prefix matches', () => {
    const error = usageErrorOf(() => validateLevelSpec(parseLevelSpec('rbca:debug,conn:debug,zzzzzz:info'), [...loggers.keys()]))
    expect(error.message).toBe('unrecognized logger names "rbca" (did you mean rbac?), "conn" (did you mean connection?), "zzzzzz"')
  })

  it('closeMatches ranks by distance, then name', () => {
    expect(closeMatches('htp', LOGGERS)).toEqual(['http'])
    expect(closeMatches('http3', LOGGERS)).toEqual(['http', 'http2'])
  })
})

describe('planLevelChanges', () => {
  const current = parseActiveLoggers(BODY)

  it('level first, then named loggers in spec order', () => {
    expect(planLevelChanges(parseLevelSpec('router:trace,info,http:debug'), current)).toEqual([
      {query: 'logging?level=info'},
      {query: 'logging?router=trace'},
      {query: 'logging?http=debug'},
    ])
  })

  it('the story 2 spec: four POSTs', () => {
    expect(planLevelChanges(parseLevelSpec('http:debug,router:debug,connection:debug,pool:debug'), current).map((step) => step.query)).toEqual([
      'logging?http=debug',
      'logging?router=debug',
      'logging?connection=debug',
      'logging?pool=debug',
    ])
  })

  it('leaves out loggers already at the level, counting the bare level first', () => {
    expect(planLevelChanges(parseLevelSpec('rbac:warning'), current)).toEqual([])
    expect(planLevelChanges(parseLevelSpec('debug,rbac:debug'), current)).toEqual([{query: 'logging?level=debug'}])
  })

  it('an empty spec reads the levels', () => {
    expect(planLevelChanges({loggers: []}, current)).toEqual([{query: 'logging'}])
  })

  it('escapes fine-grain names', () => {
    expect(planLevelChanges({loggers: [{name: 'source/common/a b.cc', level: 'debug'}]}, new Map())).toEqual([{query: 'logging?source%2Fcommon%2Fa%20b.cc=debug'}])
  })
})

describe('resetLevelFor', () => {
  it('the sidecar.istio.io/logLevel annotation wins', () => {
    expect(resetLevelFor({metadata: {annotations: {'sidecar.istio.io/logLevel': 'debug'}}, spec: {containers: [{name: 'istio-proxy', args: ['--proxyLogLevel=info']}]}})).toEqual({level: 'debug', source: 'annotation'})
  })

  it('then the istio-proxy --proxyLogLevel argument (= or separate; native sidecars in initContainers)', () => {
    expect(resetLevelFor({spec: {containers: [{name: 'app', args: ['--proxyLogLevel=trace']}, {name: 'istio-proxy', args: ['proxy', 'sidecar', '--proxyLogLevel=warning']}]}})).toEqual({level: 'warning', source: 'proxy-args'})
    expect(resetLevelFor({spec: {containers: [{name: 'istio-proxy', args: ['--proxyLogLevel', 'warn']}]}})).toEqual({level: 'warning', source: 'proxy-args'})
    expect(resetLevelFor({spec: {initContainers: [{name: 'istio-proxy', args: ['--proxyLogLevel=error']}]}})).toEqual({level: 'error', source: 'proxy-args'})
  })

  it('else warning; unusable values are reported, not used', () => {
    expect(resetLevelFor({})).toEqual({level: 'warning', source: 'default'})
    expect(resetLevelFor({metadata: {annotations: {'sidecar.istio.io/logLevel': 'loud'}}, spec: {containers: [{name: 'istio-proxy', args: ['--proxyLogLevel=info']}]}}))
      .toEqual({level: 'info', source: 'proxy-args', ignored: 'annotation sidecar.istio.io/logLevel="loud" is not a level'})
  })
})

describe('diffLevels', () => {
  it('lists changed loggers in the order of the new list', () => {
    const before = parseActiveLoggers('active loggers:\n  admin: warning\n  http: warning\n  rbac: warning\n')
    const after = parseActiveLoggers('active loggers:\n  admin: warning\n  http: debug\n  rbac: debug\n')
    expect(diffLevels(before, after)).toEqual([
      {logger: 'http', before: 'warning', after: 'debug'},
      {logger: 'rbac', before: 'warning', after: 'debug'},
    ])
    expect(diffLevels(after, after)).toEqual([])
  })
})
