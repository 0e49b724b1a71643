import {spawn} from 'node:child_process'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {cliPath, projectRoot, runCli} from '../helpers/cli.js'
import {applyFix} from '../sim/helpers.js'

const GATEWAY = 'deploy/istio-ingressgateway'
const GATEWAY_POD = 'istio-ingressgateway-6bb8fb6549-hcdnc'
const SLOW_HOST = '10.10.0.13:3000'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
  // Story 2 plays after story 1's fix: without the subset clusters the gateway logs 503 NC only.
  sim.scenario.live!.proxies[GATEWAY_POD] = {}
  await applyFix(sim, 'story1-destinationrule', {waitFor: {pod: GATEWAY_POD, namespace: 'istio-system'}})
})
afterAll(async () => {
  await sim.close()
})

const cli = (args: string[]) => runCli([...args, '--timeout', '3s'], {env: {KUBECONFIG: sim.kubeconfigPath}})
const rows = (stdout: string) => stdout.trimEnd().split('\n').slice(1)
const logRequests = () => sim.requests.filter((request) => request.path.includes('/log?'))

describe('meshdbg access-log (live)', () => {
  it('reads the istio-proxy log of a workload\'s pod through the log API, skipping non-access-log lines', async () => {
    const result = await cli(['access-log', GATEWAY, '-n', 'istio-system'])
    expect(result.code).toBe(0)
    // The scripted history: 11 pilot-agent start-up lines, then the 480 requests (one every 1.6 s)
    // before the simulator started, every third through the gateway, and those since.
    expect(result.stderr).toBe('skipped 11 lines that are not access-log entries\n')
    expect(result.stdout.split('\n')[0]).toMatch(/^TIME\s+METHOD\s+PATH\s+CODE\s+FLAGS\s+DETAILS\s+DURATION\s+UPSTREAM HOST\s+UPSTREAM CLUSTER$/)
    expect(rows(result.stdout).length).toBeGreaterThanOrEqual(160)
    const first = Date.parse(rows(result.stdout)[0].split(/\s+/)[0])
    expect(Date.now() - first).toBeGreaterThan(12 * 60_000)
    const request = logRequests().at(-1)!
    expect(request.path).toMatch(new RegExp(`^/api/v1/namespaces/istio-system/pods/${GATEWAY_POD}/log\\?container=istio-proxy&timestamps=true$`))
  })

  it('--tail and --since limit the lines the API server sends', async () => {
    const tail = await cli(['access-log', `${GATEWAY_POD}.istio-system`, '--tail', '5'])
    expect(tail.code).toBe(0)
    expect(rows(tail.stdout)).toHaveLength(5)
    expect(tail.stderr).toBe('')
    expect(logRequests().at(-1)!.path).toContain('tailLines=5')
    // The kubelet keeps the lines written in the last 30 s: a gateway request every 4.9 s, written
    // at most ~1.5 s after it started (START_TIME + DURATION, then Envoy's 1 s flush).
    const asked = Date.now()
    const since = await cli(['access-log', GATEWAY, '-n', 'istio-system', '--since', '30s'])
    expect(since.code).toBe(0)
    expect(rows(since.stdout).length).toBeGreaterThanOrEqual(5)
    expect(rows(since.stdout).length).toBeLessThanOrEqual(8)
    for (const row of rows(since.stdout)) expect(Date.parse(row.split(/\s+/)[0])).toBeGreaterThan(asked - 32_000)
    expect(logRequests().at(-1)!.path).toContain('sinceSeconds=30')
  })

  it('filters and --explain work on the live log', async () => {
    const result = await cli(['access-log', GATEWAY, '-n', 'istio-system', '--status', '5xx', '--explain'])
    expect(result.code).toBe(0)
    const table = result.stdout.split('\n\n')[0]
    expect(rows(table).length).toBeGreaterThan(0)
    for (const row of rows(table)) expect(row).toMatch(new RegExp(`\\s504\\s+UT\\s+response_timeout\\s+501ms\\s+${SLOW_HOST.replace(/\./g, '\\.')}\\s`))
    expect(result.stdout).toMatch(/\d+x \[\d{4}-\d\d-\d\dT[\d:.]+Z\] GET \/items -> 504 UT/)
    expect(result.stdout).toMatch(/timed out after 0\.5 s/)
  })

  it('--summary makes the slow catalog pod of story 2 stand out', async () => {
    const result = await cli(['access-log', GATEWAY, '-n', 'istio-system', '--summary'])
    expect(result.code).toBe(0)
    const hostLines = result.stdout.split('\n').filter((line) => /^10\.10\.0\.\d+:3000/.test(line))
    expect(hostLines).toHaveLength(3)
    expect(hostLines[0]).toMatch(new RegExp(`^${SLOW_HOST.replace(/\./g, '\\.')}\\s.*<- 100% 5xx vs 0% on its peers; p50 501ms`))
    expect(hostLines.slice(1).every((line) => !line.includes('<-'))).toBe(true)
  })

  it('a workload with several pods: merged in time order, with a POD column; -o json names each entry\'s pod', async () => {
    const result = await cli(['access-log', 'deploy/catalog-v2', '-n', 'istioinaction', '--tail', '3'])
    expect(result.code).toBe(0)
    expect(result.stdout.split('\n')[0]).toMatch(/^POD\s+TIME\s+METHOD/)
    const pods = rows(result.stdout).map((row) => row.split(/\s+/)[0])
    expect(pods.sort()).toEqual(['catalog-v2-6d4c8b7d9f-8xw2p', 'catalog-v2-6d4c8b7d9f-8xw2p', 'catalog-v2-6d4c8b7d9f-8xw2p', 'catalog-v2-6d4c8b7d9f-zqgfl', 'catalog-v2-6d4c8b7d9f-zqgfl', 'catalog-v2-6d4c8b7d9f-zqgfl'])
    // Merged by kubelet timestamp, i.e. when Envoy wrote each line (START_TIME + DURATION, at its
    // next 1 s flush): with the gateway's requests 4.9 s apart that is START_TIME order, the pods
    // interleaved rather than grouped.
    const times = rows(result.stdout).map((row) => row.split(/\s+/)[1])
    expect(times).toEqual([...times].sort())
    const inOrder = rows(result.stdout).map((row) => row.split(/\s+/)[0])
    expect(inOrder.join(' ')).not.toBe([...inOrder].sort().join(' '))
    // The slow pod's sidecar records the gateway giving up: code 0, DC.
    expect(result.stdout).toMatch(/catalog-v2-6d4c8b7d9f-zqgfl\s+\S+\s+GET\s+\/items\s+0\s+DC\s+downstream_remote_disconnect/)
    const json = await cli(['access-log', 'deploy/catalog-v2', '-n', 'istioinaction', '--tail', '3', '--flags', 'DC', '-o', 'json'])
    const entries = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line))
    expect(entries.length).toBeGreaterThan(0)
    expect(entries.every((entry: {source: string}) => entry.source === 'pod/catalog-v2-6d4c8b7d9f-zqgfl/istio-proxy')).toBe(true)
  })

  it('--follow keeps streaming past --timeout until interrupted, then exits 0', async () => {
    // A request every 100 ms (every third through the gateway) for the follow tests.
    sim.scenario.live!.requestIntervalMs = 100
    const child = spawn(process.execPath, [cliPath, 'access-log', GATEWAY, '-n', 'istio-system', '--tail', '1', '--follow', '--timeout', '2s'], {
      cwd: projectRoot,
      env: {...process.env, KUBECONFIG: sim.kubeconfigPath, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    // A gateway line every 300 ms: rows still arriving 4 s after the start prove the 2 s deadline
    // does not end a --follow stream.
    const spawned = Date.now()
    let lateRows = 0
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        if (Date.now() - spawned > 4000) lateRows += chunk.toString().split('\n').filter(Boolean).length
        if (lateRows >= 2) resolve()
      })
      child.on('close', () => resolve())
    })
    child.kill('SIGINT')
    const code = await exited
    clearTimeout(guard)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout.split('\n')[0]).toMatch(/^TIME\s+METHOD\s+PATH/)
    expect(lateRows).toBeGreaterThanOrEqual(2)
    expect(logRequests().at(-1)!.path).toContain('follow=true')
  })

  it('--follow on a workload merges the pods as lines arrive', async () => {
    const child = spawn(process.execPath, [cliPath, 'access-log', 'deploy/catalog-v2', '-n', 'istioinaction', '--tail', '0', '--follow'], {
      cwd: projectRoot,
      env: {...process.env, KUBECONFIG: sim.kubeconfigPath, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    let stdout = ''
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        if (stdout.includes('-8xw2p ') && stdout.includes('-zqgfl ')) resolve()
      })
      child.on('close', () => resolve())
    })
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    clearTimeout(guard)
    expect(stdout.split('\n')[0]).toMatch(/^POD\s+TIME/)
    // The fast pod answers, the slow one (600 ms behind a 0.5 s route timeout) only ever sees the gateway give up.
    for (const row of rows(stdout)) expect(row).toMatch(/^catalog-v2-6d4c8b7d9f-(8xw2p\s+\S+\s+GET\s+\/items\s+200\s|zqgfl\s+\S+\s+GET\s+\/items\s+0\s+DC\s)/)
    delete sim.scenario.live!.requestIntervalMs
  })

  it('a pod without the container, or a pod not running, is exit 3', async () => {
    const legacy = await cli(['access-log', 'sleep-legacy-7d9f6b5c4-kq2xj', '-n', 'default'])
    expect(legacy.code).toBe(3)
    expect(legacy.stderr).toMatch(/^Error: pod sleep-legacy-7d9f6b5c4-kq2xj\.default has no container "istio-proxy" \(containers: sleep\)/)
    const wrongContainer = await cli(['access-log', 'deploy/webapp', '-n', 'istioinaction', '-c', 'envoy'])
    expect(wrongContainer.code).toBe(3)
    expect(wrongContainer.stderr).toMatch(/^Error: no pod of deploy\/webapp has a container "envoy" \(containers: webapp, istio-proxy\)/)
    const pending = await cli(['access-log', 'reviews-v1-8c5d9f6c7-pnd4g', '-n', 'default'])
    expect(pending.code).toBe(3)
    expect(pending.stderr).toBe('Error: pod reviews-v1-8c5d9f6c7-pnd4g.default is Pending, not Running\n')
    const missing = await cli(['access-log', 'nope-123', '-n', 'default'])
    expect(missing.code).toBe(3)
  })

  it('another container with -c: its non-access-log lines only, which is bad data (exit 6)', async () => {
    const result = await cli(['access-log', 'deploy/webapp', '-n', 'istioinaction', '-c', 'webapp'])
    expect(result.code).toBe(6)
    expect(result.stderr).toMatch(/^skipped 11 lines that are not access-log entries\nError: no access-log entry in deploy\/webapp/)
  })
})
