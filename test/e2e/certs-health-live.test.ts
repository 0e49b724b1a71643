// certs and health against the live mesh of scenarios/catalog.yaml, with the Simulation knob
// `proxies[pod].certificate` (src/sim/mesh-ca.ts) making one certificate short-lived, one expired
// and one from another root, set on the running scenario as a scenario file would.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

const WEBAPP = 'webapp-7c5d7b8c6b-4vzd9.istioinaction'
const SLEEP = 'sleep-6f8cfb8c8f-wncwh.default'
const HTTPBIN = 'httpbin-5c5f9d7b8d-lt6hx.default'
const CATALOG = 'catalog-5c7f8f8447-f54sj.istioinaction'
const NACKING = 'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction'
const STARTING = 'catalog-v2-6d4c8b7d9f-8xw2p.istioinaction'

let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8'), 'catalog')})
  const proxies = sim.scenario.live!.proxies
  proxies['webapp-7c5d7b8c6b-4vzd9'] = {...proxies['webapp-7c5d7b8c6b-4vzd9'], certificate: {notAfter: '+3h', intermediate: true}}
  proxies['sleep-6f8cfb8c8f-wncwh'] = {certificate: {notAfter: '-1h'}}
  proxies['httpbin-5c5f9d7b8d-lt6hx'] = {certificate: {root: 'other-mesh'}}
  proxies['catalog-v2-6d4c8b7d9f-8xw2p'] = {...proxies['catalog-v2-6d4c8b7d9f-8xw2p'], envoy: {state: 'PRE_INITIALIZING', warmingClusters: 2}}
})

afterAll(async () => {
  await sim?.close()
})

const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '8s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 20_000})

describe('meshdbg certs (live)', () => {
  it('shows the workload chain through an intermediate and exits 10 when it expires within the window', async () => {
    const listed = await meshdbg('certs', WEBAPP)
    expect(listed.code).toBe(0)
    const rows = listed.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.split(/\s{2,}/))
    expect(rows.map((row) => [row[0], row[1], row[2], row[3]])).toEqual([
      ['default', '1/3', 'leaf', 'spiffe://cluster.local/ns/istioinaction/sa/webapp'],
      ['default', '2/3', 'intermediate', 'mesh intermediate'],
      ['default', '3/3', 'root', 'O=cluster.local'],
      ['ROOTCA', '1/1', 'root', 'O=cluster.local'],
    ])
    expect(rows[0].at(-2)).toMatch(/^[23]h$/)
    const warned = await meshdbg('certs', WEBAPP, '--warn-within', '24h', '--json')
    expect(warned.code).toBe(10)
    const envelope = JSON.parse(warned.stdout)
    expect(envelope.result.certificates[0]).toMatchObject({resource: 'default', role: 'leaf', state: 'EXPIRING', signedByNext: true})
    expect(envelope.error.message).toContain('default leaf spiffe://cluster.local/ns/istioinaction/sa/webapp expires in')
  })

  it('compares roots: the same mesh root, and a pod of another root', async () => {
    const same = await meshdbg('certs', '--compare-root', WEBAPP, CATALOG)
    expect(same.code).toBe(0)
    expect(same.stdout.split('\n')[0]).toBe(`${WEBAPP} and ${CATALOG} trust the same root`)
    const other = await meshdbg('certs', '--compare-root', WEBAPP, HTTPBIN)
    expect(other.code).toBe(10)
    expect(other.stdout).toMatch(new RegExp(`\\nonly ${HTTPBIN.replace(/\./g, '\\.')} +O=cluster\\.local, CN=other-mesh `))
    expect(other.stderr).toContain('they share none, so mTLS between them fails')
  })
})

describe('meshdbg health (live)', () => {
  it('a sidecar with an expired certificate fails (exit 10), every other check still reported', async () => {
    const result = await meshdbg('health', SLEEP, '--json')
    expect(result.code).toBe(10)
    const {result: health, error} = JSON.parse(result.stdout)
    const severities = Object.fromEntries(health.findings.map((finding: {id: string; severity: string}) => [finding.id, finding.severity]))
    expect(severities).toEqual({
      'envoy-ready': 'PASS', 'envoy-server': 'PASS', 'agent-ready': 'PASS', 'workload-cert': 'FAIL', 'xds-warming': 'PASS',
      'xds-rejected': 'PASS', 'cluster-health': 'PASS', 'log-levels': 'PASS', 'istiod-sync': 'PASS',
    })
    expect(health.findings[3].message).toMatch(/^spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep expired (59m|1h) ago$/)
    expect(error.message).toBe(`${SLEEP}: 1 health check failed: workload-cert`)
  })

  it('the NACKing catalog-v2 pod warns of its rejected LDS update; a debug logger left on warns too', async () => {
    const changed = await meshdbg('log', NACKING, '--level', 'rbac:debug')
    expect(changed.code).toBe(0)
    const result = await meshdbg('health', NACKING)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/\nWARN +rejected config +xDS updates since start rejected: listener_manager\.lds 1\n/)
    expect(result.stdout).toMatch(/\nWARN +log levels +1 logger changed: rbac: debug \(start-up warning\)\n +Hint: .*\n +Next: meshdbg log catalog-v2-6d4c8b7d9f-zqgfl\.istioinaction --reset\n/)
    expect(result.stdout).toMatch(/\nPASS +workload certificate +spiffe:\/\/cluster\.local\/ns\/istioinaction\/sa\/catalog: \d+d left/)
    expect(result.stdout.split('\n').at(-2)).toMatch(/^\d passed, \d warnings?, 0 failed$/)
  })

  it('a short-lived workload certificate warns (renewal failing)', async () => {
    const result = await meshdbg('health', WEBAPP, '-o', 'json')
    const doc = JSON.parse(result.stdout)
    expect(doc.findings.find((finding: {id: string}) => finding.id === 'workload-cert')).toMatchObject({severity: 'WARN', next: `meshdbg certs ${WEBAPP}`})
  })

  it('an Envoy still initialising: /ready, server state and pilot-agent fail, warming clusters warn', async () => {
    const result = await meshdbg('health', STARTING)
    expect(result.code).toBe(10)
    const lines = result.stdout.split('\n')
    expect(lines.filter((line) => /^(PASS|WARN|FAIL) /.test(line)).map((line) => line.split(/\s{2,}/).slice(0, 2).join(' | '))).toEqual([
      'FAIL | Envoy ready', 'FAIL | Envoy server', 'FAIL | pilot-agent ready', 'PASS | workload certificate', 'WARN | warming config',
      'PASS | rejected config', 'PASS | upstream endpoints', 'PASS | log levels', 'WARN | istiod sync',
    ])
    expect(result.stdout).toContain('/ready answered 503: PRE_INITIALIZING')
    expect(result.stdout).toContain(':15020/healthz/ready answered 503')
    expect(result.stdout).toContain('2 warming clusters, 0 warming listeners')
    expect(result.stderr).toBe(`Error: ${STARTING}: 3 health checks failed: envoy-ready, envoy-server, agent-ready\n`)
  })

  it('a read that fails is that check\'s FAIL; no Envoy read at all is the connection error (exit 4)', async () => {
    const target = {pod: 'catalog-5c7f8f8447-f54sj', namespace: 'istioinaction'}
    sim.setFault({...target, port: 15020}, {kind: 'refused'})
    try {
      const result = await meshdbg('health', CATALOG, '--json')
      expect(result.code).toBe(10)
      const {result: health} = JSON.parse(result.stdout)
      const agent = health.findings.find((finding: {id: string}) => finding.id === 'agent-ready')
      expect(agent.severity).toBe('FAIL')
      expect(agent.message).toMatch(/^could not read pilot-agent :15020\/healthz\/ready: /)
      expect(health.findings.filter((finding: {severity: string}) => finding.severity === 'FAIL')).toHaveLength(1)
    } finally {
      sim.setFault({...target, port: 15020}, undefined)
    }
    sim.setFault({...target, port: 15000}, {kind: 'refused'})
    try {
      const result = await meshdbg('health', CATALOG)
      expect(result.code).toBe(4)
      expect(result.stdout).toBe('')
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    } finally {
      sim.setFault({...target, port: 15000}, undefined)
    }
  })

  it('a pod that is not there: exit 3, one line', async () => {
    const result = await meshdbg('health', 'nope-123.default')
    expect(result.code).toBe(3)
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
  })
})
