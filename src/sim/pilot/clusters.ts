// CDS and EDS for one proxy, after pilot/pkg/networking/core/v1alpha3/cluster.go and
// cluster_builder.go (Istio 1.17): an outbound cluster per service port, one more per
// DestinationRule subset, the DR's traffic policy (TLS mode, outlier detection, connection pool)
// merged subset over DR, `istio.config` metadata naming the DR, and EDS from ready pods.
import type {EdsCluster} from '../envoy-config.js'
import type {IstioConfig, SimPod, SimService, SimServicePort} from '../model.js'
import {type PushContext, destinationRuleFor, envoyDuration, fqdn, labelsMatch, podsOfService, servicesOfPod, sidecarScope} from './context.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export const SDS = (name: string) => ({name, sds_config: {api_config_source: {api_type: 'GRPC', grpc_services: [{envoy_grpc: {cluster_name: 'sds-grpc'}}], set_node_on_first_message_only: true, transport_api_version: 'V3'}, initial_fetch_timeout: '0s', resource_api_version: 'V3'}})
const MAX = 4294967295
export const DEFAULT_CIRCUIT_BREAKERS = {thresholds: [{max_connections: MAX, max_pending_requests: MAX, max_requests: MAX, max_retries: MAX, track_remaining: true}]}

/** pilot/pkg/model/service.go BuildSubsetKey. */
export const subsetKey = (direction: 'outbound' | 'inbound', subset: string, host: string, port: number) => `${direction}|${port}|${subset}|${host}`

/** util.AddConfigInfoMetadata: `/apis/<group>/<version>/namespaces/<ns>/<kebab-kind>/<name>` (istiod stores v1alpha3). */
export function configPath(cfg: IstioConfig): string {
  const group = cfg.apiVersion.split('/')[0]
  const kebab = cfg.kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()
  return `/apis/${group}/v1alpha3/namespaces/${cfg.metadata.namespace}/${kebab}/${cfg.metadata.name}`
}

/**
 * cluster_builder.go applyTrafficPolicy: the DR's top-level policy, overridden by its
 * portLevelSettings for this port, then by the subset's own policy (MergeTrafficPolicy).
 */
export function trafficPolicyFor(dr: IstioConfig | undefined, port: number, subset?: J): J {
  const top = (dr?.spec.trafficPolicy as J | undefined) ?? {}
  const portLevel = (p: J) => ((p.portLevelSettings as J[] | undefined) ?? []).find((s) => s.port?.number === port) ?? {}
  const {portLevelSettings: _a, ...base} = top
  const merged: J = {...base, ...portLevel(top)}
  if (subset?.trafficPolicy) {
    const {portLevelSettings: _b, ...sub} = subset.trafficPolicy as J
    Object.assign(merged, sub, portLevel(subset.trafficPolicy as J))
  }
  return merged
}

/** cluster.go applyOutlierDetection (success-rate ejection off, enforcing 100 when errors are set). */
export function outlierDetection(o: J | undefined): J | undefined {
  if (!o) return undefined
  const out: J = {enforcing_success_rate: 0}
  const five = o.consecutive5xxErrors ?? o.consecutiveErrors
  if (five !== undefined) {
    out.consecutive_5xx = Number(five)
    out.enforcing_consecutive_5xx = Number(five) > 0 ? 100 : 0
  }
  if (o.consecutiveGatewayErrors !== undefined) {
    out.consecutive_gateway_failure = Number(o.consecutiveGatewayErrors)
    out.enforcing_consecutive_gateway_failure = Number(o.consecutiveGatewayErrors) > 0 ? 100 : 0
  }
  if (o.interval) out.interval = envoyDuration(o.interval)
  if (o.baseEjectionTime) out.base_ejection_time = envoyDuration(o.baseEjectionTime)
  if (o.maxEjectionPercent > 0) out.max_ejection_percent = Number(o.maxEjectionPercent)
  return out
}

/** cluster_builder.go applyConnectionPool: only the fields set replace the defaults. */
function circuitBreakers(pool: J | undefined): J {
  const t: J = {...DEFAULT_CIRCUIT_BREAKERS.thresholds[0]}
  if (pool?.tcp?.maxConnections) t.max_connections = pool.tcp.maxConnections
  if (pool?.http?.http1MaxPendingRequests) t.max_pending_requests = pool.http.http1MaxPendingRequests
  if (pool?.http?.http2MaxRequests) t.max_requests = pool.http.http2MaxRequests
  if (pool?.http?.maxRetries) t.max_retries = pool.http.maxRetries
  return {thresholds: [t]}
}

/**
 * cluster_builder.go buildUpstreamClusterTLSContext / applyUpstreamTLSSettings: no DR TLS means
 * auto mTLS (a `tlsMode-istio` match for endpoints labelled istio, plaintext otherwise);
 * ISTIO_MUTUAL forces Istio certs; DISABLE is plaintext; SIMPLE/MUTUAL originate TLS with the DR's SNI.
 */
function transport(tls: J | undefined, sni: string, svc: SimService): J {
  const istioContext = {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: {
    tls_params: {tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3'}, alpn_protocols: ['istio-peer-exchange', 'istio'],
    tls_certificate_sds_secret_configs: [SDS('default')],
    combined_validation_context: {default_validation_context: {match_subject_alt_names: [{exact: `spiffe://cluster.local/ns/${svc.namespace}/sa/default`}]}, validation_context_sds_secret_config: SDS('ROOTCA')}}, sni}
  const plaintext = {name: 'envoy.transport_sockets.raw_buffer', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer'}}
  switch (tls?.mode) {
    case 'DISABLE': return {}
    case 'ISTIO_MUTUAL': return {transport_socket: {name: 'envoy.transport_sockets.tls', typed_config: istioContext}}
    case 'SIMPLE': case 'MUTUAL':
      return {transport_socket: {name: 'envoy.transport_sockets.tls', typed_config: {'@type': istioContext['@type'], common_tls_context: {}, ...(tls.sni ? {sni: tls.sni} : {})}}}
    default:
      return {transport_socket_matches: [
        {name: 'tlsMode-istio', match: {tlsMode: 'istio'}, transport_socket: {name: 'envoy.transport_sockets.tls', typed_config: istioContext}},
        {name: 'tlsMode-disabled', match: {}, transport_socket: plaintext},
      ]}
  }
}

function outbound(svc: SimService, port: SimServicePort, dr: IstioConfig | undefined, subset: J | undefined): J {
  const name = subsetKey('outbound', subset?.name ?? '', fqdn(svc), port.port)
  const policy = trafficPolicyFor(dr, port.port, subset)
  const outlier = outlierDetection(policy.outlierDetection)
  const lb = policy.loadBalancer?.simple as string | undefined
  return {
    name,
    type: 'EDS',
    eds_cluster_config: {eds_config: {ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3'}, service_name: name},
    connect_timeout: envoyDuration(policy.connectionPool?.tcp?.connectTimeout) ?? '10s',
    lb_policy: lb === 'ROUND_ROBIN' ? 'ROUND_ROBIN' : lb === 'RANDOM' ? 'RANDOM' : 'LEAST_REQUEST',
    circuit_breakers: circuitBreakers(policy.connectionPool),
    ...(outlier ? {outlier_detection: outlier} : {}),
    common_lb_config: {locality_weighted_lb_config: {}, ...(outlier ? {healthy_panic_threshold: {}} : {})},
    metadata: {filter_metadata: {istio: {...(dr ? {config: configPath(dr)} : {}), ...(subset ? {subset: subset.name} : {}), services: [{host: fqdn(svc), name: svc.name, namespace: svc.namespace}]}}},
    filters: [{name: 'istio.metadata_exchange', typed_config: {'@type': 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', protocol: 'istio-peer-exchange'}}],
    ...transport(policy.tls, `outbound_.${port.port}_.${subset?.name ?? ''}_.${fqdn(svc)}`, svc),
  }
}

export interface ClusterSet {clusters: J[]; eds: EdsCluster[]}

/** Outbound clusters (and their EDS) for every service the proxy's Sidecar scope lets it see. */
export function outboundClusters(ctx: PushContext, proxy: SimPod): ClusterSet {
  const visible = sidecarScope(ctx, proxy)
  const clusters: J[] = []
  const eds: EdsCluster[] = []
  for (const svc of ctx.services) {
    if (!visible(svc)) continue
    const dr = destinationRuleFor(ctx, proxy.namespace, svc)
    for (const port of svc.ports) {
      const base = outbound(svc, port, dr, undefined)
      clusters.push(base)
      eds.push({name: base.name, serviceName: base.name, pods: podsOfService(ctx, svc), port: port.targetPort})
      for (const subset of (dr?.spec.subsets as J[] | undefined) ?? []) {
        const c = outbound(svc, port, dr, subset)
        clusters.push(c)
        eds.push({name: c.name, serviceName: c.name, pods: podsOfService(ctx, svc).filter((p) => labelsMatch(subset.labels, p.labels)), port: port.targetPort})
      }
    }
  }
  return {clusters, eds}
}

/** cluster_builder.go buildInboundClusterForPortOrUDS (1.17 names `inbound|<port>||`). */
export function inboundClusters(ctx: PushContext, pod: SimPod): J[] {
  const ports = pod.containers.filter((c) => c.name !== 'istio-proxy').flatMap((c) => c.ports ?? [])
  const services = servicesOfPod(ctx, pod).map((s) => ({host: fqdn(s), name: s.name, namespace: s.namespace}))
  return ports.map((p) => ({
    name: subsetKey('inbound', '', '', p.containerPort), type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED',
    upstream_bind_config: {source_address: {socket_address: {address: '127.0.0.6', port_value: 0}}}, circuit_breakers: DEFAULT_CIRCUIT_BREAKERS, cleanup_interval: '60s',
    metadata: {filter_metadata: {istio: {services}}},
  }))
}

/** cluster.go buildBlackHoleCluster / buildDefaultPassthroughCluster / InboundPassthroughClusterIpv4. */
export function specialClusters(sidecar: boolean): J[] {
  const protocolOptions = {'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {'@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', use_downstream_protocol_config: {http_protocol_options: {}, http2_protocol_options: {}}}}
  return [
    {name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '10s'},
    {name: 'PassthroughCluster', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', circuit_breakers: DEFAULT_CIRCUIT_BREAKERS, typed_extension_protocol_options: protocolOptions,
      filters: [{name: 'istio.metadata_exchange', typed_config: {'@type': 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', protocol: 'istio-peer-exchange'}}]},
    ...(sidecar ? [{name: 'InboundPassthroughClusterIpv4', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', upstream_bind_config: {source_address: {socket_address: {address: '127.0.0.6', port_value: 0}}}, circuit_breakers: DEFAULT_CIRCUIT_BREAKERS, typed_extension_protocol_options: protocolOptions}] : []),
  ]
}
