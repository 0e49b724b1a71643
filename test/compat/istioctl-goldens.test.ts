import {spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {parseZtunnelDump, type ZtunnelDump} from '../../src/lib/ztunnel/dump.js'
import {connectionRows, renderConnectionTable, renderWorkloadTable, workloadRows} from '../../src/lib/ztunnel/tables.js'
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

/**
 * istioctl's ztunnel-config goldens (istioctl/pkg/writer/ztunnel/configdump/testdata, 1.21 and
 * later), each run through `meshdbg zc` on that release's own dump.json with the flags of istio's
 * Go test. meshdbg prints the newest istioctl's tables, so a golden from a release whose columns
 * istioctl changed since (the header differs from HEAD's) is a VER case: there the same rows (the
 * first cell of each) must come out, in the same order.
 */
const zcDir = 'istioctl/pkg/writer/ztunnel/configdump/testdata/'
const zcCases: Array<[golden: string, args: string[]]> = [
  ['secretsummary.txt', ['certificate']],
  ['workloadsummary.txt', ['workload']],
  ['workloadsummary_default.txt', ['workload', '--workload-namespace', 'default']],
  ['policies.txt', ['policy']],
  ['connectionsummary.txt', ['connections']],
  ['allsummary.txt', ['all']],
  ['allsummary_withheaders.txt', ['all', '--with-headers']],
]

function gitShow(ref: string): string | undefined {
  const result = spawnSync('git', ['-C', istioGitDir!, 'show', ref], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  return result.status === 0 ? result.stdout : undefined
}

function ztunnelReleases(): string[] {
  const tags = spawnSync('git', ['-C', istioGitDir!, 'tag'], {encoding: 'utf8'}).stdout.split('\n')
  const newest = new Map<number, [number, string]>()
  for (const tag of tags) {
    const match = /^1\.(\d+)\.(\d+)$/.exec(tag)
    if (!match || Number(match[1]) < 21) continue
    const [minor, patch] = [Number(match[1]), Number(match[2])]
    if ((newest.get(minor)?.[0] ?? -1) < patch) newest.set(minor, [patch, tag])
  }
  return [...[...newest.entries()].sort(([a], [b]) => a - b).map(([, [, tag]]) => tag), 'HEAD']
}

// The Go test's workload-pod filters come from an application pod target (not a flag), so these
// two run through the library with the filter such a target sets.
const zcTargetCases: Array<[golden: string, render: (dump: ZtunnelDump) => string]> = [
  ['workloadsummary_workload.txt', (dump) => renderWorkloadTable(workloadRows(dump, {namespace: 'bookinfo', name: 'productpage-v1-675fc69cf-jscn2'}))],
  ['connectionsummary_workload.txt', (dump) => renderConnectionTable(connectionRows(dump, {workload: 'productpage-v1-796f87b58-97bjk', namespace: 'bookinfo'}))],
]

const firstCells = (text: string): string[] => text.split('\n').slice(1).filter(Boolean).map((line) => line.split(' ')[0])

describe.skipIf(!istioGitDir)("istioctl's ztunnel-config goldens, every release", () => {
  it('every golden passes, or (columns changed since) lists the same rows', {timeout: 10 * 60_000}, async () => {
    const {mkdtempSync, rmSync, writeFileSync} = await import('node:fs')
    const {tmpdir} = await import('node:os')
    const dir = mkdtempSync(join(tmpdir(), 'zc-goldens-'))
    const outcomes: string[] = []
    try {
      for (const tag of ztunnelReleases()) {
        const dump = gitShow(`${tag}:${zcDir}dump.json`)
        if (dump === undefined) continue
        writeFileSync(join(dir, 'dump.json'), dump)
        for (const [golden, render] of zcTargetCases) {
          const want = gitShow(`${tag}:${zcDir}${golden}`)
          if (want !== undefined) outcomes.push(`${render(parseZtunnelDump({text: dump, origin: 'dump.json'})) === want ? 'PASS' : 'FAIL'} ${tag} ${golden}`)
        }
        for (const [golden, args] of zcCases) {
          const want = gitShow(`${tag}:${zcDir}${golden}`)
          if (want === undefined) continue
          const run = spawnSync('node', [join(projectRoot, 'bin', 'run.js'), 'zc', ...args, '-f', join(dir, 'dump.json')], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
          const head = gitShow(`HEAD:${zcDir}${golden}`)
          let outcome: string
          if (run.status === 0 && run.stdout === want) outcome = 'PASS'
          else if (run.status === 0 && head !== undefined && want.split('\n')[0] !== head.split('\n')[0] && JSON.stringify(firstCells(run.stdout)) === JSON.stringify(firstCells(want))) outcome = 'VER'
          else outcome = `FAIL rc=${run.status} ${run.stderr.trim()}`
          outcomes.push(`${outcome} ${tag} ${golden}`)
        }
      }
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
    expect(outcomes.filter((line) => line.startsWith('FAIL'))).toEqual([])
    // 1.21..HEAD hold 50-odd cases; only the column changes of 1.21-1.23 may differ.
    expect(outcomes.filter((line) => line.startsWith('PASS')).length).toBeGreaterThan(40)
    expect(outcomes.filter((line) => line.startsWith('VER')).every((line) => / 1\.2[123]\.\d+ /.test(line))).toBe(true)
  })
})
