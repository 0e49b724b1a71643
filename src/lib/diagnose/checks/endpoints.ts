import {shellArg} from '../../render/shell-quote.js'
import type {ClusterHealth} from '../routing.js'
import type {Check, CheckOutcome} from '../types.js'

interface UsedHealth {
  empty: string[]
  unhealthy: string[]
  evidence: string[]
}

/** The clusters of `health` that routes use (`used`), and the hosts that make the unhealthy ones so. */
function usedHealth(used: readonly string[], health: ClusterHealth, intern: (text: string) => string): UsedHealth {
  // Membership is asked of the few clusters `health` names, not of the thousands routes use.
  const named = new Set([...health.empty, ...health.unhealthy.map(({cluster}) => cluster)])
  const usedNamed = new Set(named.size === 0 ? [] : used.filter((cluster) => named.has(cluster)))
  const empty: string[] = []
  for (const cluster of health.empty) if (usedNamed.has(cluster)) empty.push(intern(cluster))
  const unhealthy: string[] = []
  const evidence: string[] = []
  for (const {cluster, hosts} of health.unhealthy) {
    if (!usedNamed.has(cluster)) continue
    unhealthy.push(cluster)
    evidence.push(...hosts)
  }
  return {empty, unhealthy, evidence}
}

/**
 * Clusters that routes send traffic to, by their endpoints' health (Envoy's membership gauges,
 * else its EDS dump, and `/clusters` for the hosts of a cluster with none serving): none at all
 * (no ready pod behind the service or subset: `503 UH`) or none healthy (all failing health
 * checks or ejected by outlier detection). Only EDS clusters that routes use count: a mesh has
 * many services nobody calls, scaled to zero.
 */
export const endpointsCheck: Check = {
  id: 'endpoints',
  group: 'Routing',
  title: 'clusters that routes use have healthy endpoints',
  async run(facts, options) {
    const intern = options.intern ?? ((text: string) => text)
    const derived = options.derived ?? ((_first: object, _second: object, compute: () => UsedHealth) => compute())
    const [routing, health] = await Promise.all([facts.routing(), facts.clusterHealth()])
    const {empty, unhealthy, evidence} = derived(routing.usedEdsClusters, health, () => usedHealth(routing.usedEdsClusters, health, intern))
    const pod = shellArg(facts.pod.id, '<pod>')
    const outcomes: CheckOutcome[] = []
    if (unhealthy.length > 0) {
      outcomes.push({
        severity: 'fail',
        message: `no healthy endpoint in ${unhealthy.length} cluster${unhealthy.length === 1 ? '' : 's'} that routes use: ${unhealthy.slice(0, 3).join(', ')}${unhealthy.length > 3 ? ', …' : ''}`,
        hint: 'requests there fail with 503 UH (no_healthy_upstream): the pods are not ready, or outlier detection ejected them',
        command: `meshdbg proxy-config endpoint ${pod} --cluster ${shellArg(unhealthy[0], '<cluster>')}`,
        evidence,
      })
    }
    if (empty.length > 0) {
      outcomes.push({
        severity: 'warn',
        message: `no endpoints in ${empty.length} cluster${empty.length === 1 ? '' : 's'} that routes use: ${empty.slice(0, 3).join(', ')}${empty.length > 3 ? ', …' : ''}`,
        hint: 'no ready pod matches the service (or the subset\'s labels): requests there fail with 503 UH',
        command: `meshdbg proxy-config endpoint ${pod} --cluster ${shellArg(empty[0], '<cluster>')}`,
        evidence: empty,
      })
    }
    if (outcomes.length === 0) outcomes.push({severity: 'pass', message: 'every cluster that routes use has a healthy endpoint'})
    return outcomes
  },
}
