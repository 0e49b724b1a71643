import {badDataError} from '../errors.js'
import type {InputText} from '../input.js'
import {goSortSliceWeakOrder} from '../render/go-sort.js'
import {type ConfigDump, configDumpFromJson, type DumpOptions, parseConfigDumpInput, parseJsonText, section, startsAsConfigDump} from './configdump.js'
import {arrayField, enumField, field, numberField, path, stringField, type Json} from './fields.js'
import {clusterSortKey, clusterSortKeyCompare, clusterSortKeyLess, type ClusterSortKey} from './istio-names.js'

/** envoy.config.core.v3.HealthStatus, in number order (absent = UNKNOWN). */
export const HEALTH_STATUSES = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'] as const

/**
 * `--address --port --cluster --status` of `proxy-config endpoint` (and of `all` for EDS):
 * case-insensitive exact matches; a port of 0 or undefined means "any", as in istioctl.
 */
export interface EndpointFilter {
  address?: string
  port?: number
  cluster?: string
  status?: string
}

const equalFold = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

// ---------------------------------------------------------------------------------------------
// The two inputs `proxy-config endpoint -f` accepts.

export type EndpointInput =
  | {kind: 'cluster-status'; clusterStatuses: Json[]}
  | {kind: 'config-dump'; dump: ConfigDump}

const EXPECTED_INPUT = 'Envoy /clusters?format=json output (an object with "cluster_statuses") or a /config_dump?include_eds'
const EDS_HINT = 'capture the dump with `curl -s localhost:15000/config_dump?include_eds`, or give /clusters?format=json output'

/**
 * Tells `/clusters?format=json` output from a config dump. Envoy prints `{}` for a proxy with no
 * clusters (proto3 JSON leaves empty lists out), so an empty object is an empty cluster list.
 */
export function parseEndpointInput(input: InputText, options: Pick<DumpOptions, 'summariesOnly' | 'scanMinBytes'> = {}): EndpointInput {
  const {origin} = input
  // A config dump (in any layout): parse only its EDS section (see parseConfigDump).
  if (startsAsConfigDump(input)) return {kind: 'config-dump', dump: parseConfigDumpInput(input, {...options, only: ['Endpoints']})}
  const text = input.text
  const raw = parseJsonText(text, origin, EXPECTED_INPUT)
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const statuses = field(raw, 'cluster_statuses')
    if (statuses !== undefined) {
      if (!Array.isArray(statuses)) throw badDataError(`${origin}: "cluster_statuses" is not a list; expected ${EXPECTED_INPUT}`)
      return {kind: 'cluster-status', clusterStatuses: statuses}
    }
    if (Object.keys(raw).length === 0) return {kind: 'cluster-status', clusterStatuses: []}
    if (Array.isArray(raw.configs)) return {kind: 'config-dump', dump: configDumpFromJson(raw, origin)}
  }
  const shape = Array.isArray(raw) ? 'a JSON list' : raw === null ? 'null' : typeof raw === 'object' ? 'an object without "cluster_statuses" or "configs"' : `a JSON ${typeof raw}`
  throw badDataError(`${origin}: got ${shape}; expected ${EXPECTED_INPUT}`)
}

// ---------------------------------------------------------------------------------------------
// `/clusters?format=json`: one row per host (istioctl `proxy-config endpoint`).

export interface HostEndpointRow {
  /** Rendered address without the port: IP, `unix://<path>`, `envoy://<listener>/<id>` or `unknown`. */
  address: string
  /** 0 when the address is not a socket address (then ENDPOINT is the address alone). */
  port: number
  status: string
  failedOutlierCheck: boolean
  cluster: string
}

function renderHostAddress(address: Json): {address: string; port: number} {
  const socket = field(address, 'socket_address')
  if (socket) return {address: stringField(socket, 'address'), port: numberField(socket, 'port_value')}
  const pipe = field(address, 'pipe')
  if (pipe) return {address: `unix://${stringField(pipe, 'path')}`, port: 0}
  const internal = field(address, 'envoy_internal_address')
  const listener = field(internal, 'server_listener_name')
  if (typeof listener === 'string') return {address: `envoy://${listener}/${stringField(internal, 'endpoint_id')}`, port: 0}
  return {address: 'unknown', port: 0}
}

/**
 * Whether Envoy's load balancer may pick the host: its coarse health is healthy or degraded (Envoy
 * sends to degraded hosts when no healthy one is left). Envoy marks a host unhealthy when it fails
 * active health checks or outlier detection, or EDS says UNHEALTHY, DRAINING or TIMEOUT; UNKNOWN
 * counts as healthy (upstream_impl.cc, setEdsHealthFlag and coarseHealth). So a cluster has a
 * host that serves exactly when its `membership_healthy` or `membership_degraded` gauge is above 0.
 */
export function hostServesTraffic(host: Json): boolean {
  const health = field(host, 'health_status')
  if (field(health, 'failed_outlier_check') === true || field(health, 'failed_active_health_check') === true) return false
  const eds = enumField(health, 'eds_health_status', HEALTH_STATUSES)
  return eds !== 'UNHEALTHY' && eds !== 'DRAINING' && eds !== 'TIMEOUT'
}

export function hostEndpointRow(host: Json, cluster: string): HostEndpointRow {
  const health = field(host, 'health_status')
  return {
    ...renderHostAddress(field(host, 'address')),
    status: enumField(health, 'eds_health_status', HEALTH_STATUSES),
    failedOutlierCheck: field(health, 'failed_outlier_check') === true,
    cluster,
  }
}

export function matchHostEndpoint(filter: EndpointFilter, row: HostEndpointRow): boolean {
  if (filter.address && !equalFold(row.address, filter.address)) return false
  if (filter.port && row.port !== filter.port) return false
  if (filter.cluster && !equalFold(row.cluster, filter.cluster)) return false
  if (filter.status && !equalFold(row.status, filter.status)) return false
  return true
}

/**
 * istioctl's comparator for `sort.Slice`: address, port, cluster (byte-wise). Rows that differ only
 * in status or outlier check tie, so it is run with goSortSlice to print them in istioctl's order.
 */
export function hostEndpointLess(a: HostEndpointRow, b: HostEndpointRow): boolean {
  if (a.address !== b.address) return a.address < b.address
  if (a.port !== b.port) return a.port < b.port
  return a.cluster < b.cluster
}

export interface SelectedHostEndpoints {
  /** Whole ClusterStatus objects with at least one matching host, in input order (-o json/yaml). */
  clusterStatuses: Json[]
  rows: HostEndpointRow[]
}

export function selectHostEndpoints(clusterStatuses: readonly Json[], filter: EndpointFilter): SelectedHostEndpoints {
  const rows: HostEndpointRow[] = []
  const matched: Json[] = []
  for (const status of clusterStatuses) {
    const cluster = stringField(status, 'name')
    let any = false
    for (const host of arrayField(status, 'host_statuses')) {
      const row = hostEndpointRow(host, cluster)
      if (!matchHostEndpoint(filter, row)) continue
      rows.push(row)
      any = true
    }
    if (any) matched.push(status)
  }
  goSortSliceWeakOrder(rows, hostEndpointLess)
  return {clusterStatuses: matched, rows}
}

// ---------------------------------------------------------------------------------------------
// EDS inside a `config_dump?include_eds` (istioctl's hidden `eds`, and the endpoint section of `all`).

export interface EdsEndpointRow {
  /** Every address of the lb_endpoint (primary, then additional), rendered (`ip:port`, pipe path, `envoy://...`); the NAME column joins them with ",". */
  addresses: string[]
  status: string
  locality: string
  cluster: string
}

/** `ip:port` (even `:0`), the pipe path as-is, `envoy://<listener>/<id>`, else `unknown`. */
export function renderEdsAddress(address: Json): string {
  const socket = field(address, 'socket_address')
  if (socket) return `${stringField(socket, 'address')}:${numberField(socket, 'port_value')}`
  const pipe = field(address, 'pipe')
  if (pipe) return stringField(pipe, 'path')
  const internal = field(address, 'envoy_internal_address')
  const listener = field(internal, 'server_listener_name')
  if (typeof listener === 'string') return `envoy://${listener}/${stringField(internal, 'endpoint_id')}`
  return 'unknown'
}

export function lbEndpointAddresses(lbEndpoint: Json): string[] {
  const endpoint = field(lbEndpoint, 'endpoint')
  const addresses = [renderEdsAddress(field(endpoint, 'address'))]
  for (const additional of arrayField(endpoint, 'additional_addresses')) addresses.push(renderEdsAddress(field(additional, 'address')))
  return addresses
}

/** Region, then `/zone` and `/sub_zone` while they are set (istio's LocalityToString). */
export function localityToString(locality: Json): string {
  const region = stringField(locality, 'region')
  const zone = stringField(locality, 'zone')
  if (zone === '') return region
  const subZone = stringField(locality, 'sub_zone')
  return subZone === '' ? `${region}/${zone}` : `${region}/${zone}/${subZone}`
}

export function matchLbEndpoint(filter: EndpointFilter, lbEndpoint: Json, cluster: string): boolean {
  // The address filter compares against `ip:port`, so a bare IP never matches (as in istioctl).
  if (filter.address && !lbEndpointAddresses(lbEndpoint).some((address) => equalFold(address, filter.address!))) return false
  if (filter.port && numberField(path(lbEndpoint, 'endpoint', 'address', 'socket_address'), 'port_value') !== filter.port) return false
  if (filter.cluster && !equalFold(cluster, filter.cluster)) return false
  if (filter.status && !equalFold(enumField(lbEndpoint, 'health_status', HEALTH_STATUSES), filter.status)) return false
  return true
}

function withSpelling(obj: Json, snake: string, camel: string, value: Json): Json {
  const key = obj[snake] === undefined && obj[camel] !== undefined ? camel : snake
  return {...obj, [key]: value}
}

/**
 * Prunes the lb_endpoints that do not match; undefined when none is left. Locality groups are kept
 * even when emptied, as istioctl does. The input object is never modified: a pruned CLA is a copy.
 */
export function pruneClusterLoadAssignment(cla: Json, filter: EndpointFilter): Json | undefined {
  const cluster = stringField(cla, 'cluster_name')
  let kept = 0
  let changed = false
  const groups = arrayField(cla, 'endpoints').map((group) => {
    const all = arrayField(group, 'lb_endpoints')
    const matching = all.filter((lbEndpoint) => matchLbEndpoint(filter, lbEndpoint, cluster))
    kept += matching.length
    if (matching.length === all.length) return group
    changed = true
    return withSpelling(group, 'lb_endpoints', 'lbEndpoints', matching)
  })
  if (kept === 0) return undefined
  return changed ? withSpelling(cla, 'endpoints', 'endpoints', groups) : cla
}

export interface SelectedEdsEndpoints {
  /** The matching ClusterLoadAssignments (pruned copies), in table order (-o json/yaml). */
  clusterLoadAssignments: Json[]
  rows: EdsEndpointRow[]
}


export function requireEdsSection(dump: ConfigDump): Json {
  const found = section(dump, 'Endpoints')
  if (found === undefined) {
    throw badDataError(`${dump.origin}: config dump has no endpoints (no EndpointsConfigDump section)`, EDS_HINT)
  }
  return found
}

/**
 * EDS rows from an `?include_eds` dump: dynamic then static CLAs, pruned by the filter, CLAs left
 * empty dropped, then sorted like clusters by `cluster_name` (istioctl filters first here), with
 * Go's algorithm for ties. Endpoint order inside a CLA is kept.
 */
export function selectEdsEndpoints(dump: ConfigDump, filter: EndpointFilter): SelectedEdsEndpoints {
  const endpoints = requireEdsSection(dump)
  // The sort key is parsed once per assignment, not in every comparison.
  const keyed: Array<{cla: Json; key: ClusterSortKey}> = []
  for (const listName of ['dynamic_endpoint_configs', 'static_endpoint_configs']) {
    for (const entry of arrayField(endpoints, listName)) {
      const cla = field(entry, 'endpoint_config')
      if (cla === null || typeof cla !== 'object') continue
      const pruned = pruneClusterLoadAssignment(cla, filter)
      if (pruned) keyed.push({cla: pruned, key: clusterSortKey(stringField(pruned, 'cluster_name'))})
    }
  }
  goSortSliceWeakOrder(keyed, (a, b) => clusterSortKeyLess(a.key, b.key), (a, b) => clusterSortKeyCompare(a.key, b.key))
  const assignments = keyed.map((entry) => entry.cla)
  const rows: EdsEndpointRow[] = []
  for (const cla of assignments) {
    const cluster = stringField(cla, 'cluster_name')
    for (const group of arrayField(cla, 'endpoints')) {
      const locality = localityToString(field(group, 'locality'))
      for (const lbEndpoint of arrayField(group, 'lb_endpoints')) {
        rows.push({
          addresses: lbEndpointAddresses(lbEndpoint),
          status: enumField(lbEndpoint, 'health_status', HEALTH_STATUSES),
          locality,
          cluster,
        })
      }
    }
  }
  return {clusterLoadAssignments: assignments, rows}
}
