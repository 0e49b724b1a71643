// diagnose reads only the config-dump fields its checks use (Envoy admin's resource= and mask=
// filters): the assembled dump must give every check the same answers as the whole dump.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {assembleDiagnoseDump, DIAGNOSE_DUMP_PATHS, type DiagnoseDumpPart} from '../../src/lib/diagnose/dump-reads.js'
import {clusterNames, destinationRuleFor, routeTargets} from '../../src/lib/diagnose/route-targets.js'
import {collectClusters, configDumpFromJson, section, type ConfigDump} from '../../src/lib/envoy/configdump.js'
import {arrayField, field, path, stringField} from '../../src/lib/envoy/fields.js'
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

/** What the checks read from a dump (routes, endpoints, rejected-config). */
function checkView(dump: ConfigDump) {
  const hosts = new Set([...clusterNames(dump)].map((name) => parseSubsetKey(name)?.hostname).filter((h): h is string => h !== undefined))
  return {
    clusters: [...clusterNames(dump)].sort(),
    eds: collectClusters(dump).filter((c) => stringField(c, 'type') === 'EDS' || field(c, 'eds_cluster_config') !== undefined).map((c) => stringField(c, 'name')).sort(),
    targets: routeTargets(dump),
    // destinationRuleFor reads the istio config in each cluster's metadata (the only part of it
    // any check reads): the mask and the read must keep it.
    metadata: collectClusters(dump).map((c) => [stringField(c, 'name'), JSON.stringify(path(c, 'metadata', 'filter_metadata', 'istio', 'config') ?? null)]).sort(),
    rules: [...hosts].sort().map((host) => [host, destinationRuleFor(dump, host)]),
    warmingClusters: arrayField(section(dump, 'Clusters'), 'dynamic_warming_clusters').map((e) => stringField(field(e, 'cluster'), 'name')),
    listeners: arrayField(section(dump, 'Listeners'), 'dynamic_listeners').map((e) => [stringField(e, 'name'), field(e, 'active_state') !== undefined, field(e, 'warming_state') !== undefined]),
  }
}

describe('diagnose config-dump reads', () => {
  it('the filtered reads give the checks what the whole dump gives, in a fraction of the bytes', async () => {
    const proxied = sim.scenario.pods.filter((pod) => pod.proxy !== undefined && pod.phase === 'Running')
    expect(proxied.length).toBeGreaterThan(3)
    let metadataSeen = 0
    for (const pod of proxied) {
      const target = {pod: pod.name, namespace: pod.namespace, port: pod.proxy?.adminPort ?? 15000}
      const whole = await podHttp(sim, target, '/config_dump')
      expect(whole.status).toBe(200)
      const parts = Object.keys(DIAGNOSE_DUMP_PATHS) as DiagnoseDumpPart[]
      const answers = await Promise.all(parts.map((part) => podHttp(sim, target, `/${DIAGNOSE_DUMP_PATHS[part]}`)))
      for (const answer of answers) expect(answer.status).toBe(200)
      const assembled = assembleDiagnoseDump(Object.fromEntries(parts.map((part, i) => [part, {text: answers[i].body, origin: pod.name}])) as never, pod.name)
      const full = configDumpFromJson(JSON.parse(whole.body), pod.name)
      const view = checkView(assembled)
      expect(view).toEqual(checkView(full))
      metadataSeen += view.metadata.filter(([, metadata]) => metadata !== 'null').length
      const filteredBytes = answers.reduce((sum, answer) => sum + answer.body.length, 0)
      expect(filteredBytes).toBeLessThan(whole.body.length / 2)
    }
    expect(metadataSeen).toBeGreaterThan(0)
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
