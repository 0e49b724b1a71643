// -f and stdin inputs that could hang or grow without bound: a FIFO nobody writes to, process
// substitution of a slow command, an endless stdin, a file over the cap.
import {spawn, type ChildProcess} from 'node:child_process'
import {openSync, closeSync, ftruncateSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {cliPath, projectRoot, runCli, type CliResult} from '../helpers/cli.js'
import {scratchDirectory} from '../helpers/scratch.js'

const {dir: scratchDir, fifo} = scratchDirectory('meshdbg-input-')

/** Runs a shell pipeline in its own process group, killed as a whole after `killAfterMs`. */
function runShell(script: string, killAfterMs = 20_000): Promise<CliResult> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {cwd: projectRoot, env: {...process.env, NO_COLOR: '1', CLI: cliPath}, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    const killer = setTimeout(() => killGroup(child), killAfterMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      killGroup(child)
      resolve({stdout, stderr, code, signal, ms: Date.now() - started})
    })
  })
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

describe('-f on a pipe honours --timeout', () => {
  it.each([
    ['proxy-config cluster', ['proxy-config', 'cluster']],
    ['sync-status', ['sync-status']],
    ['access-log', ['access-log']],
  ])('%s -f FIFO with no writer: exit 5', async (_name, command) => {
    const result = await runCli([...command, '-f', fifo(`nobody-${command[0]}`), '--timeout', '1s'])
    expect(result.code).toBe(5)
    expect(result.stderr).toBe('Error: timed out after 1s (raise --timeout)\n')
  })

  it('-f FIFO whose writer never writes: exit 5', async () => {
    const path = fifo('silent')
    // The writer opens the FIFO (once meshdbg opens it for reading) and then says nothing.
    const result = await runShell(`(exec 3>'${path}' 2>/dev/null; exec sleep 30) & node "$CLI" proxy-config cluster -f '${path}' --timeout 1s; code=$?; kill %1; exit $code`)
    expect(result.code).toBe(5)
    expect(result.stderr).toBe('Error: timed out after 1s (raise --timeout)\n')
  })

  it('-f <(slow command): exit 5', async () => {
    const result = await runShell(`node "$CLI" access-log -f <(exec sleep 30 2>/dev/null) --timeout 1s`)
    expect(result.code).toBe(5)
    expect(result.stderr).toBe('Error: timed out after 1s (raise --timeout)\n')
  })

  it('explain on a stdin whose writer never closes: exit 5', async () => {
    const result = await runShell(`node "$CLI" explain --timeout 1s < <(exec sleep 30 2>/dev/null)`)
    expect(result.code).toBe(5)
    expect(result.stderr).toBe('Error: timed out after 1s (raise --timeout)\n')
  })

  it('-f <(command) still reads what the command writes', async () => {
    const result = await runShell(`node "$CLI" proxy-config cluster -f <(sleep 0.2; cat test/fixtures/clusters/dump.json)`)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('BlackHoleCluster')
  })
})

describe('stdin and -f are capped at 256 MiB (exit 6)', () => {
  it('yes | meshdbg proxy-config cluster -f -', async () => {
    // Without the cap this grows until the string limit or the machine's memory gives out.
    const result = await runShell(`yes | node "$CLI" proxy-config cluster -f -`, 90_000)
    expect(result.signal).toBeNull()
    expect(result.code).toBe(6)
    expect(result.stderr).toBe('Error: stdin: larger than 256 MiB; refusing to read it\n')
  }, 100_000)

  it('a regular file over the cap is refused before it is read', async () => {
    const path = join(scratchDir(), 'huge.json')
    const fd = openSync(path, 'w')
    ftruncateSync(fd, 256 * 1024 * 1024 + 1) // sparse: no disk used
    closeSync(fd)
    const result = await runCli(['proxy-config', 'cluster', '-f', path])
    expect(result.code).toBe(6)
    expect(result.stderr).toBe(`Error: ${path}: larger than 256 MiB; refusing to read it\n`)
  })
})
