import {path, type Json} from './fields.js'

/** Istio's naming conventions inside Envoy config, as istioctl derives its columns from them. */

export interface SubsetKey {
  direction: string
  port: number
  subset: string
  hostname: string
}

/**
 * `direction|port|subset|hostname` (model.ParseSubsetKey). Only names with more than three
 * `|`-separated parts are parsed; an unparseable port is 0; extra parts leave hostname empty.
 */
export function parseSubsetKey(name: string): SubsetKey | undefined {
  const parts = name.split('|')
  if (parts.length <= 3) return undefined
  const port = /^-?\d+$/.test(parts[1]) ? Number.parseInt(parts[1], 10) : 0
  return {
    direction: parts[0],
    port: Number.isFinite(port) ? port : 0,
    subset: parts[2],
    hostname: parts.length === 4 ? parts[3] : '',
  }
}

/**
 * The DESTINATION RULE / VIRTUAL SERVICE column from `filter_metadata.istio.config`:
 * `/apis/networking.istio.io/<v>/namespaces/<ns>/<kind>/<name>` → `name.ns`; that prefix with
 * another piece count → ""; anything else (including "") → `<unknown>`; absent → "".
 */
export function istioConfigName(configPath: string | undefined): string {
  if (configPath === undefined) return ''
  if (!configPath.startsWith('/apis/networking.istio.io/')) return '<unknown>'
  const pieces = configPath.split('/')
  if (pieces.length !== 8) return ''
  return `${pieces[7]}.${pieces[5]}`
}

/**
 * istioConfigName of an object's `metadata.filter_metadata.istio.config` (clusters: DESTINATION
 * RULE, routes: VIRTUAL SERVICE). A non-string value reads as "" (Struct.GetStringValue in
 * istioctl), which renders `<unknown>`.
 */
export function istioConfigNameOf(obj: Json): string {
  const config = path(obj, 'metadata', 'filter_metadata', 'istio', 'config')
  if (config === undefined) return ''
  return istioConfigName(typeof config === 'string' ? config : '')
}

/** What istioctl sorts clusters (and EDS cluster load assignments) by. */
export interface ClusterSortKey {
  /** The hostname of a subset key, else the whole name. */
  fqdn: string
  subset: string
  port: number
  direction: string
  name: string
  /** Whether the name is a subset key (parseSubsetKey), so that the summary need not parse it again. */
  parsed: boolean
}

export function clusterSortKey(name: string): ClusterSortKey {
  const key = parseSubsetKey(name)
  return key ? {fqdn: key.hostname, subset: key.subset, port: key.port, direction: key.direction, name, parsed: true} : {fqdn: name, subset: '', port: 0, direction: '', name, parsed: false}
}


/**
 * istioctl's cluster (and EDS assignment) comparator for `sort.Slice`: fqdn, subset, port,
 * direction, byte-wise; unparsed names compare by full name. Keys can tie on different names (an
 * unparsed port reads 0, extra `|` parts leave the hostname empty), so it is run with goSortSlice.
 */
export function clusterSortKeyLess(a: ClusterSortKey, b: ClusterSortKey): boolean {
  if (a.fqdn !== b.fqdn) return a.fqdn < b.fqdn
  if (a.subset !== b.subset) return a.subset < b.subset
  if (a.port !== b.port) return a.port < b.port
  return a.direction < b.direction
}

/** clusterSortKeyLess as a three-way comparison (-1, 0 for a tie, 1), for goSortSliceWeakOrder. */
export function clusterSortKeyCompare(a: ClusterSortKey, b: ClusterSortKey): number {
  if (a.fqdn !== b.fqdn) return a.fqdn < b.fqdn ? -1 : 1
  if (a.subset !== b.subset) return a.subset < b.subset ? -1 : 1
  if (a.port !== b.port) return a.port < b.port ? -1 : 1
  if (a.direction !== b.direction) return a.direction < b.direction ? -1 : 1
  return 0
}
