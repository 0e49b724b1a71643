import {usageError} from '../errors.js'
import {goSortSlice} from '../render/go-sort.js'
import {collectListeners, type ConfigDump} from './configdump.js'
import {arrayField, field, numberField, stringField, uint32Value, type Json} from './fields.js'
import {describeClusterTarget, formatInlineVirtualHosts, inlineVirtualHosts, joinedText, matchAllCluster, type InlineVirtualHost} from './route-match.js'

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

/**
 * A chain's `filter_chain_match`, as data (the MATCH column is chainMatchText of it). Source ranges,
 * source ports and address suffixes are left out, as istioctl leaves them out of the column.
 */
export interface ChainMatch {
  serverNames: string[]
  transportProtocol?: string
  applicationProtocols: string[]
  /** `address_prefix/prefix_len` (CIDR text). */
  prefixRanges: string[]
  destinationPort?: number
}

/**
 * Where a chain's first HTTP connection manager or TCP proxy sends traffic (the DESTINATION
 * column is chainDestinationText of it):
 * - `route`: an HTTP connection manager with RDS;
 * - `inline-route`: one with an inline route configuration (its virtual hosts and path matches);
 * - `cluster`: a TCP proxy's cluster, or an inline route configuration sending everything to one
 *   cluster (`""` for a TCP proxy naming neither a cluster nor weighted clusters);
 * - `weighted`: a TCP proxy's weighted clusters;
 * - `http` / `tcp`: an HTTP connection manager with neither / a TCP proxy without typed_config;
 * - `none`: neither filter (or only TCP proxies to BlackHoleCluster).
 */
export type ChainDestination =
  | {kind: 'route'; routeConfig: string}
  | {kind: 'inline-route'; virtualHosts: InlineVirtualHost[]}
  | {kind: 'cluster'; cluster: string}
  | {kind: 'weighted'; clusters: Array<{name: string; weight: number}>}
  | {kind: 'http'}
  | {kind: 'tcp'}
  | {kind: 'none'}

export interface ListenerChainSummary {
  /** The MATCH column's data: SNI, transport, ALPN and destination address/port of filter_chain_match. */
  match: ChainMatch
  /** The DESTINATION column's data. */
  destination: ChainDestination
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

const ALPN_DESCRIPTIONS = new Map<string, string>([
  [['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'].join('\n'), 'App: HTTP TLS'],
  [['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'].join('\n'), 'App: Istio HTTP Plain'],
  [['istio-peer-exchange', 'istio'].join('\n'), 'App: TCP TLS'],
  [['http/1.0', 'http/1.1', 'h2c'].join('\n'), 'App: HTTP'],
])

/** One filter chain's `filter_chain_match` (absent = match everything) as data. */
export function chainMatchData(match: Json): ChainMatch {
  const data: ChainMatch = {
    serverNames: arrayField(match, 'server_names').map(joinedText),
    applicationProtocols: arrayField(match, 'application_protocols').map(joinedText),
    prefixRanges: arrayField(match, 'prefix_ranges').map((range) => `${stringField(range, 'address_prefix')}/${uint32Value(field(range, 'prefix_len')) ?? 0}`),
  }
  const transport = stringField(match, 'transport_protocol')
  if (transport !== '') data.transportProtocol = transport
  const destinationPort = field(match, 'destination_port')
  if (destinationPort !== undefined && destinationPort !== null) data.destinationPort = uint32Value(destinationPort) ?? 0
  return data
}

/** The MATCH column, as istioctl prints it: `SNI: a,b; Trans: tls; App: HTTP; Addr: 10.0.0.0/8:80`, or `ALL`. */
export function chainMatchText(match: ChainMatch): string {
  const parts: string[] = []
  if (match.serverNames.length > 0) parts.push(`SNI: ${match.serverNames.join(',')}`)
  if (match.transportProtocol !== undefined) parts.push(`Trans: ${match.transportProtocol}`)
  const alpn = match.applicationProtocols
  if (alpn.length > 0) parts.push(ALPN_DESCRIPTIONS.get(alpn.join('\n')) ?? `App: ${alpn.join(',')}`)
  const port = match.destinationPort === undefined ? '' : `:${match.destinationPort}`
  if (match.prefixRanges.length > 0) parts.push(`Addr: ${match.prefixRanges.join(',')}${port}`)
  else if (port !== '') parts.push(`Addr: *${port}`)
  return parts.length > 0 ? parts.join('; ') : 'ALL'
}

/** The MATCH column for one filter chain's `filter_chain_match`. */
export function describeChainMatch(match: Json): string {
  return chainMatchText(chainMatchData(match))
}

/**
 * The DESTINATION column, as istioctl prints it. Decisions where istioctl is unhelpful: for a
 * TCP proxy's weighted_clusters it prints `Cluster: ` (the oneof it reads is unset), we print
 * `Weighted: <cluster>=<weight>, ...` so the split is visible; without typed_config it crashes,
 * we print `HTTP` / `TCP`.
 */
export function chainDestinationText(destination: ChainDestination): string {
  switch (destination.kind) {
    case 'route':
      return `Route: ${destination.routeConfig}`
    case 'inline-route':
      return formatInlineVirtualHosts(destination.virtualHosts)
    case 'cluster':
      return describeClusterTarget(destination.cluster)
    case 'weighted':
      return `Weighted: ${destination.clusters.map((entry) => `${entry.name}=${entry.weight}`).join(', ')}`
    case 'http':
      return 'HTTP'
    case 'tcp':
      return 'TCP'
    case 'none':
      return 'Non-HTTP/Non-TCP'
  }
}

/** An HTTP connection manager's destination: inline routes, else RDS, else `http` (also without typed_config, e.g. config_discovery). */
function httpConnectionManagerDestination(filter: Json): ChainDestination {
  const config = field(filter, 'typed_config')
  const inline = field(config, 'route_config')
  if (inline !== undefined && inline !== null) {
    const cluster = matchAllCluster(inline)
    return cluster === undefined ? {kind: 'inline-route', virtualHosts: inlineVirtualHosts(inline)} : {kind: 'cluster', cluster}
  }
  const rdsName = stringField(field(config, 'rds'), 'route_config_name')
  if (rdsName !== '') return {kind: 'route', routeConfig: rdsName}
  return {kind: 'http'}
}

/** A TCP proxy's destination: its cluster, else its weighted clusters, else the empty cluster istioctl shows as `Cluster: `. */
function tcpProxyDestination(filter: Json): ChainDestination {
  const config = field(filter, 'typed_config')
  if (config === undefined || config === null) return {kind: 'tcp'}
  const cluster = field(config, 'cluster')
  if (typeof cluster === 'string') return {kind: 'cluster', cluster}
  const weighted = field(config, 'weighted_clusters')
  if (weighted !== undefined && weighted !== null) {
    return {kind: 'weighted', clusters: arrayField(weighted, 'clusters').map((entry) => ({name: stringField(entry, 'name'), weight: numberField(entry, 'weight')}))}
  }
  return {kind: 'cluster', cluster: ''}
}

/** A chain with its DESTINATION text, rendered once for the sort rather than once per comparison. */
export interface ChainSortEntry {
  chain: ListenerChainSummary
  destinationText: string
}

/**
 * istioctl's filter-chain comparator for `sort.Slice`: DESTINATION text, descending. Chains with the
 * same destination tie (common: every inbound chain of a port) and land where Go's algorithm puts them.
 */
export const chainDestinationLess = (a: ChainSortEntry, b: ChainSortEntry): boolean => a.destinationText > b.destinationText

interface ChainAnalysis {
  type: ListenerType
  chains: ListenerChainSummary[]
}

/** One pass over the chains gives both the TYPE (counted over all filters) and each chain's row. */
function analyzeChains(listener: Json): ChainAnalysis {
  let httpFilters = 0
  let tcpFilters = 0
  const entries: ChainSortEntry[] = []
  for (const chain of listenerChains(listener)) {
    let destination: ChainDestination | undefined
    for (const filter of arrayField(chain, 'filters')) {
      const name = stringField(filter, 'name')
      if (name === HTTP_CONNECTION_MANAGER) {
        httpFilters++
        destination ??= httpConnectionManagerDestination(filter)
      } else if (name === TCP_PROXY && !sendsToBlackHole(filter)) {
        tcpFilters++
        destination ??= tcpProxyDestination(filter)
      }
    }
    const summary: ListenerChainSummary = {match: chainMatchData(field(chain, 'filter_chain_match')), destination: destination ?? {kind: 'none'}}
    entries.push({chain: summary, destinationText: chainDestinationText(summary.destination)})
  }
  const type: ListenerType = httpFilters > 0 ? (tcpFilters > 0 ? 'HTTP+TCP' : 'HTTP') : tcpFilters > 0 ? 'TCP' : 'UNKNOWN'
  goSortSlice(entries, chainDestinationLess)
  const chains = entries.map((entry) => entry.chain)
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
