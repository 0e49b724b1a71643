import {collectClusters, type ConfigDump} from './configdump.js'
import {enumField, stringField, type Json} from './fields.js'
import {compareClusterSortKeys, istioConfigNameOf, parseSubsetKey} from './istio-names.js'

const CLUSTER_TYPES = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'] as const

/** `--fqdn --direction --subset` are case-sensitive substring tests on the full name; `--port` needs `|port|`. */
export interface ClusterFilter {
  fqdn?: string
  direction?: string
  subset?: string
  port?: number
}

export function matchCluster(filter: ClusterFilter, name: string): boolean {
  if (filter.fqdn && !name.includes(filter.fqdn)) return false
  if (filter.direction && !name.includes(filter.direction)) return false
  if (filter.subset && !name.includes(filter.subset)) return false
  if (filter.port && !name.includes(`|${filter.port}|`)) return false
  return true
}

export interface ClusterSummary {
  name: string
  /** SERVICE FQDN: the hostname of `direction|port|subset|host` names, else the whole name. */
  fqdn: string
  /** 0 when the name is not an Istio subset key (rendered `-`). */
  port: number
  subset: string
  direction: string
  parsed: boolean
  type: string
  destinationRule: string
}

export function summarizeCluster(cluster: Json): ClusterSummary {
  const name = stringField(cluster, 'name')
  const key = parseSubsetKey(name)
  return {
    name,
    fqdn: key ? key.hostname : name,
    port: key ? key.port : 0,
    subset: key ? key.subset : '',
    direction: key ? key.direction : '',
    parsed: key !== undefined,
    // A custom `cluster_type` has no `type`, so it shows STATIC, as in istioctl.
    type: enumField(cluster, 'type', CLUSTER_TYPES),
    destinationRule: istioConfigNameOf(cluster),
  }
}

/** Clusters sort as istioctl sorts them (see compareClusterSortKeys); a summary is its own sort key. */
export const compareClusterSummaries: (a: ClusterSummary, b: ClusterSummary) => number = compareClusterSortKeys

export interface SelectedClusters {
  /** The matching clusters as found in the dump (for -o json/yaml), in table order. */
  clusters: Json[]
  summaries: ClusterSummary[]
}

export function selectClusters(dump: ConfigDump, filter: ClusterFilter): SelectedClusters {
  const rows: Array<{cluster: Json; summary: ClusterSummary}> = []
  for (const cluster of collectClusters(dump)) {
    const name = stringField(cluster, 'name')
    if (!matchCluster(filter, name)) continue
    rows.push({cluster, summary: summarizeCluster(cluster)})
  }
  // Array.prototype.sort is stable, so equal keys keep dump order.
  rows.sort((a, b) => compareClusterSummaries(a.summary, b.summary))
  return {clusters: rows.map((row) => row.cluster), summaries: rows.map((row) => row.summary)}
}
