import {describe, expect, it} from 'vitest'

import {accessLogCheck} from '../../src/lib/diagnose/checks/access-log.js'
import {endpointsCheck} from '../../src/lib/diagnose/checks/endpoints.js'
import {logLevelsCheck} from '../../src/lib/diagnose/checks/log-levels.js'
import {readinessCheck} from '../../src/lib/diagnose/checks/readiness.js'
import {rejectedConfigCheck} from '../../src/lib/diagnose/checks/rejected-config.js'
import {routesCheck} from '../../src/lib/diagnose/checks/routes.js'
import {syncCheck} from '../../src/lib/diagnose/checks/sync.js'
import {versionSkewCheck} from '../../src/lib/diagnose/checks/version-skew.js'
import {diagnoseOutcome} from '../../src/lib/diagnose/diagnose.js'
import {CHECK_IDS, CHECKS} from '../../src/lib/diagnose/registry.js'
import {checkIdList, countFindings, runChecks, selectChecks} from '../../src/lib/diagnose/run.js'
import type {Check, CheckOptions, ProxyFacts} from '../../src/lib/diagnose/types.js'
import {parseAccessLogLine, type AccessLogEntry} from '../../src/lib/envoy/access-log.js'
import {configDumpFromJson} from '../../src/lib/envoy/configdump.js'
import {parseSyncStatus} from '../../src/lib/istio/sync-status.js'
import {describeContext, validCertificates} from './diagnose-security.fixtures.js'
import {renderDiagnose} from '../../src/lib/render/diagnose.js'
import {clusterHealth, dumpRouting} from '../../src/lib/diagnose/routing.js'

// Our own fixtures, shaped after the catalog stories (mesh-scenarios.md).
const CATALOG = 'catalog.istioinaction.svc.cluster.local'
const DR = '/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/destination-rule/catalog'
const VS = '/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/virtual-service/catalog-v1-v2'
const istioConfig = (config: string) => ({filter_metadata: {istio: {config}}})
const ADMIN = 'type.googleapis.com/envoy.admin.v3.'

function dump(options: {clusters: Array<{name: string; rule?: string; type?: string}>; warming?: string[]}) {
  return configDumpFromJson({
    configs: [
      {
        '@type': `${ADMIN}ClustersConfigDump`,
        dynamic_active_clusters: options.clusters.map((c) => ({cluster: {name: c.name, type: c.type ?? 'EDS', ...(c.rule ? {metadata: istioConfig(c.rule)} : {})}})),
        dynamic_warming_clusters: (options.warming ?? []).map((name) => ({cluster: {name, type: 'EDS'}})),
      },
      {'@type': `${ADMIN}ListenersConfigDump`, dynamic_listeners: []},
      {
        '@type': `${ADMIN}RoutesConfigDump`,
        dynamic_route_configs: [{route_config: {name: 'http.8080', virtual_hosts: [{name: 'catalog.istioinaction.io:80', domains: ['catalog.istioinaction.io'], routes: [{
          match: {prefix: '/'},
          metadata: istioConfig(VS),
          route: {weighted_clusters: {clusters: [{name: `outbound|80|version-v1|${CATALOG}`, weight: 20}, {name: `outbound|80|version-v2|${CATALOG}`, weight: 80}]}},
        }]}]}}],
      },
    ],
  }, 'fixture')
}

const BROKEN = dump({clusters: [{name: `outbound|80||${CATALOG}`}, {name: 'BlackHoleCluster', type: 'STATIC'}]})
const FIXED = dump({clusters: [{name: `outbound|80||${CATALOG}`, rule: DR}, {name: `outbound|80|version-v1|${CATALOG}`, rule: DR}, {name: `outbound|80|version-v2|${CATALOG}`, rule: DR}]})

const line = (code: number, flags: string, details: string, duration: number, host: string, subset: string) =>
  `[2025-05-09T08:45:41.636Z] "GET /items HTTP/1.1" ${code} ${flags} ${details} - "-" 0 24 ${duration} - "172.18.0.1" "curl/8.7.1" "cb846eff" "catalog.istioinaction.io:30000" "${host}" outbound|80|${subset}|${CATALOG} 10.10.0.7:58078 10.10.0.7:8080 172.18.0.1:61108 - -`
const entry = (text: string): AccessLogEntry => {
  const parsed = parseAccessLogLine(text)
  if (!parsed.ok) throw new Error(`fixture line does not parse: ${text}`)
  return parsed.entry
}
const STORY2_LOG = [
  ...Array.from({length: 3}, () => entry(line(504, 'UT', 'response_timeout', 501, '10.10.0.13:3000', 'version-v2'))),
  ...Array.from({length: 5}, () => entry(line(200, '-', 'via_upstream', 7, '10.10.0.12:3000', 'version-v2'))),
  ...Array.from({length: 2}, () => entry(line(200, '-', 'via_upstream', 6, '10.10.0.11:3000', 'version-v1'))),
]

const SYNCZ = JSON.stringify([
  {proxy: 'gw.istio-system', istio_version: '1.17.8', cluster_sent: 'a', cluster_acked: 'a', listener_sent: 'b', listener_acked: 'b', route_sent: 'c', route_acked: 'c', endpoint_sent: 'd', endpoint_acked: 'd'},
  {proxy: 'stale.ns', istio_version: '1.17.8', cluster_sent: 'a2', cluster_acked: 'a1', listener_sent: 'b', listener_acked: 'b', route_sent: 'c', route_acked: 'c', endpoint_sent: 'd', endpoint_acked: ''},
  {proxy: 'new.ns', istio_version: '1.18.0', cluster_sent: 'a', cluster_acked: 'a', listener_sent: 'b', listener_acked: 'b', route_sent: 'c', route_acked: 'c', endpoint_sent: 'd', endpoint_acked: 'd'},
  {proxy: 'old.ns', istio_version: '1.16.2', cluster_sent: 'a', cluster_acked: 'a', listener_sent: 'b', listener_acked: 'b', route_sent: 'c', route_acked: 'c', endpoint_sent: 'd', endpoint_acked: 'd'},
])
const ROWS = new Map(parseSyncStatus(SYNCZ, 'syncz', 'istiod-a', {now: 0}).map((row) => [row.proxy, row]))

const host = (address: string, status: string, ejected = false) => ({address: {socket_address: {address, port_value: 3000}}, health_status: {eds_health_status: status, ...(ejected ? {failed_outlier_check: true} : {})}})

function facts(overrides: Partial<ProxyFacts> & {id?: string} = {}): ProxyFacts {
  const id = overrides.id ?? 'gw.istio-system'
  const [name, namespace] = id.split('.')
  const fail = (what: string) => () => Promise.reject(new Error(`${what} not in this fixture`))
  return {
    pod: {name, namespace, id, gateway: true, startLevels: {level: 'warning', loggers: [{name: 'misc', level: 'error'}]}},
    routing: async () => dumpRouting(FIXED),
    clusterHealth: fail('clusters'),
    envoyReady: async () => ({status: 200, text: 'LIVE\n'}),
    agentReady: async () => ({status: 200, text: ''}),
    logLevels: async () => new Map([['http', 'warning'], ['router', 'warning'], ['misc', 'error']]),
    configStats: async () => new Map([['cluster_manager.cds.update_rejected', 0], ['listener_manager.lds.update_rejected', 0]]),
    accessLog: async () => [],
    certificates: async () => validCertificates(),
    describeContext: async () => describeContext('catalog.yaml'),
    sync: async () => ({row: ROWS.get(id), failedIstiods: []}),
    istiodVersion: async () => '1.17.8',
    peerByIp: async () => undefined,
    podByIp: async (ip) => ({'10.10.0.13': 'catalog-v2-6d4c8b7d9f-zqgfl', '10.10.0.12': 'catalog-v2-6d4c8b7d9f-8xw2p'})[ip],
    ...overrides,
  }
}

const OPTIONS: CheckOptions = {sinceMs: 300_000, now: 0}
const run = (check: Check, proxy: ProxyFacts) => check.run(proxy, OPTIONS)
const handle = (proxy: ProxyFacts) => ({id: proxy.pod.id, open: () => ({facts: proxy, close: () => {}})})

describe('routes check', () => {
  it('story 1: routes to subsets no DestinationRule defines fail, naming the subsets, the host and the fix', async () => {
    const [outcome, ...rest] = await run(routesCheck, facts({routing: async () => dumpRouting(BROKEN)}))
    expect(rest).toEqual([])
    expect(outcome.severity).toBe('fail')
    expect(outcome.message).toBe(`no DestinationRule defines subset version-v1 or version-v2 for ${CATALOG}: VirtualService catalog-v1-v2.istioinaction (route http.8080) routes to them, so requests fail with 503 NC (cluster_not_found)`)
    expect(outcome.hint).toBe(`apply a DestinationRule for host ${CATALOG} with subsets version-v1, version-v2 (each selecting its pods' labels, e.g. version: v1)`)
    expect(outcome.command).toBe('kubectl get destinationrules -n istioinaction')
    expect(outcome.evidence).toEqual([
      `route http.8080 vhost catalog.istioinaction.io:80 → outbound|80|version-v1|${CATALOG} (20%): not in the proxy's clusters`,
      `route http.8080 vhost catalog.istioinaction.io:80 → outbound|80|version-v2|${CATALOG} (80%): not in the proxy's clusters`,
    ])
  })

  it('a DestinationRule without the subset is named as the one to change', async () => {
    const partial = dump({clusters: [{name: `outbound|80||${CATALOG}`, rule: DR}, {name: `outbound|80|version-v1|${CATALOG}`, rule: DR}]})
    const [outcome] = await run(routesCheck, facts({routing: async () => dumpRouting(partial)}))
    expect(outcome.message).toMatch(/^DestinationRule catalog\.istioinaction defines no subset version-v2 for /)
    expect(outcome.hint).toBe('add subsets version-v2 to DestinationRule catalog.istioinaction, or route to the subsets it defines')
  })

  it('a route to a service the proxy does not know at all fails with the Sidecar/export hint', async () => {
    const [outcome] = await run(routesCheck, facts({routing: async () => dumpRouting(dump({clusters: []}))}))
    expect(outcome.severity).toBe('fail')
    expect(outcome.hint).toMatch(/knows no service catalog\.istioinaction\.svc\.cluster\.local/)
  })

  it('passes once the subset clusters exist', async () => {
    expect(await run(routesCheck, facts())).toEqual([{severity: 'pass', message: '2 clusters named by routes, all present'}])
  })
})

describe('access-log check', () => {
  it('story 2: 504 UT grouped by upstream host, the slow pod named and singled out', async () => {
    const [outcome] = await run(accessLogCheck, facts({accessLog: async () => STORY2_LOG}))
    expect(outcome.severity).toBe('fail')
    expect(outcome.message).toBe(`3 of 10 requests in the last 5m failed: 504 UT (response_timeout) ×3 via pod catalog-v2-6d4c8b7d9f-zqgfl (10.10.0.13:3000) outbound|80|version-v2|${CATALOG}; that host stands out: 100% 5xx vs 0% on its peers; p50 501ms vs 7ms on its peers`)
    expect(outcome.hint).toMatch(/timed out after 0\.5 s .*Its peers answer in time: look at pod catalog-v2-6d4c8b7d9f-zqgfl/)
    expect(outcome.command).toBe('meshdbg access-log gw.istio-system --since 5m --status 5xx --summary')
  })

  it('a few 5xx among many requests are a warning; none is a pass', async () => {
    const many = [...STORY2_LOG.slice(0, 1), ...Array.from({length: 40}, () => STORY2_LOG[5])]
    expect((await run(accessLogCheck, facts({accessLog: async () => many})))[0].severity).toBe('warn')
    expect(await run(accessLogCheck, facts({accessLog: async () => STORY2_LOG.slice(3)}))).toEqual([{severity: 'pass', message: '7 requests in the last 5m, no 5xx'}])
  })
})

describe('endpoints check', () => {
  const statuses = (hosts: unknown[]) => async () => clusterHealth([{name: `outbound|80|version-v1|${CATALOG}`, host_statuses: hosts}, {name: `outbound|80|version-v2|${CATALOG}`, host_statuses: [host('10.10.0.12', 'HEALTHY')]}])
  it('fails when a used cluster has no healthy endpoint, warns when it has none, passes otherwise', async () => {
    const unhealthy = await run(endpointsCheck, facts({clusterHealth: statuses([host('10.10.0.11', 'UNHEALTHY'), host('10.10.0.15', 'HEALTHY', true)])}))
    expect(unhealthy.map((o) => [o.severity, o.message])).toEqual([['fail', `no healthy endpoint in 1 cluster that routes use: outbound|80|version-v1|${CATALOG}`]])
    expect(unhealthy[0].evidence).toContain(`outbound|80|version-v1|${CATALOG} 10.10.0.15:3000 HEALTHY (ejected by outlier detection)`)
    expect((await run(endpointsCheck, facts({clusterHealth: statuses([])})))[0].severity).toBe('warn')
    expect((await run(endpointsCheck, facts({clusterHealth: statuses([host('10.10.0.11', 'HEALTHY')])})))[0].severity).toBe('pass')
  })
})

describe('sync check', () => {
  it('STALE and never-acknowledged types fail, SYNCED passes, a proxy no istiod knows fails', async () => {
    const stale = await run(syncCheck, facts({id: 'stale.ns'}))
    expect(stale.map((o) => o.severity)).toEqual(['fail', 'fail'])
    expect(stale[0].message).toBe('EDS never acknowledged by stale.ns (istiod istiod-a sent it, Envoy never answered)')
    expect(stale[1].message).toBe('CDS STALE on stale.ns: istiod istiod-a sent an update Envoy has not acknowledged')
    expect((await run(syncCheck, facts()))[0]).toMatchObject({severity: 'pass', message: 'SYNCED with istiod-a'})
    expect((await run(syncCheck, facts({id: 'ghost.ns'})))[0].message).toBe('ghost.ns is not connected to any istiod (it is in no istiod\'s /debug/syncz)')
    const unknown = await run(syncCheck, facts({id: 'ghost.ns', sync: async () => ({failedIstiods: [{istiod: 'istiod-b', message: 'refused'}]})}))
    expect(unknown[0].severity).toBe('error')
  })
})

describe('rejected-config check', () => {
  it('rejected updates fail, warming clusters warn', async () => {
    const outcomes = await run(rejectedConfigCheck, facts({
      configStats: async () => new Map([['listener_manager.lds.update_rejected', 2], ['cluster_manager.cds.update_rejected', 0]]),
      routing: async () => dumpRouting(dump({clusters: [], warming: [`outbound|80||${CATALOG}`]})),
    }))
    expect(outcomes.map((o) => [o.severity, o.message])).toEqual([
      ['fail', 'Envoy rejected config from istiod: LDS 2×'],
      ['warn', `1 resource warming (not yet in use): cluster outbound|80||${CATALOG}`],
    ])
    expect((await run(rejectedConfigCheck, facts()))[0].severity).toBe('pass')
  })
})

describe('readiness check', () => {
  it('fails for Envoy and for pilot-agent separately', async () => {
    const outcomes = await run(readinessCheck, facts({envoyReady: async () => ({status: 503, text: 'PRE_INITIALIZING\n'}), agentReady: async () => ({status: 503, text: 'Envoy proxy is NOT ready'})}))
    expect(outcomes.map((o) => o.message)).toEqual(['Envoy is not ready: /ready answered 503 PRE_INITIALIZING', 'pilot-agent is not ready: :15020/healthz/ready answered 503 Envoy proxy is NOT ready'])
    expect(await run(readinessCheck, facts())).toEqual([{severity: 'pass', message: 'Envoy LIVE, pilot-agent ready'}])
  })
})

describe('version-skew check', () => {
  it('a proxy ahead of istiod fails, one behind warns, the same minor passes', async () => {
    expect((await run(versionSkewCheck, facts({id: 'new.ns'})))[0]).toMatchObject({severity: 'fail', message: 'the proxy (1.18.0) is newer than its istiod istiod-a (1.17.8): Istio does not support a data plane ahead of its control plane'})
    expect((await run(versionSkewCheck, facts({id: 'old.ns'})))[0].severity).toBe('warn')
    expect((await run(versionSkewCheck, facts()))[0].severity).toBe('pass')
  })
})

describe('log-levels check', () => {
  it('warns about loggers above the start-up level and suggests the reset; start-up component levels are not flagged', async () => {
    const [outcome] = await run(logLevelsCheck, facts({logLevels: async () => new Map([['http', 'debug'], ['router', 'debug'], ['rbac', 'trace'], ['misc', 'error']])}))
    expect(outcome).toMatchObject({severity: 'warn', message: '2 loggers at debug (http, router), 1 logger at trace (rbac): above the start-up level warning', command: 'meshdbg log gw.istio-system --reset'})
    expect((await run(logLevelsCheck, facts()))[0].severity).toBe('pass')
  })
})

describe('runner', () => {
  const slow: Check = {id: 'slow', group: 'Test', title: 'never answers', run: () => new Promise(() => {})}
  const broken: Check = {id: 'broken', group: 'Test', title: 'throws', run: async () => {
    throw new Error('port-forward refused\nsecond line')
  }}

  it('a check that times out or throws is one ERROR finding and the others still run', async () => {
    const findings = await runChecks([slow, broken, readinessCheck], [handle(facts())], {...OPTIONS, concurrency: 2, checkTimeoutMs: 50})
    expect(findings.map((f) => [f.id, f.severity, f.message])).toEqual([
      ['slow', 'error', 'never answers: not decided, the check timed out after 50ms'],
      ['broken', 'error', 'throws: could not check: port-forward refused'],
      ['readiness', 'pass', 'Envoy LIVE, pilot-agent ready'],
    ])
  })

  it('the command deadline ends the checks still running as ERROR', async () => {
    const abort = new AbortController()
    const pending = runChecks([slow], [handle(facts())], {...OPTIONS, concurrency: 1, checkTimeoutMs: 60_000, signal: abort.signal})
    abort.abort()
    expect((await pending)[0].message).toMatch(/before the command's deadline/)
  })

  it('orders by severity, then the check\'s relevance: story 1\'s route finding comes before the 503s it causes', async () => {
    const proxy = facts({routing: async () => dumpRouting(BROKEN), accessLog: async () => [entry(line(503, 'NC', 'cluster_not_found', 0, '-', 'version-v1'))], id: 'stale.ns'})
    const findings = await runChecks(CHECKS.filter((c) => c.id !== 'endpoints'), [handle(proxy)], {...OPTIONS, concurrency: 4, checkTimeoutMs: 1000})
    expect(findings.filter((f) => f.severity !== 'pass').map((f) => f.id)).toEqual(['routes', 'access-log', 'sync', 'sync'])
    expect(countFindings(findings)).toEqual({pass: 7, warn: 0, fail: 4, error: 0})
  })

  it('--check/--skip take known ids only, comma-separated or repeated', () => {
    expect(checkIdList(['sync,routes', ' readiness '])).toEqual(['sync', 'routes', 'readiness'])
    expect(selectChecks(CHECKS, ['sync', 'routes'], []).map((c) => c.id)).toEqual(['routes', 'sync'])
    expect(selectChecks(CHECKS, [], ['access-log']).map((c) => c.id)).toEqual(CHECK_IDS.filter((id) => id !== 'access-log'))
    expect(() => selectChecks(CHECKS, ['synk'], [])).toThrow('unknown check "synk" (checks: routes, access-log, authz, endpoints, sync, rejected-config, readiness, certificates, mtls, version-skew, log-levels)')
  })
})

describe('exit outcome and rendering', () => {
  const base = {id: 'sync', group: 'Control plane', target: 'a.ns'}
  const result = (severities: Array<'pass' | 'warn' | 'fail' | 'error'>) => {
    const findings = severities.map((severity) => ({...base, severity, message: `${severity} message`}))
    return {proxies: ['a.ns'], checks: ['sync'], counts: countFindings(findings), findings}
  }
  it('11 on failures and errors, 10 on warnings with --fail-on warn, nothing otherwise', () => {
    expect(diagnoseOutcome(result(['fail', 'pass']), 'fail')?.exitCode).toBe(11)
    expect(diagnoseOutcome(result(['error']), 'fail')?.exitCode).toBe(11)
    expect(diagnoseOutcome(result(['warn', 'pass']), 'fail')).toBeUndefined()
    expect(diagnoseOutcome(result(['warn', 'pass']), 'warn')?.exitCode).toBe(10)
    expect(diagnoseOutcome(result(['pass']), 'warn')).toBeUndefined()
  })

  it('groups findings, folds passes, escapes cluster text; --short keeps problems only', () => {
    const findings = [
      {id: 'routes', group: 'Routing', target: 'gw.istio-system', severity: 'fail' as const, message: 'bad\u001B]52;c;x\u0007 route', hint: 'fix it', command: 'kubectl get dr'},
      {id: 'sync', group: 'Control plane', target: 'a.ns', severity: 'pass' as const, message: 'SYNCED'},
      {id: 'sync', group: 'Control plane', target: 'gw.istio-system', severity: 'pass' as const, message: 'SYNCED'},
    ]
    const counts = countFindings(findings)
    expect(renderDiagnose(findings, CHECKS, {proxies: 2, counts})).toBe([
      'Routing',
      '-------',
      '[FAIL] routes gw.istio-system: bad\\x1b]52;c;x\\x07 route',
      '       hint: fix it',
      '       next: kubectl get dr',
      '',
      'Control plane',
      '-------------',
      '[PASS] sync: istiod sent the proxy its config and Envoy acknowledged it (2 proxies)',
      '',
      'Diagnosed 2 proxies: 1 failed, 0 errors, 0 warnings, 2 passed',
      '',
    ].join('\n'))
    expect(renderDiagnose(findings, CHECKS, {proxies: 2, counts, short: true})).not.toContain('[PASS]')
  })
})
