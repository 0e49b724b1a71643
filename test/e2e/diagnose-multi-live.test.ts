// diagnose over several clusters and --watch, live: two simulators (scenarios/catalog.yaml on Istio
// 1.17.8 and scenarios/catalog-1.24.yaml, both with story 1 broken) behind one kubeconfig with a
// third context whose API server is down; then --watch without a TTY seeing the missing
// DestinationRule resolve after a `kubectl apply`, and Ctrl-C ending it with the last round's code.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DiagnoseResult} from '../../src/commands/diagnose.js'
import {cliPath, projectRoot, runCli} from '../helpers/cli.js'
import {startMultiCluster, type MultiCluster} from '../helpers/multi-cluster.js'

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0
const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).stdout?.includes('util-linux') ?? false
const GATEWAY = 'istio-ingressgateway-6bb8fb6549-hcdnc.istio-system'
const GW = ['deploy/istio-ingressgateway', '-n', 'istio-system']

let clusters: MultiCluster | undefined
let dir = ''
let kubeconfig = ''


beforeAll(async () => {
  clusters = await startMultiCluster('diagnose-multi-')
  ;({dir, kubeconfig} = clusters)
}, 60_000)

afterAll(async () => {
  await clusters?.close()
})

const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '20s'], {env: {KUBECONFIG: kubeconfig}, killAfterMs: 60_000})
const GONE = 'not diagnosed: cannot reach the Kubernetes API server at http://127.0.0.1:9 (ECONNREFUSED)'

describe('diagnose over several contexts', () => {
  it('--all-contexts: a heading per context, the cluster that is down is an ERROR finding, the others are diagnosed; exit 11', async () => {
    const result = await meshdbg('diagnose', ...GW, '--all-contexts', '--check', 'routes,sync')
    expect(result.code).toBe(11)
    const lines = result.stdout.split('\n')
    const headings = lines.filter((line, index) => lines[index + 1] === '='.repeat(line.length) && line !== '')
    expect(headings).toEqual(['Context east', 'Context gone', 'Context west'])
    const gone = lines.indexOf('Context gone')
    expect(lines.slice(gone + 2, gone + 5)).toEqual(['Cluster', '-------', `[ERROR] cluster gone: ${GONE}`])
    // Story 1 is broken in both clusters: each reports the missing DestinationRule.
    expect(lines.filter((line) => line.startsWith('[FAIL] routes: no DestinationRule defines subset version-v1 or version-v2'))).toHaveLength(2)
    expect(lines.at(-2)).toBe('Diagnosed 3 contexts, 2 proxies: 2 failed, 1 error, 0 warnings, 2 passed')
    expect(result.stderr).toBe(`Error: 2 checks failed, 1 could not run: routes on ${GATEWAY} (context east): no DestinationRule defines subset version-v1 or version-v2 for catalog.istioinaction.svc.cluster.local: VirtualService catalog-v1-v2.istioinaction (route http.8080) routes to them, so requests fail with 503 NC (cluster_not_found)\n`)
  }, 120_000)

  it('-o json: every finding carries its context, contexts lists each one in the order given', async () => {
    const result = await meshdbg('diagnose', ...GW, '--context', 'west', '--context', 'gone', '--context', 'east', '--check', 'routes', '-o', 'json')
    expect(result.code).toBe(11)
    const parsed = JSON.parse(result.stdout) as DiagnoseResult
    expect(parsed.findings.map((f) => [f.severity, f.id, f.context, f.target])).toEqual([
      ['fail', 'routes', 'west', GATEWAY],
      ['fail', 'routes', 'east', GATEWAY],
      ['error', 'cluster', 'gone', 'gone'],
    ])
    expect(parsed.contexts?.map((c) => [c.context, c.proxies, c.error?.kind])).toEqual([['west', [GATEWAY], undefined], ['gone', [], 'connection'], ['east', [GATEWAY], undefined]])
    expect(parsed.counts).toEqual({pass: 0, warn: 0, fail: 2, error: 1})
  }, 120_000)

  it('one --context is the single-cluster report, byte for byte', async () => {
    const [plain, one] = await Promise.all([meshdbg('diagnose', ...GW, '--check', 'routes,sync'), meshdbg('diagnose', ...GW, '--check', 'routes,sync', '--context', 'east')])
    expect(one.code).toBe(11)
    expect(one.stdout).toBe(plain.stdout)
    expect(one.stderr).toBe(plain.stderr)
    expect(one.stdout).not.toContain('Context')
  }, 120_000)

  it('--watch and several contexts refuse what makes no sense with them (exit 2)', async () => {
    for (const extra of [['--watch', '--json'], ['--watch', '-o', 'yaml'], ['--watch', '--interval', '0s'], ['--watch', '--check', 'nope'], ['--watch', '--snapshot', 'none.tar.gz'], ['--all-contexts', '--snapshot', 'none.tar.gz'], ['--interval', '1s']]) {
      const result = await meshdbg('diagnose', ...GW, ...extra)
      expect(result.code, extra.join(' ')).toBe(2)
      expect(result.stderr.trim().split('\n'), extra.join(' ')).toHaveLength(1)
    }
  }, 120_000)
})

function watch(args: string[]): {child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null>; until: (ok: () => boolean) => Promise<void>} {
  const child = spawn(process.execPath, [cliPath, 'diagnose', ...args, '--watch', '--interval', '300ms', '--timeout', '20s'], {
    cwd: projectRoot,
    env: {...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const until = async (ok: () => boolean) => {
    while (!ok()) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {child, out: () => stdout, err: () => stderr, exited, until}
}

describe('diagnose --watch without a TTY', () => {
  it('-o json: one line per round (NDJSON); Ctrl-C exits with the last round\'s code (11)', async () => {
    const run = watch([...GW, '--context', 'west', '--check', 'routes', '-o', 'json'])
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 90_000)
    try {
      await run.until(() => run.out().split('\n').length > 2)
      const rounds = run.out().split('\n').filter(Boolean).slice(0, 2).map((line) => JSON.parse(line))
      for (const round of rounds) {
        expect(round.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
        expect(round.status).toBe(11)
        expect(round.result.findings[0]).toMatchObject({id: 'routes', severity: 'fail', target: GATEWAY})
      }
      run.child.kill('SIGINT')
      expect(await run.exited).toBe(11)
      expect(run.err()).toMatch(/^Error: 1 check failed: routes on istio-ingressgateway/)
    } finally {
      clearTimeout(killer)
      run.child.kill('SIGKILL')
    }
  }, 120_000)

  it('-o json: a round that fails whole is a line with its error; the watch goes on and Ctrl-C exits with that round\'s code (4)', async () => {
    const run = watch([...GW, '--context', 'gone', '-o', 'json'])
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 90_000)
    try {
      await run.until(() => run.out().split('\n').length > 2)
      const round = JSON.parse(run.out().split('\n')[1])
      expect(round).toEqual({time: expect.any(String), status: 4, error: {kind: 'connection', message: expect.stringMatching(/^cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/)}})
      run.child.kill('SIGINT')
      expect(await run.exited).toBe(4)
      // The lasting failure is said once on stderr, not every round; then the exit's error line.
      expect(run.err().match(/round failed: /g)).toHaveLength(1)
      expect(run.err().trim().split('\n').at(-1)).toMatch(/^Error: cannot reach the Kubernetes API server/)
    } finally {
      clearTimeout(killer)
      run.child.kill('SIGKILL')
    }
  }, 120_000)

  it.skipIf(!hasKubectl)('prints the report, then the finding resolved after a kubectl apply; SIGTERM exits 0 as the last round would', async () => {
    const run = watch([...GW, '--context', 'east', '--check', 'routes'])
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 90_000)
    try {
      await run.until(() => run.out().includes('Diagnosed '))
      expect(run.out().split('\n').slice(0, 3)).toEqual(['Routing', '-------', expect.stringMatching(/^\[FAIL\] routes: no DestinationRule defines subset version-v1 or version-v2/)])
      const applied = await kubectl('--context', 'east', 'apply', '-f', join(projectRoot, 'scenarios', 'fixes', 'story1-destinationrule.yaml'))
      expect(applied).toBe('destinationrule.networking.istio.io/catalog created\n')
      await run.until(() => / resolved /.test(run.out()))
      const changes = run.out().split('\n').filter((line) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /.test(line))
      expect(changes).toHaveLength(1)
      expect(changes[0]).toMatch(new RegExp(`^\\S+ resolved FAIL routes ${GATEWAY.replaceAll('.', '\\.')}: no DestinationRule defines subset version-v1 or version-v2`))
      // The first report is not printed again.
      expect(run.out().match(/Diagnosed /g)).toHaveLength(1)
      run.child.kill('SIGTERM')
      expect(await run.exited).toBe(0)
      expect(run.err()).toBe('')
    } finally {
      clearTimeout(killer)
      run.child.kill('SIGKILL')
    }
  }, 120_000)
})

describe.skipIf(!hasScript)('diagnose --watch on a terminal', () => {
  it('redraws the report in place each round; SIGINT restores the cursor and exits with the last round\'s code (11)', async () => {
    const pidFile = join(dir, 'watch.pid')
    const args = [...GW, '--context', 'west', '--check', 'routes', '--watch', '--interval', '300ms', '--timeout', '20s'].map((arg) => `'${arg}'`).join(' ')
    const inner = `echo $$ > ${pidFile}; stty cols 200 rows 40; exec '${process.execPath}' '${cliPath}' diagnose ${args}`
    const env: NodeJS.ProcessEnv = {...process.env, KUBECONFIG: kubeconfig, TERM: 'xterm', SHELL: '/bin/sh', NO_COLOR: '1'}
    const child = spawn('script', ['-qec', inner, '/dev/null'], {cwd: projectRoot, env, stdio: ['pipe', 'pipe', 'pipe']})
    let screen = ''
    child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    const cliPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) || undefined : undefined)
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000)
    try {
      while ((screen.match(/Diagnosed /g) ?? []).length < 2 || cliPid() === undefined) await new Promise((resolve) => setTimeout(resolve, 100))
      process.kill(cliPid()!, 'SIGINT')
      expect(await exited).toBe(11)
      // Cursor hidden and the screen cleared once, then every round drawn from the top-left corner.
      expect(screen.startsWith('\u001B[?25l\u001B[2J\u001B[H')).toBe(true)
      const frames = screen.split('\u001B[H').slice(1)
      expect(frames.length).toBeGreaterThanOrEqual(2)
      for (const frame of frames.slice(0, 2)) {
        expect(frame).toMatch(/^Every 300ms: meshdbg diagnose {4}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}\(Ctrl-C to stop\)/)
        expect(frame).toContain('[FAIL] routes: no DestinationRule defines subset version-v1 or version-v2')
      }
      expect(screen).toMatch(/\u001B\[\?25h[^]*Error: 1 check failed: routes on istio-ingressgateway/)
    } finally {
      clearTimeout(killer)
      const pid = cliPid()
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
      child.kill('SIGKILL')
    }
  }, 120_000)
})

function kubectl(...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args])
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.on('close', () => resolve(stdout))
  })
}
