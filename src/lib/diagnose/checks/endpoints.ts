import {shellArg} from '../../render/shell-quote.js'
import type {Check, CheckOutcome} from '../types.js'

/**
 * Clusters that routes send traffic to, by their endpoints' health in `/clusters`: none at all
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
    const [routing, health] = await Promise.all([facts.routing(), facts.clusterHealth()])
    const used = new Set(routing.usedEdsClusters)
    const empty: string[] = []
    for (const cluster of health.empty) if (used.has(cluster)) empty.push(intern(cluster))
    const unhealthy: string[] = []
    const evidence: string[] = []
    for (const {cluster, hosts} of health.unhealthy) {
      if (!used.has(cluster)) continue
      unhealthy.push(cluster)
      evidence.push(...hosts)
    }
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
