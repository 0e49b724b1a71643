// Many clusters and watching, live: two simulators (scenarios/catalog.yaml on Istio 1.17.8 and
// scenarios/catalog-1.24.yaml) behind one kubeconfig with a third context whose API server is
// down; sync-status and version over several contexts, --fail-on not-sent on both syncz shapes,
// and --watch with a non-TTY stdout seeing istiod's push after a `kubectl apply`.
import {spawn, spawnSync} from 'node:child_process'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Simulator} from '../../src/sim/index.js'
import {cliPath, projectRoot, runCli} from '../helpers/cli.js'
import {startMultiCluster, type MultiCluster} from '../helpers/multi-cluster.js'

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0
const GATEWAY = 'istio-ingressgateway-6bb8fb6549-hcdnc.istio-system'
const NACKED = 'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction'

let clusters: MultiCluster | undefined
let east: Simulator
let west: Simulator
let dir = ''
let kubeconfig = ''


beforeAll(async () => {
  clusters = await startMultiCluster('sync-multi-')
  ;({east, west, dir, kubeconfig} = clusters)
})

afterAll(async () => {
  await clusters?.close()
})

const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '8s'], {env: {KUBECONFIG: kubeconfig}, killAfterMs: 40_000})
function kubectl(...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args])
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.on('close', () => resolve(stdout))
  })
}

const GONE = 'context gone: cannot reach the Kubernetes API server at http://127.0.0.1:9 (ECONNREFUSED). Hint: check the cluster of context "gone" is up and reachable'

describe('sync-status over several contexts', () => {
  it('--all-contexts: one table with CONTEXT first; the cluster that is down is reported and the command exits 4 after printing the others', async () => {
    const result = await meshdbg('sync-status', '--all-contexts', '-n', 'default')
    expect(result.stderr).toBe(`Error: incomplete (2 of 3 contexts answered): ${GONE}\n`)
    expect(result.code).toBe(4)
    const lines = result.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^CONTEXT {5}NAME +CLUSTER +CDS +LDS +EDS +RDS +ECDS +ISTIOD +VERSION$/)
    expect(lines.slice(1).map((line) => line.split(/\s+/).filter((cell) => !cell.startsWith('('))).map((cells) => [cells[0], cells[1], cells.at(-1)])).toEqual([
      ['east', 'httpbin-5c5f9d7b8d-lt6hx.default', '1.17.8'],
      ['east', 'ratings-v1-77f6b4c8d5-m2j7r.default', '1.25.2'],
      ['east', 'sleep-6f8cfb8c8f-wncwh.default', '1.17.8'],
      ['west', 'httpbin-5c5f9d7b8d-lt6hx.default', '1.24.3'],
      ['west', 'ratings-v1-77f6b4c8d5-m2j7r.default', '1.25.2'],
      ['west', 'sleep-6f8cfb8c8f-wncwh.default', '1.24.3'],
    ])
  })

  it('--json: every row carries its context, failedContexts names the cluster that is down', async () => {
    const result = await meshdbg('sync-status', '--context', 'west', '--context', 'gone', '--context', 'east', '-n', 'default', '--json')
    expect(result.code).toBe(4)
    const envelope = JSON.parse(result.stdout)
    expect(envelope.status).toBe(4)
    expect(envelope.result.proxies.map((row: {context: string; proxy: string}) => `${row.context} ${row.proxy}`)).toEqual([
      'west httpbin-5c5f9d7b8d-lt6hx.default',
      'west ratings-v1-77f6b4c8d5-m2j7r.default',
      'west sleep-6f8cfb8c8f-wncwh.default',
      'east httpbin-5c5f9d7b8d-lt6hx.default',
      'east ratings-v1-77f6b4c8d5-m2j7r.default',
      'east sleep-6f8cfb8c8f-wncwh.default',
    ])
    expect(envelope.result.failedContexts).toEqual([{context: 'gone', kind: 'connection', message: GONE.replace('context gone: ', '')}])
    expect(envelope.error.message).toBe(`incomplete (2 of 3 contexts answered): ${GONE}`)
  })

  it('one --context is the single-cluster table, byte for byte (no CONTEXT column)', async () => {
    const [plain, one] = await Promise.all([meshdbg('sync-status', '-n', 'istioinaction', '-o', 'wide'), meshdbg('sync-status', '-n', 'istioinaction', '-o', 'wide', '--context', 'east')])
    expect(one.code).toBe(0)
    expect(one.stdout).toBe(plain.stdout)
    expect(one.stdout.startsWith('NAME ')).toBe(true)
  })

  it('--fail-on not-sent does not trip on ECDS nobody subscribed to: adsz watches on 1.17.8, the syncz map (IGNORED) on 1.24', async () => {
    const result = await meshdbg('sync-status', '--context', 'east', '--context', 'west', '-n', 'default', '--fail-on', 'not-sent')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const ecds = result.stdout.trim().split('\n').slice(1).map((line) => /^(\w+) .*(NOT SENT|IGNORED) +istiod/.exec(line)!.slice(1, 3).join(' '))
    expect(ecds).toEqual(['east NOT SENT', 'east NOT SENT', 'east NOT SENT', 'west IGNORED', 'west IGNORED', 'west IGNORED'])
    expect(east.adminRequests.some((request) => request.path === '/debug/adsz')).toBe(true)
    expect(west.adminRequests.some((request) => request.path === '/debug/adsz')).toBe(false)
  })

  it('-o wide shows the NACK text of the rejected type (Istio 1.24 reports it)', async () => {
    const result = await meshdbg('sync-status', '--context', 'west', '-n', 'istioinaction', '-o', 'wide')
    expect(result.code).toBe(0)
    const row = result.stdout.split('\n').find((line) => line.startsWith(NACKED))!
    expect(row).toMatch(/ERROR \(\d+s\)/)
    expect(row).toMatch(/LDS: Error adding\/updating listener\(s\) 0\.0\.0\.0_3000: error adding listener: '0\.0\.0\.0_3000' has duplicate address '0\.0\.0\.0:3000' as existing listener$/)
  })
})

describe('version over several contexts', () => {
  it('one row per context; the cluster that is down reads "unknown" with a note, and version still exits 0', async () => {
    const result = await meshdbg('version', '--all-contexts')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      'client version: 0.1.0\n' +
        'CONTEXT   CONTROL PLANE   DATA PLANE\n' +
        'east      1.17.8          1.17.8 (7 proxies), 1.25.2 (1 proxies)\n' +
        'gone      unknown         unknown\n' +
        'west      1.24.3          1.24.3 (7 proxies), 1.25.2 (1 proxies)\n',
    )
    expect(result.stderr).toContain('context gone: control plane version unknown: cannot reach the Kubernetes API server at http://127.0.0.1:9')
    const json = JSON.parse((await meshdbg('version', '--context', 'east', '--context', 'west', '-o', 'json')).stdout)
    expect(json.contexts.map((entry: {context: string; dataPlane: Array<{version: string}>}) => [entry.context, entry.dataPlane[0].version])).toEqual([['east', '1.17.8'], ['west', '1.24.3']])
  })
})

describe.skipIf(!hasKubectl)('sync-status --watch without a TTY', () => {
  it('prints the table, then one line per change: the gateway goes STALE after a kubectl apply, then SYNCED; Ctrl-C exits 0', async () => {
    const child = spawn(process.execPath, [cliPath, 'sync-status', '--context', 'east', '-n', 'istio-system', '--watch', '--interval', '300ms', '--timeout', '8s'], {
      cwd: projectRoot,
      env: {...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000)
    const until = async (ok: () => boolean) => {
      while (!ok()) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    try {
      await until(() => stdout.includes(`${GATEWAY} `))
      expect(stdout.split('\n')[0]).toMatch(/^NAME +CLUSTER +CDS/)
      // Asynchronously: the simulators serve kubectl from this process's event loop.
      const applied = await kubectl('--context', 'east', 'apply', '-f', join(projectRoot, 'scenarios', 'fixes', 'story1-destinationrule.yaml'))
      expect(applied).toBe('destinationrule.networking.istio.io/catalog created\n')
      // The scenario's gateway ACKs pushes 3 s late: istiod shows it STALE, then SYNCED.
      await until(() => /STALE -> SYNCED/.test(stdout))
      const changes = stdout.split('\n').filter((line) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /.test(line))
      expect(changes[0]).toMatch(new RegExp(`^\\S+ ${GATEWAY.replaceAll('.', '\\.')} CDS SYNCED -> STALE, LDS SYNCED -> STALE, EDS SYNCED -> STALE, RDS SYNCED -> STALE$`))
      expect(changes[1]).toMatch(new RegExp(`^\\S+ ${GATEWAY.replaceAll('.', '\\.')} CDS STALE -> SYNCED, LDS STALE -> SYNCED, EDS STALE -> SYNCED, RDS STALE -> SYNCED$`))
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(stderr).toBe('')
    } finally {
      clearTimeout(killer)
      child.kill('SIGKILL')
    }
  }, 120_000)
})
