// meshdbg diagnose and meshdbg demo against the live simulated mesh of scenarios/catalog.yaml
// (stories 1 and 2 broken), through the CLI as a user runs it.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DiagnoseResult} from '../../src/commands/diagnose.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8'), 'catalog')})
})
afterAll(async () => {
  await sim?.close()
})

const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '30s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 60_000})
const findingsOf = (stdout: string) => (JSON.parse(stdout) as DiagnoseResult).findings
const GW = ['deploy/istio-ingressgateway', '-n', 'istio-system']
const SLEEP = ['pod/sleep-6f8cfb8c8f-wncwh', '-n', 'default']
const CATALOG = 'catalog.istioinaction.svc.cluster.local'

describe('meshdbg diagnose on the live mesh', () => {
  it('story 1: the missing DestinationRule is the first finding, then the 503 NC it causes; exit 11', async () => {
    const text = await meshdbg('diagnose', ...GW)
    expect(text.code).toBe(11)
    const lines = text.stdout.split('\n')
    expect(lines.slice(0, 3)).toEqual(['Routing', '-------', `[FAIL] routes: no DestinationRule defines subset version-v1 or version-v2 for ${CATALOG}: VirtualService catalog-v1-v2.istioinaction (route http.8080) routes to them, so requests fail with 503 NC (cluster_not_found)`])
    expect(text.stdout).toContain('[PASS] sync: SYNCED with istiod-8d74787f-n4c7b')
    expect(text.stdout).toMatch(/\[FAIL\] access-log: \d+ of \d+ requests in the last 5m failed: 503 NC \(cluster_not_found\)/)
    expect(lines.at(-2)).toBe('Diagnosed istio-ingressgateway-6bb8fb6549-hcdnc.istio-system: 2 failed, 0 errors, 0 warnings, 9 passed')
    expect(text.stderr).toMatch(/^Error: 2 checks failed: routes on istio-ingressgateway-6bb8fb6549-hcdnc\.istio-system: no DestinationRule/)

    const short = await meshdbg('diagnose', ...GW, '--short')
    expect(short.code).toBe(11)
    expect(short.stdout).not.toContain('[PASS]')
    expect(short.stdout).toContain('[FAIL] routes:')

    const json = await meshdbg('diagnose', ...GW, '--json')
    const envelope = JSON.parse(json.stdout)
    expect(envelope.status).toBe(11)
    expect(envelope.error.kind).toBe('problems-found')
    expect(envelope.result.findings[0]).toMatchObject({id: 'routes', group: 'Routing', severity: 'fail', target: 'istio-ingressgateway-6bb8fb6549-hcdnc.istio-system', command: 'kubectl get destinationrules -n istioinaction'})
    expect(envelope.result.findings.map((f: {id: string}) => f.id).sort()).toEqual(['access-log', 'authz', 'certificates', 'endpoints', 'log-levels', 'mtls', 'readiness', 'rejected-config', 'routes', 'sync', 'version-skew'])
  }, 120_000)

  it('rejected-config and endpoints share one stats read per proxy: the NACKing pod fails on its LDS counter', async () => {
    const before = sim.adminRequests.length
    const result = await meshdbg('diagnose', 'deploy/catalog-v2', '-n', 'istioinaction', '--check', 'rejected-config', '--check', 'endpoints', '-o', 'json')
    expect(result.code).toBe(11)
    const rejected = findingsOf(result.stdout).filter((finding) => finding.id === 'rejected-config' && finding.severity === 'fail')
    expect(rejected.map((finding) => [finding.target, finding.message, finding.evidence])).toEqual([
      ['catalog-v2-6d4c8b7d9f-zqgfl.istioinaction', 'Envoy rejected config from istiod: LDS 1×', ['listener_manager.lds.update_rejected: 1']],
    ])
    const stats = sim.adminRequests.slice(before).filter((request) => request.path.startsWith('/stats'))
    expect(stats.map((request) => request.pod).sort()).toEqual(['catalog-v2-6d4c8b7d9f-8xw2p', 'catalog-v2-6d4c8b7d9f-zqgfl'])
  }, 60_000)

  it('sync: every pod of a workload is diagnosed; the STALE ones fail (-o json is the typed result)', async () => {
    const result = await meshdbg('diagnose', 'deploy/catalog-v2', '-n', 'istioinaction', '--check', 'sync', '-o', 'json')
    expect(result.code).toBe(11)
    const parsed = JSON.parse(result.stdout) as DiagnoseResult
    expect(parsed.proxies).toEqual(['catalog-v2-6d4c8b7d9f-8xw2p.istioinaction', 'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction'])
    expect(parsed.findings.map((f) => [f.target, f.severity, f.message])).toEqual([
      ['catalog-v2-6d4c8b7d9f-8xw2p.istioinaction', 'fail', 'CDS STALE on catalog-v2-6d4c8b7d9f-8xw2p.istioinaction: istiod istiod-8d74787f-x2k9p sent an update Envoy has not acknowledged'],
      ['catalog-v2-6d4c8b7d9f-zqgfl.istioinaction', 'fail', 'LDS STALE on catalog-v2-6d4c8b7d9f-zqgfl.istioinaction: istiod istiod-8d74787f-x2k9p sent an update Envoy has not acknowledged'],
    ])
  }, 60_000)

  it('log-levels: debug left on is a warning: exit 0, or 10 with --fail-on warn', async () => {
    expect((await meshdbg('diagnose', ...SLEEP, '--check', 'log-levels')).stdout).toContain('[PASS] log-levels')
    expect((await meshdbg('log', ...SLEEP, '--level', 'http:debug,router:debug')).code).toBe(0)
    const warned = await meshdbg('diagnose', ...SLEEP, '--check', 'log-levels')
    expect(warned.code).toBe(0)
    expect(warned.stdout).toContain('[WARN] log-levels: 2 loggers at debug (http, router): above the start-up level warning')
    expect(warned.stdout).toContain('next: meshdbg log sleep-6f8cfb8c8f-wncwh.default --reset')
    expect((await meshdbg('diagnose', ...SLEEP, '--check', 'log-levels', '--fail-on', 'warn')).code).toBe(10)
    // The hint's own command clears the warning, and leaves the pod as the later tests expect it.
    expect((await meshdbg('log', ...SLEEP, '--reset')).code).toBe(0)
    expect((await meshdbg('diagnose', ...SLEEP, '--check', 'log-levels')).stdout).toContain('[PASS] log-levels')
  }, 60_000)

  it('readiness: pilot-agent answering 503 fails the check (httpbin: Envoy admin on 15800 from its annotation)', async () => {
    const pod = {pod: 'httpbin-5c5f9d7b8d-lt6hx', namespace: 'default', port: 15020}
    sim.setFault(pod, {kind: 'http-status', status: 503, body: 'Envoy proxy is NOT ready'})
    try {
      const result = await meshdbg('diagnose', 'deploy/httpbin', '-n', 'default', '--check', 'readiness')
      expect(result.code).toBe(11)
      expect(result.stdout).toContain('[FAIL] readiness: pilot-agent is not ready: :15020/healthz/ready answered 503 Envoy proxy is NOT ready')
    } finally {
      sim.setFault(pod, undefined)
    }
    expect((await meshdbg('diagnose', 'deploy/httpbin', '-n', 'default', '--check', 'readiness')).stdout).toContain('[PASS] readiness: Envoy LIVE, pilot-agent ready')
  }, 60_000)

  it('a stalled Envoy admin port: its checks end as ERROR at --check-timeout, istiod\'s sync check still passes', async () => {
    const admin = {pod: 'sleep-6f8cfb8c8f-wncwh', namespace: 'default', port: 15000}
    sim.setFault(admin, {kind: 'stall'})
    try {
      const result = await meshdbg('diagnose', ...SLEEP, '--check', 'routes,readiness,sync', '--check-timeout', '8s', '-o', 'json')
      expect(result.code).toBe(11)
      expect(findingsOf(result.stdout).map((f) => [f.id, f.severity, f.message])).toEqual([
        ['routes', 'error', 'every route sends traffic to a cluster the proxy has: not decided, the check timed out after 8s'],
        ['readiness', 'error', 'Envoy is LIVE and pilot-agent reports ready: not decided, the check timed out after 8s'],
        ['sync', 'pass', 'SYNCED with istiod-8d74787f-n4c7b'],
      ])
    } finally {
      sim.setFault(admin, undefined)
    }
  }, 60_000)

  it('a kept-alive tunnel closed as the next read goes out: the read is sent again on a new tunnel, no ERROR', async () => {
    const admin = {pod: 'sleep-6f8cfb8c8f-wncwh', namespace: 'default', port: 15000}
    sim.setFault(admin, {kind: 'close-on-reuse'})
    try {
      // routes alone makes five config_dump reads, queued on the pod's one tunnel to port 15000.
      const result = await meshdbg('diagnose', ...SLEEP, '--check', 'routes,readiness,log-levels', '-o', 'json')
      expect(findingsOf(result.stdout).map((f) => [f.id, f.severity])).toEqual([['routes', 'pass'], ['readiness', 'pass'], ['log-levels', 'pass']])
      expect(result.code).toBe(0)
    } finally {
      sim.setFault(admin, undefined)
    }
  }, 60_000)

  it('usage errors: an unknown check id, no target', async () => {
    const unknown = await meshdbg('diagnose', ...GW, '--skip', 'routez')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe('Error: unknown check "routez" (checks: routes, access-log, authz, endpoints, sync, rejected-config, readiness, certificates, mtls, version-skew, log-levels)\n')
    expect((await meshdbg('diagnose')).code).toBe(2)
  }, 30_000)

  it('story 2: with the DestinationRule applied, the first finding is the 504 UT from the slow catalog v2 pod, named', async () => {
    const rule = parseYaml(readFileSync(join(projectRoot, 'scenarios', 'fixes', 'story1-destinationrule.yaml'), 'utf8'))
    const created = await fetch(`${sim.url}/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/destinationrules`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(rule)})
    expect(created.status).toBe(201)
    // istiod pushes after its debounce; the gateway acknowledges 3 s later.
    for (let i = 0; i < 30; i++) {
      if ((await meshdbg('diagnose', ...GW, '--check', 'routes,sync')).code === 0) break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const result = await meshdbg('diagnose', ...GW, '-o', 'json')
    expect(result.code).toBe(11)
    const [first, ...others] = findingsOf(result.stdout)
    expect(first).toMatchObject({id: 'access-log', severity: 'fail'})
    expect(first.message).toMatch(new RegExp(`^\\d+ of \\d+ requests in the last 5m failed: 504 UT \\(response_timeout\\) ×\\d+ via pod catalog-v2-6d4c8b7d9f-zqgfl \\(10\\.10\\.0\\.13:3000\\) outbound\\|80\\|version-v2\\|${CATALOG.replace(/\./g, '\\.')}; that host stands out`))
    expect(first.hint).toContain('look at pod catalog-v2-6d4c8b7d9f-zqgfl')
    expect(others.every((f) => f.severity === 'pass')).toBe(true)
  }, 120_000)
})

describe('meshdbg demo', () => {
  it('diagnoses both stories, applies the fixes through the API, waits for SYNCED and ends healthy: exit 0', async () => {
    const demo = await runCli(['demo'], {killAfterMs: 150_000})
    expect(demo.stderr).toBe('')
    expect(demo.code).toBe(0)
    const out = demo.stdout
    const order = [
      '$ meshdbg diagnose deploy/istio-ingressgateway -n istio-system\nRouting\n-------\n[FAIL] routes: no DestinationRule defines subset version-v1 or version-v2',
      '$ kubectl apply -f scenarios/fixes/story1-destinationrule.yaml\ndestinationrule.networking.istio.io/catalog created\nistiod pushed the change; the gateway acknowledged it (SYNCED) after',
      '$ meshdbg diagnose deploy/istio-ingressgateway -n istio-system\nTraffic\n-------\n[FAIL] access-log: ',
      'via pod catalog-v2-6d4c8b7d9f-zqgfl (10.10.0.13:3000)',
      '$ kubectl apply -f scenarios/fixes/story2-timeout.yaml\nvirtualservice.networking.istio.io/catalog-v1-v2 configured\n',
      'Diagnosed istio-ingressgateway-6bb8fb6549-hcdnc.istio-system: 0 failed, 0 errors, 0 warnings, 11 passed\n',
    ]
    let at = 0
    for (const part of order) {
      const found = out.indexOf(part, at)
      expect(found, `${JSON.stringify(part)} after offset ${at} in:\n${out}`).toBeGreaterThanOrEqual(0)
      at = found + part.length
    }
  }, 160_000)
})
