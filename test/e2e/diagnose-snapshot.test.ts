// meshdbg diagnose --snapshot: the replay answers the filtered reads diagnose makes (config_dump
// with resource/mask/name_regex, /stats?filter=, /ready) from what the snapshot recorded, so the
// offline run reports what the live run did.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DiagnoseResult} from '../../src/commands/diagnose.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

let sim: Simulator
let dir: string
beforeAll(async () => {
  // Story 1's DestinationRule without subset version-v2, so the routes check reads cluster metadata.
  const rule = readFileSync(join(projectRoot, 'scenarios', 'fixes', 'story1-destinationrule.yaml'), 'utf8').replace(/ {2}- name: version-v2\n {4}labels:\n {6}version: v2\n/, '')
  sim = await startSimulator({scenario: loadScenario(`${readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8')}\n---\n${rule}`, 'catalog')})
  dir = mkdtempSync(join(tmpdir(), 'meshdbg-diagnose-snapshot-'))
})
afterAll(async () => {
  await sim?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const env = () => ({KUBECONFIG: sim.kubeconfigPath})
// The access log's last 5m (access-log, authz) moves with the clock between the two runs; everything else must not.
const FROM_LOGS = new Set(['access-log', 'authz'])
const comparable = (result: DiagnoseResult) => result.findings.map((f) => [f.target, f.id, f.severity, FROM_LOGS.has(f.id) ? '' : f.message, FROM_LOGS.has(f.id) ? [] : f.evidence ?? []])

describe('meshdbg diagnose --snapshot', () => {
  it('reports every check as the live run did, routes, endpoints and readiness included', async () => {
    const archive = join(dir, 'mesh.tar.gz')
    const capture = await runCli(['snapshot', '-A', '-o', archive, '--timeout', '60s'], {env: env(), killAfterMs: 90_000})
    expect(capture.code).toBe(0)
    const live = await runCli(['diagnose', '-A', '-o', 'json', '--timeout', '60s'], {env: env(), killAfterMs: 90_000})
    const offline = await runCli(['diagnose', '-A', '-o', 'json', '--snapshot', archive], {env: {KUBECONFIG: join(dir, 'none')}, killAfterMs: 90_000})
    expect(offline.code).toBe(live.code)
    const [liveResult, offlineResult] = [JSON.parse(live.stdout) as DiagnoseResult, JSON.parse(offline.stdout) as DiagnoseResult]
    expect(offlineResult.findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(comparable(offlineResult)).toEqual(comparable(liveResult))
    const routes = offlineResult.findings.find((f) => f.id === 'routes' && f.target.startsWith('istio-ingressgateway'))
    expect(routes?.message).toMatch(/^DestinationRule catalog\.istioinaction defines no subset version-v2/)
    expect(offlineResult.findings.filter((f) => f.id === 'readiness').length).toBeGreaterThan(3)
  }, 240_000)
})
