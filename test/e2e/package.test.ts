// The published package, end to end: `npm pack` of the current build, installed into a temporary
// prefix from the npm cache (the registry only for what the cache lacks), then run as users do:
// `meshdbg --help`, a live command against the simulator, and `kubectl meshdbg` as a kubectl plugin.
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {projectRoot} from '../helpers/cli.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** npm and the installed bins without the npm_* variables of an enclosing `npm test`. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)))
  return {...env, NO_COLOR: '1', COLUMNS: '200', ...extra}
}

function run(command: string, args: string[], options: {cwd?: string; env?: NodeJS.ProcessEnv; killAfterMs?: number} = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd: options.cwd ?? projectRoot, env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 40_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(killer)
      resolve({code, stdout, stderr})
    })
  })
}

function duBytes(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.size
  return readdirSync(path).reduce((sum, name) => sum + duBytes(join(path, name)), 0)
}

const NETWORK_FAILURE = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network/i
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((path) => existsSync(path))

let work: string
let prefix: string
let packed: {size: number; unpackedSize: number; files: {path: string}[]}
let skipInstall: string | undefined
let sim: Simulator

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'meshdbg-pack-'))
  prefix = join(work, 'prefix')
  // --ignore-scripts: pack the build under test (prepack would rebuild dist/ under the other tests).
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {killAfterMs: 60_000})
  expect(pack.code, pack.stderr).toBe(0)
  packed = JSON.parse(pack.stdout)[0]
  sim = await startSimulator()
  const tarball = join(work, readdirSync(work).find((name) => name.endsWith('.tgz')) ?? 'missing.tgz')
  const install = await run('npm', ['install', '--global', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball], {killAfterMs: 150_000})
  if (install.code !== 0) {
    if (!NETWORK_FAILURE.test(install.stderr)) throw new Error(`npm install of the packed tarball failed: ${install.stderr}`)
    skipInstall = install.stderr.split('\n').find((line) => /error/i.test(line)) ?? 'npm install failed'
    console.warn(`package test: install skipped, the npm cache lacks a dependency and the registry is unreachable (${skipInstall})`)
    return
  }
  const installed = join(prefix, 'lib', 'node_modules', 'meshdbg')
  console.log(`package: packed ${(packed.size / 1024).toFixed(0)} kB (unpacked ${(packed.unpackedSize / 1024).toFixed(0)} kB, ${packed.files.length} files); installed ${(duBytes(installed) / 1024 / 1024).toFixed(1)} MB with its dependencies`)
}, 240_000)

afterAll(async () => {
  await sim?.close()
  if (work) rmSync(work, {recursive: true, force: true})
})

describe('npm package', {timeout: 120_000}, () => {
  it('ships the bundles (the simulator as one, for meshdbg sim), the manifest and both bins, and neither dist/sim nor a dangling main', () => {
    const paths = packed.files.map((file) => file.path)
    for (const needed of ['bin/run.js', 'bin/kubectl-meshdbg.js', 'bin/kubectl_complete-meshdbg.js', 'docs/commands.md', 'docs/schemas/version.json', 'oclif.manifest.json', 'dist/lib/kube-bundle.js', 'dist/lib/kube-api-bundle.js', 'dist/lib/kube-bundle.fingerprint', 'dist/commands/proxy-config/cluster.js', 'dist/hooks/init.js', 'dist/lib/sim-bundle.js', 'dist/commands/sim.js', 'scenarios/catalog.yaml', 'src/sim/certs/apiserver.pem', 'src/sim/certs/apiserver.key']) {
      expect(paths).toContain(needed)
    }
    expect(paths.filter((path) => path.startsWith('dist/sim/'))).toEqual([])
  })

  it('installs without the modules the bundles embed (client-node, undici, ws)', (context) => {
    if (skipInstall) context.skip()
    const modules = join(prefix, 'lib', 'node_modules', 'meshdbg', 'node_modules')
    for (const bundled of ['@kubernetes/client-node', 'undici', 'ws']) expect(existsSync(join(modules, bundled)), bundled).toBe(false)
    expect(existsSync(join(modules, '@oclif', 'core'))).toBe(true)
  })

  it('the installed meshdbg prints help and reads a live proxy through the bundle', async (context) => {
    if (skipInstall) context.skip()
    const meshdbg = join(prefix, 'bin', 'meshdbg')
    const help = await run(meshdbg, ['--help'])
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain('$ meshdbg [COMMAND]')
    const clusters = await run(meshdbg, ['pc', 'cluster', 'deploy/webapp', '-n', 'istioinaction', '--port', '80', '--timeout', '20s'], {env: cleanEnv({KUBECONFIG: sim.kubeconfigPath})})
    expect(clusters.code, clusters.stderr).toBe(0)
    expect(clusters.stdout).toContain('catalog.istioinaction.svc.cluster.local                 80       -          outbound      EDS')
    expect(clusters.stderr).toContain('deploy/webapp: using pod webapp-7c5d7b8c6b-4vzd9.istioinaction')
  })

  it('the installed meshdbg sim serves the catalog scenario from its bundle until SIGTERM (exit 0)', async (context) => {
    if (skipInstall) context.skip()
    const child = spawn(join(prefix, 'bin', 'meshdbg'), ['sim', '--scenario', 'catalog'], {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    const kubeconfig = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk
        const match = /^KUBECONFIG=(.+)$/m.exec(stdout)
        if (match) resolve(match[1])
      })
      child.on('exit', () => reject(new Error(`meshdbg sim exited early: ${stderr}`)))
    })
    const pods = await run(join(prefix, 'bin', 'meshdbg'), ['pc', 'cluster', 'deploy/webapp', '-n', 'istioinaction', '--port', '80'], {env: cleanEnv({KUBECONFIG: kubeconfig})})
    expect(pods.code, pods.stderr).toBe(0)
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('is a kubectl plugin: `kubectl meshdbg` runs it and its help says `kubectl meshdbg`', async (context) => {
    if (skipInstall) context.skip()
    if (!KUBECTL) {
      console.warn('package test: no kubectl binary here; kubectl plugin test skipped')
      context.skip()
    }
    const env = cleanEnv({KUBECONFIG: sim.kubeconfigPath, PATH: [join(prefix, 'bin'), process.env.PATH].join(delimiter)})
    const plugins = await run(KUBECTL!, ['plugin', 'list', '--name-only'], {env})
    expect(plugins.stdout).toContain('kubectl-meshdbg')
    const routes = await run(KUBECTL!, ['meshdbg', 'pc', 'r', 'deploy/webapp', '-n', 'istioinaction', '--name', '80', '--timeout', '20s'], {env})
    expect(routes.code, routes.stderr).toBe(0)
    expect(routes.stdout.split('\n')[0]).toMatch(/^NAME\s+VHOST NAME\s+DOMAINS\s+MATCH\s+VIRTUAL SERVICE/)
    expect(routes.stdout).toContain('catalog.istioinaction.svc.cluster.local:80')
    const help = await run(KUBECTL!, ['meshdbg', 'pc', 'cluster', '--help'], {env})
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain('$ kubectl meshdbg pc cluster')
    expect(help.stdout).not.toContain('$ meshdbg ')
    // kubectl's own completion asks kubectl_complete-meshdbg (kubectl 1.26+).
    const completion = await run(KUBECTL!, ['__complete', 'meshdbg', 'pc', 'r', '-n', 'istioinaction', 'web'], {env})
    expect(completion.stdout.split('\n').slice(0, 2)).toEqual(['webapp-7c5d7b8c6b-4vzd9', ':4'])
  })
})

describe('single-file build (npm run package)', {timeout: 120_000}, () => {
  let dir: string
  let binary: string | undefined
  let skipped: string | undefined
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshdbg-sea-'))
    const built = await run(process.execPath, [join(projectRoot, 'scripts', 'package.mjs'), '--out', dir], {killAfterMs: 180_000})
    if (built.code === 3) {
      skipped = built.stderr.trim()
      console.warn(`package test: ${skipped}; single-file build not verified`)
      return
    }
    expect(built.code, built.stderr).toBe(0)
    binary = join(dir, readdirSync(dir).find((name) => name.startsWith('meshdbg-')) ?? 'missing')
    console.log(`package: single-file build ${(statSync(binary).size / 1024 / 1024).toFixed(1)} MB`)
  }, 240_000)
  afterAll(() => {
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('runs on its own: help, a live command, and as kubectl-meshdbg', async (context) => {
    if (skipped) context.skip()
    // Its own cache directory: the first run unpacks the embedded package there.
    const env = cleanEnv({KUBECONFIG: sim.kubeconfigPath, MESHDBG_CACHE_DIR: join(dir, 'cache'), PATH: [dir, process.env.PATH].join(delimiter)})
    const help = await run(binary!, ['--help'], {env, killAfterMs: 60_000})
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain('$ meshdbg [COMMAND]')
    const version = await run(binary!, ['version', '--timeout', '20s'], {env})
    expect(version.code, version.stderr).toBe(0)
    expect(version.stdout).toContain('control plane version: 1.17.8\ndata plane version: 1.17.8 (7 proxies), 1.25.2 (1 proxies)\n')
    if (KUBECTL) {
      symlinkSync(binary!, join(dir, 'kubectl-meshdbg'))
      const routes = await run(KUBECTL, ['meshdbg', 'pc', 'r', 'deploy/webapp', '-n', 'istioinaction', '--name', '80', '--timeout', '20s'], {env})
      expect(routes.code, routes.stderr).toBe(0)
      expect(routes.stdout).toContain('catalog.istioinaction.svc.cluster.local:80')
      const pluginHelp = await run(KUBECTL, ['meshdbg', 'version', '--help'], {env})
      expect(pluginHelp.stdout).toContain('$ kubectl meshdbg version')
    }
  })
})
