// `meshdbg ztunnel-config` against scenarios/ambient.yaml: two nodes, one ztunnel each, bookinfo
// enrolled (with a waypoint), legacy not, an expiring ratings certificate and two connections.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

// Every test runs several CLI processes in turn; on the shared 2-core machine one can take seconds,
// so each test has its own budget (no timing is asserted).
let sim: Simulator
const scenarioText = readFileSync(join(projectRoot, 'scenarios', 'ambient.yaml'), 'utf8')

beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(scenarioText, 'ambient')})
})
afterAll(async () => {
  await sim?.close()
})

const zc = (...args: string[]) => runCli(['zc', ...args, '--timeout', '30s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 60_000})
const ztunnelOn = (node: string) => sim.scenario.pods.find((p) => p.ztunnel && p.nodeName === node)!.name
const firstCells = (out: string) => out.split('\n').slice(1).filter(Boolean).map((line) => line.split(/\s+/)[0])

describe('zc workload / service / policy', () => {
  it('lists every workload with its node, waypoint and protocol (enrolled HBONE, others TCP)', {timeout: 180_000}, async () => {
    const result = await zc('workload', '--workload-namespace', 'bookinfo')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('NAMESPACE POD NAME                       ADDRESS    NODE            WAYPOINT PROTOCOL\n')
    expect(result.stdout).toContain('bookinfo  productpage-v1-675fc69cf-jscn2 10.10.1.10 ambient-worker  waypoint HBONE\n')
    expect(result.stdout).toContain('bookinfo  debug                          10.10.1.2  ambient-worker2 None     TCP\n')
    expect(result.stderr).toMatch(/ds\/ztunnel: using pod ztunnel-/)
    const legacy = await zc('workload', '--workload-namespace', 'legacy', '-o', 'json')
    expect(JSON.parse(legacy.stdout)).toMatchObject([{name: 'httpbin-65975d4c6f-jr69n', protocol: 'TCP', node: 'ambient-worker', uid: 'Kubernetes//Pod/legacy/httpbin-65975d4c6f-jr69n'}])
  })

  it('an application pod as the target reads its node\'s ztunnel, narrowed to that pod (istioctl 1.30)', {timeout: 180_000}, async () => {
    const result = await zc('workload', 'ratings-v1-6484c4d9bb-mdxm5.bookinfo')
    expect(result.code).toBe(0)
    expect(firstCells(result.stdout)).toEqual(['bookinfo'])
    expect(result.stdout).toContain('ratings-v1-6484c4d9bb-mdxm5 10.10.2.12 ambient-worker2')
    expect(result.stderr).toContain(`runs on node ambient-worker2: reading ztunnel ${ztunnelOn('ambient-worker2')}.istio-system`)
  })

  it('services count healthy endpoints; policies show action and scope', {timeout: 180_000}, async () => {
    const services = await zc('service', '--service-namespace', 'bookinfo', '--node', 'ambient-worker')
    expect(services.stdout).toBe(
      [
        'NAMESPACE SERVICE NAME SERVICE VIP WAYPOINT ENDPOINTS',
        'bookinfo  productpage  10.96.50.10 waypoint 1/1',
        'bookinfo  ratings      10.96.50.12 waypoint 1/1',
        'bookinfo  reviews      10.96.50.11 waypoint 2/2',
        'bookinfo  waypoint     10.96.50.20 None     1/1',
        '',
      ].join('\n'),
    )
    const policies = await zc('policy', '--policy-namespace', 'BOOKINFO')
    expect(policies.stdout).toBe('NAMESPACE POLICY NAME        ACTION SCOPE\nbookinfo  deny-legacy        Deny   Namespace\nbookinfo  productpage-viewer Allow  WorkloadSelector\n')
  })

  it('refuses two sources at once and unknown nodes with documented exit codes', {timeout: 180_000}, async () => {
    expect((await zc('workload', 'x', '--node', 'ambient-worker')).code).toBe(2)
    const missing = await zc('workload', '--node', 'no-such-node')
    expect(missing.code).toBe(3)
    expect(missing.stderr).toContain('no ztunnel pod on node "no-such-node"')
  })
})

describe('zc certificate and connections (per node)', () => {
  it('needs a ztunnel when several run, and --warn-within exits 10 on the expiring ratings certificate', {timeout: 180_000}, async () => {
    const ambiguous = await zc('certificate')
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toContain('2 ztunnel pods run')
    const worker2 = await zc('certificate', '--node', 'ambient-worker2', '-o', 'wide', '--warn-within', '1h')
    expect(worker2.code).toBe(10)
    expect(worker2.stdout.split('\n')[0]).toMatch(/^CERTIFICATE NAME +TYPE +STATUS +VALID CERT +SERIAL NUMBER +NOT AFTER +NOT BEFORE +TIME LEFT$/)
    expect(worker2.stdout).toMatch(/spiffe:\/\/cluster\.local\/ns\/bookinfo\/sa\/bookinfo-ratings +Leaf +Available +true +[0-9a-f]+ +\S+ +\S+ +4[45]m\d+s\n/)
    expect(worker2.stderr).toContain(`1 certificate(s) of ${ztunnelOn('ambient-worker2')}.istio-system expired, not yet valid, missing or expiring within 1h`)
    const worker1 = await zc('certificate', ztunnelOn('ambient-worker'), '--warn-within', '1h', '--json')
    expect(worker1.code).toBe(0)
    const envelope = JSON.parse(worker1.stdout)
    expect(envelope.result.expiring).toEqual([])
    expect(envelope.result.certificates.map((row: {identity: string; type: string}) => `${row.type} ${row.identity}`)).toEqual([
      'Leaf spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage',
      'Root spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage',
      'Leaf spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews',
      'Root spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews',
    ])
  })

  it('connections name both ends; --raw shows addresses; --direction filters', {timeout: 180_000}, async () => {
    const named = await zc('connections', 'reviews-v1-5b5d6494f4-c7z5w', '-n', 'bookinfo')
    expect(named.code).toBe(0)
    expect(named.stdout.split('\n').slice(1, 3).map((line) => line.split(/\s+/))).toEqual([
      ['reviews-v1-5b5d6494f4-c7z5w.bookinfo', 'Inbound', 'reviews-v1-5b5d6494f4-c7z5w.bookinfo:9080', 'productpage-v1-675fc69cf-jscn2.bookinfo:41000', 'reviews.bookinfo.svc.cluster.local', 'HBONE'],
      ['reviews-v1-5b5d6494f4-c7z5w.bookinfo', 'Outbound', 'reviews-v1-5b5d6494f4-c7z5w.bookinfo:41002', 'ratings-v1-6484c4d9bb-mdxm5.bookinfo:15008', 'ratings.bookinfo.svc.cluster.local:9080', 'HBONE'],
    ])
    const raw = await zc('connections', '--node', 'ambient-worker', '--raw', '--direction', 'outbound')
    expect(raw.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.split(/\s+/).slice(2, 5))).toEqual([
      ['10.10.1.10:41000', '10.10.1.11:15008', '10.96.50.11:9080'],
      ['10.10.1.11:41002', '10.10.2.12:15008', '10.96.50.12:9080'],
    ])
  })

  it('all prints the five tables with banners; -o json is the dump as ztunnel serves it', {timeout: 180_000}, async () => {
    const all = await zc('all', '--node', 'ambient-worker2', '--with-headers')
    expect(all.stdout.match(/^------ (\w+) INFO ------$/gm)).toEqual(['------ WORKLOAD INFO ------', '------ SERVICE INFO ------', '------ POLICY INFO ------', '------ SECRET INFO ------', '------ CONNECTIONS INFO ------'])
    const json = JSON.parse((await zc('all', '--node', 'ambient-worker2', '-o', 'json')).stdout)
    expect(Object.keys(json)).toEqual(['services', 'workloads', 'policies', 'certificates', 'workloadState', 'version'])
    expect(json.certificates[0].rootCerts).toHaveLength(1)
  })
})

describe('older ztunnel dump shapes through the same commands', () => {
  it.each([['1.21.6'], ['1.22.8'], ['1.25.2']])('ztunnel %s serves its own shape and the tables stay the same', {timeout: 180_000}, async (version) => {
    const old = await startSimulator({scenario: loadScenario(scenarioText.replace('ztunnelVersion: 1.30.0', `ztunnelVersion: ${version}`), 'ambient-old')})
    try {
      const run = (...args: string[]) => runCli(['zc', ...args, '--timeout', '30s'], {env: {KUBECONFIG: old.kubeconfigPath}, killAfterMs: 60_000})
      const raw = JSON.parse((await run('all', '--node', 'ambient-worker', '-o', 'json')).stdout)
      const minor = Number(version.split('.')[1])
      expect(Object.keys(raw)).toContain(minor < 22 ? 'by_addr' : 'workloads')
      expect(Array.isArray(raw.workloads ?? raw.by_addr)).toBe(minor >= 23)
      const workloads = await run('workload', '--node', 'ambient-worker', '--workload-namespace', 'bookinfo')
      expect(workloads.stdout).toBe((await zc('workload', '--node', 'ambient-worker', '--workload-namespace', 'bookinfo')).stdout)
      const certs = await run('certificate', '--node', 'ambient-worker2')
      expect(certs.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.split(/\s+/).slice(0, 2).join(' '))).toEqual([
        'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-ratings Leaf',
        'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-ratings Root',
        'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews Leaf',
        'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews Root',
      ])
    } finally {
      await old.close()
    }
  })
})

describe('zc log', () => {
  it('reads every ztunnel, rejects Envoy syntax before sending anything, changes and resets', {timeout: 180_000}, async () => {
    const read = await zc('log')
    expect(read.stdout).toMatch(/^POD +LEVELS\nztunnel-\w+\.istio-system +hickory_server::server=off,info\nztunnel-\w+\.istio-system +hickory_server::server=off,info\n$/)
    const posts = () => sim.adminRequests.filter((r) => r.method === 'POST' && r.path.includes('level')).length
    const before = posts()
    const envoyStyle = await zc('log', '--level', 'access:debug')
    expect(envoyStyle.code).toBe(2)
    expect(envoyStyle.stderr).toContain('invalid --level clause "access:debug": did you mean "access=debug"')
    expect(posts()).toBe(before)
    const node = ztunnelOn('ambient-worker')
    const set = await zc('log', '--node', 'ambient-worker', '--level', 'access=debug,info')
    expect(set.stdout).toBe(`POD                         RESULT   LEVELS\n${node}.istio-system  changed  hickory_server::server=off,access=debug,info\n`)
    const reset = await zc('log', node, '-n', 'istio-system', '--reset')
    expect(reset.stdout).toContain('changed  hickory_server::server=off,info')
    const notZtunnel = await zc('log', 'productpage-v1-675fc69cf-jscn2.bookinfo')
    expect(notZtunnel.code).toBe(3)
  })

  it('--duration restores the previous filter afterwards', {timeout: 180_000}, async () => {
    const node = ztunnelOn('ambient-worker2')
    const run = await zc('log', '--node', 'ambient-worker2', '--level', 'ztunnel::proxy=debug', '--duration', '1s')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('hickory_server::server=off,ztunnel::proxy=debug,info')
    expect(run.stderr).toContain('restored the previous levels on 1 of 1 ztunnel pod(s)')
    const after = await zc('log', node, '-n', 'istio-system')
    expect(after.stdout).toContain('hickory_server::server=off,info\n')
  })
})

describe('zc from a saved dump', () => {
  const fixture = readFileSync(join(projectRoot, 'test', 'fixtures', 'ztunnel', 'dump-1.22.json'), 'utf8')
  it('reads stdin with -f -, and an Envoy dump or broken JSON is exit 6 in one line', {timeout: 180_000}, async () => {
    const policies = await runCli(['zc', 'policy', '-f', '-', '--no-headers'], {input: fixture})
    expect(policies.code).toBe(0)
    expect(policies.stdout).toBe('shop      allow-web   Allow  WorkloadSelector\nshop      deny-all    Deny   Namespace\n')
    const envoy = await runCli(['zc', 'workload', '-f', '-'], {input: '{"configs": []}'})
    expect(envoy.code).toBe(6)
    expect(envoy.stderr).toBe("Error: stdin: this is an Envoy config dump, not ztunnel's. Hint: use meshdbg proxy-config for Envoy proxies\n")
    const broken = await runCli(['zc', 'all', '-f', '-'], {input: '{"workloads": ['})
    expect(broken.code).toBe(6)
    expect(broken.stderr.split('\n')).toHaveLength(2)
    expect((await runCli(['zc', 'workload', 'ztunnel-x', '-f', '-'], {input: fixture})).code).toBe(2)
  })
})
