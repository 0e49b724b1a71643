// `meshdbg snapshot` against the live simulated mesh (scenarios/catalog.yaml), then every read-only
// command live and from the snapshot: identical stdout, stderr and exit code.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

let sim: Simulator
let dir = ''
let archive = ''
let capture: {code: number | null; stdout: string; stderr: string}

const live = (...args: string[]) => runCli([...args, '--timeout', '10s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 20_000})
// No kubeconfig at all: replay must not need the cluster.
const replay = (...args: string[]) => runCli([...args, '--timeout', '10s', '--snapshot', archive], {env: {KUBECONFIG: join(dir, 'absent')}, killAfterMs: 20_000})

beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8'), 'catalog')})
  dir = mkdtempSync(join(tmpdir(), 'snapshot-'))
  archive = join(dir, 'mesh.tar.gz')
  capture = await live('snapshot', 'deploy/istio-ingressgateway.istio-system', 'deploy/webapp', 'deploy/catalog', '-n', 'istioinaction', '--istiod', '-o', archive, '--json')
}, 60_000)
afterAll(async () => {
  await sim?.close()
  rmSync(dir, {recursive: true, force: true})
})

const GW = ['deploy/istio-ingressgateway', '-n', 'istio-system']
const WEBAPP = ['deploy/webapp', '-n', 'istioinaction']

// Every read-only command that reads the cluster, in its main output forms.
const COMMANDS: string[][] = [
  ...['cluster', 'listener', 'route', 'endpoint', 'secret', 'bootstrap', 'ecds', 'all'].map((section) => ['proxy-config', section, ...GW]),
  ['proxy-config', 'cluster', ...WEBAPP, '--fqdn', 'catalog.istioinaction.svc.cluster.local'],
  ['proxy-config', 'route', ...GW, '--name', 'http.8080', '-o', 'json'],
  ['proxy-config', 'all', ...WEBAPP, '-o', 'json'],
  ['proxy-config', 'endpoint', 'deploy/catalog', '-n', 'istioinaction', '--json'],
  ['proxy-config', 'log', ...WEBAPP],
  ['authz', ...WEBAPP, '--explain'],
  ['sync-status'],
  ['sync-status', '-n', 'istioinaction', '--json'],
  ['sync-status', ...GW],
  ['sync-status', ...WEBAPP, '--agent'],
  ['istiod', 'syncz'],
  ['istiod', 'registryz'],
  ['istiod', 'adsz', '--all'],
  ['istiod', 'config-dump', '--proxy', 'deploy/webapp', '-n', 'istioinaction'],
  ['istiod', 'edsz', '--proxy', 'deploy/webapp', '-n', 'istioinaction'],
  ['agent', 'deploy/webapp', 'ready', '-n', 'istioinaction'],
  ['agent', 'deploy/webapp', 'ndsz', '-n', 'istioinaction'],
  ['agent', 'deploy/webapp', 'syncz', '-n', 'istioinaction'],
  ['log', ...WEBAPP],
  ['log', '-n', 'istioinaction', '-l', 'app=webapp'],
  ['version', '-o', 'json'],
  // Failures replay too: same message, same exit code.
  ['proxy-config', 'cluster', 'deploy/nope', '-n', 'istioinaction'],
]

describe('snapshot capture and offline replay', {timeout: 90_000}, () => {
  it('writes a tar.gz with a versioned manifest and reports what it holds', () => {
    expect(capture.stderr).not.toMatch(/Error/)
    expect(capture.code).toBe(0)
    const result = JSON.parse(capture.stdout).result
    expect(result.proxies.map((p: {pod: string}) => p.pod.replace(/-[^-]+-[^-]+$/, '')).sort()).toEqual(['catalog', 'istio-ingressgateway', 'webapp'])
    expect(result.istiods.length).toBeGreaterThan(0)
    const names = execFileSync('tar', ['tzf', archive], {encoding: 'utf8'}).split('\n')
    expect(names).toContain('manifest.json')
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', archive, 'manifest.json'], {encoding: 'utf8'}))
    expect(manifest).toMatchObject({format: 'meshdbg-snapshot', version: 1, request: {istiod: true, namespaces: ['istio-system', 'istioinaction']}})
    expect(Date.parse(manifest.capturedAt)).not.toBeNaN()
    expect(manifest.entries.some((entry: {source: {path?: string}}) => entry.source.path === '/config_dump?include_eds')).toBe(true)
  })

  it.each(COMMANDS.map((args) => [args.join(' '), args]))('%s: identical live and from the snapshot', async (_name, args) => {
    const [fromCluster, fromSnapshot] = await Promise.all([live(...(args as string[])), replay(...(args as string[]))])
    expect({stdout: fromSnapshot.stdout, stderr: fromSnapshot.stderr, code: fromSnapshot.code}).toEqual({stdout: fromCluster.stdout, stderr: fromCluster.stderr, code: fromCluster.code})
    if (!(args as string[]).some((arg) => arg.includes('nope'))) expect(fromCluster.code).toBe(0)
  })

  it('access-log reads the recorded log through the same path', async () => {
    // The simulator dates log lines from the moment of each request, so a live run and a replay
    // differ in the lines' times and request ids: compare the shape, header and row count.
    for (const args of [[...WEBAPP, '--tail', '4'], [...WEBAPP, '--tail', '6', '-o', 'wide']]) {
      const [fromCluster, fromSnapshot] = await Promise.all([live('access-log', ...args), replay('access-log', ...args)])
      expect(fromSnapshot.code).toBe(0)
      const rows = (text: string) => text.trim().split('\n')
      expect(rows(fromSnapshot.stdout)[0]).toBe(rows(fromCluster.stdout)[0])
      expect(rows(fromSnapshot.stdout)).toHaveLength(rows(fromCluster.stdout).length)
    }
    // The last 1000 lines were kept (--log-tail): more than that is not in the snapshot.
    const more = await replay('access-log', ...WEBAPP, '--tail', '5000')
    if (more.code !== 0) expect(more.stderr).toMatch(/does not hold more than the last 1000 lines of the log/)
  })

  it('names what the snapshot lacks (exit 3) and refuses changes (exit 2)', async () => {
    const other = await replay('proxy-config', 'cluster', 'deploy/sleep', '-n', 'default')
    expect(other.code).toBe(3)
    expect(other.stderr).toMatch(/^Error: snapshot .*mesh\.tar\.gz does not hold GET \/apis\/apps\/v1\/namespaces\/default\/deployments\/sleep from the Kubernetes API \(namespace "default" was not captured\)/)
    const change = await replay('log', ...WEBAPP, '--level', 'debug')
    expect(change.code).toBe(2)
    expect(change.stderr).toMatch(/is read-only: POST \/logging would change pod webapp-/)
    const garbage = await runCli(['proxy-config', 'cluster', ...GW, '--snapshot', join(projectRoot, 'package.json')])
    expect(garbage.code).toBe(6)
    expect(garbage.stderr).toMatch(/is not a gzip file/)
  })
})
