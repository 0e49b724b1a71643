import {usageError} from '../errors.js'
import {goSortSlice} from '../render/go-sort.js'
import {collectListeners, type ConfigDump} from './configdump.js'
import {arrayField, field, numberField, stringField, uint32Value, type Json} from './fields.js'
import {describeClusterTarget, describeInlineRouteConfig} from './route-match.js'

export const HTTP_CONNECTION_MANAGER = 'envoy.filters.network.http_connection_manager'
export const TCP_PROXY = 'envoy.filters.network.tcp_proxy'
const BLACKHOLE_CLUSTER = 'BlackHoleCluster'

export const LISTENER_TYPES = ['HTTP', 'TCP', 'HTTP+TCP', 'UNKNOWN'] as const
export type ListenerType = (typeof LISTENER_TYPES)[number]

/** `--type` takes a listener type in any case; anything else is a usage error, not an empty table. */
export function checkListenerType(type: string | undefined): void {
  if (type && !(LISTENER_TYPES as readonly string[]).includes(type.toUpperCase())) {
    throw usageError(`--type "${type}" is not a listener type (use ${LISTENER_TYPES.join(', ')})`)
  }
}

/** The `--address --port --type` filters of `proxy-config listener` (and `all`). All given filters must hold. */
export interface ListenerFilter {
  /** Case-insensitive exact match on the primary address or any additional address. */
  address?: string
  /** Exact match on the primary port; 0 or absent = no filter (as in istioctl). */
  port?: number
  /** Case-insensitive exact match on the computed type. */
  type?: string
}

export interface ListenerChainSummary {
  /** The MATCH column: SNI, transport, ALPN and destination address/port of filter_chain_match. */
  match: string
  /** The DESTINATION column: where the chain's first HTTP connection manager or TCP proxy sends traffic. */
  destination: string
}

export interface ListenerSummary {
  name: string
  /** Primary address: `socket_address.address`, else `pipe.path`, else "" (internal listeners). */
  address: string
  additionalAddresses: string[]
  /** Primary `socket_address.port_value`, else 0. */
  port: number
  type: ListenerType
  /** One per filter chain (`filter_chains`, then `default_filter_chain`), by DESTINATION descending. */
  chains: ListenerChainSummary[]
}

/** Socket address, else pipe path, else "". istioctl crashes on pipe additional addresses; we print the path. */
function addressText(address: Json): string {
  const socket = field(address, 'socket_address')
  if (socket !== undefined && socket !== null) return stringField(socket, 'address')
  const pipe = field(address, 'pipe')
  if (pipe !== undefined && pipe !== null) return stringField(pipe, 'path')
  return ''
}

function primaryPort(listener: Json): number {
  return numberField(field(field(listener, 'address'), 'socket_address'), 'port_value')
}

function additionalAddresses(listener: Json): string[] {
  return arrayField(listener, 'additional_addresses').map((entry) => addressText(field(entry, 'address')))
}

export function listenerChains(listener: Json): Json[] {
  const chains = arrayField(listener, 'filter_chains')
  const fallback = field(listener, 'default_filter_chain')
  return fallback !== undefined && fallback !== null ? [...chains, fallback] : chains
}

/**
 * istioctl searches the serialized tcp_proxy config for `BlackHoleCluster`; stringifying only this
 * filter's config (never the whole listener) keeps that linear in the dump size.
 */
function sendsToBlackHole(filter: Json): boolean {
  const typed = field(filter, 'typed_config')
  return typed !== undefined && typed !== null && JSON.stringify(typed).includes(BLACKHOLE_CLUSTER)
}

/** Proto UInt32Value: a bare number in proto JSON; `{value: n}` tolerated. */

const ALPN_DESCRIPTIONS = new Map<string, string>([
  [['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'].join('\n'), 'App: HTTP TLS'],
  [['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'].join('\n'), 'App: Istio HTTP Plain'],
  [['istio-peer-exchange', 'istio'].join('\n'), 'App: TCP TLS'],
  [['http/1.0', 'http/1.1', 'h2c'].join('\n'), 'App: HTTP'],
])

/** The MATCH column for one filter chain's `filter_chain_match` (absent = match everything). */
export function describeChainMatch(match: Json): string {
  const parts: string[] = []
  const serverNames = arrayField(match, 'server_names')
  if (serverNames.length > 0) parts.push(`SNI: ${serverNames.join(',')}`)
  const transport = stringField(match, 'transport_protocol')
  if (transport !== '') parts.push(`Trans: ${transport}`)
  const alpn = arrayField(match, 'application_protocols')
  if (alpn.length > 0) parts.push(ALPN_DESCRIPTIONS.get(alpn.join('\n')) ?? `App: ${alpn.join(',')}`)
  const destinationPort = field(match, 'destination_port')
  const port = destinationPort === undefined || destinationPort === null ? '' : `:${uint32Value(destinationPort) ?? 0}`
  const ranges = arrayField(match, 'prefix_ranges')
  if (ranges.length > 0) {
    const cidrs = ranges.map((range) => `${stringField(range, 'address_prefix')}/${uint32Value(field(range, 'prefix_len')) ?? 0}`)
    parts.push(`Addr: ${cidrs.join(',')}${port}`)
  } else if (port !== '') {
    parts.push(`Addr: *${port}`)
  }
  // Source ranges, source ports and address suffixes are not shown, as in istioctl.
  return parts.length > 0 ? parts.join('; ') : 'ALL'
}

/**
 * An HTTP connection manager's destination. Without typed_config (e.g. config_discovery)
 * istioctl crashes; we print `HTTP`, as for an HCM with neither inline routes nor RDS.
 */
function describeHttpConnectionManager(filter: Json): string {
  const config = field(filter, 'typed_config')
  const inline = field(config, 'route_config')
  if (inline !== undefined && inline !== null) return describeInlineRouteConfig(inline)
  const rdsName = stringField(field(config, 'rds'), 'route_config_name')
  if (rdsName !== '') return `Route: ${rdsName}`
  return 'HTTP'
}

/**
 * A TCP proxy's destination. Decisions where istioctl is unhelpful: without typed_config it
 * crashes, we print `TCP`; for weighted_clusters it prints `Cluster: ` (the oneof it reads is
 * unset), we print `Weighted: <cluster>=<weight>, ...` so the split is visible.
 */
function describeTcpProxy(filter: Json): string {
  const config = field(filter, 'typed_config')
  if (config === undefined || config === null) return 'TCP'
  const cluster = field(config, 'cluster')
  if (typeof cluster === 'string') return describeClusterTarget(cluster)
  const weighted = field(config, 'weighted_clusters')
  if (weighted !== undefined && weighted !== null) {
    const parts = arrayField(weighted, 'clusters').map((entry) => `${stringField(entry, 'name')}=${numberField(entry, 'weight')}`)
    return `Weighted: ${parts.join(', ')}`
  }
  return 'Cluster: '
}

/**
 * istioctl's filter-chain comparator for `sort.Slice`: DESTINATION, descending. Chains with the same
 * destination tie (common: every inbound chain of a port) and land where Go's algorithm puts them.
 */
export const chainDestinationLess = (a: ListenerChainSummary, b: ListenerChainSummary): boolean => a.destination > b.destination

interface ChainAnalysis {
  type: ListenerType
  chains: ListenerChainSummary[]
}

/** One pass over the chains gives both the TYPE (counted over all filters) and each chain's row. */
function analyzeChains(listener: Json): ChainAnalysis {
  let httpFilters = 0
  let tcpFilters = 0
  const chains: ListenerChainSummary[] = []
  for (const chain of listenerChains(listener)) {
    let destination: string | undefined
    for (const filter of arrayField(chain, 'filters')) {
      const name = stringField(filter, 'name')
      if (name === HTTP_CONNECTION_MANAGER) {
        httpFilters++
        destination ??= describeHttpConnectionManager(filter)
      } else if (name === TCP_PROXY && !sendsToBlackHole(filter)) {
        tcpFilters++
        destination ??= describeTcpProxy(filter)
      }
    }
    chains.push({match: describeChainMatch(field(chain, 'filter_chain_match')), destination: destination ?? 'Non-HTTP/Non-TCP'})
  }
  const type: ListenerType = httpFilters > 0 ? (tcpFilters > 0 ? 'HTTP+TCP' : 'HTTP') : tcpFilters > 0 ? 'TCP' : 'UNKNOWN'
  goSortSlice(chains, chainDestinationLess)
  return {type, chains}
}

export function summarizeListener(listener: Json): ListenerSummary {
  const {type, chains} = analyzeChains(listener)
  return {
    name: stringField(listener, 'name'),
    address: addressText(field(listener, 'address')),
    additionalAddresses: additionalAddresses(listener),
    port: primaryPort(listener),
    type,
    chains,
  }
}

/** The address and port tests, which need no chain analysis (run first: they are cheap). */
function matchesAddressAndPort(filter: ListenerFilter, listener: Json, addressLower: string | undefined): boolean {
  if (filter.port && primaryPort(listener) !== filter.port) return false
  if (addressLower !== undefined) {
    if (addressText(field(listener, 'address')).toLowerCase() === addressLower) return true
    return additionalAddresses(listener).some((address) => address.toLowerCase() === addressLower)
  }
  return true
}


/**
 * istioctl's comparator for `sort.Slice`: port, primary address, type. Listeners tie on all three
 * and print differently, so it is run with goSortSlice (istioctl filters first, then sorts).
 */
export function listenerSummaryLess(a: ListenerSummary, b: ListenerSummary): boolean {
  if (a.port !== b.port) return a.port < b.port
  if (a.address !== b.address) return a.address < b.address
  return a.type < b.type
}

export interface SelectedListeners {
  /** The matching listeners as found in the dump, in dump order (as istioctl's -o json). */
  listeners: Json[]
  /** Their summaries, in table order. */
  summaries: ListenerSummary[]
}

export function selectListeners(dump: ConfigDump, filter: ListenerFilter): SelectedListeners {
  const addressLower = filter.address ? filter.address.toLowerCase() : undefined
  const typeUpper = filter.type ? filter.type.toUpperCase() : undefined
  const listeners: Json[] = []
  const summaries: ListenerSummary[] = []
  for (const listener of collectListeners(dump)) {
    if (!matchesAddressAndPort(filter, listener, addressLower)) continue
    const summary = summarizeListener(listener)
    if (typeUpper !== undefined && summary.type !== typeUpper) continue
    listeners.push(listener)
    summaries.push(summary)
  }
  goSortSlice(summaries, listenerSummaryLess)
  return {listeners, summaries}
}
