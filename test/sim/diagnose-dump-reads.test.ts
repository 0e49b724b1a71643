// diagnose reads only the config-dump fields its checks use (Envoy admin's resource= and mask=
// filters): the assembled dump must give every check the same answers as the whole dump.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {assembleDiagnoseDump, destinationRulePaths, DIAGNOSE_DUMP_PATHS, withDestinationRules, type DiagnoseDumpPart} from '../../src/lib/diagnose/dump-reads.js'
import {clusterNames, destinationRuleFor, routeTargets} from '../../src/lib/diagnose/route-targets.js'
import {collectClusters, configDumpFromJson, section, type ConfigDump} from '../../src/lib/envoy/configdump.js'
import {arrayField, field, stringField} from '../../src/lib/envoy/fields.js'
import {parseSubsetKey} from '../../src/lib/envoy/istio-names.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'
import {podHttp} from './helpers.js'

let sim: Simulator
beforeAll(async () => {
  // With story 1's DestinationRule, so that clusters carry the istio config metadata a check reads.
  const read = (...path: string[]) => readFileSync(join(projectRoot, 'scenarios', ...path), 'utf8')
  sim = await startSimulator({scenario: loadScenario(`${read('catalog.yaml')}\n---\n${read('fixes', 'story1-destinationrule.yaml')}`, 'catalog')})
})
afterAll(async () => {
  await sim?.close()
})

/**
 * The DestinationRule the routes check names for each host, from destinationRulePaths' answers:
 * withDestinationRules on a digest missing one (absent) subset of every host.
 */
function destinationRulesOf(answers: {activeClusters: {text: string; origin: string}; staticClusters: {text: string; origin: string}}, hostnames: readonly string[], origin: string): Map<string, string> {
  const missingTargets = hostnames.map((hostname) => ({routeConfig: '80', virtualHost: 'v', virtualService: '', cluster: `outbound|1|absent-subset|${hostname}`, weightPercent: 100}))
  const missingHosts = hostnames.map((hostname) => ({hostname, known: true, destinationRule: ''}))
  const {routing} = withDestinationRules({targetClusterCount: hostnames.length, missingTargets, missingHosts, usedEdsClusters: [], warmingClusters: [], warmingListeners: []}, answers, origin)
  return new Map(routing.missingHosts.map((host) => [host.hostname, host.destinationRule]))
}

const hostnamesOf = (dump: ConfigDump) => [...new Set([...clusterNames(dump)].map((name) => parseSubsetKey(name)?.hostname).filter((h): h is string => h !== undefined))].sort()

/** What the checks read from a dump (routes, endpoints, rejected-config), but DestinationRules. */
function checkView(dump: ConfigDump) {
  return {
    clusters: [...clusterNames(dump)].sort(),
    eds: collectClusters(dump).filter((c) => stringField(c, 'type') === 'EDS' || field(c, 'eds_cluster_config') !== undefined).map((c) => stringField(c, 'name')).sort(),
    targets: routeTargets(dump),
    warmingClusters: arrayField(section(dump, 'Clusters'), 'dynamic_warming_clusters').map((e) => stringField(field(e, 'cluster'), 'name')),
    listeners: arrayField(section(dump, 'Listeners'), 'dynamic_listeners').map((e) => [stringField(e, 'name'), field(e, 'active_state') !== undefined, field(e, 'warming_state') !== undefined]),
  }
}

describe('diagnose config-dump reads', () => {
  it('the filtered reads give the checks what the whole dump gives, in a fraction of the bytes', async () => {
    const proxied = sim.scenario.pods.filter((pod) => pod.proxy !== undefined && pod.phase === 'Running')
    expect(proxied.length).toBeGreaterThan(3)
    let rulesSeen = 0
    for (const pod of proxied) {
      const target = {pod: pod.name, namespace: pod.namespace, port: pod.proxy?.adminPort ?? 15000}
      const whole = await podHttp(sim, target, '/config_dump')
      expect(whole.status).toBe(200)
      const parts = Object.keys(DIAGNOSE_DUMP_PATHS) as DiagnoseDumpPart[]
      const answers = await Promise.all(parts.map((part) => podHttp(sim, target, `/${DIAGNOSE_DUMP_PATHS[part]}`)))
      for (const answer of answers) expect(answer.status).toBe(200)
      const assembled = assembleDiagnoseDump(Object.fromEntries(parts.map((part, i) => [part, {text: answers[i].body, origin: pod.name}])) as never, pod.name)
      const full = configDumpFromJson(JSON.parse(whole.body), pod.name)
      expect(checkView(assembled)).toEqual(checkView(full))
      const filteredBytes = answers.reduce((sum, answer) => sum + answer.body.length, 0)
      expect(filteredBytes).toBeLessThan(whole.body.length / 2)
      // destinationRuleFor reads the istio config in the clusters' metadata, which the routes
      // check asks for apart, by name_regex: the same rules as the whole dump, host by host.
      const hostnames = hostnamesOf(full)
      const expected = new Map(hostnames.map((host) => [host, destinationRuleFor(full, host)]))
      const paths = destinationRulePaths(hostnames)
      const [activeClusters, staticClusters] = await Promise.all([podHttp(sim, target, `/${paths.activeClusters}`), podHttp(sim, target, `/${paths.staticClusters}`)])
      expect([activeClusters.status, staticClusters.status]).toEqual([200, 200])
      const rules = destinationRulesOf({activeClusters: {text: activeClusters.body, origin: pod.name}, staticClusters: {text: staticClusters.body, origin: pod.name}}, hostnames, pod.name)
      expect(rules).toEqual(expected)
      rulesSeen += [...rules.values()].filter((rule) => rule !== '').length
      // For one host, the name_regex keeps the answer to that host's clusters.
      const ruled = hostnames.find((host) => expected.get(host) !== '')
      if (ruled !== undefined) {
        const one = await podHttp(sim, target, `/${destinationRulePaths([ruled]).activeClusters}`)
        const names = (JSON.parse(one.body).configs as Array<{cluster: {name: string}}>).map((item) => item.cluster.name)
        expect(names.length).toBeGreaterThan(0)
        expect(names.filter((name) => parseSubsetKey(name)?.hostname !== ruled)).toEqual([])
        expect(destinationRulesOf({activeClusters: {text: one.body, origin: pod.name}, staticClusters: {text: '{"configs":[]}', origin: pod.name}}, [ruled], pod.name).get(ruled)).toBe(expected.get(ruled))
      }
    }
    expect(rulesSeen).toBeGreaterThan(0)
  })

  it('diagnose never asks a proxy for its whole config dump', async () => {
    const before = sim.adminRequests.length
    const result = await runCli(['diagnose', '-A', '--short', '--timeout', '30s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 60_000})
    expect([0, 10, 11]).toContain(result.code)
    const dumps = sim.adminRequests.slice(before).filter((request) => request.path.startsWith('/config_dump'))
    expect(dumps.length).toBeGreaterThan(0)
    expect(dumps.filter((request) => !/[?&](resource|mask)=/.test(request.path))).toEqual([])
    // One port-forward tunnel per pod port for all of its reads (they queue on it).
    const byPort = new Map<string, Set<number>>()
    for (const request of sim.adminRequests.slice(before)) {
      const key = `${request.pod}.${request.namespace}:${request.port}`
      byPort.set(key, (byPort.get(key) ?? new Set()).add(request.connection))
    }
    expect(byPort.size).toBeGreaterThan(5)
    expect([...byPort].filter(([, connections]) => connections.size !== 1)).toEqual([])
  })
})
