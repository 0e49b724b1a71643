import {collectClusters, section, type ConfigDump} from '../envoy/configdump.js'
import {hostEndpointRow, hostServesTraffic} from '../envoy/endpoints.js'
import {arrayField, field, stringField, type Json} from '../envoy/fields.js'
import {parseSubsetKey} from '../envoy/istio-names.js'
import type {ClusterMembership} from '../envoy/membership.js'
import type {RouteConfigMemo} from './dump-reads.js'
import {clusterNames, destinationRuleFor, routeTargets, type RouteTarget} from './route-targets.js'

/**
 * What the routing checks (routes, endpoints, rejected-config) read of a proxy's config dump, taken
 * from it once per proxy. A 2,000-service sidecar's dump holds thousands of clusters and routes; this
 * holds a few names, so the dump can be read on a worker thread (dump-readers.ts) and only this
 * crosses to the main thread, where building the dump's objects was most of `diagnose -A`'s CPU.
 */
export interface DumpRouting {
  /** How many distinct clusters routes send traffic to. */
  targetClusterCount: number
  /** The route targets whose cluster the proxy does not have (active, static or warming), in route order. */
  missingTargets: RouteTarget[]
  /**
   * The hostname of each missing target that names a service's cluster (`outbound|port|subset|host`):
   * whether the proxy has any cluster of that host, and the DestinationRule behind them ('' for none).
   */
  missingHosts: MissingHost[]
  /** The EDS clusters that routes send traffic to (each once). Read-only: proxies share it (dump-readers.ts). */
  usedEdsClusters: readonly string[]
  /** Clusters still warming (waiting for their endpoints). */
  warmingClusters: readonly string[]
  /** Listeners with a warming state and no active one. */
  warmingListeners: readonly string[]
}

export interface MissingHost {
  hostname: string
  known: boolean
  destinationRule: string
}

export function dumpRouting(dump: ConfigDump, memo?: RouteConfigMemo): DumpRouting {
  const have = clusterNames(dump)
  const targets = routeTargets(dump, memo?.targets)
  const missingTargets = targets.filter((target) => !have.has(target.cluster))
  const missingHostnames = new Set<string>()
  for (const target of missingTargets) {
    const key = parseSubsetKey(target.cluster)
    if (key) missingHostnames.add(key.hostname)
  }
  const knownHostnames = new Set<string>()
  if (missingHostnames.size > 0) {
    for (const name of have) {
      const hostname = parseSubsetKey(name)?.hostname
      if (hostname !== undefined && missingHostnames.has(hostname)) knownHostnames.add(hostname)
    }
  }
  const missingHosts = [...missingHostnames].map((hostname) => {
    const known = knownHostnames.has(hostname)
    return {hostname, known, destinationRule: known ? destinationRuleFor(dump, hostname) : ''}
  })
  // Only EDS clusters: PassthroughCluster and inbound clusters (ORIGINAL_DST, STATIC) have no
  // endpoint list to be empty.
  const eds = new Set<string>()
  for (const cluster of collectClusters(dump)) {
    if (stringField(cluster, 'type') === 'EDS' || field(cluster, 'eds_cluster_config') !== undefined) eds.add(stringField(cluster, 'name'))
  }
  const used = new Set<string>()
  for (const target of targets) if (eds.has(target.cluster)) used.add(target.cluster)
  return {
    targetClusterCount: new Set(targets.map((target) => target.cluster)).size,
    missingTargets,
    missingHosts,
    usedEdsClusters: [...used],
    warmingClusters: arrayField(section(dump, 'Clusters'), 'dynamic_warming_clusters').map((entry) => stringField(field(entry, 'cluster'), 'name')),
    warmingListeners: arrayField(section(dump, 'Listeners'), 'dynamic_listeners')
      .filter((entry) => field(entry, 'warming_state') !== undefined && field(entry, 'active_state') === undefined)
      .map((entry) => stringField(entry, 'name')),
  }
}

/**
 * What the endpoints check reads of a proxy's clusters: those without a host that serves traffic,
 * each list sorted by cluster name (Envoy's `/clusters` order is its hash map's).
 */
export interface ClusterHealth {
  /** Clusters with no host at all. */
  empty: string[]
  /** Clusters with hosts, none serving traffic (unhealthy or ejected). */
  unhealthy: UnhealthyCluster[]
}

export interface UnhealthyCluster {
  cluster: string
  /** One line per host: address, health, and whether outlier detection ejected it. */
  hosts: string[]
}

export function clusterHealth(statuses: readonly Json[]): ClusterHealth {
  const empty: string[] = []
  const unhealthy: UnhealthyCluster[] = []
  for (const status of statuses) {
    const cluster = stringField(status, 'name')
    const hosts = arrayField(status, 'host_statuses')
    if (hosts.length === 0) {
      empty.push(cluster)
      continue
    }
    // Rows (rendered addresses) only for the evidence: most clusters have a healthy host.
    if (!hosts.some(hostServesTraffic)) {
      unhealthy.push({
        cluster,
        hosts: hosts.map((host) => {
          const row = hostEndpointRow(host, cluster)
          return `${cluster} ${row.address}:${row.port} ${row.status}${row.failedOutlierCheck ? ' (ejected by outlier detection)' : ''}`
        }),
      })
    }
  }
  empty.sort(byCodePoint)
  unhealthy.sort((a, b) => byCodePoint(a.cluster, b.cluster))
  return {empty, unhealthy}
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The clusters' health from Envoy's membership gauges, when they settle it for every cluster in
 * `clusters` (the ones a check reads): each has both gauges, and each with hosts has a healthy one.
 * The answer then equals clusterHealth's on `/clusters` restricted to `clusters` (a healthy host
 * serves traffic; a total of 0 means no host). Otherwise undefined: a cluster without gauges
 * (stats under another name), or one whose hosts may all be down, needs `/clusters` to judge its
 * hosts one by one (degraded ones serve, and the evidence names each host).
 */
export function clusterHealthFromMembership(membership: ReadonlyMap<string, ClusterMembership>, clusters: readonly string[]): ClusterHealth | undefined {
  const empty: string[] = []
  for (const cluster of clusters) {
    const counts = membership.get(cluster)
    if (counts === undefined) return undefined
    if (counts.total === 0) empty.push(cluster)
    else if (counts.healthy === 0) return undefined
  }
  return {empty: [...new Set(empty)].sort(byCodePoint), unhealthy: []}
}
