// kubectl against the simulator: the SPDY port-forward paths (skipped when kubectl is absent).
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {LEGACY, SLEEP} from './helpers.js'

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0
let sim: Simulator | undefined
let child: ChildProcess | undefined
let cacheDir = ''

beforeAll(() => {
  if (!hasKubectl) console.warn('kubectl not found: skipping the kubectl SPDY tests')
})
afterEach(async () => {
  if (child && child.exitCode === null) child.kill()
  child = undefined
  await sim?.close()
  sim = undefined
  if (cacheDir) rmSync(cacheDir, {recursive: true, force: true})
})

/** Starts `kubectl port-forward` asynchronously (a blocked event loop would stall the in-process apiserver). */
function portForward(s: Simulator, target: string, namespace: string, env: NodeJS.ProcessEnv = {}): {ready: Promise<number>; exited: Promise<{code: number | null; stderr: string}>} {
  cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'))
  child = spawn('kubectl', ['--kubeconfig', s.kubeconfigPath, '--cache-dir', cacheDir, '-n', namespace, 'port-forward', '--address', '127.0.0.1', target, '0:15000'], {env: {...process.env, ...env}})
  let stdout = ''
  let stderr = ''
  const c = child
  const exited = new Promise<{code: number | null; stderr: string}>((resolve) => c.on('exit', (code) => resolve({code, stderr})))
  const ready = new Promise<number>((resolve, reject) => {
    c.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(stdout)
      if (m) resolve(Number(m[1]))
    })
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    c.on('exit', () => reject(new Error(`kubectl exited: ${stderr}`)))
  })
  ready.catch(() => undefined)
  return {ready, exited}
}

describe.skipIf(!hasKubectl)('kubectl port-forward (SPDY)', () => {
  it('works through the WebSocket tunnel (SPDY/3.1+portforward.k8s.io) to a deployment', async () => {
    sim = await startSimulator()
    const {ready} = portForward(sim, 'deploy/istio-ingressgateway', 'istio-system')
    const port = await ready
    const replies = await Promise.all(Array.from({length: 5}, () => fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.text())))
    expect(replies).toEqual(Array(5).fill('LIVE\n'))
    const dump = await (await fetch(`http://127.0.0.1:${port}/config_dump?mask=bootstrap`)).json()
    expect(dump.configs[0].bootstrap.node.metadata.ISTIO_VERSION).toBe('1.17.8')
    expect(sim.requests.some((r) => r.method === 'GET' && r.path.endsWith('/portforward') && r.headers['sec-websocket-protocol'] === 'SPDY/3.1+portforward.k8s.io')).toBe(true)
  })

  it('falls back to a raw SPDY upgrade when websockets are off', async () => {
    sim = await startSimulator()
    const {ready} = portForward(sim, `pod/${SLEEP.pod}`, SLEEP.namespace, {KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false'})
    const port = await ready
    expect(await (await fetch(`http://127.0.0.1:${port}/ready`)).text()).toBe('LIVE\n')
    expect(sim.requests.some((r) => r.method === 'POST' && r.path.endsWith('/portforward') && r.headers.upgrade === 'SPDY/3.1')).toBe(true)
  })

  it('reports a refused pod port from the error stream and exits 1', async () => {
    sim = await startSimulator()
    const {ready, exited} = portForward(sim, `pod/${LEGACY.pod}`, LEGACY.namespace)
    const port = await ready
    await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined)
    const {code, stderr} = await exited
    expect(stderr).toContain('connection refused')
    expect(code).toBe(1)
  })

  it('shows the Status message of a forbidden upgrade', async () => {
    sim = await startSimulator()
    sim.setFault({...SLEEP}, {kind: 'forbidden'})
    const {exited} = portForward(sim, `pod/${SLEEP.pod}`, SLEEP.namespace)
    const {code, stderr} = await exited
    expect(code).not.toBe(0)
    expect(stderr).toContain(`pods "${SLEEP.pod}" is forbidden`)
  })
})
