import {collectClusters} from '../../envoy/configdump.js'
import {arrayField, field, stringField} from '../../envoy/fields.js'
import {hostEndpointRow, hostServesTraffic} from '../../envoy/endpoints.js'
import {shellArg} from '../../render/shell-quote.js'
import {routeTargets} from '../route-targets.js'
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
    const [dump, statuses] = await Promise.all([facts.configDump(), facts.clusterStatuses()])
    // Only EDS clusters: PassthroughCluster and inbound clusters (ORIGINAL_DST, STATIC) have no
    // endpoint list to be empty.
    const eds = new Set(collectClusters(dump).filter((cluster) => stringField(cluster, 'type') === 'EDS' || field(cluster, 'eds_cluster_config') !== undefined).map((cluster) => stringField(cluster, 'name')))
    const used = new Set(routeTargets(dump).map((target) => target.cluster).filter((name) => eds.has(name)))
    const empty: string[] = []
    const unhealthy: string[] = []
    const evidence: string[] = []
    for (const status of statuses) {
      const cluster = stringField(status, 'name')
      if (!used.has(cluster)) continue
      const hosts = arrayField(status, 'host_statuses')
      if (hosts.length === 0) {
        empty.push(intern(cluster))
        continue
      }
      // Rows (rendered addresses) only for the evidence: most clusters have a healthy host.
      if (!hosts.some(hostServesTraffic)) {
        const rows = hosts.map((host) => hostEndpointRow(host, cluster))
        unhealthy.push(cluster)
        evidence.push(...rows.map((row) => `${cluster} ${row.address}:${row.port} ${row.status}${row.failedOutlierCheck ? ' (ejected by outlier detection)' : ''}`))
      }
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
