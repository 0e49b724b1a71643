// A waypoint's xDS (ambient mode), after istio/istio 1.30.0 pilot/pkg/networking/core: waypoint.go
// (findWaypointResources, the resource names), listener_waypoint.go (buildWaypointInbound: the
// `connect_terminate`, `main_internal` and `connect_originate` listeners), cluster_waypoint.go
// (buildWaypointInboundClusters: `main_internal`, `encap`, `inbound-vip|<port>|<http|tcp>|<host>`,
// `connect_originate`) and cluster.go BuildClusters (case model.Waypoint: outbound clusters only for
// services the served services' routes point at; no BlackHole/Passthrough cluster, unlike sidecars
// and gateways, from 1.24 to 1.30). The single-network case only: no double HBONE, no east-west
// gateway, no ambient baggage (AMBIENT_ENABLE_BAGGAGE and AMBIENT_ENABLE_MULTI_NETWORK default off).
import type {EdsCluster, MeshView} from '../envoy-config.js'
import type {IstioConfig, SimPod, SimService, SimServicePort} from '../model.js'
import {isAmbientEnrolled} from '../ztunnel.js'
import {rbacFilters} from './authz.js'
import {DEFAULT_CIRCUIT_BREAKERS, SDS, configPath, outboundClusters} from './clusters.js'
import {type PushContext, destinationRuleFor, fqdn, labelsMatch, podsOfService, portProtocol, resolveHost, socket, virtualServicesFor} from './context.js'
import {extAuthzCluster} from './listeners.js'
import {virtualServiceRoutes} from './routes.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** waypoint.go constants. */
const CONNECT_TERMINATE = 'connect_terminate'
const MAIN_INTERNAL = 'main_internal'
const CONNECT_ORIGINATE = 'connect_originate'
const ENCAP = 'encap'
/** pilot/pkg/model/service.go TrafficDirectionInboundVIP, named by BuildSubsetKey. */
const inboundVip = (subset: string, host: string, port: number) => `inbound-vip|${port}|${subset}|${host}`

const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name'
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'
const TCP_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'
const ROUTER = {name: 'envoy.filters.http.router', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'}}
/** util.RawBufferTransport (internal_upstream.go): named raw_buffer, not Envoy's well-known name. */
const RAW_BUFFER = {name: 'raw_buffer', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer'}}
const INTERNAL_UPSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport'
const ORIGINAL_DST_KEY = 'envoy.filters.listener.original_dst'
const ORIGINAL_DST_FILTER = {name: 'envoy.filters.listener.original_dst', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst'}}
const HTTP_INSPECTOR_TYPE = 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector'
const STRING_VALUE = 'type.googleapis.com/google.protobuf.StringValue'
const PEER_METADATA = 'type.googleapis.com/io.istio.http.peer_metadata.Config'
/** cluster_waypoint.go passthroughHttpProtocolOptions (cluster_builder.go). */
const PASSTHROUGH_PROTOCOL_OPTIONS = {'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {'@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', use_downstream_protocol_config: {http_protocol_options: {}, http2_protocol_options: {}}}}

/** A waypoint runs `pilot-agent proxy waypoint` (istio-discovery/files/waypoint.yaml); istiod types it model.Waypoint. */
export function isWaypointProxy(pod: SimPod): boolean {
  return pod.containers.find((c) => c.name === 'istio-proxy')?.args?.[1] === 'waypoint'
}

/** Go's cmp.Compare on strings: byte order, not the locale's. */
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export interface WaypointResources {
  /** The Gateway this pod is an instance of (`gateway.networking.k8s.io/gateway-name`). */
  gateway: string
  /** ServicesForWaypoint, in SortServicesByCreationTime order (creation time, then name, then namespace). */
  services: SimService[]
  /** WorkloadsForWaypoint: enrolled pods bound to it when it serves workload traffic. */
  workloads: SimPod[]
}

/**
 * waypoint.go findWaypointResources, through the ambient index
 * (pilot/pkg/serviceregistry/kube/controller/ambient/waypoints.go): `istio.io/use-waypoint` on the
 * Service (or pod), else on its namespace, names a Gateway in that namespace; the Gateway's
 * `istio.io/waypoint-for` (default `service`) says whether services, workloads or both use it; the
 * waypoint's own Service never uses itself.
 */
export function findWaypointResources(ctx: PushContext, pod: SimPod): WaypointResources {
  const gateway = pod.labels[GATEWAY_NAME_LABEL] ?? ''
  const gw = ctx.gateways.find((g) => g.metadata.namespace === pod.namespace && g.metadata.name === gateway)
  const waypointFor = gw?.metadata.labels?.['istio.io/waypoint-for'] ?? 'service'
  const namespaceLabel = ctx.namespaces.find((n) => n.name === pod.namespace)?.labels['istio.io/use-waypoint']
  const usesThis = (labels: Record<string, string>) => (labels['istio.io/use-waypoint'] ?? namespaceLabel) === gateway
  const own = (svc: SimService) => svc.selector !== undefined && labelsMatch(svc.selector, pod.labels)
  const services = !gw || !['service', 'all'].includes(waypointFor) ? [] : ctx.services
    .filter((svc) => svc.namespace === pod.namespace && !own(svc) && usesThis(svc.labels))
    .sort((a, b) => Date.parse(a.creationTimestamp) - Date.parse(b.creationTimestamp) || byteOrder(a.name, b.name) || byteOrder(a.namespace, b.namespace))
  const workloads = !gw || !['workload', 'all'].includes(waypointFor) ? [] : ctx.pods
    .filter((p) => p.namespace === pod.namespace && p.phase === 'Running' && p.ip !== '' && isAmbientEnrolled(ctx, p) && usesThis(p.labels))
  return {gateway, services, workloads}
}

/** What a served port carries: `http` and/or `tcp` chains and clusters (unsupported = both, sniffed). */
function portKinds(port: SimServicePort): Array<'tcp' | 'http'> {
  const protocol = portProtocol(port)
  if (protocol === 'UNSUPPORTED') return ['tcp', 'http']
  return ['HTTP', 'HTTP2', 'GRPC'].includes(protocol) ? ['http'] : ['tcp']
}

/**
 * model.WorkloadPolicyMatcher.ShouldAttachPolicy for a waypoint: only policies with targetRef(s)
 * attach (selectors are ignored): the waypoint's Gateway, a served Service (for that Service's
 * chains), or the `istio-waypoint` GatewayClass from the root namespace.
 */
function attachedPolicies(ctx: PushContext, pod: SimPod, gateway: string, svc: SimService | undefined): IstioConfig[] {
  return ctx.configs.filter((c) => {
    if (c.kind !== 'AuthorizationPolicy') return false
    const refs = ((c.spec.targetRefs as J[] | undefined) ?? (c.spec.targetRef ? [c.spec.targetRef as J] : []))
    return refs.some((ref) => {
      if (ref.kind === 'Service' && svc) return ref.name === svc.name && c.metadata.namespace === svc.namespace
      if (ref.kind === 'GatewayClass') return c.metadata.namespace === ctx.rootNamespace && ref.name === 'istio-waypoint'
      return ref.kind === 'Gateway' && c.metadata.namespace === pod.namespace && (!ref.namespace || ref.namespace === pod.namespace) && ref.name === gateway
    })
  }).sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
}

/** listener_waypoint.go buildCommonConnectTLSContext: Istio certificates, ALPN h2, TLS 1.3 only, trust-domain SAN prefix. */
function connectTlsContext(ctx: PushContext): J {
  return {tls_params: {tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3'}, alpn_protocols: ['h2'],
    tls_certificate_sds_secret_configs: [SDS('default')],
    combined_validation_context: {default_validation_context: {match_typed_subject_alt_names: [{san_type: 'URI', matcher: {prefix: `spiffe://${ctx.trustDomain}/`}}]}, validation_context_sds_secret_config: SDS('ROOTCA')}}
}

/** listener_waypoint.go buildConnectTerminateListener + buildHCMConnectTerminateChain: HBONE in on 15008, CONNECT to main_internal. */
function connectTerminateListener(ctx: PushContext): J {
  return {name: CONNECT_TERMINATE, address: socket('0.0.0.0', 15008),
    filter_chains: [{name: 'default',
      transport_socket: {name: 'tls', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', common_tls_context: connectTlsContext(ctx), require_client_certificate: true}},
      filters: [{name: 'envoy.filters.network.http_connection_manager', typed_config: {'@type': HCM_TYPE, stat_prefix: CONNECT_TERMINATE,
        route_config: {name: 'default', virtual_hosts: [{name: 'default', domains: ['*'], routes: [{match: {connect_matcher: {}}, route: {cluster: MAIN_INTERNAL, upgrade_configs: [{upgrade_type: 'CONNECT', connect_config: {}}]}}]}]},
        // The peer metadata and CONNECT authority filters carry the tunnel's metadata to the inner streams.
        http_filters: [{name: 'waypoint_downstream_peer_metadata', typed_config: {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: PEER_METADATA, value: {downstream_discovery: [{workload_discovery: {}}], shared_with_upstream: true}}},
          {name: 'connect_authority', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config', on_request_headers: [
            {object_key: 'envoy.filters.listener.original_dst.local_ip', format_string: {text_format_source: {inline_string: '%REQ(:AUTHORITY)%'}}, shared_with_upstream: 'ONCE'},
            {object_key: 'io.istio.connect_authority', format_string: {text_format_source: {inline_string: '%REQ(:AUTHORITY)%'}}, shared_with_upstream: 'ONCE'}]}},
          ROUTER],
        set_current_client_cert_details: {subject: true, uri: true, dns: true}, use_remote_address: false, stream_idle_timeout: '0s',
        upgrade_configs: [{upgrade_type: 'CONNECT'}],
        http2_protocol_options: {allow_connect: true, max_concurrent_streams: 100, connection_keepalive: {interval: '10s', timeout: '20s'}}}}]}],
    // Few long-lived HBONE connections: exact balance keeps them off a single worker.
    connection_balance_config: {exact_balance: {}}}
}

/** httproute.go buildSidecarInboundHTTPRouteConfig + route.go BuildDefaultHTTPInboundRoute: one `inbound|http|<port>` host, no timeout. */
function defaultInboundRouteConfig(cluster: string, hostname: string, port: number): J {
  return {name: cluster, virtual_hosts: [{name: `inbound|http|${port}`, domains: ['*'], routes: [{match: {prefix: '/'},
    route: {cluster, timeout: '0s', retry_policy: {retry_on: 'reset-before-request', num_retries: 2}, max_stream_duration: {max_stream_duration: '0s', grpc_timeout_header_max: '0s'}},
    decorator: {operation: `${hostname}:${port}/*`}, name: 'default'}]}], validate_clusters: false}
}

/**
 * listener_waypoint.go getVirtualServiceForWaypoint: mesh-bound VirtualServices in the waypoint's or
 * the service's namespace whose hosts match the service.
 */
function virtualServicesOf(ctx: PushContext, pod: SimPod, svc: SimService): IstioConfig[] {
  return virtualServicesFor(ctx, 'mesh').filter((vs) => (vs.metadata.namespace === pod.namespace || vs.metadata.namespace === svc.namespace) &&
    ((vs.spec.hosts as string[] | undefined) ?? []).some((h) => hostMatches(resolveHost(h, vs.metadata.namespace), fqdn(svc))))
}

const hostMatches = (pattern: string, name: string) => pattern === name || pattern === '*' || (pattern.startsWith('*.') && name.endsWith(pattern.slice(1)))

/**
 * listener_waypoint.go getWaypointDestinationCluster + portToSubset: a destination the waypoint
 * serves is its `inbound-vip|<port>|<http|tcp>[/<subset>]|<host>` cluster, any other the outbound one.
 */
function waypointDestination(ctx: PushContext, served: SimService[], outbound: string): string {
  const m = /^outbound\|(\d+)\|([^|]*)\|(.+)$/.exec(outbound)
  if (!m) return outbound
  const [, port, subset, host] = m
  const svc = served.find((s) => fqdn(s) === host)
  if (!svc) return outbound
  const sp = svc.ports.find((p) => p.port === Number(port))
  const kind = sp === undefined || portKinds(sp).includes('http') ? 'http' : 'tcp'
  return inboundVip(subset ? `${kind}/${subset}` : kind, host, Number(port))
}

function remapClusters(route: J, map: (cluster: string) => string): J {
  if (!route.route) return route
  const action = {...route.route}
  if (action.cluster) action.cluster = map(action.cluster)
  if (action.weighted_clusters) action.weighted_clusters = {...action.weighted_clusters, clusters: action.weighted_clusters.clusters.map((c: J) => ({...c, name: map(c.name)}))}
  return {...route, route: action}
}

const isCatchAll = (r: J) => r.match?.prefix === '/' && !r.match.headers && !r.match.query_parameters

/**
 * listener_waypoint.go buildWaypointInboundHTTPRouteConfig + waypointInboundRoute: the matching
 * VirtualServices' HTTP routes (matches with sourceLabels dropped, nothing after a catch-all) in one
 * virtual host, else the default inbound route.
 */
function vipRouteConfig(ctx: PushContext, pod: SimPod, served: SimService[], svc: SimService, port: number, cluster: string): J {
  const routes: J[] = []
  for (const vs of virtualServicesOf(ctx, pod, svc)) {
    const http = ((vs.spec.http as J[] | undefined) ?? []).map((rule) => ({...rule, match: (rule.match as J[] | undefined)?.filter((m) => !m.sourceLabels)}))
      .filter((rule) => rule.match === undefined || rule.match.length > 0)
    const cut = http.findIndex((rule) => rule.match === undefined)
    const translated = virtualServiceRoutes(ctx, {...vs, spec: {...vs.spec, http: cut >= 0 ? http.slice(0, cut + 1) : http}}, port)
    const catchAll = translated.findIndex(isCatchAll)
    routes.push(...(catchAll >= 0 ? translated.slice(0, catchAll + 1) : translated).map((r) => remapClusters(r, (c) => waypointDestination(ctx, served, c))))
  }
  if (routes.length === 0) return defaultInboundRouteConfig(cluster, fqdn(svc), port)
  return {name: cluster, virtual_hosts: [{name: `inbound|http|${port}`, domains: ['*'], routes}], validate_clusters: false}
}

/**
 * listener_waypoint.go buildWaypointHTTPFilters / buildWaypointInboundHTTPFilters: the attached
 * policies' ext_authz and RBAC first, the common HCM filters, then the upstream peer metadata and
 * stats filters, the router last.
 */
function waypointHcm(ctx: PushContext, pod: SimPod, policies: IstioConfig[], statPrefix: string, routeConfig: J): J {
  return {name: 'envoy.filters.network.http_connection_manager', typed_config: {'@type': HCM_TYPE, stat_prefix: statPrefix, route_config: routeConfig,
    http_filters: [
      ...rbacFilters(ctx, pod, extAuthzCluster(ctx), policies),
      {name: 'envoy.filters.http.grpc_stats', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig', emit_filter_state: true, stats_for_all_methods: false}},
      {name: 'envoy.filters.http.fault', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault'}},
      {name: 'envoy.filters.http.cors', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors'}},
      {name: 'waypoint_upstream_peer_metadata', typed_config: {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: PEER_METADATA, value: {upstream_discovery: [{workload_discovery: {}}]}}},
      {name: 'istio.stats', typed_config: {'@type': 'type.googleapis.com/stats.PluginConfig'}},
      ROUTER,
    ],
    use_remote_address: false, upgrade_configs: [{upgrade_type: 'websocket'}], stream_idle_timeout: '0s', normalize_path: true, path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
    request_id_extension: {typed_config: {'@type': 'type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig', use_request_id_for_trace_sampling: true}}}}
}

/**
 * listener_waypoint.go getWaypointTCPRoutes: the first VirtualService TLS rule whose match names
 * exactly this host (or has no match), else the first TCP rule matching the port (or without match).
 */
function tcpRouteDestinations(ctx: PushContext, pod: SimPod, svc: SimService, port: number): {destinations: J[]; namespace: string} | undefined {
  const vss = virtualServicesOf(ctx, pod, svc)
  const portOk = (m: J) => m.port === undefined || Number(m.port) === port
  for (const vs of vss) {
    for (const rule of (vs.spec.tls as J[] | undefined) ?? []) {
      const matches = (rule.match as J[] | undefined) ?? []
      if (matches.length === 0 || matches.some((m) => (m.sniHosts as string[] | undefined)?.length === 1 && m.sniHosts[0] === fqdn(svc) && portOk(m))) return {destinations: (rule.route as J[] | undefined) ?? [], namespace: vs.metadata.namespace}
    }
  }
  for (const vs of vss) {
    for (const rule of (vs.spec.tcp as J[] | undefined) ?? []) {
      const matches = (rule.match as J[] | undefined) ?? []
      if (matches.length === 0 || matches.some(portOk)) return {destinations: (rule.route as J[] | undefined) ?? [], namespace: vs.metadata.namespace}
    }
  }
  return undefined
}

/**
 * listener_waypoint.go buildWaypointNetworkFilters: a TCP proxy to the chain's cluster, or to the
 * VirtualService TCP/TLS route's destination(s) (weighted when several; 0-weight ones dropped).
 */
function waypointTcpProxy(cluster: string, routes?: {route: {destinations: J[]; namespace: string} | undefined; served: SimService[]; ctx: PushContext; port: number}): J {
  const dests = routes?.route?.destinations ?? []
  // getWaypointDestinationCluster: the destination's port, else the service's only port, else the listener's.
  const target = (d: J) => {
    const host = resolveHost(String(d.destination?.host ?? ''), routes!.route!.namespace)
    const svc = routes!.ctx.services.find((s) => fqdn(s) === host)
    const port = d.destination?.port?.number ?? (svc?.ports.length === 1 ? svc.ports[0].port : routes!.port)
    return waypointDestination(routes!.ctx, routes!.served, `outbound|${port}|${d.destination?.subset ?? ''}|${host}`)
  }
  const specifier = dests.length === 1 ? {cluster: target(dests[0])}
    : dests.length > 1 ? {weighted_clusters: {clusters: dests.filter((d) => Number(d.weight) > 0).map((d) => ({name: target(d), weight: Number(d.weight)}))}}
      : {cluster}
  return {name: 'envoy.filters.network.tcp_proxy', typed_config: {'@type': TCP_TYPE, stat_prefix: cluster, ...specifier}}
}

/** xdsfilters.ConnectAuthorityNetworkFilter: the direct-to-pod chains read the CONNECT target. */
const CONNECT_AUTHORITY_NETWORK = {name: 'connect_authority', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config', on_new_connection: [
  {object_key: 'envoy.filters.listener.original_dst.local_ip', format_string: {text_format_source: {inline_string: '%FILTER_STATE(envoy.filters.listener.original_dst.local_ip:PLAIN)%'}}, shared_with_upstream: 'ONCE'}]}}

/** match.ToChain: a matcher action naming the filter chain. */
const toChain = (name: string) => ({action: {name, typed_config: {'@type': STRING_VALUE, value: name}}})
const input = (name: string, type: string) => ({name, typed_config: {'@type': `type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.${type}`}})

/**
 * listener_waypoint.go buildWaypointInternal: the internal listener behind connect_terminate. A
 * chain per served service port (named by its inbound-vip cluster; HTTP ports an HCM with inline
 * routes, TCP ports a TCP proxy, unknown protocols both behind the app-protocol matcher), then
 * `direct-tcp` / `direct-http` to `encap` for traffic addressed to a pod. The filter_chain_matcher
 * dispatches destination IP (each service's VIP, then the served workloads' IPs) and port.
 */
function mainInternalListener(ctx: PushContext, pod: SimPod, res: WaypointResources): J {
  const chains: J[] = []
  const rangeMatchers: J[] = []
  const portProtocols = new Map<number, 'tcp' | 'http' | 'sniff'>()
  for (const svc of res.services) {
    const policies = attachedPolicies(ctx, pod, res.gateway, svc)
    const byPort: J = {}
    for (const port of svc.ports.filter((p) => p.protocol !== 'UDP')) {
      const kinds = portKinds(port)
      const names = {tcp: inboundVip('tcp', fqdn(svc), port.port), http: inboundVip('http', fqdn(svc), port.port)}
      for (const kind of kinds) {
        chains.push(kind === 'http'
          ? {filters: [waypointHcm(ctx, pod, policies, names.http, vipRouteConfig(ctx, pod, res.services, svc, port.port, names.http))], name: names.http}
          : {filters: [waypointTcpProxy(names.tcp, {route: tcpRouteDestinations(ctx, pod, svc, port.port), served: res.services, ctx, port: port.port})], name: names.tcp})
      }
      byPort[String(port.port)] = kinds.length === 2
        ? {matcher: {matcher_tree: {input: input('application-protocol', 'ApplicationProtocolInput'), exact_match_map: {map: {"'h2c'": toChain(names.http), "'http/1.1'": toChain(names.http)}}}, on_no_match: toChain(names.tcp)}}
        : toChain(names[kinds[0]])
      const known = portProtocols.get(port.port)
      const now = kinds.length === 2 ? 'sniff' : kinds[0]
      portProtocols.set(port.port, known && known !== now ? 'sniff' : now)
    }
    if (Object.keys(byPort).length && svc.clusterIP && svc.clusterIP !== 'None') {
      rangeMatchers.push({ranges: [{address_prefix: svc.clusterIP, prefix_len: 32}], on_match: {matcher: {matcher_tree: {input: input('port', 'DestinationPortInput'), exact_match_map: {map: byPort}}}}})
    }
  }
  const direct = attachedPolicies(ctx, pod, res.gateway, undefined)
  chains.push({filters: [CONNECT_AUTHORITY_NETWORK, waypointTcpProxy(ENCAP)], name: 'direct-tcp'},
    {filters: [CONNECT_AUTHORITY_NETWORK, waypointHcm(ctx, pod, direct, ENCAP, defaultInboundRouteConfig(ENCAP, '', 0))], name: 'direct-http'})
  if (res.workloads.length) {
    rangeMatchers.push({ranges: res.workloads.map((w) => ({address_prefix: w.ip, prefix_len: 32})),
      on_match: {matcher: {matcher_tree: {input: input('application-protocol', 'ApplicationProtocolInput'), exact_match_map: {map: {"'h2c'": toChain('direct-http'), "'http/1.1'": toChain('direct-http')}}}, on_no_match: toChain('direct-tcp')}}})
  }
  // With served workloads any port may arrive, so the HTTP inspector stays on everywhere; otherwise
  // it is skipped on ports whose protocol is known (listenerPredicateExcludePorts).
  const known = res.workloads.length ? [] : [...portProtocols].filter(([, p]) => p !== 'sniff').map(([port]) => port).sort((a, b) => a - b)
  const ranges = known.map((p) => ({destination_port_range: {start: p, end: p + 1}}))
  const httpInspector = {name: 'envoy.filters.listener.http_inspector', typed_config: {'@type': HTTP_INSPECTOR_TYPE},
    ...(ranges.length ? {filter_disabled: ranges.length > 1 ? {or_match: {rules: ranges}} : ranges[0]} : {})}
  // The TLS inspector only when a served port is TLS, skipped on the ports that are never TLS.
  const tlsPorts = new Set(res.services.flatMap((s) => s.ports.filter((p) => portProtocol(p) === 'TLS').map((p) => p.port)))
  const nonTls = [...new Set(res.services.flatMap((s) => s.ports.map((p) => p.port)))].filter((p) => !tlsPorts.has(p)).sort((a, b) => a - b)
  const nonTlsRanges = nonTls.map((p) => ({destination_port_range: {start: p, end: p + 1}}))
  const tlsInspector = tlsPorts.size === 0 ? [] : [{name: 'envoy.filters.listener.tls_inspector', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector'},
    ...(nonTlsRanges.length ? {filter_disabled: nonTlsRanges.length > 1 ? {or_match: {rules: nonTlsRanges}} : nonTlsRanges[0]} : {})}]
  return {name: MAIN_INTERNAL, internal_listener: {}, listener_filters: [ORIGINAL_DST_FILTER, httpInspector, ...tlsInspector], traffic_direction: 'INBOUND', filter_chains: chains,
    filter_chain_matcher: {matcher_tree: {input: input('ip', 'DestinationIPInput'), custom_match: {name: 'ip', typed_config: {'@type': 'type.googleapis.com/xds.type.matcher.v3.IPMatcher', range_matchers: rangeMatchers}}}}}
}

/** listener_waypoint.go buildConnectForwarder (tunnel): re-encapsulates to the destination's ztunnel in HBONE. */
function connectOriginateListener(): J {
  return {name: CONNECT_ORIGINATE, use_original_dst: false, internal_listener: {}, listener_filters: [ORIGINAL_DST_FILTER],
    filter_chains: [{filters: [{name: 'envoy.filters.network.tcp_proxy', typed_config: {'@type': TCP_TYPE, stat_prefix: CONNECT_ORIGINATE, cluster: CONNECT_ORIGINATE, tunneling_config: {hostname: '%DOWNSTREAM_LOCAL_ADDRESS%'}}}]}]}
}

const internalEndpoint = (listener: string, id = '') => ({envoy_internal_address: {server_listener_name: listener, ...(id ? {endpoint_id: id} : {})}})

/** cluster_waypoint.go buildInternalUpstreamCluster: one STATIC endpoint, the internal listener. */
function internalUpstreamCluster(name: string, listener: string): J {
  return {name, type: 'STATIC', circuit_breakers: DEFAULT_CIRCUIT_BREAKERS,
    load_assignment: {cluster_name: name, endpoints: [{lb_endpoints: [{endpoint: {address: internalEndpoint(listener)}}]}]},
    transport_socket: {name: 'internal_upstream', typed_config: {'@type': INTERNAL_UPSTREAM, transport_socket: RAW_BUFFER}},
    typed_extension_protocol_options: PASSTHROUGH_PROTOCOL_OPTIONS, alt_stat_name: `${name};`}
}

/**
 * cluster_waypoint.go buildWaypointInboundVIPCluster: EDS over the service's endpoints (reached
 * through connect_originate), the DestinationRule's config metadata, the waypoint internal
 * upstream transport passing the original-destination and istio host metadata on.
 */
function inboundVipCluster(ctx: PushContext, pod: SimPod, svc: SimService, port: SimServicePort, subset: string, dr: IstioConfig | undefined): J {
  const name = inboundVip(subset, fqdn(svc), port.port)
  return {name, type: 'EDS', eds_cluster_config: {eds_config: {ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3'}, service_name: name},
    connect_timeout: '10s', lb_policy: 'LEAST_REQUEST', circuit_breakers: DEFAULT_CIRCUIT_BREAKERS, common_lb_config: {locality_weighted_lb_config: {}},
    metadata: {filter_metadata: {istio: {...(dr ? {config: configPath(dr)} : {}), ...(subset.includes('/') ? {subset: subset.split('/')[1]} : {}), services: [{host: fqdn(svc), name: svc.name, namespace: svc.namespace}]}}},
    transport_socket: {name: 'internal_upstream', typed_config: {'@type': INTERNAL_UPSTREAM, passthrough_metadata: [{kind: {host: {}}, name: ORIGINAL_DST_KEY}, {kind: {host: {}}, name: 'istio'}], transport_socket: RAW_BUFFER}}}
}

/** cluster_waypoint.go buildWaypointConnectOriginate: HBONE out to port 15008, peers of the waypoint's own namespace. */
function connectOriginateCluster(ctx: PushContext, pod: SimPod): J {
  const tls = connectTlsContext(ctx)
  tls.combined_validation_context.default_validation_context.match_typed_subject_alt_names.push({san_type: 'URI', matcher: {prefix: `spiffe://${ctx.trustDomain}/ns/${pod.namespace}/sa/`}})
  return {name: CONNECT_ORIGINATE, type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', cleanup_interval: '60s', circuit_breakers: DEFAULT_CIRCUIT_BREAKERS,
    typed_extension_protocol_options: {'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {'@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      common_http_protocol_options: {idle_timeout: '3600s'}, explicit_http_config: {http2_protocol_options: {allow_connect: true}}}},
    original_dst_lb_config: {upstream_port_override: 15008, metadata_key: {key: ORIGINAL_DST_KEY, path: [{key: 'waypoint'}]}},
    transport_socket: {name: 'tls', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: tls}},
    alt_stat_name: `${CONNECT_ORIGINATE};`}
}

/** The hosts the served services' VirtualServices route to that the waypoint does not serve (cluster.go filterWaypointOutboundServices). */
function referencedOutboundHosts(ctx: PushContext, pod: SimPod, served: SimService[]): Set<string> {
  const hosts = new Set<string>()
  for (const svc of served) {
    for (const vs of virtualServicesOf(ctx, pod, svc)) {
      for (const section of ['http', 'tcp', 'tls'] as const) {
        for (const rule of (vs.spec[section] as J[] | undefined) ?? []) {
          for (const d of (rule.route as J[] | undefined) ?? []) hosts.add(resolveHost(String(d.destination?.host ?? ''), vs.metadata.namespace))
        }
      }
    }
  }
  for (const svc of served) hosts.delete(fqdn(svc))
  return hosts
}

/** The waypoint's LDS, CDS and EDS (no RDS: every HTTP chain carries its routes inline). */
export function waypointConfig(ctx: PushContext, pod: SimPod): MeshView {
  const res = findWaypointResources(ctx, pod)
  const wanted = referencedOutboundHosts(ctx, pod, res.services)
  const outbound = outboundClusters(ctx, pod)
  const outboundNames = new Set(outbound.clusters.filter((c) => wanted.has(String(c.name).split('|')[3])).map((c) => c.name))
  const clusters: J[] = [...outbound.clusters.filter((c) => outboundNames.has(c.name)), internalUpstreamCluster(MAIN_INTERNAL, MAIN_INTERNAL), internalUpstreamCluster(ENCAP, CONNECT_ORIGINATE)]
  const eds: EdsCluster[] = outbound.eds.filter((e) => outboundNames.has(e.name))
  for (const svc of res.services) {
    const dr = destinationRuleFor(ctx, pod.namespace, svc)
    for (const port of svc.ports.filter((p) => p.protocol !== 'UDP')) {
      const subsets = [undefined, ...((dr?.spec.subsets as J[] | undefined) ?? [])]
      for (const subset of subsets) {
        for (const kind of portKinds(port)) {
          const c = inboundVipCluster(ctx, pod, svc, port, subset ? `${kind}/${subset.name}` : kind, dr)
          clusters.push(c)
          const pods = podsOfService(ctx, svc, subset?.labels as Record<string, string> | undefined)
          // endpoint_builder.go: enrolled (HBONE-capable) endpoints are tunnelled through connect_originate.
          eds.push({name: c.name, serviceName: c.name, pods, port: port.targetPort, tunnel: {listener: CONNECT_ORIGINATE, pods: pods.filter((p) => isAmbientEnrolled(ctx, p)).map((p) => `${p.namespace}/${p.name}`)}})
        }
      }
    }
  }
  clusters.push(connectOriginateCluster(ctx, pod))
  return {clusters, eds, listeners: [connectTerminateListener(ctx), mainInternalListener(ctx, pod, res), connectOriginateListener()], routes: []}
}
