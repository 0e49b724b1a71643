// Flags and outputs at their limits: timers beyond setTimeout's range, a stdout that cannot be written.
import {spawn} from 'node:child_process'
import {closeSync, existsSync, openSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {cliPath, projectRoot, runCli} from '../helpers/cli.js'

const clusterDump = join(projectRoot, 'test', 'fixtures', 'clusters', 'dump.json')

describe('--timeout and --duration beyond setTimeout\'s range are usage errors (exit 2)', () => {
  it('--timeout 600h', async () => {
    // Before, the deadline overflowed to 1 ms: a live command timed out at once, an offline one raced it.
    const result = await runCli(['proxy-config', 'cluster', '-f', clusterDump, '--timeout', '600h'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('Error: --timeout "600h" is too long: the maximum is 596h31m23s\n')
  })

  it('--timeout at the maximum works', async () => {
    const result = await runCli(['proxy-config', 'cluster', '-f', clusterDump, '--timeout', '596h31m23s'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
  })

  it('log --duration 600h, before any cluster access', async () => {
    const result = await runCli(['log', 'pod/x', '--level', 'debug', '--duration', '600h'], {env: {KUBECONFIG: '/nonexistent'}})
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: --duration "600h" is too long: the maximum is 596h31m23s\n')
  })
})

describe.skipIf(!existsSync('/dev/full'))('stdout on a full disk', () => {
  /** Runs the CLI with stdout on /dev/full (every write fails with ENOSPC). */
  function runToFullDisk(args: string[]): Promise<{code: number | null; stderr: string}> {
    const full = openSync('/dev/full', 'w')
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cliPath, ...args], {cwd: projectRoot, env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', full, 'pipe']})
      closeSync(full)
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(killer)
        resolve({code, stderr})
      })
    })
  }

  it.each([[[]], [['-o', 'json']], [['--json']]])('one line and exit 7, no stack trace (%j)', async (extra) => {
    const result = await runToFullDisk(['proxy-config', 'cluster', '-f', clusterDump, ...extra])
    expect(result.code).toBe(7)
    expect(result.stderr).toBe('Error: cannot write the output: no space left on device (ENOSPC)\n')
  })
})
