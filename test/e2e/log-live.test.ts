import {spawn} from 'node:child_process'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {makePod} from '../../src/sim/objects.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {cliPath, projectRoot, runCli} from '../helpers/cli.js'
import {podHttp, WEBAPP} from '../sim/helpers.js'

const NS = 'istioinaction'
const CATALOG_V1 = 'catalog-5c7f8f8447-f54sj'
const CATALOG_V2_A = 'catalog-v2-6d4c8b7d9f-8xw2p'
const CATALOG_V2_B = 'catalog-v2-6d4c8b7d9f-zqgfl'
const MESHED_IN_NS = [CATALOG_V1, CATALOG_V2_A, CATALOG_V2_B, WEBAPP.pod]

let sim: Simulator
beforeEach(async () => {
  sim = await startSimulator()
})
afterEach(async () => {
  await sim.close()
})

const cli = (args: string[]) => runCli([...args, '--timeout', '3s'], {env: {KUBECONFIG: sim.kubeconfigPath}})

/** The proxy's levels as the simulator holds them, read around the CLI (a raw port-forward). */
async function levelsOf(pod: string, namespace = NS): Promise<Record<string, string>> {
  const reply = await podHttp(sim, {pod, namespace, port: 15000}, '/logging', {method: 'POST'})
  expect(reply.status).toBe(200)
  return Object.fromEntries(reply.body.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim().split(': ') as [string, string]))
}

/** Admin requests that could have changed a level (a POST /logging with a query). */
const levelChanges = () => sim.adminRequests.filter((request) => request.method === 'POST' && request.path.startsWith('/logging?'))

describe('meshdbg log (live)', () => {
  it('reads one pod\'s levels, grouped by level; -o json has every logger', async () => {
    const table = await cli(['log', WEBAPP.pod, '-n', NS])
    expect(table.code).toBe(0)
    expect(table.stdout).toBe('POD                                    LEVELS\nwebapp-7c5d7b8c6b-4vzd9.istioinaction  warning: 55 loggers; error: misc\n')
    const json = await cli(['log', `${WEBAPP.pod}.${NS}`, '-o', 'json'])
    const result = JSON.parse(json.stdout)
    expect(result.mode).toBe('read')
    expect(result.pods).toHaveLength(1)
    expect(result.pods[0]).toMatchObject({pod: WEBAPP.pod, namespace: NS, adminPort: 15000, result: 'read'})
    expect(result.pods[0].levels).toMatchObject({rbac: 'warning', misc: 'error', http: 'warning'})
    expect(levelChanges()).toEqual([])
    // Always POST: GET /logging is 405 on modern Envoy.
    expect(sim.adminRequests.filter((request) => request.path.startsWith('/logging')).every((request) => request.method === 'POST')).toBe(true)
  })

  it('sets one logger on one pod and nothing else', async () => {
    const result = await cli(['log', WEBAPP.pod, '-n', NS, '--level', 'rbac:debug'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('POD                                    RESULT   CHANGED\nwebapp-7c5d7b8c6b-4vzd9.istioinaction  changed  rbac: warning->debug\n')
    expect(await levelsOf(WEBAPP.pod)).toMatchObject({rbac: 'debug', http: 'warning', misc: 'error'})
    expect((await levelsOf(CATALOG_V1)).rbac).toBe('warning')
    expect(levelChanges().map((request) => request.path)).toEqual(['/logging?rbac=debug'])
  })

  it('a deployment means all of its pods', async () => {
    const result = await cli(['log', 'deploy/catalog-v2', '-n', NS, '--level', 'http:debug,router:debug'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`${CATALOG_V2_A}.${NS}  changed  http,router: warning->debug`)
    expect(result.stdout).toContain(`${CATALOG_V2_B}.${NS}  changed  http,router: warning->debug`)
    for (const pod of [CATALOG_V2_A, CATALOG_V2_B]) expect(await levelsOf(pod)).toMatchObject({http: 'debug', router: 'debug', rbac: 'warning'})
    expect((await levelsOf(CATALOG_V1)).http).toBe('warning')
  })

  it('a selector: a global level plus one logger', async () => {
    const result = await cli(['log', '-l', 'app=catalog', '-n', NS, '--level', 'info,rbac:debug'])
    expect(result.code).toBe(0)
    expect(result.stdout.trim().split('\n')).toHaveLength(4)
    expect(result.stdout).toContain(`${CATALOG_V1}.${NS}     changed  all -> info (55 loggers), rbac: warning->debug`)
    for (const pod of [CATALOG_V1, CATALOG_V2_A, CATALOG_V2_B]) {
      const levels = await levelsOf(pod)
      expect(levels.rbac).toBe('debug')
      expect(Object.entries(levels).filter(([name]) => name !== 'rbac').every(([, level]) => level === 'info')).toBe(true)
    }
    expect((await levelsOf(WEBAPP.pod)).rbac).toBe('warning')
  })

  it('no target: every meshed pod of the namespace, counted first', async () => {
    const result = await cli(['log', '-n', NS, '--level', 'debug'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('4 meshed pods to change\n')
    expect(result.stdout.split('\n').slice(1, -1).map((line) => line.split(/\s+/)[0])).toEqual(MESHED_IN_NS.map((pod) => `${pod}.${NS}`).sort())
    for (const pod of MESHED_IN_NS) expect((await levelsOf(pod)).upstream).toBe('debug')
  })

  it('an unknown logger name changes nothing anywhere: exit 2 with close matches', async () => {
    const result = await cli(['log', '-n', NS, '--level', 'http:debug,rbca:debug'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/Error: unrecognized logger name "rbca" \(did you mean rbac\?\)/)
    expect(result.stdout).toBe('')
    expect(levelChanges()).toEqual([])
    // Exactly: a substring of a real name (istioctl accepts it) is refused too.
    const substring = await cli(['log', WEBAPP.pod, '-n', NS, '--level', 'ttp:debug'])
    expect(substring.code).toBe(2)
    expect(levelChanges()).toEqual([])
  })

  it('an unknown level is refused before any pod is contacted', async () => {
    const result = await cli(['log', '-n', NS, '--level', 'rbac:loud'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/unrecognized logging level "loud"/)
    expect(sim.adminRequests).toEqual([])
  })

  it('one pod failing: the others are changed, exit 4 names the failed pod and why', async () => {
    // The first pod in order fails: the next one supplies the logger list.
    sim.setFault({pod: CATALOG_V1, namespace: NS, port: 15000}, {kind: 'refused'})
    const result = await cli(['log', '-l', 'app=catalog', '-n', NS, '--level', 'rbac:debug'])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(new RegExp(`Error: 1 of 3 pods failed: ${CATALOG_V1}\\.${NS} \\(nothing accepted the connection to port 15000`))
    expect(result.stdout).toMatch(new RegExp(`${CATALOG_V1}\\.${NS}\\s+failed\\s+nothing accepted`))
    for (const pod of [CATALOG_V2_A, CATALOG_V2_B]) expect((await levelsOf(pod)).rbac).toBe('debug')
    sim.setFault({pod: CATALOG_V1, namespace: NS, port: 15000}, undefined)
    expect((await levelsOf(CATALOG_V1)).rbac).toBe('warning')
  })

  it('a failing pod in the middle: -o json still carries every pod\'s outcome', async () => {
    sim.setFault({pod: CATALOG_V2_A, namespace: NS, port: 15000}, {kind: 'http-status', status: 503})
    const result = await cli(['log', '-n', NS, '--level', 'debug', '-o', 'json'])
    expect(result.code).toBe(4)
    const parsed = JSON.parse(result.stdout)
    expect(parsed.failed).toBe(1)
    expect(parsed.pods.map((pod: {pod: string; result: string}) => [pod.pod, pod.result])).toEqual([
      [CATALOG_V1, 'changed'],
      [CATALOG_V2_A, 'failed'],
      [CATALOG_V2_B, 'changed'],
      [WEBAPP.pod, 'changed'],
    ])
    expect(parsed.pods[1].error).toMatch(/HTTP 503/)
    expect(result.stderr).toMatch(new RegExp(`${CATALOG_V2_A}\\.${NS} \\(POST /logging on pod .* returned HTTP 503`))
  })

  it('--duration with a failing pod: the others are restored, the failed one is left exactly as it was', async () => {
    await podHttp(sim, {pod: CATALOG_V1, namespace: NS, port: 15000}, '/logging?rbac=info', {method: 'POST'})
    sim.setFault({pod: CATALOG_V1, namespace: NS, port: 15000}, {kind: 'refused'})
    const child = spawn(process.execPath, [cliPath, 'log', '-l', 'app=catalog', '-n', NS, '--level', 'rbac:debug', '--duration', '2s', '--timeout', '3s'], {
      cwd: projectRoot,
      env: {...process.env, KUBECONFIG: sim.kubeconfigPath, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
        if (stderr.includes('levels set')) resolve()
      })
      child.on('close', () => resolve())
    })
    // The failed pod answers again by the time of the restore: it must not get anyone else's levels.
    sim.setFault({pod: CATALOG_V1, namespace: NS, port: 15000}, undefined)
    const code = await exited
    clearTimeout(guard)
    expect(code).toBe(4)
    expect(stderr).toMatch(/levels set on 2 pods; /)
    expect(stderr).toMatch(new RegExp(`Error: 1 of 3 pods failed: ${CATALOG_V1}\\.${NS} \\(nothing accepted the connection`))
    expect((await levelsOf(CATALOG_V1)).rbac).toBe('info')
    for (const pod of [CATALOG_V2_A, CATALOG_V2_B]) expect((await levelsOf(pod)).rbac).toBe('warning')
  })

  it('--reset returns to the pod\'s start-up levels (annotation, else --proxyLogLevel, plus component levels)', async () => {
    const annotated = sim.scenario.pods.find((pod) => pod.name === CATALOG_V2_B)!
    annotated.annotations['sidecar.istio.io/logLevel'] = 'info'
    expect((await cli(['log', '-n', NS, '--level', 'trace'])).code).toBe(0)
    const result = await cli(['log', '-n', NS, '--reset', '-o', 'json'])
    expect(result.code).toBe(0)
    const parsed = JSON.parse(result.stdout)
    expect(parsed.pods.find((pod: {pod: string}) => pod.pod === CATALOG_V2_B).reset).toEqual({level: 'info', source: 'annotation', components: 'misc:error'})
    expect(parsed.pods.find((pod: {pod: string}) => pod.pod === WEBAPP.pod).reset).toEqual({level: 'warning', source: 'proxy-args', components: 'misc:error'})
    expect(await levelsOf(WEBAPP.pod)).toMatchObject({rbac: 'warning', misc: 'error'})
    expect(await levelsOf(CATALOG_V2_B)).toMatchObject({rbac: 'info', misc: 'error'})
  })

  it('--duration restores the previous levels when the time is up, even past --timeout', async () => {
    await podHttp(sim, {...WEBAPP, port: 15000}, '/logging?http=info', {method: 'POST'})
    const result = await runCli(['log', WEBAPP.pod, '-n', NS, '--level', 'http:debug,rbac:debug', '--duration', '5s', '--timeout', '3s'], {env: {KUBECONFIG: sim.kubeconfigPath}})
    expect(result.stderr).toMatch(/^levels set on 1 pod; restoring the previous levels at .* \(in 5s\), or on Ctrl-C\nif meshdbg is killed \(SIGKILL\) or crashes before then, return them to their start-up levels with: meshdbg log webapp-\S+ -n istioinaction --reset\nrestoring the previous levels on 1 pod\.\.\.\nrestored the previous levels on 1 pod\n$/)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('changed  http: info->debug, rbac: warning->debug')
    expect(levelChanges().map((request) => request.path)).toEqual(['/logging?http=info', '/logging?http=debug', '/logging?rbac=debug', '/logging?http=info', '/logging?rbac=warning'])
    expect(await levelsOf(WEBAPP.pod)).toMatchObject({http: 'info', rbac: 'warning', misc: 'error'})
  })

  it('--duration then SIGINT restores the previous levels at once and exits', async () => {
    const child = spawn(process.execPath, [cliPath, 'log', '-l', 'app=catalog', '-n', NS, '--level', 'debug', '--duration', '30s', '--timeout', '3s', '-o', 'json'], {
      cwd: projectRoot,
      env: {...process.env, KUBECONFIG: sim.kubeconfigPath, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    // -o json silences notes: wait for the changes to reach the simulator instead.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (levelChanges().length >= 3) {
          clearInterval(poll)
          resolve()
        }
      }, 50)
      child.on('close', () => {
        clearInterval(poll)
        resolve()
      })
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    expect((await levelsOf(CATALOG_V2_A)).rbac).toBe('debug')
    // Let the CLI get from the last POST to its wait.
    await new Promise((resolve) => setTimeout(resolve, 300))
    child.kill('SIGINT')
    const code = await exited
    clearTimeout(guard)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const parsed = JSON.parse(stdout)
    expect(parsed.duration).toMatchObject({ms: 30_000, ended: 'interrupted'})
    expect(parsed.pods.map((pod: {restore: {result: string}}) => pod.restore.result)).toEqual(['restored', 'restored', 'restored'])
    for (const pod of [CATALOG_V1, CATALOG_V2_A, CATALOG_V2_B]) expect(await levelsOf(pod)).toMatchObject({rbac: 'warning', misc: 'error', http: 'warning'})
  })

  it('--duration then SIGINT in table mode: says levels set, restores, exits 0', async () => {
    const child = spawn(process.execPath, [cliPath, 'log', WEBAPP.pod, '-n', NS, '--level', 'rbac:debug', '--duration', '30s', '--timeout', '3s'], {
      cwd: projectRoot,
      env: {...process.env, KUBECONFIG: sim.kubeconfigPath, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
        if (stderr.includes('levels set')) resolve()
      })
      child.on('close', () => resolve())
    })
    expect((await levelsOf(WEBAPP.pod)).rbac).toBe('debug')
    child.kill('SIGINT')
    const code = await exited
    clearTimeout(guard)
    expect(code).toBe(0)
    expect(stderr).toMatch(/levels set on 1 pod; .*\nif meshdbg is killed \(SIGKILL\) or crashes before then, return them to their start-up levels with: meshdbg log \S+ -n istioinaction --reset\nSIGINT: restoring the previous levels on 1 pod\.\.\.\nrestored the previous levels on 1 pod\n$/)
    expect((await levelsOf(WEBAPP.pod)).rbac).toBe('warning')
  })

  it('needs --yes to change more than 20 pods of a namespace; reading them does not', async () => {
    for (let i = 0; i < 21; i++) {
      sim.scenario.pods.push(makePod({
        name: `extra-${String(i).padStart(2, '0')}-6f7d8c9b5-abcde`, namespace: NS, labels: {app: `extra-${i}`}, ip: `10.10.1.${i + 1}`, serviceAccount: 'default',
        app: [{name: 'app', image: 'example/app:1', ports: [{containerPort: 8080}]}], proxy: {kind: 'sidecar', istioVersion: '1.17.8', adminPort: 15000, agentDebugPort: true},
      }))
    }
    const refused = await cli(['log', '-n', NS, '--level', 'debug'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/^25 meshed pods to change\nError: this would change the log levels of 25 pods: add --yes to confirm/)
    expect(levelChanges()).toEqual([])
    const read = await cli(['log', '-n', NS])
    expect(read.code).toBe(0)
    expect(read.stdout.trim().split('\n')).toHaveLength(26)
    const confirmed = await cli(['log', '-n', NS, '--level', 'debug', '--yes', '--concurrency', '4'])
    expect(confirmed.code).toBe(0)
    expect(confirmed.stdout.match(/ changed /g)).toHaveLength(25)
    expect((await levelsOf('extra-20-6f7d8c9b5-abcde')).rbac).toBe('debug')
  })

  it('usage errors: --level with --reset, --duration without a change', async () => {
    const both = await cli(['log', WEBAPP.pod, '-n', NS, '--level', 'debug', '--reset'])
    expect(both.code).toBe(2)
    expect(both.stderr).toBe('Error: --level cannot be combined with --reset\n')
    const duration = await cli(['log', WEBAPP.pod, '-n', NS, '--duration', '1m'])
    expect(duration.code).toBe(2)
    expect(sim.adminRequests).toEqual([])
  })
})
