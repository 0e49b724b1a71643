// The stories of mesh-scenarios.md played against scenarios/catalog.yaml through meshdbg and the
// real kubectl: the symptom, `kubectl apply` of the fix, istiod's push going STALE then SYNCED, and
// the fixed tables. Rows are compared with the istioctl 1.17.8 tables printed in mesh-scenarios.md;
// headers are meshdbg's (it prints the newer istioctl headers: ADDRESSES, VHOST NAME).
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0
let sim: Simulator
let dir = ''

beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8'), 'catalog')})
  dir = mkdtempSync(join(tmpdir(), 'sim-stories-'))
})
afterAll(async () => {
  await sim?.close()
  rmSync(dir, {recursive: true, force: true})
})

const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '5s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 15_000})
const rows = (out: string) => out.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s{2,}/))

function kubectl(...args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', sim.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args])
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({code, stdout, stderr}))
  })
}

async function until(probe: () => Promise<string>, ok: (out: string) => boolean): Promise<string> {
  for (;;) {
    const out = await probe()
    if (ok(out)) return out
    await new Promise((r) => setTimeout(r, 200))
  }
}

const GW = ['deploy/istio-ingressgateway', '-n', 'istio-system']
const CATALOG = 'catalog.istioinaction.svc.cluster.local'

describe.skipIf(!hasKubectl)('story 1: a route to subsets with no DestinationRule', () => {
  it('shows the route to subsets without subset clusters, then the fix applied with kubectl goes STALE, SYNCED and adds them', async () => {
    const listeners = await meshdbg('proxy-config', 'listener', ...GW)
    expect(listeners.stdout.split('\n').slice(1)).toEqual(['0.0.0.0   8080  ALL   Route: http.8080', '0.0.0.0   15021 ALL   Inline Route: /healthz/ready*', '0.0.0.0   15090 ALL   Inline Route: /stats/prometheus*', ''])
    const routes = await meshdbg('proxy-config', 'routes', ...GW, '--name', 'http.8080')
    expect(rows(routes.stdout).map((r) => [r[0], r.at(-3), r.at(-2), r.at(-1)])).toEqual([['http.8080', 'catalog.istioinaction.io', '/*', 'catalog-v1-v2.istioinaction']])
    const json = JSON.parse((await meshdbg('proxy-config', 'routes', ...GW, '--name', 'http.8080', '-o', 'json')).stdout)
    expect(JSON.stringify(json)).toContain(`"outbound|80|version-v1|${CATALOG}"`)
    const before = await meshdbg('proxy-config', 'clusters', ...GW, '--fqdn', CATALOG, '--port', '80')
    expect(rows(before.stdout)).toEqual([[CATALOG, '80', '-', 'outbound', 'EDS']])
    expect(rows((await meshdbg('proxy-config', 'clusters', ...GW, '--fqdn', CATALOG, '--subset', 'version-v1')).stdout)).toEqual([])

    // A CLI run takes seconds on a busy machine: give the STALE window room to be seen.
    sim.scenario.live!.proxies['istio-ingressgateway-6bb8fb6549-hcdnc'] = {ackDelayMs: 10_000}
    const applied = await kubectl('apply', '-f', join(projectRoot, 'scenarios', 'fixes', 'story1-destinationrule.yaml'))
    expect(applied.stdout).toBe('destinationrule.networking.istio.io/catalog created\n')
    // The gateway ACKs pushes 3 s late (the scenario's Simulation section): istiod shows it STALE first.
    const stale = await until(async () => (await meshdbg('sync-status', '-n', 'istio-system')).stdout, (out) => /STALE/.test(out))
    expect(rows(stale)[0].slice(0, 3)).toEqual(['istio-ingressgateway-6bb8fb6549-hcdnc.istio-system', 'Kubernetes', 'STALE'])
    const synced = await until(async () => (await meshdbg('sync-status', '-n', 'istio-system')).stdout, (out) => !/STALE/.test(out))
    expect(rows(synced)[0].slice(2, 6)).toEqual(['SYNCED', 'SYNCED', 'SYNCED', 'SYNCED'])
    const after = await meshdbg('proxy-config', 'clusters', ...GW, '--fqdn', CATALOG, '--port', '80')
    expect(rows(after.stdout)).toEqual([
      [CATALOG, '80', '-', 'outbound', 'EDS', 'catalog.istioinaction'],
      [CATALOG, '80', 'version-v1', 'outbound', 'EDS', 'catalog.istioinaction'],
      [CATALOG, '80', 'version-v2', 'outbound', 'EDS', 'catalog.istioinaction'],
    ])
    const endpoints = await meshdbg('proxy-config', 'endpoints', ...GW, '--cluster', `outbound|80|version-v1|${CATALOG}`)
    expect(rows(endpoints.stdout)).toEqual([['10.10.0.11:3000', 'HEALTHY', 'OK', `outbound|80|version-v1|${CATALOG}`]])
  }, 120_000)
})

const logOf = async (pod: string, namespace: string) => (await (await fetch(`${sim.url}/api/v1/namespaces/${namespace}/pods/${pod}/log?container=istio-proxy`)).text()).split('\n').filter((l) => l.startsWith('['))

describe.skipIf(!hasKubectl)('traffic that follows the config (stories 2, 3, 4)', () => {
  it('story 2: after story 1\'s fix the gateway logs 504 UT past the 0.5 s route timeout via the slow pod, which logs 0 DC', async () => {
    const gateway = await meshdbg('access-log', 'deploy/istio-ingressgateway', '-n', 'istio-system', '--status', '504', '-o', 'json')
    const entries = gateway.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(entries.length).toBeGreaterThan(0)
    expect(entries[0]).toMatchObject({responseCode: 504, responseFlags: ['UT'], responseCodeDetails: 'response_timeout', durationMs: 501, upstreamHost: '10.10.0.13:3000', upstreamCluster: `outbound|80|version-v2|${CATALOG}`})
    expect((await logOf('catalog-v2-6d4c8b7d9f-zqgfl', 'istioinaction')).some((l) => / 0 DC downstream_remote_disconnect .* inbound\|3000\|\| /.test(l))).toBe(true)
    expect((await logOf('catalog-v2-6d4c8b7d9f-8xw2p', 'istioinaction')).every((l) => / 200 - via_upstream /.test(l))).toBe(true)
  }, 30_000)

  it('story 3: webapp denies /items (rbac none) until the fix widens the ALLOW policy', async () => {
    expect((await logOf('webapp-7c5d7b8c6b-4vzd9', 'istioinaction')).some((l) => l.includes('"GET /items HTTP/1.1" 403 - rbac_access_denied_matched_policy[none]'))).toBe(true)
    expect((await kubectl('apply', '-f', join(projectRoot, 'scenarios', 'fixes', 'story3-allow-items.yaml'))).stdout).toBe('authorizationpolicy.security.istio.io/allow-catalog-requests-in-web-app configured\n')
    const after = await until(async () => (await logOf('webapp-7c5d7b8c6b-4vzd9', 'istioinaction')).join('\n'), (log) => !log.includes('rbac_access_denied'))
    expect(after).toContain('"GET /items HTTP/1.1" 200 - via_upstream')
  }, 30_000)

  it('story 4: plaintext from sleep-legacy into STRICT is NR filter_chain_not_found until a PERMISSIVE policy', async () => {
    expect((await logOf('webapp-7c5d7b8c6b-4vzd9', 'istioinaction')).some((l) => l.includes('"- - -" 0 NR filter_chain_not_found') && l.includes(' 10.10.0.21:'))).toBe(true)
    await kubectl('apply', '-f', join(projectRoot, 'scenarios', 'fixes', 'story4-permissive.yaml'))
    const after = await until(async () => (await logOf('webapp-7c5d7b8c6b-4vzd9', 'istioinaction')).join('\n'), (log) => !log.includes('filter_chain_not_found'))
    expect(after).toContain('"GET /api/catalog HTTP/1.1" 200 - via_upstream')
  }, 30_000)
})

describe('story 5: is the control plane in sync?', () => {
  it('the scripted proxies read STALE in 1.17.8 (a NACK is an unacknowledged nonce there), the rest SYNCED', async () => {
    const result = await meshdbg('sync-status', '-n', 'istioinaction')
    expect(rows(result.stdout).map((r) => [r[0], ...r.slice(2, 7)])).toEqual([
      ['catalog-5c7f8f8447-f54sj.istioinaction', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'NOT SENT'],
      ['catalog-v2-6d4c8b7d9f-8xw2p.istioinaction', 'STALE', 'SYNCED', 'SYNCED', 'SYNCED', 'NOT SENT'],
      ['catalog-v2-6d4c8b7d9f-zqgfl.istioinaction', 'SYNCED', 'STALE', 'SYNCED', 'SYNCED', 'NOT SENT'],
      ['webapp-7c5d7b8c6b-4vzd9.istioinaction', 'SYNCED', 'SYNCED', 'STALE (Never Acknowledged)', 'SYNCED', 'NOT SENT'],
    ])
  }, 30_000)

  it('after a push the NACKing proxy keeps its old listeners: the one-proxy diff shows the mismatch', async () => {
    // A new HTTP service port means a new outbound listener in every sidecar's next LDS push.
    const created = await fetch(`${sim.url}/api/v1/namespaces/default/services`, {method: 'POST', headers: {'content-type': 'application/json'},
      body: JSON.stringify({apiVersion: 'v1', kind: 'Service', metadata: {name: 'helloworld', namespace: 'default'}, spec: {selector: {app: 'helloworld'}, ports: [{name: 'http', port: 5000}]}})})
    expect(created.status).toBe(201)
    const after = await until(async () => (await meshdbg('sync-status', 'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction')).stdout, (out) => out.includes("Listeners Don't Match"))
    expect(after).toContain('0.0.0.0_5000')
    expect(after).toMatch(/^Clusters Match\n/)
  }, 60_000)
})
