// LDS for one proxy, after pilot/pkg/networking/core/v1alpha3/listener.go, listener_inbound.go,
// filterchain_options.go and gateway.go (Istio 1.17): virtualOutbound and virtualInbound for
// sidecars, inbound chains per port shaped by the effective PeerAuthentication mode, outbound
// `0.0.0.0_<port>` (HTTP, RDS `<port>`) and `<vip>_<port>` (TCP) listeners, and for routers one
// `0.0.0.0_<targetPort>` listener per Gateway server port with RDS `http.<port>`.
import type {SimPod, SimService} from '../model.js'
import {rbacFilters} from './authz.js'
import {type MtlsMode, type PushContext, fqdn, isHttp, labelsMatch, mtlsMode, servicesOfPod, sidecarScope, socket} from './context.js'
import {gatewayServers} from './routes.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const ADS = {ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3'}
const SDS = (name: string) => ({name, sds_config: {ads: {}, resource_api_version: 'V3'}})
/** filterchain_options.go mtlsHTTPALPNs / allIstioMtlsALPNs. */
const MTLS_HTTP_ALPNS = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2']
const ALL_MTLS_ALPNS = ['istio', 'istio-peer-exchange', ...MTLS_HTTP_ALPNS]

function downstreamTls(): J {
  return {name: 'envoy.transport_sockets.tls', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    common_tls_context: {tls_params: {tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3'}, alpn_protocols: ['h2', 'http/1.1'],
      tls_certificate_sds_secret_configs: [SDS('default')], combined_validation_context: {default_validation_context: {match_subject_alt_names: [{prefix: 'spiffe://cluster.local/'}]}, validation_context_sds_secret_config: SDS('ROOTCA')}},
    require_client_certificate: true}}
}

/** authn/v1beta1/policy_applier.go JwtFilter: the RequestAuthentications selecting the workload. */
export function jwtFilter(ctx: PushContext, pod: SimPod): J | undefined {
  const ras = ctx.configs.filter((c) => c.kind === 'RequestAuthentication' && (c.metadata.namespace === pod.namespace || c.metadata.namespace === ctx.rootNamespace) &&
    labelsMatch(((c.spec.selector as J | undefined)?.matchLabels ?? {}) as Record<string, string>, pod.labels))
  const rules = ras.flatMap((ra) => (ra.spec.jwtRules as J[] | undefined) ?? [])
  if (!rules.length) return undefined
  const providers: J = {}
  rules.forEach((r, i) => {
    providers[`origins-${i}`] = {issuer: r.issuer, ...(r.jwks ? {local_jwks: {inline_string: r.jwks}} : {remote_jwks: {http_uri: {uri: r.jwksUri, timeout: '5s'}}}), forward: r.forwardOriginalToken ?? false, payload_in_metadata: r.issuer}
  })
  return {name: 'envoy.filters.http.jwt_authn', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', providers,
    rules: [{match: {prefix: '/'}, requires: {requires_any: {requirements: [...Object.keys(providers).map((p) => ({provider_name: p})), {allow_missing: {}}]}}}], bypass_cors_preflight: true}}
}

/** MeshConfig extensionProviders[].envoyExtAuthzHttp: provider name to its service cluster. */
export function extAuthzCluster(ctx: PushContext): (provider: string) => string | undefined {
  return (provider) => {
    const p = ctx.extensionProviders[provider]
    return p ? `outbound|${p.port}||${p.service}` : undefined
  }
}

function httpFilters(ctx: PushContext, pod: SimPod): J[] {
  const jwt = jwtFilter(ctx, pod)
  return [...(jwt ? [jwt] : []), ...rbacFilters(ctx, pod, extAuthzCluster(ctx))]
}

/** listener_inbound.go + filterchain_options.go: the chains of one inbound port for a mode. */
export function inboundChains(ctx: PushContext, pod: SimPod, port: number, http: boolean, mode: MtlsMode): J[] {
  const cluster = `inbound|${port}||`
  const filters = (): J[] => (http
    ? [hcm(cluster, {route_config: {name: cluster, virtual_hosts: [{name: `inbound|http|${port}`, domains: ['*'], routes: [{name: 'default', match: {prefix: '/'}, route: {cluster, timeout: '0s', max_stream_duration: {max_stream_duration: '0s', grpc_timeout_header_max: '0s'}}, decorator: {operation: `${servicesOfPod(ctx, pod)[0] ? fqdn(servicesOfPod(ctx, pod)[0]) : pod.name}:${port}/*`}}]}], validate_clusters: false}}, httpFilters(ctx, pod), true)]
    : [tcpProxy(cluster)])
  const tls = {filter_chain_match: {destination_port: port, transport_protocol: 'tls', application_protocols: http ? MTLS_HTTP_ALPNS : ALL_MTLS_ALPNS}, filters: filters(), transport_socket: downstreamTls(), name: `0.0.0.0_${port}`}
  const plain = {filter_chain_match: {destination_port: port, transport_protocol: 'raw_buffer', ...(http ? {application_protocols: ['http/1.1', 'h2c']} : {})}, filters: filters(), name: `0.0.0.0_${port}`}
  if (mode === 'STRICT') return [tls]
  if (mode === 'DISABLE') return [plain]
  return [tls, plain]
}

function virtualInbound(ctx: PushContext, pod: SimPod): J {
  const ports = pod.containers.filter((c) => c.name !== 'istio-proxy').flatMap((c) => c.ports ?? [])
  const services = servicesOfPod(ctx, pod)
  const httpPort = (containerPort: number, name?: string) => {
    const sp = services.flatMap((s) => s.ports).find((p) => p.targetPort === containerPort || (p.targetPortName !== undefined && p.targetPortName === name))
    return sp ? isHttp(sp) : /^(http|http2|grpc)(-|$)/.test(name ?? '')
  }
  const passthroughMode = mtlsMode(ctx, pod, 0)
  const chains: J[] = [{filter_chain_match: {destination_port: 15006}, filters: [tcpProxy('BlackHoleCluster')], name: 'virtualInbound-blackhole'}]
  // Ports without a Service: the passthrough chains follow the workload's mode too.
  chains.push({filter_chain_match: {prefix_ranges: [{address_prefix: '0.0.0.0', prefix_len: 0}], transport_protocol: 'tls'}, filters: [tcpProxy('InboundPassthroughClusterIpv4')], transport_socket: downstreamTls(), name: 'virtualInbound'})
  if (passthroughMode !== 'STRICT') chains.push({filter_chain_match: {prefix_ranges: [{address_prefix: '0.0.0.0', prefix_len: 0}], transport_protocol: 'raw_buffer'}, filters: [tcpProxy('InboundPassthroughClusterIpv4')], name: 'virtualInbound-catchall-tcp'})
  for (const p of ports) chains.push(...inboundChains(ctx, pod, p.containerPort, httpPort(p.containerPort, p.name), mtlsMode(ctx, pod, p.containerPort)))
  return {name: 'virtualInbound', address: socket('0.0.0.0', 15006), traffic_direction: 'INBOUND',
    listener_filters: [{name: 'envoy.filters.listener.original_dst', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst'}}, {name: 'envoy.filters.listener.tls_inspector', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector'}}, {name: 'envoy.filters.listener.http_inspector', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector'}}],
    listener_filters_timeout: '0s', continue_on_listener_filters_timeout: true, filter_chains: chains}
}

export function sidecarListeners(ctx: PushContext, pod: SimPod, outbound: J[] = sidecarOutboundListeners(ctx, pod)): J[] {
  const listeners: J[] = [{name: 'virtualOutbound', address: socket('0.0.0.0', 15001), use_original_dst: true, traffic_direction: 'OUTBOUND',
    filter_chains: [
      {filter_chain_match: {destination_port: 15001}, filters: [{name: 'istio.stats', typed_config: {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/stats.PluginConfig', value: {}}}, tcpProxy('BlackHoleCluster')], name: 'virtualOutbound-blackhole'},
      {filters: [tcpProxy('PassthroughCluster')], name: 'virtualOutbound-catchall-tcp'},
    ]}, virtualInbound(ctx, pod)]
  return [...listeners, ...outbound]
}

/** The listeners a sidecar has for the services its SidecarScope sees (the same for every proxy of the scope). */
export function sidecarOutboundListeners(ctx: PushContext, pod: SimPod): J[] {
  const listeners: J[] = []
  const visible = sidecarScope(ctx, pod)
  const httpPorts = new Set<number>()
  for (const svc of ctx.services.filter(visible)) {
    for (const port of svc.ports) {
      if (isHttp(port)) httpPorts.add(port.port)
      else listeners.push(tcpListener(svc, port.port))
    }
  }
  for (const port of [...httpPorts].sort((a, b) => a - b)) {
    listeners.push({name: `0.0.0.0_${port}`, address: socket('0.0.0.0', port), traffic_direction: 'OUTBOUND', bind_to_port: false,
      filter_chains: [{filter_chain_match: {transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c']}, filters: [hcm(`outbound_0.0.0.0_${port}`, {rds: {config_source: ADS, route_config_name: String(port)}}, [], true)]}],
      default_filter_chain: {filters: [tcpProxy('PassthroughCluster')], name: 'PassthroughFilterChain'}})
  }
  return listeners
}

function tcpListener(svc: SimService, port: number): J {
  return {name: `${svc.clusterIP}_${port}`, address: socket(svc.clusterIP, port), traffic_direction: 'OUTBOUND', bind_to_port: false,
    filter_chains: [{filters: [tcpProxy(`outbound|${port}||${fqdn(svc)}`)]}]}
}

/** gateway.go buildGatewayListeners: one listener per bound container port. */
export function gatewayListeners(ctx: PushContext, pod: SimPod): J[] {
  const ports = [...new Set(gatewayServers(ctx, pod).map((s) => s.targetPort))].sort((a, b) => a - b)
  return ports.map((port) => ({name: `0.0.0.0_${port}`, address: socket('0.0.0.0', port),
    filter_chains: [{filters: [hcm(`outbound_0.0.0.0_${port}`, {rds: {config_source: ADS, route_config_name: `http.${port}`}}, httpFilters(ctx, pod), true)]}]}))
}

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'
const TCP_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'

function hcm(statPrefix: string, route: J, extraFilters: J[], accessLog: boolean): J {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': HCM_TYPE,
      stat_prefix: statPrefix,
      ...route,
      http_filters: [
        {name: 'istio.metadata_exchange', typed_config: {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/io.istio.http.peer_metadata.Config', value: {}}},
        ...extraFilters,
        {name: 'envoy.filters.http.grpc_stats', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig', emit_filter_state: true, stats_for_all_methods: false}},
        {name: 'envoy.filters.http.fault', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault'}},
        {name: 'envoy.filters.http.cors', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors'}},
        {name: 'istio.stats', typed_config: {'@type': 'type.googleapis.com/stats.PluginConfig'}},
        {name: 'envoy.filters.http.router', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'}},
      ],
      tracing: {client_sampling: {value: 100}, random_sampling: {value: 1}, overall_sampling: {value: 100}},
      ...(accessLog ? {access_log: [{name: 'envoy.access_loggers.file', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: '/dev/stdout', log_format: {text_format_source: {inline_string: '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n'}}}}]} : {}),
      use_remote_address: false,
      upgrade_configs: [{upgrade_type: 'websocket'}],
      stream_idle_timeout: '0s',
      normalize_path: true,
      request_id_extension: {typed_config: {'@type': 'type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig', use_request_id_for_trace_sampling: true}},
      path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
    },
  }
}

function tcpProxy(cluster: string, statPrefix = cluster): J {
  return {name: 'envoy.filters.network.tcp_proxy', typed_config: {'@type': TCP_TYPE, stat_prefix: statPrefix, cluster}}
}
