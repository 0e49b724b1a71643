import {goSortSliceWeakOrder} from '../render/go-sort.js'
import {collectClusters, type ConfigDump} from './configdump.js'
import {enumField, stringField, type Json} from './fields.js'
import {clusterSortKey, clusterSortKeyCompare, clusterSortKeyLess, type ClusterSortKey, istioConfigNameOf} from './istio-names.js'

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

export function summarizeCluster(cluster: Json, key: ClusterSortKey = clusterSortKey(stringField(cluster, 'name'))): ClusterSummary {
  // The sort key holds the parsed name already (an unparsed name: fqdn is the name, port 0, '' else).
  return {
    name: key.name,
    fqdn: key.fqdn,
    port: key.port,
    subset: key.subset,
    direction: key.direction,
    parsed: key.parsed,
    // A custom `cluster_type` has no `type`, so it shows STATIC, as in istioctl.
    type: enumField(cluster, 'type', CLUSTER_TYPES),
    destinationRule: istioConfigNameOf(cluster),
  }
}

export interface SelectedClusters {
  /** The matching clusters as found in the dump (for -o json/yaml), in table order. */
  clusters: Json[]
  summaries: ClusterSummary[]
}

export function selectClusters(dump: ConfigDump, filter: ClusterFilter): SelectedClusters {
  // istioctl sorts every cluster (Go's unstable sort.Slice), then filters: the order of tied keys
  // among the kept ones depends on the others, so all are sorted here too.
  const keyed = collectClusters(dump).map((cluster) => ({cluster, key: clusterSortKey(stringField(cluster, 'name'))}))
  goSortSliceWeakOrder(keyed, (a, b) => clusterSortKeyLess(a.key, b.key), (a, b) => clusterSortKeyCompare(a.key, b.key))
  const kept = keyed.filter((entry) => matchCluster(filter, entry.key.name))
  return {clusters: kept.map((entry) => entry.cluster), summaries: kept.map((entry) => summarizeCluster(entry.cluster, entry.key))}
}
