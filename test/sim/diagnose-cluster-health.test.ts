// diagnose judges a proxy's clusters by Envoy's membership gauges and reads `/clusters` only when
// they do not settle it, and asks for clusters' metadata only to name a DestinationRule. Both
// shortcuts must give the checks what the full reads give.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DiagnoseResult} from '../../src/commands/diagnose.js'
import {readClusterStatuses} from '../../src/lib/diagnose/dump-reads.js'
import {clusterHealth, clusterHealthFromMembership} from '../../src/lib/diagnose/routing.js'
import {MEMBERSHIP_STATS_PATH, parseClusterMembership} from '../../src/lib/envoy/membership.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'
import {podHttp} from './helpers.js'

const read = (...path: string[]) => readFileSync(join(projectRoot, 'scenarios', ...path), 'utf8')
const CATALOG = 'catalog.istioinaction.svc.cluster.local'
const V2_PODS = ['catalog-v2-6d4c8b7d9f-8xw2p', 'catalog-v2-6d4c8b7d9f-zqgfl']

/** The catalog mesh with story 1's DestinationRule; `edit` changes the scenario text. */
function catalogWith(edit: (scenario: string, rule: string) => [string, string]) {
  const [scenario, rule] = edit(read('catalog.yaml'), read('fixes', 'story1-destinationrule.yaml'))
  return loadScenario(`${scenario}\n---\n${rule}`, 'catalog')
}

let unready: Simulator
let oneSubset: Simulator
beforeAll(async () => {
  // Both catalog v2 pods not ready: the gateway's route to subset version-v2 has no healthy host.
  unready = await startSimulator({scenario: catalogWith((scenario, rule) => {
    let edited = scenario
    for (const pod of V2_PODS) edited = edited.replace(new RegExp(`(\\{name: ${pod}, [^}]*)\\}`), '$1, ready: false}')
    expect(edited).not.toBe(scenario)
    return [edited, rule]
  })})
  // The DestinationRule defines only version-v1; the VirtualService also routes to version-v2.
  oneSubset = await startSimulator({scenario: catalogWith((scenario, rule) => {
    const edited = rule.replace(/ {2}- name: version-v2\n {4}labels:\n {6}version: v2\n/, '')
    expect(edited).not.toBe(rule)
    return [scenario, edited]
  })})
})
afterAll(async () => {
  await unready?.close()
  await oneSubset?.close()
})

const meshdbg = (sim: Simulator, ...args: string[]) => runCli([...args, '--timeout', '30s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 60_000})

describe('diagnose cluster health from membership gauges', () => {
  it("the gauges' verdict equals /clusters' on every cluster they settle, and they leave every down cluster to /clusters", async () => {
    let settled = 0
    let left = 0
    for (const pod of unready.scenario.pods.filter((p) => p.proxy !== undefined && p.phase === 'Running')) {
      const target = {pod: pod.name, namespace: pod.namespace, port: pod.proxy?.adminPort ?? 15000}
      const [stats, clusters] = await Promise.all([podHttp(unready, target, `/${MEMBERSHIP_STATS_PATH}`), podHttp(unready, target, '/clusters?format=json')])
      expect([stats.status, clusters.status]).toEqual([200, 200])
      const statuses = readClusterStatuses({text: clusters.body, origin: pod.name}, pod.name)
      const names = statuses.map((status) => (status as {name: string}).name)
      const membership = parseClusterMembership(Buffer.from(stats.body))
      // Every cluster has both gauges, and nothing but those gauges was answered.
      expect([...membership.keys()].sort()).toEqual([...names].sort())
      expect(stats.body.split('\n').filter((line) => line !== '' && !/^cluster\..+\.membership_(healthy|total): \d+$/.test(line))).toEqual([])
      const full = clusterHealth(statuses)
      for (const name of names) {
        const fromGauges = clusterHealthFromMembership(membership, [name])
        const down = full.unhealthy.some((entry) => entry.cluster === name)
        if (fromGauges === undefined) {
          expect(down).toBe(true)
          left++
          continue
        }
        expect(fromGauges).toEqual({empty: full.empty.includes(name) ? [name] : [], unhealthy: []})
        settled++
      }
    }
    expect(settled).toBeGreaterThan(100)
    expect(left).toBeGreaterThan(0)
  })

  it('the simulator\'s /stats carries the gauges among its other stats, sorted by name, in text and JSON', async () => {
    const pod = unready.scenario.pods.find((p) => p.name === 'istio-ingressgateway-6bb8fb6549-hcdnc')!
    const target = {pod: pod.name, namespace: pod.namespace, port: 15000}
    const [text, json] = await Promise.all([podHttp(unready, target, '/stats'), podHttp(unready, target, '/stats?format=json')])
    const names = text.body.split('\n').filter(Boolean).map((line) => line.slice(0, line.lastIndexOf(': ')))
    expect(names).toContain('server.state')
    expect(names).toContain(`cluster.outbound|80|version-v2|${CATALOG}.membership_healthy`)
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
    const stats = (JSON.parse(json.body) as {stats: Array<{name?: string; value?: number}>}).stats
    expect(stats.filter((stat) => stat.name !== undefined).map((stat) => stat.name)).toEqual(names)
    expect(stats.find((stat) => stat.name === `cluster.outbound|80|version-v2|${CATALOG}.membership_total`)?.value).toBe(2)
    expect(stats.find((stat) => stat.name === `cluster.outbound|80|version-v2|${CATALOG}.membership_healthy`)?.value).toBe(0)
  })

  it('a cluster without gauges (stats under another name) is not judged by them', () => {
    const membership = parseClusterMembership(Buffer.from('cluster.a.membership_healthy: 1\ncluster.a.membership_total: 2\ncluster.b.membership_total: 0\n'))
    expect(clusterHealthFromMembership(membership, ['a'])).toEqual({empty: [], unhealthy: []})
    expect(clusterHealthFromMembership(membership, ['a', 'b'])).toBeUndefined()
    expect(clusterHealthFromMembership(membership, ['c'])).toBeUndefined()
  })

  it('diagnose fails the unready subset with per-host evidence, and reads /clusters only from the proxy with a down cluster', async () => {
    const before = unready.adminRequests.length
    const result = await meshdbg(unready, 'diagnose', '-A', '--check', 'endpoints', '-o', 'json')
    expect(result.code).toBe(11)
    const {findings} = JSON.parse(result.stdout) as DiagnoseResult
    const failed = findings.filter((finding) => finding.severity === 'fail')
    expect(failed.map((finding) => [finding.target, finding.message])).toEqual([
      ['istio-ingressgateway-6bb8fb6549-hcdnc.istio-system', `no healthy endpoint in 1 cluster that routes use: outbound|80|version-v2|${CATALOG}`],
    ])
    expect(failed[0].evidence).toEqual([`outbound|80|version-v2|${CATALOG} 10.10.0.12:3000 UNHEALTHY`, `outbound|80|version-v2|${CATALOG} 10.10.0.13:3000 UNHEALTHY`])
    const requests = unready.adminRequests.slice(before)
    const asked = (path: string) => [...new Set(requests.filter((request) => request.path.startsWith(path)).map((request) => request.pod))].sort()
    expect(asked('/clusters')).toEqual(['istio-ingressgateway-6bb8fb6549-hcdnc'])
    expect(asked('/stats?filter=%5Ecluster').length).toBeGreaterThan(5)
  }, 120_000)

  it('names the DestinationRule that lacks a subset, asking only for the metadata of that host\'s clusters', async () => {
    const before = oneSubset.adminRequests.length
    const result = await meshdbg(oneSubset, 'diagnose', 'deploy/istio-ingressgateway', '-n', 'istio-system', '--check', 'routes', '-o', 'json')
    expect(result.code).toBe(11)
    const {findings} = JSON.parse(result.stdout) as DiagnoseResult
    expect(findings.map((finding) => [finding.severity, finding.message])).toEqual([
      ['fail', `DestinationRule catalog.istioinaction defines no subset version-v2 for ${CATALOG}: VirtualService catalog-v1-v2.istioinaction (route http.8080) routes to it, so requests fail with 503 NC (cluster_not_found)`],
    ])
    const dumps = oneSubset.adminRequests.slice(before).map((request) => decodeURIComponent(request.path)).filter((path) => path.startsWith('/config_dump'))
    const withMetadata = dumps.filter((path) => path.includes('cluster.metadata') && path.includes('dynamic_active_clusters'))
    expect(withMetadata).toEqual([String.raw`/config_dump?resource=dynamic_active_clusters&mask=cluster.name,cluster.metadata&name_regex=[^|]*\|[^|]*\|[^|]*\|(?:catalog\.istioinaction\.svc\.cluster\.local)`])
  }, 60_000)
})
