// `meshdbg sync-status` on scenarios/ambient.yaml: istiod reports two ztunnels (WDS/WADS, the one on
// ambient-worker2 stale) and the bookinfo waypoint (an Envoy, proxy type waypoint).
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'ambient.yaml'), 'utf8'), 'ambient')})
})
afterAll(async () => {
  await sim?.close()
})

const syncStatus = (...args: string[]) => runCli(['sync-status', ...args, '--timeout', '30s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 60_000})
const ztunnelOn = (node: string) => sim.scenario.pods.find((p) => p.ztunnel && p.nodeName === node)!.name
const cells = (line: string | undefined) => (line ?? '').split(/\s{2,}/)

describe('sync-status in ambient mode', () => {
  it('ztunnel rows carry WDS and WADS (Envoy types IGNORED); -o wide names each proxy type', {timeout: 120_000}, async () => {
    const result = await syncStatus('-o', 'wide')
    expect(result.code).toBe(0)
    const lines = result.stdout.trim().split('\n')
    expect(cells(lines[0])).toEqual(['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'WDS', 'WADS', 'ISTIOD', 'VERSION', 'TYPE', 'NACK'])
    const row = (proxy: string) => cells(lines.find((l) => l.startsWith(`${proxy} `))).map((c) => c.replace(/ \(.*\)$/, ''))
    expect(row('waypoint-7b9d6c5f4-rc2gg.bookinfo')).toEqual(['waypoint-7b9d6c5f4-rc2gg.bookinfo', 'Kubernetes', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'IGNORED', 'IGNORED', 'IGNORED', 'istiod-6c5d8f9b7-k2m4p', '1.30.0', 'waypoint', '-'])
    expect(row(`${ztunnelOn('ambient-worker2')}.istio-system`).slice(2)).toEqual(['IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'STALE', 'SYNCED', 'istiod-6c5d8f9b7-k2m4p', '1.30.0', 'ztunnel', '-'])
    expect(row(`${ztunnelOn('ambient-worker')}.istio-system`)[7]).toBe('SYNCED')
  })

  it('--json: proxyType per row and the ztunnel\'s types under ambientTypes; --fail-on stale finds the stale ztunnel', {timeout: 120_000}, async () => {
    const result = await syncStatus('-o', 'json')
    const proxies = JSON.parse(result.stdout).proxies as Array<{proxy: string; proxyType: string; ambientTypes?: Record<string, {state: string; typeUrl: string}>}>
    const stale = proxies.find((p) => p.proxy.startsWith(ztunnelOn('ambient-worker2')))!
    expect(stale.proxyType).toBe('ztunnel')
    expect(stale.ambientTypes).toMatchObject({WDS: {state: 'STALE', typeUrl: 'type.googleapis.com/istio.workload.Address'}, WADS: {state: 'SYNCED', typeUrl: 'type.googleapis.com/istio.security.Authorization'}})
    const failing = await syncStatus('--fail-on', 'stale')
    expect(failing.code).toBe(10)
    expect(failing.stderr).toContain(`1 of 3 proxies is STALE: ${ztunnelOn('ambient-worker2')}.istio-system`)
  })

  it('sync-status <ztunnel pod> explains that no Envoy diff applies and shows istiod\'s row', {timeout: 120_000}, async () => {
    const ztunnel = ztunnelOn('ambient-worker2')
    const result = await syncStatus(`${ztunnel}.istio-system`)
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`${ztunnel}.istio-system is a ztunnel, not Envoy: no config diff applies; istiod's view of it follows (its own config: meshdbg zc all ${ztunnel}.istio-system)`)
    const lines = result.stdout.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(cells(lines[1])[7]).toMatch(/^STALE/)
  })

  it('the waypoint is an Envoy: the istiod/Envoy diff applies to it', {timeout: 120_000}, async () => {
    const result = await syncStatus('waypoint-7b9d6c5f4-rc2gg.bookinfo')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Clusters Match')
  })
})
