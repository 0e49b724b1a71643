// The live path's hardening (issue 8): bounded API answers, no Node warnings, log --duration
// restores on every catchable signal and only what it changed, no local port-forward listener,
// honest messages for partial answers, transient API failures retried, capped log streams.
import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import {readdirSync, readFileSync, readlinkSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {MeshdbgError} from '../../src/lib/errors.js'
import {openPodLog} from '../../src/lib/kube/pod-logs.js'
import {Scope} from '../../src/lib/scope.js'
import {makePod} from '../../src/sim/objects.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {cliPath, projectRoot, runCli} from '../helpers/cli.js'
import {podHttp, WEBAPP} from '../sim/helpers.js'

const NS = 'istioinaction'
const CATALOG_V1 = 'catalog-5c7f8f8447-f54sj'
const GATEWAY = 'istio-ingressgateway-6bb8fb6549-hcdnc'

let sim: Simulator
beforeEach(async () => {
  sim = await startSimulator()
})
afterEach(async () => {
  await sim.close()
})

const cli = (args: string[], timeout = '5s') => runCli([...args, '--timeout', timeout], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 60_000})

async function levelsOf(pod: string, namespace = NS): Promise<Record<string, string>> {
  const reply = await podHttp(sim, {pod, namespace, port: 15000}, '/logging', {method: 'POST'})
  return Object.fromEntries(reply.body.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim().split(': ') as [string, string]))
}

interface Running {
  child: ChildProcessWithoutNullStreams
  stderr: () => string
  exited: Promise<number | null>
  /** Resolves once stderr contains `text` (or the process ended). */
  waitFor(text: string): Promise<void>
}

function start(args: string[]): Running {
  const child = spawn(process.execPath, [cliPath, ...args], {cwd: projectRoot, env: {...process.env, KUBECONFIG: sim.kubeconfigPath, NO_COLOR: '1'}})
  let stderr = ''
  const waiters: Array<{text: string; resolve: () => void}> = []
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    for (const waiter of waiters.filter((w) => stderr.includes(w.text))) waiter.resolve()
  })
  child.stdout.resume()
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard)
      for (const waiter of waiters) waiter.resolve()
      resolve(code)
    }),
  )
  return {
    child,
    stderr: () => stderr,
    exited,
    waitFor: (text) => new Promise<void>((resolve) => (stderr.includes(text) || child.exitCode !== null ? resolve() : waiters.push({text, resolve}))),
  }
}

/** Inodes of the TCP sockets in LISTEN state that belong to a process (IPv4 and IPv6). */
function listeningSocketsOf(pid: number): string[] {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (match) inodes.add(match[1])
    } catch {
      // The descriptor closed while we looked.
    }
  }
  const listening: string[] = []
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      // st 0A is LISTEN; field 9 is the inode.
      if (fields[3] === '0A' && inodes.has(fields[9])) listening.push(`${table} ${fields[1]}`)
    }
  }
  return listening
}

describe('bounded and quiet', () => {
  it('an endless API server answer stops at 256 MiB: exit 6, one line', async () => {
    sim.setApiFault('/apis/apps/v1/namespaces/istio-system/deployments/istio-ingressgateway', {kind: 'endless-body'})
    const result = await cli(['pc', 'cluster', 'deploy/istio-ingressgateway', '-n', 'istio-system'], '60s')
    expect(result.stderr).toMatch(/^Error: the Kubernetes API server's answer for deployment "istio-ingressgateway" in namespace "istio-system" is larger than 256 MiB; refusing to read it\. Hint: .*\n$/)
    expect(result.code).toBe(6)
  })

  it('an endless finished pod log stops at 256 MiB (exit 6)', async () => {
    sim.setApiFault(`/api/v1/namespaces/istio-system/pods/${GATEWAY}/log`, {kind: 'endless-body'})
    const scope = new Scope()
    const ctx = {kubeconfig: sim.kubeconfigPath, timeoutMs: 60_000, signal: AbortSignal.timeout(60_000), scope, note: () => {}, spin: <T>(_: string, work: Promise<T>) => work}
    try {
      const stream = await openPodLog(ctx, {name: GATEWAY, namespace: 'istio-system'}, {container: 'istio-proxy', follow: false})
      let received = 0
      const failure = await (async () => {
        for await (const chunk of stream) received += chunk.length
      })().catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(MeshdbgError)
      expect((failure as MeshdbgError).exitCode).toBe(6)
      expect((failure as MeshdbgError).message).toMatch(/the API server sent more than 256 MiB; refusing to read more$/)
      expect(received).toBeLessThanOrEqual(256 * 1024 * 1024)
    } finally {
      await scope.close()
    }
  })

  it('log across more than 10 pods prints no Node warning', async () => {
    for (let i = 0; i < 12; i++) {
      sim.scenario.pods.push(makePod({
        name: `extra-${String(i).padStart(2, '0')}-6f7d8c9b5-abcde`, namespace: NS, labels: {app: 'extra'}, ip: `10.10.1.${i + 1}`, serviceAccount: 'default',
        app: [{name: 'app', image: 'example/app:1', ports: [{containerPort: 8080}]}], proxy: {kind: 'sidecar', istioVersion: '1.17.8', adminPort: 15000, agentDebugPort: true},
      }))
    }
    const result = await cli(['log', '-l', 'app=extra', '-n', NS, '--level', 'rbac:debug', '--concurrency', '16'], '20s')
    expect(result.code).toBe(0)
    expect(result.stdout.match(/ changed /g)).toHaveLength(12)
    // Nothing else: no MaxListenersExceededWarning (12 requests at once on the command's deadline).
    expect(result.stderr).toBe('12 meshed pods to change\n')
  })
})

describe('log --duration always puts things back', () => {
  for (const signal of ['SIGHUP', 'SIGQUIT', 'SIGTERM'] as const) {
    it(`${signal} restores the previous levels and exits`, async () => {
      const run = start(['log', WEBAPP.pod, '-n', NS, '--level', 'rbac:debug', '--duration', '60s', '--timeout', '5s'])
      await run.waitFor('--reset')
      expect((await levelsOf(WEBAPP.pod)).rbac).toBe('debug')
      // The terminal is gone with SIGHUP: writing to it fails, which must not stop the restore.
      if (signal === 'SIGHUP') {
        run.child.stderr.destroy()
        run.child.stdout.destroy()
      }
      run.child.kill(signal)
      const code = await run.exited
      expect((await levelsOf(WEBAPP.pod)).rbac).toBe('warning')
      if (signal !== 'SIGHUP') {
        expect(code).toBe(0)
        expect(run.stderr()).toContain(`${signal}: restoring the previous levels on 1 pod...\nrestored the previous levels on 1 pod\n`)
      }
    })
  }

  it('a reader of stdout that went away (| head) does not end the run before the restore', async () => {
    const run = start(['log', WEBAPP.pod, '-n', NS, '--level', 'rbac:debug', '--duration', '60s', '--timeout', '5s'])
    run.child.stdout.destroy()
    await run.waitFor('--reset')
    // Give an EPIPE from the table written at the start time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(run.child.exitCode).toBeNull()
    expect((await levelsOf(WEBAPP.pod)).rbac).toBe('debug')
    run.child.kill('SIGINT')
    await run.exited
    expect(run.stderr()).toContain('restored the previous levels on 1 pod\n')
    expect((await levelsOf(WEBAPP.pod)).rbac).toBe('warning')
  })

  it('says, when it starts, what to run after SIGKILL (shell-quoted)', async () => {
    const run = start(['log', '-l', 'app=catalog,version in (v1)', '-n', NS, '--level', 'rbac:debug', '--duration', '60s', '--timeout', '5s'])
    await run.waitFor('--reset')
    run.child.kill('SIGKILL')
    await run.exited
    expect(run.stderr()).toContain(`if meshdbg is killed (SIGKILL) or crashes before then, return them to their start-up levels with: meshdbg log -l 'app=catalog,version in (v1)' -n istioinaction --reset\n`)
    expect((await levelsOf(CATALOG_V1)).rbac).toBe('debug')
    const reset = await cli(['log', '-l', 'app=catalog,version in (v1)', '-n', NS, '--reset'])
    expect(reset.code).toBe(0)
    expect((await levelsOf(CATALOG_V1)).rbac).toBe('warning')
  })

  it('overlapping runs: the first restore leaves the second run\'s changes alone and says so', async () => {
    const first = start(['log', WEBAPP.pod, '-n', NS, '--level', 'rbac:debug', '--duration', '60s', '--timeout', '5s'])
    await first.waitFor('--reset')
    const second = start(['log', WEBAPP.pod, '-n', NS, '--level', 'rbac:trace,http:debug', '--duration', '60s', '--timeout', '5s'])
    await second.waitFor('--reset')
    expect(await levelsOf(WEBAPP.pod)).toMatchObject({rbac: 'trace', http: 'debug'})

    first.child.kill('SIGINT')
    expect(await first.exited).toBe(0)
    // The second run is still holding its levels: nothing of it was undone.
    expect(await levelsOf(WEBAPP.pod)).toMatchObject({rbac: 'trace', http: 'debug'})
    expect(first.stderr()).toContain(`pod ${WEBAPP.pod}.${NS}: left rbac at trace (this run set debug): changed by someone else since\n`)
    expect(first.stderr()).toContain('except loggers changed by someone else since on 1 pod (see above)')

    second.child.kill('SIGINT')
    expect(await second.exited).toBe(0)
    expect(await levelsOf(WEBAPP.pod)).toMatchObject({rbac: 'debug', http: 'warning'})
  })
})

describe('port-forwards', () => {
  it('no TCP listener belongs to meshdbg while a --duration run holds its tunnels', async () => {
    const run = start(['log', WEBAPP.pod, '-n', NS, '--level', 'rbac:debug', '--duration', '60s', '--timeout', '5s'])
    await run.waitFor('--reset')
    const pid = run.child.pid!
    expect(readdirSync(`/proc/${pid}/fd`).length).toBeGreaterThan(0)
    expect(listeningSocketsOf(pid)).toEqual([])
    run.child.kill('SIGINT')
    expect(await run.exited).toBe(0)
    expect((await levelsOf(WEBAPP.pod)).rbac).toBe('warning')
  })

  it('a reset after part of the answer says how many bytes arrived and that it was reset', async () => {
    sim.setFault({pod: GATEWAY, namespace: 'istio-system', port: 15000}, {kind: 'reset-after-partial', bytes: 3000})
    const result = await cli(['pc', 'cluster', `pod/${GATEWAY}`, '-n', 'istio-system'])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(/^Error: GET \/config_dump on pod istio-ingressgateway-6bb8fb6549-hcdnc\.istio-system port 15000: the connection was reset after \d+ bytes of the response arrived: .*read\/write error.*connection reset by peer\. Hint: .*retry/)
    expect(result.stderr).not.toContain('nothing accepted')
    expect(result.stderr).not.toContain('--proxy-admin-port')
  })
})

describe('transport to the API server', () => {
  it('retries a 429 (after Retry-After) and a reset, on REST and on the port-forward upgrade; sends its User-Agent', async () => {
    sim.setApiFault('/apis/apps/v1/namespaces/istio-system/deployments/istio-ingressgateway', {kind: 'throttle', retryAfter: '1'})
    sim.setApiFault('/api/v1/namespaces/istio-system/pods?', {kind: 'reset'})
    sim.setApiFault(/\/portforward\?ports=15000$/, {kind: 'reset'})
    const result = await cli(['pc', 'listener', 'deploy/istio-ingressgateway', '-n', 'istio-system'], '10s')
    expect(result.stderr).toContain('using pod istio-ingressgateway-')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Route: http.8080')
    const deploymentGets = sim.requests.filter((request) => request.path.startsWith('/apis/apps/v1/namespaces/istio-system/deployments/istio-ingressgateway'))
    expect(deploymentGets).toHaveLength(2)
    expect(sim.requests.filter((request) => request.path.includes('/portforward')).length).toBeGreaterThanOrEqual(2)
    const version = JSON.parse(readFileSync(`${projectRoot}/package.json`, 'utf8')).version
    for (const request of sim.requests) expect(request.headers['user-agent']).toBe(`meshdbg/${version}`)
  })

  it('the istiod pod listing is retried like every API read (sync-status, a 429 then a reset)', async () => {
    const istiodList = /^\/api\/v1\/namespaces\/istio-system\/pods\?labelSelector=app%3Distiod/
    sim.setApiFault(istiodList, {kind: 'throttle', retryAfter: '1'})
    const throttled = await cli(['sync-status'], '10s')
    expect(throttled.stderr).toBe('')
    expect(throttled.code).toBe(0)
    expect(sim.requests.filter((request) => istiodList.test(request.path))).toHaveLength(2)
    sim.setApiFault(istiodList, {kind: 'reset'})
    const reset = await cli(['sync-status'], '10s')
    expect(reset.code).toBe(0)
    expect(reset.stdout).toContain('SYNCED')
  })

  it('access-log on a workload reads at most --max-log-requests pods (5) and names the skipped ones', async () => {
    for (let i = 0; i < 5; i++) {
      sim.scenario.pods.push(makePod({
        name: `catalog-v2-6d4c8b7d9f-x${i}xxx`, namespace: NS, labels: {app: 'catalog', version: 'v2', 'pod-template-hash': '6d4c8b7d9f'}, ip: `10.10.2.${i + 1}`, serviceAccount: 'catalog',
        app: [{name: 'catalog', image: 'istioinaction/catalog:latest', ports: [{containerPort: 3000}]}], proxy: {kind: 'sidecar', istioVersion: '1.17.8', adminPort: 15000, agentDebugPort: true},
      }))
    }
    const logRequests = () => sim.requests.filter((request) => /\/pods\/[^/]+\/log\?/.test(request.path))
    const capped = await cli(['access-log', 'deploy/catalog-v2', '-n', NS, '--tail', '5'])
    expect(capped.stderr).toMatch(/reading 5 of 7 pods' logs \(--max-log-requests 5\); skipped 2: /)
    expect(logRequests()).toHaveLength(5)
    const one = await cli(['access-log', 'deploy/catalog-v2', '-n', NS, '--tail', '5', '--max-log-requests', '1'])
    expect(one.stderr).toMatch(/reading 1 of 7 pods' logs \(--max-log-requests 1\); skipped 6: /)
    expect(logRequests()).toHaveLength(6)
  })
})
