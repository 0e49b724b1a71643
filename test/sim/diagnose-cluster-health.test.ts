// diagnose judges a proxy's clusters by Envoy's membership gauges, else by its EDS dump, and reads
// `/clusters` only when neither settles it, and asks for clusters' metadata only to name a
// DestinationRule. Each shortcut must give the checks what the full reads give. Istio's default
// stats matcher keeps Envoy from creating per-cluster stats: those sidecars are judged by EDS.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DiagnoseResult} from '../../src/commands/diagnose.js'
import {readClusterStatuses} from '../../src/lib/diagnose/dump-reads.js'
import {clusterHealthFromEndpoints, ENDPOINT_STATES_PATH, readEndpointStates} from '../../src/lib/diagnose/endpoint-states.js'
import {clusterHealth, clusterHealthFromMembership} from '../../src/lib/diagnose/routing.js'
import {MEMBERSHIP_STATS_PATH, parseClusterMembership} from '../../src/lib/envoy/membership.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {STATS_INCLUSION_ANNOTATIONS} from '../../src/sim/stats-matcher.js'
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
let unreadyDefault: Simulator
let oneSubset: Simulator
beforeAll(async () => {
  // Both catalog v2 pods not ready: the gateway's route to subset version-v2 has no healthy host.
  const v2Unready = () => catalogWith((scenario, rule) => {
    let edited = scenario
    for (const pod of V2_PODS) edited = edited.replace(new RegExp(`(\\{name: ${pod}, [^}]*)\\}`), '$1, ready: false}')
    expect(edited).not.toBe(scenario)
    return [edited, rule]
  })
  unready = await startSimulator({scenario: v2Unready()})
  unreadyDefault = await startSimulator({scenario: v2Unready()})
  // A mesh that asks its sidecars for every cluster stat (the annotation Istio's docs show).
  for (const pod of unready.scenario.pods) if (pod.proxy) pod.annotations[STATS_INCLUSION_ANNOTATIONS.prefixes] = 'cluster.'
  // The DestinationRule defines only version-v1; the VirtualService also routes to version-v2.
  oneSubset = await startSimulator({scenario: catalogWith((scenario, rule) => {
    const edited = rule.replace(/ {2}- name: version-v2\n {4}labels:\n {6}version: v2\n/, '')
    expect(edited).not.toBe(rule)
    return [scenario, edited]
  })})
})
afterAll(async () => {
  await unready?.close()
  await unreadyDefault?.close()
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

  it("the EDS dump's verdict equals /clusters' on every cluster it settles, and it leaves every down cluster to /clusters", async () => {
    let settled = 0
    let left = 0
    for (const sim of [unready, oneSubset]) {
      for (const pod of sim.scenario.pods.filter((p) => p.proxy !== undefined && p.phase === 'Running')) {
        const target = {pod: pod.name, namespace: pod.namespace, port: pod.proxy?.adminPort ?? 15000}
        const [eds, clusters] = await Promise.all([podHttp(sim, target, `/${ENDPOINT_STATES_PATH}`), podHttp(sim, target, '/clusters?format=json')])
        expect([eds.status, clusters.status]).toEqual([200, 200])
        const statuses = readClusterStatuses({text: clusters.body, origin: pod.name}, pod.name)
        const states = readEndpointStates({text: eds.body, origin: pod.name})
        // Envoy dumps every active cluster, EDS or not (the bootstrap's are static, left out here).
        const raw = (JSON.parse(clusters.body) as {cluster_statuses: Array<{name: string; added_via_api?: boolean}>}).cluster_statuses
        const dynamic = raw.filter((status) => status.added_via_api === true).map((status) => status.name)
        expect(dynamic.length).toBeGreaterThan(10)
        expect([...states.clusters].sort()).toEqual([...dynamic].sort())
        const full = clusterHealth(statuses)
        for (const name of dynamic) {
          const fromEds = clusterHealthFromEndpoints(states, [name])
          const down = full.unhealthy.some((entry) => entry.cluster === name)
          if (fromEds === undefined) {
            expect(down).toBe(true)
            left++
            continue
          }
          expect(down).toBe(false)
          expect(fromEds).toEqual({empty: full.empty.includes(name) ? [name] : [], unhealthy: []})
          settled++
        }
      }
    }
    expect(settled).toBeGreaterThan(200)
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
    const gauges = requests.filter((request) => request.path.startsWith('/stats?filter=') && decodeURIComponent(request.path).includes('membership_(healthy|total)'))
    expect(new Set(gauges.map((request) => request.pod)).size).toBeGreaterThan(5)
  }, 120_000)

  it('with Istio\'s default stats matcher, diagnose reads /clusters only from the proxy whose EDS dump has a cluster with every host down, for the same finding', async () => {
    const before = unreadyDefault.adminRequests.length
    const result = await meshdbg(unreadyDefault, 'diagnose', '-A', '--check', 'endpoints', '-o', 'json')
    expect(result.code).toBe(11)
    const {findings, proxies} = JSON.parse(result.stdout) as DiagnoseResult
    const failed = findings.filter((finding) => finding.severity === 'fail')
    expect(failed.map((finding) => [finding.target, finding.message, finding.evidence])).toEqual([
      ['istio-ingressgateway-6bb8fb6549-hcdnc.istio-system', `no healthy endpoint in 1 cluster that routes use: outbound|80|version-v2|${CATALOG}`, [`outbound|80|version-v2|${CATALOG} 10.10.0.12:3000 UNHEALTHY`, `outbound|80|version-v2|${CATALOG} 10.10.0.13:3000 UNHEALTHY`]],
    ])
    const requests = unreadyDefault.adminRequests.slice(before)
    const asked = (path: string) => [...new Set(requests.filter((request) => request.path.startsWith(path)).map((request) => `${request.pod}.${request.namespace}`))].sort()
    expect(asked('/clusters')).toEqual(['istio-ingressgateway-6bb8fb6549-hcdnc.istio-system'])
    expect(asked(`/${ENDPOINT_STATES_PATH}`)).toEqual([...proxies].sort())
  }, 120_000)

  it('with Istio\'s default stats matcher a sidecar has no gauges but xds-grpc\'s: diagnose reads the EDS dump of every proxy, and /clusters of none', async () => {
    const gateway = oneSubset.scenario.pods.find((p) => p.name === 'istio-ingressgateway-6bb8fb6549-hcdnc')!
    const stats = await podHttp(oneSubset, {pod: gateway.name, namespace: gateway.namespace, port: 15000}, `/${MEMBERSHIP_STATS_PATH}`)
    expect([...parseClusterMembership(Buffer.from(stats.body)).keys()]).toEqual(['xds-grpc'])
    // The bootstrap (what `proxy-config bootstrap` shows) carries the matcher the stats follow.
    const dump = JSON.parse((await podHttp(oneSubset, {pod: gateway.name, namespace: gateway.namespace, port: 15000}, '/config_dump?mask=bootstrap')).body)
    const patterns = dump.configs[0].bootstrap.stats_config.stats_matcher.inclusion_list.patterns as unknown[]
    expect(patterns).toContainEqual({prefix: 'cluster.xds-grpc'})
    expect(patterns).not.toContainEqual({prefix: 'cluster.'})
    const before = oneSubset.adminRequests.length
    const result = await meshdbg(oneSubset, 'diagnose', '-A', '--check', 'endpoints', '-o', 'json')
    const {findings, proxies} = JSON.parse(result.stdout) as DiagnoseResult
    // The catalog mesh's reviews Service has no pods: judged from EDS, as from the gauges. webapp
    // never acknowledged EDS: its EDS clusters are active without hosts, in the dump as in /clusters.
    expect(findings.filter((finding) => finding.severity === 'fail' || finding.severity === 'error')).toEqual([])
    expect(findings.find((finding) => finding.target === 'catalog-5c7f8f8447-f54sj.istioinaction' && finding.severity === 'warn')?.message).toBe('no endpoints in 1 cluster that routes use: outbound|9080||reviews.default.svc.cluster.local')
    expect(findings.find((finding) => finding.target === 'webapp-7c5d7b8c6b-4vzd9.istioinaction' && finding.severity === 'warn')?.message).toMatch(/^no endpoints in [2-9] clusters that routes use: /)
    expect(proxies.length).toBeGreaterThan(3)
    const asked = (path: string) => [...new Set(oneSubset.adminRequests.slice(before).filter((request) => request.path.startsWith(path)).map((request) => `${request.pod}.${request.namespace}`))].sort()
    expect(asked(`/${ENDPOINT_STATES_PATH}`)).toEqual([...proxies].sort())
    expect(asked('/clusters')).toEqual([])
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
