import {spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {projectRoot} from '../helpers/cli.js'

/**
 * istioctl's own writer goldens of every minor release 1.10..HEAD, run through meshdbg by the
 * shared `istioctl-goldens` tool: every case must pass or be a documented deviation (DEV) or a
 * change istioctl itself made between releases (VER); none may be GAP, BUG or FAIL.
 * Needs ISTIO_GIT_DIR (a git copy of istio/istio with its tags), the tool in ../shared/tools,
 * python3 with PyYAML and a build; skipped with a notice otherwise.
 */
const tool = join(projectRoot, '..', 'shared', 'tools', 'istioctl-goldens')
const istioGitDir = process.env.ISTIO_GIT_DIR
const missing = !istioGitDir
  ? 'ISTIO_GIT_DIR is not set'
  : !existsSync(tool)
    ? `${tool} not found`
    : spawnSync('python3', ['-c', 'import yaml']).status !== 0
      ? 'python3 with PyYAML not found'
      : undefined
if (missing) console.warn(`[meshdbg tests] ${missing}: skipping istioctl's goldens across releases`)

function runTool(): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, [projectRoot, istioGitDir!], {stdio: ['ignore', 'pipe', 'pipe']})
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8')}))
  })
}

describe.skipIf(missing !== undefined)("istioctl's writer goldens, every release", () => {
  it('has no GAP, BUG or FAIL', {timeout: 20 * 60_000}, async () => {
    const result = await runTool()
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const problems = result.stdout.split('\n').filter((line) => /^(GAP|BUG|FAIL)/.test(line))
    expect(problems).toEqual([])
    const summary = /^(\d+) passed, (\d+) failed \((\d+) unexplained\)$/m.exec(result.stdout)
    expect(summary).not.toBeNull()
    expect(Number(summary![1])).toBeGreaterThan(500)
    expect(summary![3]).toBe('0')
  })
})
