// describe pod / describe service on the ambient simulated mesh (scenarios/ambient.yaml): bookinfo is
// enrolled with a service waypoint, its debug pod opts out, the ztunnel on ambient-worker2 is STALE
// in istiod's syncz. Changes an SRE would make with kubectl (a namespace label) or that the cluster
// makes (a ztunnel pod gone or not Ready) are written into the simulator's model, which every API
// read reflects.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DescribePodResult} from '../../src/commands/describe/pod.js'
import type {DescribeServiceResult} from '../../src/commands/describe/service.js'
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

const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '60s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 90_000})
const podJson = async (...args: string[]) => {
  const result = await meshdbg('describe', 'pod', ...args, '-o', 'json')
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as DescribePodResult
}
const ztunnelOn = (node: string) => sim.scenario.pods.find((p) => p.ztunnel && p.nodeName === node)!

describe('describe pod in ambient mode', () => {
  it('an enrolled pod behind the namespace\'s waypoint: its ztunnel (Ready, synced) and the waypoint of its Service; no warning, no note but the pod chosen', {timeout: 120_000}, async () => {
    const ztunnel = `${ztunnelOn('ambient-worker').name}.istio-system`
    const text = await meshdbg('describe', 'pod', 'deploy/productpage-v1', '-n', 'bookinfo')
    expect([text.code, text.stderr]).toEqual([0, 'deploy/productpage-v1: using pod productpage-v1-675fc69cf-jscn2.bookinfo\n'])
    expect(text.stdout).toBe([
      'Pod: productpage-v1-675fc69cf-jscn2.bookinfo',
      '   Pod Ports: 9080 (productpage)',
      '   Ambient: enrolled (namespace bookinfo has istio.io/dataplane-mode=ambient)',
      `   ztunnel: ${ztunnel} on node ambient-worker (Ready; istiod istiod-6c5d8f9b7-k2m4p: WDS SYNCED, WADS SYNCED)`,
      '   Workload waypoint: none (named by namespace bookinfo\'s istio.io/use-waypoint; waypoint bookinfo/waypoint has istio.io/waypoint-for=service: it carries no workload traffic)',
      '--------------------',
      'Service: productpage',
      '   Port: http 9080/HTTP targets pod port 9080',
      '   Waypoint: bookinfo/waypoint (from namespace bookinfo\'s istio.io/use-waypoint)',
      '',
    ].join('\n'))
    const json = await podJson('productpage-v1-675fc69cf-jscn2', '-n', 'bookinfo')
    expect(json.warnings).toEqual([])
    expect(json.ambient).toMatchObject({dataplane: 'ambient', node: 'ambient-worker', redirection: 'enabled', ztunnel: {pod: ztunnel, ready: true, sync: {connected: true, types: {WDS: 'SYNCED', WADS: 'SYNCED'}}}})
    expect(json.services.map((s) => [s.name, s.waypoint?.waypoint])).toEqual([['productpage', 'bookinfo/waypoint']])
  })

  it('a pod on the node whose ztunnel is STALE in istiod\'s syncz: ztunnel-not-synced', {timeout: 120_000}, async () => {
    const json = await podJson('deploy/ratings-v1', '-n', 'bookinfo')
    const ztunnel = `${ztunnelOn('ambient-worker2').name}.istio-system`
    expect(json.ambient.ztunnel?.sync?.types).toEqual({WDS: 'STALE', WADS: 'SYNCED'})
    expect(json.warnings.map((w) => [w.id, w.message])).toEqual([['ztunnel-not-synced',
      `ztunnel ${ztunnel} has not applied istiod's last push (WDS STALE): it may route with an old view of workloads or policies (check meshdbg sync-status ${ztunnel})`]])
  })

  it('a pod opted out (istio.io/dataplane-mode=none) is not in the mesh and says why', {timeout: 120_000}, async () => {
    const text = await meshdbg('describe', 'pod', 'debug', '-n', 'bookinfo')
    expect(text.stdout).toBe([
      'Pod: debug.bookinfo',
      '   Pod does not expose ports',
      '   Ambient: not enrolled (the pod opts out with istio.io/dataplane-mode=none)',
      'WARNING: debug.bookinfo is not part of mesh; no Istio sidecar',
      '',
    ].join('\n'))
    const json = await podJson('debug', '-n', 'bookinfo')
    expect([json.ambient.dataplane, json.warnings.map((w) => w.id)]).toEqual(['none', ['pod-not-meshed']])
  })

  it('a pod enrolled without waypoint once its namespace is labelled (kubectl label ns legacy istio.io/dataplane-mode=ambient)', {timeout: 120_000}, async () => {
    const before = await podJson('deploy/httpbin', '-n', 'legacy')
    expect([before.ambient.dataplane, before.warnings.map((w) => w.id)]).toEqual(['none', ['pod-not-meshed']])
    const legacy = sim.scenario.namespaces.find((n) => n.name === 'legacy')!
    legacy.labels['istio.io/dataplane-mode'] = 'ambient'
    try {
      const after = await podJson('deploy/httpbin', '-n', 'legacy')
      expect(after.ambient).toMatchObject({dataplane: 'ambient', reason: 'namespace legacy has istio.io/dataplane-mode=ambient', node: 'ambient-worker', redirection: 'enabled', ztunnel: {ready: true}})
      expect(after.ambient.workloadWaypoint).toBeUndefined()
      expect(after.services.map((s) => [s.name, s.waypoint])).toEqual([['httpbin', undefined]])
      expect(after.warnings).toEqual([])
      const text = (await meshdbg('describe', 'pod', 'deploy/httpbin', '-n', 'legacy')).stdout
      expect(text).toContain('   Workload waypoint: none\n')
      expect(text).toContain('Service: httpbin\n   Port: http 8000/HTTP targets pod port 8080\n   Waypoint: none\n')
    } finally {
      delete legacy.labels['istio.io/dataplane-mode']
    }
  })

  it('no ztunnel on the pod\'s node, then one that is not Ready: a warning each', {timeout: 120_000}, async () => {
    const pods = sim.scenario.pods
    const gone = ztunnelOn('ambient-worker')
    pods.splice(pods.indexOf(gone), 1)
    try {
      const missing = await podJson('deploy/productpage-v1', '-n', 'bookinfo')
      expect(missing.ambient.ztunnel).toBeUndefined()
      expect(missing.warnings.map((w) => [w.id, w.message])).toEqual([['ztunnel-missing',
        'No ztunnel on node ambient-worker (no ztunnel pod on node "ambient-worker" (daemonset "ztunnel" in namespace "istio-system")): the pod\'s connections, in and out, fail until one runs']])
    } finally {
      pods.push(gone)
    }
    const sick = ztunnelOn('ambient-worker')
    sick.ready = false
    try {
      const notReady = await podJson('deploy/productpage-v1', '-n', 'bookinfo')
      expect(notReady.ambient.ztunnel).toMatchObject({ready: false, phase: 'Running'})
      expect(notReady.warnings.map((w) => w.id)).toEqual(['ztunnel-not-ready'])
    } finally {
      sick.ready = true
    }
  })
})

describe('describe service in ambient mode', () => {
  it('names the waypoint serving the Service, and its pods as ambient', {timeout: 120_000}, async () => {
    const result = await meshdbg('describe', 'service', 'reviews', '-n', 'bookinfo', '--json')
    const envelope = JSON.parse(result.stdout) as {status: number; result: DescribeServiceResult}
    expect(envelope.status).toBe(0)
    expect(envelope.result.service.waypoint).toEqual({labelOn: 'namespace', wanted: 'bookinfo/waypoint', waypoint: 'bookinfo/waypoint'})
    expect(envelope.result.pods.map((p) => p.dataplane)).toEqual(['ambient', 'ambient'])
    expect(envelope.result.warnings).toEqual([])
    expect((await meshdbg('describe', 'svc', 'reviews', '-n', 'bookinfo')).stdout).toContain('   Waypoint: bookinfo/waypoint (from namespace bookinfo\'s istio.io/use-waypoint)\n')
  })
})
