import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {secretCertificateRows} from '../../src/lib/envoy/certs.js'
import {parseConfigDump, requireSection} from '../../src/lib/envoy/configdump.js'
import {
  checkAgentReady,
  checkClusterHealth,
  checkEnvoyReady,
  checkEnvoyServer,
  checkIstiodSync,
  checkLogLevels,
  checkRejected,
  checkWarming,
  checkWorkloadCertificate,
  healthFailed,
  parseEnvoyStats,
  type HealthFinding,
} from '../../src/lib/health/checks.js'
import {parseSyncStatus} from '../../src/lib/istio/sync-status.js'
import {renderHealth} from '../../src/lib/render/health-table.js'
import {projectRoot} from '../helpers/cli.js'

const subject = {pod: 'webapp-7c5d7b8c6b-4vzd9', namespace: 'istioinaction'}
const certs = (name: string, now: string) =>
  secretCertificateRows(requireSection(parseConfigDump(readFileSync(join(projectRoot, 'test', 'fixtures', 'certs', name), 'utf8'), name), 'Secrets'), {now: new Date(now)})
const serverInfo = (state: string, epoch = 0) => ({version: 'abc/1.25.11/Clean/RELEASE/BoringSSL', state, uptime_current_epoch: '93784s', command_line_options: {restart_epoch: epoch}})

describe('health checks (pure)', () => {
  it('Envoy /ready and /server_info', () => {
    expect(checkEnvoyReady({status: 200, body: 'LIVE\n'}, subject)).toEqual({id: 'envoy-ready', title: 'Envoy ready', severity: 'PASS', message: '/ready: LIVE'})
    const notReady = checkEnvoyReady({status: 503, body: 'PRE_INITIALIZING\n'}, subject)
    expect(notReady).toMatchObject({severity: 'FAIL', message: '/ready answered 503: PRE_INITIALIZING', next: 'kubectl logs -n istioinaction webapp-7c5d7b8c6b-4vzd9 -c istio-proxy'})
    expect(checkEnvoyServer(serverInfo('LIVE'), subject)).toMatchObject({severity: 'PASS', message: 'LIVE, Envoy 1.25.11, up 26h3m, hot-restart epoch 0'})
    expect(checkEnvoyServer(serverInfo('LIVE', 2), subject).severity).toBe('WARN')
    expect(checkEnvoyServer(serverInfo('DRAINING'), subject)).toMatchObject({severity: 'FAIL', next: 'meshdbg sync-status webapp-7c5d7b8c6b-4vzd9.istioinaction'})
  })

  it('pilot-agent readiness, and a read that failed', () => {
    expect(checkAgentReady({status: 200}, subject).severity).toBe('PASS')
    expect(checkAgentReady({status: 503}, subject)).toMatchObject({severity: 'FAIL', next: 'meshdbg agent webapp-7c5d7b8c6b-4vzd9.istioinaction ready'})
    expect(checkAgentReady({error: 'connection refused'}, subject)).toMatchObject({severity: 'FAIL', message: 'could not read pilot-agent :15020/healthz/ready: connection refused'})
  })

  it('the workload certificate: valid, late in its life, expired, missing', () => {
    expect(checkWorkloadCertificate(certs('webapp.secrets.json', '2026-06-01T00:00:00Z'), subject)).toMatchObject({
      severity: 'PASS', message: 'spiffe://cluster.local/ns/istioinaction/sa/webapp: 36h left (until 2026-06-02T12:00:00Z)',
    })
    // 48 h lifetime, 12 h left: renewal at half its life did not happen.
    expect(checkWorkloadCertificate(certs('webapp.secrets.json', '2026-06-02T00:00:00Z'), subject)).toMatchObject({severity: 'WARN', message: 'spiffe://cluster.local/ns/istioinaction/sa/webapp: 12h left (until 2026-06-02T12:00:00Z)'})
    expect(checkWorkloadCertificate(certs('sleep.secrets.json', '2026-06-01T00:00:00Z'), subject)).toMatchObject({severity: 'FAIL', message: 'spiffe://cluster.local/ns/default/sa/sleep expired 10d ago', next: 'meshdbg certs webapp-7c5d7b8c6b-4vzd9.istioinaction'})
    expect(checkWorkloadCertificate(certs('webapp.secrets.json', '2026-06-01T00:00:00Z').filter((row) => row.resource === 'ROOTCA'), subject).severity).toBe('FAIL')
  })

  it('warming config and rejected updates from /stats', () => {
    const stats = parseEnvoyStats('cluster_manager.warming_clusters: 2\nlistener_manager.total_listeners_warming: 0\nlistener_manager.lds.update_rejected: 3\ncluster_manager.cds.update_rejected: 0\ncluster.xds-grpc.update_failure: 1\nhistogram: P0(nan,1)\n')
    expect(checkWarming(stats, subject)).toMatchObject({severity: 'WARN', message: '2 warming clusters, 0 warming listeners'})
    expect(checkRejected(stats, subject)).toMatchObject({severity: 'WARN', message: 'xDS updates since start rejected: listener_manager.lds 3; failed: cluster.xds-grpc 1', next: 'meshdbg sync-status -n istioinaction -o wide'})
    const quiet = parseEnvoyStats('cluster_manager.warming_clusters: 0\nlistener_manager.lds.update_rejected: 0\n')
    expect([checkWarming(quiet, subject).severity, checkRejected(quiet, subject).severity]).toEqual(['PASS', 'PASS'])
  })

  it('clusters with endpoints but none healthy', () => {
    const host = (eds: string, extra = {}) => ({address: {socket_address: {address: '10.0.0.1', port_value: 80}}, health_status: {eds_health_status: eds, ...extra}})
    const clusters = {cluster_statuses: [
      {name: 'outbound|80||a.default.svc.cluster.local', host_statuses: [host('UNHEALTHY'), host('HEALTHY', {failed_outlier_check: true})]},
      {name: 'outbound|80||b.default.svc.cluster.local', host_statuses: [host('UNHEALTHY'), host('HEALTHY')]},
      {name: 'BlackHoleCluster'},
    ]}
    expect(checkClusterHealth(clusters, subject)).toMatchObject({severity: 'WARN', message: '1 cluster has no healthy endpoint: outbound|80||a.default.svc.cluster.local', next: 'meshdbg pc endpoint webapp-7c5d7b8c6b-4vzd9.istioinaction --status UNHEALTHY'})
    expect(checkClusterHealth({cluster_statuses: clusters.cluster_statuses.slice(1)}, subject)).toMatchObject({severity: 'PASS', message: 'every cluster with endpoints has a healthy one (1 cluster)'})
  })

  it('loggers left away from their start-up level', () => {
    const startup = new Map([['rbac', 'warning'], ['http', 'warning'], ['misc', 'error']])
    expect(checkLogLevels(new Map(startup), startup, subject).severity).toBe('PASS')
    expect(checkLogLevels(new Map([...startup, ['rbac', 'debug']]), startup, subject)).toMatchObject({severity: 'WARN', message: '1 logger changed: rbac: debug (start-up warning)', next: 'meshdbg log webapp-7c5d7b8c6b-4vzd9.istioinaction --reset'})
  })

  it('istiod\'s sync status: NACK, STALE, synced, not connected', () => {
    const syncz = (listenerAcked: string, error?: string) => JSON.stringify([{proxy: 'webapp-7c5d7b8c6b-4vzd9.istioinaction', istio_version: '1.24.2', cluster_sent: 'n1', cluster_acked: 'n1', listener_sent: 'n2', listener_acked: listenerAcked,
      ...(error ? {resources: {'type.googleapis.com/envoy.config.listener.v3.Listener': {sent: 'n2', acked: listenerAcked, lastError: error}}} : {})}])
    const row = (text: string) => parseSyncStatus(text, 'x', 'istiod-1', {now: Date.parse('2026-06-01T00:00:00Z')})[0]
    expect(checkIstiodSync(row(syncz('n2')), subject).severity).toBe('PASS')
    expect(checkIstiodSync(row(syncz('n0')), subject)).toMatchObject({severity: 'WARN', message: 'LDS STALE at istiod-1'})
    const nack = checkIstiodSync(row(syncz('n0', 'duplicate listener 0.0.0.0_3000')), subject)
    expect(nack.severity).toBe('FAIL')
    expect(nack.message).toContain('duplicate listener 0.0.0.0_3000')
    expect(checkIstiodSync(undefined, subject)).toMatchObject({severity: 'FAIL', message: 'no istiod has this proxy connected'})
  })
})

describe('the health screen', () => {
  const findings: HealthFinding[] = [
    {id: 'envoy-ready', title: 'Envoy ready', severity: 'PASS', message: '/ready: LIVE'},
    {id: 'log-levels', title: 'log levels', severity: 'WARN', message: '1 logger changed: rbac: debug (start-up warning)', hint: 'left on?', next: 'meshdbg log p.ns --reset'},
    {id: 'istiod-sync', title: 'istiod sync', severity: 'FAIL', message: 'LDS rejected: \u001B]52;c;x\u0007bad', next: 'meshdbg sync-status -n ns -o wide'},
  ]

  it('prints one line per check, hint and next below a problem, the tally (golden), escaping peer text', () => {
    expect(renderHealth('p.ns', findings)).toBe(
      'p.ns\n' +
        'PASS  Envoy ready  /ready: LIVE\n' +
        'WARN  log levels   1 logger changed: rbac: debug (start-up warning)\n' +
        '                   Hint: left on?\n' +
        '                   Next: meshdbg log p.ns --reset\n' +
        'FAIL  istiod sync  LDS rejected: \\x1b]52;c;x\\x07bad\n' +
        '                   Next: meshdbg sync-status -n ns -o wide\n' +
        '1 passed, 1 warning, 1 failed\n',
    )
    expect(healthFailed(findings)).toBe(true)
    expect(healthFailed(findings.slice(0, 2))).toBe(false)
  })
})
