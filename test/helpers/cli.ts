import {spawn} from 'node:child_process'
import {join} from 'node:path'

export const projectRoot = join(import.meta.dirname, '..', '..')
export const cliPath = join(projectRoot, 'bin', 'run.js')

export interface CliResult {
  stdout: string
  stderr: string
  code: number | null
  signal: NodeJS.Signals | null
  ms: number
}

export interface CliOptions {
  input?: string | Buffer
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Kill the CLI after this long (a hang is a test failure, not a stuck suite). */
  killAfterMs?: number
}

/** Spawns the built CLI (bin/run.js) as a user would, asynchronously. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd ?? projectRoot,
      env: {...process.env, NO_COLOR: '1', COLUMNS: '200', ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 20_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code,
        signal,
        ms: Date.now() - started,
      })
    })
    child.stdin.on('error', () => {})
    if (options.input !== undefined) child.stdin.end(options.input)
    else child.stdin.end()
  })
}
