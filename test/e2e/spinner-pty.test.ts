// A real pseudo-terminal (util-linux `script`) around the CLI while the proxy stalls: on a pty that
// reports 0 columns the spinner used to loop forever (ignoring --timeout and SIGTERM); on a normal
// width it must still yield to the deadline and to signals.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {buildCatalogScenario, startSimulator, type Simulator} from '../../src/sim/index.js'
import {cliPath, projectRoot} from '../helpers/cli.js'

const NS = 'istioinaction'
const WEBAPP = 'webapp-7c5d7b8c6b-4vzd9'
const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).stdout?.includes('util-linux') ?? false

let sim: Simulator
let scratch: string

beforeAll(async () => {
  if (!hasScript) return
  sim = await startSimulator({scenario: buildCatalogScenario()})
  scratch = mkdtempSync(join(tmpdir(), 'meshdbg-pty-'))
})

afterAll(async () => {
  await sim?.close()
  if (scratch) rmSync(scratch, {recursive: true, force: true})
})

afterEach(() => sim?.setFault({pod: WEBAPP, namespace: NS}, undefined))

interface PtyRun {
  /** The CLI's exit code as `script -e` reports it (128 + signal number when a signal ended it). */
  code: number | null
  /** Everything the terminal showed (stdout and stderr together). */
  screen: string
}

/**
 * Runs the CLI inside a pty of `columns` columns. `whileRunning` gets the CLI's pid once the
 * terminal shows `readyText`. Whatever happens, the CLI is SIGKILLed after `killAfterMs` (a hang
 * fails the test instead of the suite).
 */
async function runInPty(columns: number, args: string[], options: {readyText?: string; whileRunning?: (pid: number) => void} = {}): Promise<PtyRun> {
  const pidFile = join(scratch, `pid-${Math.random().toString(36).slice(2)}`)
  const quoted = args.map((arg) => `'${arg}'`).join(' ')
  const inner = `echo $$ > ${pidFile}; stty cols ${columns} rows 24; exec '${process.execPath}' '${cliPath}' ${quoted}`
  const env: NodeJS.ProcessEnv = {...process.env, KUBECONFIG: sim.kubeconfigPath, TERM: 'xterm', SHELL: '/bin/sh'}
  delete env.CI
  delete env.NO_COLOR
  const child = spawn('script', ['-qec', inner, '/dev/null'], {cwd: projectRoot, env, stdio: ['pipe', 'pipe', 'pipe']})
  let screen = ''
  let signalled = false
  const cliPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) || undefined : undefined)
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString('utf8')
    const pid = cliPid()
    if (!signalled && options.whileRunning && pid && screen.includes(options.readyText ?? '')) {
      signalled = true
      options.whileRunning(pid)
    }
  })
  const killer = setTimeout(() => {
    const pid = cliPid()
    if (pid) killQuietly(pid)
    child.kill('SIGKILL')
  }, 20_000)
  try {
    const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)))
    return {code, screen}
  } finally {
    clearTimeout(killer)
    const pid = cliPid()
    if (pid) killQuietly(pid, 'SIGKILL')
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal)
  } catch {
    // Already gone.
  }
}

const stalled = ['proxy-config', 'cluster', `deploy/webapp.${NS}`]

describe.skipIf(!hasScript)('spinner on a real pty while the proxy stalls', () => {
  it.each([0, 60])('%i columns: --timeout ends it with exit 5 and one error line', async (columns) => {
    sim.setFault({pod: WEBAPP, namespace: NS}, {kind: 'stall'})
    const result = await runInPty(columns, [...stalled, '--timeout', '2s'])
    expect(result.code).toBe(5)
    expect(result.screen).toMatch(/Error: timed out after 2s waiting for GET \/config_dump on pod webapp-\S+ port 15000/)
    // A spinner only where the width is known; each frame cut to it, so one erase-line clears it.
    // Colours and synchronized-output modes are dropped; cursor-to-column and erase-line end a frame.
    const frames = result.screen
      .replace(/\u001B\[[0-9;?]*[hlm]/g, '')
      .split(/\u001B\[[0-9;]*[GK]|\r/)
      .filter((frame) => frame.includes('Fetching /config_dump'))
    if (columns === 0) expect(frames).toEqual([])
    else {
      expect(frames.length).toBeGreaterThan(0)
      for (const frame of frames) expect([...frame].length).toBeLessThan(columns)
    }
  })

  it.each([0, 60])('%i columns: SIGTERM ends it at once', async (columns) => {
    sim.setFault({pod: WEBAPP, namespace: NS}, {kind: 'stall'})
    // The stall is long enough that only the signal can end the command within the test's guard.
    const result = await runInPty(columns, [...stalled, '--timeout', '10m'], {
      readyText: 'using pod',
      whileRunning: (pid) => setTimeout(() => killQuietly(pid, 'SIGTERM'), 500),
    })
    expect(result.code).toBe(128 + 15)
  })
})
