// `meshdbg sim` as a product command: a scenario file, and a snapshot served as a cluster that the
// real kubectl (get, port-forward) and meshdbg both use.
import {type ChildProcessWithoutNullStreams, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {cliPath, projectRoot, runCli} from '../helpers/cli.js'

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0
const CATALOG_YAML = join(projectRoot, 'scenarios', 'catalog.yaml')
let dir = ''
let archive = ''

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-command-'))
  archive = join(dir, 'mesh.tar.gz')
  const sim = await startSimulator({scenario: loadScenario(readFileSync(CATALOG_YAML, 'utf8'), 'catalog')})
  try {
    const captured = await runCli(['snapshot', 'deploy/webapp', '-n', 'istioinaction', '-o', archive, '--timeout', '20s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 60_000})
    expect(captured.code, captured.stderr).toBe(0)
  } finally {
    // From here on only the snapshot answers.
    await sim.close()
  }
}, 90_000)
afterAll(() => rmSync(dir, {recursive: true, force: true}))

interface Served {
  child: ChildProcessWithoutNullStreams
  kubeconfig: string
  exited: Promise<number | null>
}

async function startSim(...args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [cliPath, 'sim', ...args], {cwd: projectRoot, env: {...process.env, NO_COLOR: '1'}})
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
  const kubeconfig = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk
      const match = /^KUBECONFIG=(.+)$/m.exec(stdout)
      if (match) resolve(match[1])
    })
    void exited.then(() => reject(new Error(`meshdbg sim exited before serving: ${stderr}`)))
  })
  return {child, kubeconfig, exited}
}

function kubectl(kubeconfig: string, ...args: string[]) {
  return spawnSync('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kubectl-cache'), ...args], {encoding: 'utf8', timeout: 30_000})
}

describe('meshdbg sim', {timeout: 90_000}, () => {
  it('--scenario FILE serves the mesh to meshdbg until SIGINT, then exits 0', async () => {
    const served = await startSim('--scenario', CATALOG_YAML)
    const clusters = await runCli(['pc', 'cluster', 'deploy/webapp', '-n', 'istioinaction', '--port', '80', '--timeout', '20s'], {env: {KUBECONFIG: served.kubeconfig}, killAfterMs: 40_000})
    expect(clusters.code, clusters.stderr).toBe(0)
    expect(clusters.stdout).toContain('catalog.istioinaction.svc.cluster.local')
    served.child.kill('SIGINT')
    expect(await served.exited).toBe(0)
  })

  it('an unknown scenario is a usage error (exit 2)', async () => {
    const result = await runCli(['sim', '--scenario', 'nope'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: unknown scenario "nope" (catalog, scale, or a .yaml file)\n')
  })

  it.skipIf(!hasKubectl)('--snapshot FILE is a cluster for kubectl (get pods, port-forward + HTTP) and meshdbg, until SIGTERM (exit 0)', async () => {
    const served = await startSim('--snapshot', archive)
    try {
      const pods = kubectl(served.kubeconfig, 'get', 'pods', '-n', 'istioinaction')
      expect(pods.status, pods.stderr).toBe(0)
      expect(pods.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/)
      const webapp = /^(webapp-\S+)\s+2\/2\s+Running/m.exec(pods.stdout)?.[1]
      expect(webapp).toBeDefined()

      // kubectl port-forward to the recorded admin port, then a plain HTTP GET: the recorded answer.
      const forward = spawn('kubectl', ['--kubeconfig', served.kubeconfig, 'port-forward', '-n', 'istioinaction', `pod/${webapp}`, ':15000'])
      try {
        const localPort = await new Promise<number>((resolve, reject) => {
          let out = ''
          forward.stdout.on('data', (chunk: Buffer) => {
            out += chunk
            const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)
            if (match) resolve(Number(match[1]))
          })
          forward.on('exit', () => reject(new Error('kubectl port-forward exited')))
        })
        const response = await fetch(`http://127.0.0.1:${localPort}/server_info`, {signal: AbortSignal.timeout(20_000)})
        expect(response.status).toBe(200)
        expect(await response.json()).toMatchObject({state: 'LIVE'})
      } finally {
        forward.kill('SIGTERM')
      }

      // meshdbg against the served snapshot prints what --snapshot prints.
      const args = ['pc', 'cluster', 'deploy/webapp', '-n', 'istioinaction', '--timeout', '20s']
      const [throughSim, offline] = await Promise.all([
        runCli(args, {env: {KUBECONFIG: served.kubeconfig}, killAfterMs: 40_000}),
        runCli([...args, '--snapshot', archive], {killAfterMs: 40_000}),
      ])
      expect(throughSim.code, throughSim.stderr).toBe(0)
      expect(throughSim.stdout).toBe(offline.stdout)
      expect(throughSim.stdout).toContain('catalog.istioinaction.svc.cluster.local')
    } finally {
      served.child.kill('SIGTERM')
    }
    expect(await served.exited).toBe(0)
  })
})
