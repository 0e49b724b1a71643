// Builds an Envoy config dump (Envoy's own snake_case JSON) for a simulated proxy from the mesh model,
// the way istiod would have configured it: bootstrap, CDS, EDS, LDS, RDS, SDS.
import {proxyCertificates} from './mesh-ca.js'
import type {IstioConfig, Scenario, SimPod, SimService} from './model.js'
import {matchesLabels} from './selectors.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const ADMIN = 'type.googleapis.com/envoy.admin.v3.'
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'
const TCP_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'
const ADS = {ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3'}

/** Envoy version each Istio minor ships (the ones the scenarios use). */
export function envoyVersionFor(istioVersion: string): {major: number; minor: number; patch: number; sha: string} {
  const [, minor] = istioVersion.split('.').map(Number)
  const envoyMinor = minor >= 25 ? minor + 8 : minor + 8 // Istio 1.17 ships Envoy 1.25, 1.25 ships 1.33
  return {major: 1, minor: envoyMinor, patch: minor === 17 ? 11 : 2, sha: 'f0b9ba4b3b3a9e3e5d7d1a0c6a8f0f6a3d2b9e11'.slice(0, 40)}
}

export function serviceFqdn(s: SimService): string {
  return `${s.name}.${s.namespace}.svc.cluster.local`
}

function isHttpPort(p: {name?: string; port: number}): boolean {
  return /^(http|http2|grpc|grpc-web)(-|$)/.test(p.name ?? '') || (p.name === undefined && [80, 8080].includes(p.port))
}

export function tsAfter(scenario: Scenario, seconds: number): string {
  return new Date(Date.parse(scenario.now) - 3600_000 + seconds * 1000).toISOString()
}

export function socket(address: string, port: number): J {
  return {socket_address: {address, port_value: port}}
}

function istioMeta(pod: SimPod, scenario: Scenario): J {
  const p = pod.proxy!
  const workload = pod.owner?.kind === 'ReplicaSet' ? pod.owner.name.replace(/-[^-]+$/, '') : pod.name
  return {
    ANNOTATIONS: pod.annotations,
    APP_CONTAINERS: pod.containers.filter((c) => c.name !== 'istio-proxy').map((c) => c.name).join(','),
    CLUSTER_ID: scenario.clusterId,
    ENVOY_PROMETHEUS_PORT: 15090,
    ENVOY_STATUS_PORT: 15021,
    INSTANCE_IPS: pod.ip,
    INTERCEPTION_MODE: 'REDIRECT',
    ISTIO_PROXY_SHA: `istio-proxy:${envoyVersionFor(p.istioVersion).sha}`,
    ISTIO_VERSION: p.istioVersion,
    LABELS: pod.labels,
    MESH_ID: 'cluster.local',
    NAME: pod.name,
    NAMESPACE: pod.namespace,
    NODE_NAME: pod.nodeName,
    OWNER: `kubernetes://apis/apps/v1/namespaces/${pod.namespace}/deployments/${workload}`,
    PILOT_SAN: ['istiod.istio-system.svc'],
    POD_PORTS: JSON.stringify(pod.containers.flatMap((c) => c.ports ?? []).map((x) => ({...x, protocol: x.protocol ?? 'TCP'}))),
    PROXY_CONFIG: {binaryPath: '/usr/local/bin/envoy', concurrency: 2, configPath: './etc/istio/proxy', controlPlaneAuthPolicy: 'MUTUAL_TLS', discoveryAddress: 'istiod.istio-system.svc:15012', drainDuration: '45s', proxyAdminPort: p.adminPort, serviceCluster: 'istio-proxy', statNameLength: 189, statusPort: 15020, terminationDrainDuration: '5s'},
    SERVICE_ACCOUNT: pod.serviceAccount,
    WORKLOAD_NAME: workload,
  }
}

export function nodeId(pod: SimPod): string {
  return `${pod.proxy!.kind}~${pod.ip}~${pod.name}.${pod.namespace}~${pod.namespace}.svc.cluster.local`
}

export function bootstrapNode(pod: SimPod, scenario: Scenario): J {
  const v = envoyVersionFor(pod.proxy!.istioVersion)
  const workload = pod.owner?.kind === 'ReplicaSet' ? pod.owner.name.replace(/-[^-]+$/, '') : pod.name
  return {
    id: nodeId(pod),
    cluster: `${workload}.${pod.namespace}`,
    metadata: istioMeta(pod, scenario),
    locality: {},
    user_agent_name: 'envoy',
    user_agent_build_version: {version: {major_number: v.major, minor_number: v.minor, patch: v.patch}, metadata: {'build.type': 'RELEASE', 'revision.sha': v.sha, 'revision.status': 'Clean', 'ssl.version': 'BoringSSL'}},
  }
}

function staticListeners(): J[] {
  const inline = (name: string, port: number, prefix: string, cluster: string, statPrefix: string) => ({
    name,
    address: socket('0.0.0.0', port),
    filter_chains: [{filters: [{name: 'envoy.filters.network.http_connection_manager', typed_config: {'@type': HCM_TYPE, stat_prefix: statPrefix,
      route_config: {virtual_hosts: [{name: 'backend', domains: ['*'], routes: [{match: {prefix}, route: {cluster}}]}]},
      http_filters: [{name: 'envoy.filters.http.router', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'}}]}}]}],
  })
  // Envoy sorts nothing here; Istio's bootstrap lists prometheus first.
  return [inline('', 15090, '/stats/prometheus', 'prometheus_stats', 'stats'), inline('', 15021, '/healthz/ready', 'agent', 'agent')]
}

function staticClusters(pod: SimPod): J[] {
  const adminPort = pod.proxy!.adminPort
  const lb = (addr: J) => ({endpoints: [{lb_endpoints: [{endpoint: {address: addr}}]}]})
  return [
    {name: 'prometheus_stats', type: 'STATIC', connect_timeout: '0.250s', load_assignment: {cluster_name: 'prometheus_stats', ...lb(socket('127.0.0.1', adminPort))}},
    {name: 'agent', type: 'STATIC', connect_timeout: '0.250s', load_assignment: {cluster_name: 'agent', ...lb(socket('127.0.0.1', 15020))}},
    {name: 'sds-grpc', type: 'STATIC', connect_timeout: '1s', load_assignment: {cluster_name: 'sds-grpc', ...lb({pipe: {path: './var/run/secrets/workload-spiffe-uds/socket'}})}, typed_extension_protocol_options: {'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {'@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: {http2_protocol_options: {}}}}},
    {name: 'xds-grpc', type: 'STATIC', connect_timeout: '1s', load_assignment: {cluster_name: 'xds-grpc', ...lb({pipe: {path: './etc/istio/proxy/XDS'}})}, circuit_breakers: {thresholds: [{max_connections: 100000, max_pending_requests: 100000, max_requests: 100000}, {priority: 'HIGH', max_connections: 100000, max_pending_requests: 100000, max_requests: 100000}]}, upstream_connection_options: {tcp_keepalive: {keepalive_time: 300}}, max_requests_per_connection: 1, typed_extension_protocol_options: {'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {'@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: {http2_protocol_options: {}}}}},
    {name: 'zipkin', type: 'STRICT_DNS', connect_timeout: '1s', respect_dns_ttl: true, dns_lookup_family: 'V4_ONLY', load_assignment: {cluster_name: 'zipkin', ...lb(socket('zipkin.istio-system', 9411))}},
  ]
}

function bootstrap(pod: SimPod, scenario: Scenario): J {
  return {
    node: bootstrapNode(pod, scenario),
    static_resources: {listeners: staticListeners(), clusters: staticClusters(pod)},
    dynamic_resources: {lds_config: ADS, cds_config: ADS, ads_config: {api_type: 'GRPC', grpc_services: [{envoy_grpc: {cluster_name: 'xds-grpc'}}], set_node_on_first_message_only: true, transport_api_version: 'V3'}},
    stats_config: {use_all_default_tags: false, stats_matcher: {inclusion_list: {patterns: [{prefix: 'reporter='}, {prefix: 'cluster_manager'}, {prefix: 'listener_manager'}, {prefix: 'server'}, {prefix: 'cluster.xds-grpc'}, {prefix: 'wasm'}, {suffix: 'rbac.allowed'}, {suffix: 'rbac.denied'}, {prefix: 'component'}, {prefix: 'istio'}]}}},
    admin: {address: socket('127.0.0.1', pod.proxy!.adminPort), profile_path: '/var/lib/istio/data/envoy.prof'},
    tracing: {http: {name: 'envoy.tracers.zipkin', typed_config: {'@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig', collector_cluster: 'zipkin', collector_endpoint: '/api/v2/spans', trace_id_128bit: true, shared_span_context: false, collector_endpoint_version: 'HTTP_JSON'}}},
    layered_runtime: {layers: [{name: 'global config', static_layer: {'envoy.deprecated_features:envoy.config.listener.v3.Listener.hidden_envoy_deprecated_use_original_dst': 'true', 're2.max_program_size.error_level': '32768', 'overload.global_downstream_max_connections': '2147483647'}}, {name: 'admin', admin_layer: {}}]},
  }
}

// ---------- mesh-derived helpers -------------------------------------------------------------

function istioPath(cfg: IstioConfig, kind: string): string {
  return `/apis/networking.istio.io/v1alpha3/namespaces/${cfg.metadata.namespace}/${kind}/${cfg.metadata.name}`
}

function destinationRuleFor(scenario: Scenario, host: string): IstioConfig | undefined {
  return scenario.istioConfigs.find((c) => c.kind === 'DestinationRule' && c.spec.host === host)
}

function podsOf(scenario: Scenario, svc: SimService, extra?: Record<string, string>): SimPod[] {
  if (!svc.selector) return []
  return scenario.pods.filter((p) => p.namespace === svc.namespace && p.phase === 'Running' && p.ip !== '' &&
    Object.entries({...svc.selector, ...extra}).every(([k, v]) => p.labels[k] === v))
}

export interface EdsCluster {name: string; serviceName: string; pods: SimPod[]; port: number}

export interface MeshView {
  clusters: J[]
  eds: EdsCluster[]
  listeners: J[]
  routes: J[]
}

function outboundCluster(name: string, svc: SimService, dr: IstioConfig | undefined): J {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: {eds_config: ADS, service_name: name},
    connect_timeout: '10s',
    lb_policy: 'LEAST_REQUEST',
    circuit_breakers: {thresholds: [{max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true}]},
    common_lb_config: {locality_weighted_lb_config: {}},
    metadata: {filter_metadata: {istio: {...(dr ? {config: istioPath(dr, 'destination-rule')} : {}), services: [{host: serviceFqdn(svc), name: svc.name, namespace: svc.namespace}]}}},
    filters: [{name: 'istio.metadata_exchange', typed_config: {'@type': 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', protocol: 'istio-peer-exchange'}}],
    transport_socket_matches: [
      {name: 'tlsMode-istio', match: {tlsMode: 'istio'}, transport_socket: {name: 'envoy.transport_sockets.tls', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: {tls_params: {tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3'}, alpn_protocols: ['istio-peer-exchange', 'istio'], tls_certificate_sds_secret_configs: [{name: 'default', sds_config: {api_config_source: {api_type: 'GRPC', grpc_services: [{envoy_grpc: {cluster_name: 'sds-grpc'}}], set_node_on_first_message_only: true, transport_api_version: 'V3'}, initial_fetch_timeout: '0s', resource_api_version: 'V3'}}], combined_validation_context: {default_validation_context: {match_subject_alt_names: [{exact: `spiffe://cluster.local/ns/${svc.namespace}/sa/default`}]}, validation_context_sds_secret_config: {name: 'ROOTCA', sds_config: {api_config_source: {api_type: 'GRPC', grpc_services: [{envoy_grpc: {cluster_name: 'sds-grpc'}}], set_node_on_first_message_only: true, transport_api_version: 'V3'}, initial_fetch_timeout: '0s', resource_api_version: 'V3'}}}}, sni: `outbound_.${name.split('|')[1]}_.${name.split('|')[2]}_.${serviceFqdn(svc)}`}}},
      {name: 'tlsMode-disabled', match: {}, transport_socket: {name: 'envoy.transport_sockets.raw_buffer', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer'}}},
    ],
  }
}

function rbacFilters(pod: SimPod, scenario: Scenario): J[] {
  const policies = scenario.istioConfigs.filter((c) => c.kind === 'AuthorizationPolicy' &&
    (c.metadata.namespace === pod.namespace || c.metadata.namespace === scenario.meshConfig.rootNamespace) &&
    matchesLabels(Object.entries(((c.spec.selector as J | undefined)?.matchLabels ?? {}) as Record<string, string>).map(([key, value]) => ({key, op: 'eq', value})), pod.labels))
  const byAction = new Map<string, J>()
  for (const ap of policies) {
    const action = (ap.spec.action as string | undefined) ?? 'ALLOW'
    if (action === 'AUDIT') continue
    const rules = (ap.spec.rules as J[] | undefined) ?? []
    const entry = byAction.get(action) ?? {}
    rules.forEach((rule, i) => {
      const paths: string[] = rule.to?.flatMap((t: J) => t.operation?.paths ?? []) ?? []
      const methods: string[] = rule.to?.flatMap((t: J) => t.operation?.methods ?? []) ?? []
      const principals: string[] = rule.from?.flatMap((f: J) => f.source?.principals ?? []) ?? []
      const notReq: string[] = rule.from?.flatMap((f: J) => f.source?.notRequestPrincipals ?? []) ?? []
      const permRules: J[] = []
      if (paths.length) permRules.push({or_rules: {rules: paths.map((p) => ({url_path: {path: p.endsWith('*') ? {prefix: p.slice(0, -1)} : {exact: p}}}))}})
      if (methods.length) permRules.push({or_rules: {rules: methods.map((m) => ({header: {name: ':method', string_match: {exact: m}}}))}})
      const idRules: J[] = []
      if (principals.length) idRules.push({or_ids: {ids: principals.map((p) => ({authenticated: {principal_name: {exact: `spiffe://${p}`}}}))}})
      if (notReq.length) idRules.push({not_id: {or_ids: {ids: notReq.map(() => ({metadata: {filter: 'istio_authn', path: [{key: 'request.auth.principal'}], value: {string_match: {safe_regex: {regex: '.+'}}}}}))}}})
      const key = `ns[${ap.metadata.namespace}]-policy[${ap.metadata.name}]-rule[${i}]`
      entry[key] = {permissions: [permRules.length ? {and_rules: {rules: permRules}} : {any: true}], principals: [idRules.length ? {and_ids: {ids: idRules}} : {any: true}]}
    })
    if (rules.length === 0 && action === 'ALLOW') entry.__denyAll = true
    byAction.set(action, entry)
  }
  const filters: J[] = []
  for (const action of ['DENY', 'ALLOW']) {
    const entry = byAction.get(action)
    if (!entry) continue
    delete entry.__denyAll
    filters.push({name: 'envoy.filters.http.rbac', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
      rules: {...(action === 'DENY' ? {action: 'DENY'} : {}), policies: entry},
      shadow_rules_stat_prefix: action === 'DENY' ? 'istio_dry_run_deny_' : 'istio_dry_run_allow_'}})
  }
  return filters
}

export function hcm(statPrefix: string, route: J, extraFilters: J[], accessLog: boolean): J {
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

export function tcpProxy(cluster: string, statPrefix = cluster): J {
  return {name: 'envoy.filters.network.tcp_proxy', typed_config: {'@type': TCP_TYPE, stat_prefix: statPrefix, cluster}}
}

const SVC_DOMAINS = (svc: SimService, fromNs: string): string[] => {
  const fqdn = serviceFqdn(svc)
  const same = svc.namespace === fromNs
  return [fqdn, ...(same ? [svc.name] : []), `${svc.name}.${svc.namespace}.svc`, `${svc.name}.${svc.namespace}`, svc.clusterIP]
}

const viewCache = new WeakMap<SimPod, MeshView>()

function meshView(pod: SimPod, scenario: Scenario, source: 'envoy' | 'istiod' = 'envoy'): MeshView {
  if (scenario.xds) return (source === 'istiod' ? scenario.xds.istiodView(pod) : scenario.xds.envoyView(pod)) ?? {clusters: [], eds: [], listeners: [], routes: []}
  if (!scenario.cacheDumps) return buildMeshView(pod, scenario)
  let view = viewCache.get(pod)
  if (!view) {
    view = buildMeshView(pod, scenario)
    viewCache.set(pod, view)
  }
  return view
}

function buildMeshView(pod: SimPod, scenario: Scenario): MeshView {
  const clusters: J[] = []
  const eds: EdsCluster[] = []
  const listeners: J[] = []
  const routes: J[] = []
  const proxy = pod.proxy!
  const accessLog = true
  const services = scenario.services.filter((s) => s.name !== 'kubernetes' || s.namespace === 'default')

  clusters.push({name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '10s'})
  clusters.push({name: 'PassthroughCluster', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', circuit_breakers: {thresholds: [{max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true}]}, typed_extension_protocol_options: {'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {'@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', use_downstream_protocol_config: {http_protocol_options: {}, http2_protocol_options: {}}}}, filters: [{name: 'istio.metadata_exchange', typed_config: {'@type': 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', protocol: 'istio-peer-exchange'}}]})

  for (const svc of services) {
    const dr = destinationRuleFor(scenario, serviceFqdn(svc))
    for (const port of svc.ports) {
      const base = `outbound|${port.port}||${serviceFqdn(svc)}`
      clusters.push(outboundCluster(base, svc, dr))
      eds.push({name: base, serviceName: base, pods: podsOf(scenario, svc), port: port.targetPort})
      for (const subset of ((dr?.spec.subsets as Array<{name: string; labels?: Record<string, string>}> | undefined) ?? [])) {
        const name = `outbound|${port.port}|${subset.name}|${serviceFqdn(svc)}`
        clusters.push(outboundCluster(name, svc, dr))
        eds.push({name, serviceName: name, pods: podsOf(scenario, svc, subset.labels), port: port.targetPort})
      }
    }
  }

  if (proxy.kind === 'sidecar') {
    clusters.push({name: 'InboundPassthroughClusterIpv4', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', upstream_bind_config: {source_address: socket('127.0.0.6', 0)}, circuit_breakers: {thresholds: [{max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true}]}, typed_extension_protocol_options: {'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {'@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', use_downstream_protocol_config: {http_protocol_options: {}, http2_protocol_options: {}}}}})
    const inboundPorts = pod.containers.filter((c) => c.name !== 'istio-proxy').flatMap((c) => c.ports ?? [])
    for (const p of inboundPorts) {
      clusters.push({name: `inbound|${p.containerPort}||`, type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED', upstream_bind_config: {source_address: socket('127.0.0.6', 0)},
        circuit_breakers: {thresholds: [{max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true}]},
        cleanup_interval: '60s', metadata: {filter_metadata: {istio: {services: scenario.services.filter((s) => s.namespace === pod.namespace && s.selector && Object.entries(s.selector).every(([k, v]) => pod.labels[k] === v)).map((s) => ({host: serviceFqdn(s), name: s.name, namespace: s.namespace}))}}}})
    }

    // virtualOutbound: capture everything, blackhole the capture port itself.
    listeners.push({name: 'virtualOutbound', address: socket('0.0.0.0', 15001), use_original_dst: true, traffic_direction: 'OUTBOUND',
      filter_chains: [
        {filter_chain_match: {destination_port: 15001}, filters: [{name: 'istio.stats', typed_config: {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/stats.PluginConfig', value: {}}}, tcpProxy('BlackHoleCluster')], name: 'virtualOutbound-blackhole'},
        {filters: [tcpProxy('PassthroughCluster')], name: 'virtualOutbound-catchall-tcp'},
      ]})

    // virtualInbound: mTLS chains per port (mesh-wide STRICT), plus passthrough.
    const rbac = rbacFilters(pod, scenario)
    const tlsContext = {name: 'envoy.transport_sockets.tls', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', common_tls_context: {tls_params: {tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3'}, alpn_protocols: ['h2', 'http/1.1'], tls_certificate_sds_secret_configs: [{name: 'default', sds_config: {ads: {}, resource_api_version: 'V3'}}], combined_validation_context: {default_validation_context: {match_subject_alt_names: [{prefix: 'spiffe://cluster.local/'}]}, validation_context_sds_secret_config: {name: 'ROOTCA', sds_config: {ads: {}, resource_api_version: 'V3'}}}}, require_client_certificate: true}}
    const chains: J[] = [
      {filter_chain_match: {destination_port: 15006}, filters: [tcpProxy('BlackHoleCluster')], name: 'virtualInbound-blackhole'},
      {filter_chain_match: {prefix_ranges: [{address_prefix: '0.0.0.0', prefix_len: 0}], transport_protocol: 'tls'}, filters: [tcpProxy('InboundPassthroughClusterIpv4')], transport_socket: tlsContext, name: 'virtualInbound'},
    ]
    for (const p of inboundPorts) {
      const cluster = `inbound|${p.containerPort}||`
      chains.push({
        filter_chain_match: {destination_port: p.containerPort, transport_protocol: 'tls', application_protocols: ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']},
        filters: [hcm(cluster, {route_config: {name: cluster, virtual_hosts: [{name: `inbound|http|${p.containerPort}`, domains: ['*'], routes: [{name: 'default', match: {prefix: '/'}, route: {cluster, timeout: '0s', max_stream_duration: {max_stream_duration: '0s', grpc_timeout_header_max: '0s'}}, decorator: {operation: `${pod.labels.app ?? pod.name}.${pod.namespace}.svc.cluster.local:${p.containerPort}/*`}}]}], validate_clusters: false}}, rbac, accessLog)],
        transport_socket: tlsContext,
        name: `0.0.0.0_${p.containerPort}`,
      })
    }
    listeners.push({name: 'virtualInbound', address: socket('0.0.0.0', 15006), traffic_direction: 'INBOUND', listener_filters: [{name: 'envoy.filters.listener.original_dst', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst'}}, {name: 'envoy.filters.listener.tls_inspector', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector'}}, {name: 'envoy.filters.listener.http_inspector', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector'}}], listener_filters_timeout: '0s', continue_on_listener_filters_timeout: true, filter_chains: chains})

    // Outbound listeners per service port: HTTP ports share 0.0.0.0_<port> with RDS <port>.
    const httpPorts = new Map<number, SimService[]>()
    for (const svc of services) {
      for (const port of svc.ports) {
        if (isHttpPort(port)) {
          httpPorts.set(port.port, [...(httpPorts.get(port.port) ?? []), svc])
        } else {
          const cluster = `outbound|${port.port}||${serviceFqdn(svc)}`
          listeners.push({name: `${svc.clusterIP}_${port.port}`, address: socket(svc.clusterIP, port.port), traffic_direction: 'OUTBOUND', bind_to_port: false,
            filter_chains: [{filters: [tcpProxy(cluster)]}]})
        }
      }
    }
    for (const [port, svcs] of [...httpPorts].sort((a, b) => a[0] - b[0])) {
      listeners.push({name: `0.0.0.0_${port}`, address: socket('0.0.0.0', port), traffic_direction: 'OUTBOUND', bind_to_port: false,
        filter_chains: [{filter_chain_match: {transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c']}, filters: [hcm(`outbound_0.0.0.0_${port}`, {rds: {config_source: ADS, route_config_name: String(port)}}, [], accessLog)]}],
        default_filter_chain: {filters: [tcpProxy('PassthroughCluster')], name: 'PassthroughFilterChain'}})
      routes.push({name: String(port), virtual_hosts: [
        ...svcs.map((svc) => ({name: `${serviceFqdn(svc)}:${port}`, domains: SVC_DOMAINS(svc, pod.namespace), routes: [{name: 'default', match: {prefix: '/'}, route: {cluster: `outbound|${port}||${serviceFqdn(svc)}`, timeout: '0s', retry_policy: {retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', num_retries: 2, retry_host_predicate: [{name: 'envoy.retry_host_predicates.previous_hosts', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate'}}], host_selection_retry_max_attempts: '5', retriable_status_codes: [503]}, max_stream_duration: {max_stream_duration: '0s', grpc_timeout_header_max: '0s'}}, decorator: {operation: `${serviceFqdn(svc)}:${port}/*`}}], include_request_attempt_count: true})),
        {name: 'allow_any', domains: ['*'], routes: [{name: 'allow_any', match: {prefix: '/'}, route: {cluster: 'PassthroughCluster', timeout: '0s', max_grpc_timeout: '0s'}}], include_request_attempt_count: true},
      ], validate_clusters: false, max_direct_response_body_size_bytes: 1048576, ignore_port_in_host_matching: true})
    }
  } else {
    // Router: listeners come from the Gateways that select this pod.
    const gwService = scenario.services.find((s) => s.namespace === pod.namespace && s.selector && Object.entries(s.selector).every(([k, v]) => pod.labels[k] === v))
    const gateways = scenario.istioConfigs.filter((c) => c.kind === 'Gateway' && Object.entries((c.spec.selector ?? {}) as Record<string, string>).every(([k, v]) => pod.labels[k] === v))
    const byPort = new Map<number, Array<{gw: IstioConfig; hosts: string[]}>>()
    for (const gw of gateways) {
      for (const server of (gw.spec.servers as J[] | undefined) ?? []) {
        const svcPort = gwService?.ports.find((p) => p.port === server.port.number)
        const target = svcPort?.targetPort ?? server.port.number
        byPort.set(target, [...(byPort.get(target) ?? []), {gw, hosts: server.hosts}])
      }
    }
    const rbac = rbacFilters(pod, scenario)
    for (const [port, servers] of [...byPort].sort((a, b) => a[0] - b[0])) {
      const routeName = `http.${port}`
      listeners.push({name: `0.0.0.0_${port}`, address: socket('0.0.0.0', port), filter_chains: [{filters: [hcm(`outbound_0.0.0.0_${port}`, {rds: {config_source: ADS, route_config_name: routeName}}, [{name: 'envoy.filters.http.jwt_authn', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', providers: {'origins-0': {issuer: 'auth@istioinaction.io', local_jwks: {inline_string: '{"keys":[]}'}, forward: true, payload_in_metadata: 'auth@istioinaction.io'}}, rules: [{match: {prefix: '/'}, requires: {requires_any: {requirements: [{provider_name: 'origins-0'}, {allow_missing: {}}]}}}], bypass_cors_preflight: true}}, ...rbac], accessLog)]}]})
      const vhosts: J[] = []
      for (const {gw, hosts} of servers) {
        for (const host of hosts) {
          const vs = scenario.istioConfigs.find((c) => c.kind === 'VirtualService' && ((c.spec.hosts as string[]) ?? []).includes(host) &&
            ((c.spec.gateways as string[] | undefined) ?? []).some((g) => g === gw.metadata.name || g === `${gw.metadata.namespace}/${gw.metadata.name}`))
          const svcPort = gwService?.ports.find((p) => p.targetPort === port)?.port ?? port
          const routesOf = (): J[] => {
            if (!vs) return []
            return ((vs.spec.http as J[] | undefined) ?? []).map((http) => {
              const dests: J[] = http.route ?? []
              const clusterOf = (d: J) => `outbound|${d.destination.port?.number ?? 80}|${d.destination.subset ?? ''}|${d.destination.host.includes('.') ? d.destination.host : `${d.destination.host}.${vs.metadata.namespace}.svc.cluster.local`}`
              const action: J = dests.length > 1
                ? {weighted_clusters: {clusters: dests.map((d) => ({name: clusterOf(d), weight: d.weight ?? 0}))}, timeout: http.timeout ?? '0s'}
                : {cluster: clusterOf(dests[0]), timeout: http.timeout ?? '0s'}
              return {
                match: {prefix: '/', case_sensitive: true},
                route: {...action, retry_policy: {retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', num_retries: 2, retry_host_predicate: [{name: 'envoy.retry_host_predicates.previous_hosts', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate'}}], host_selection_retry_max_attempts: '5', retriable_status_codes: [503]}, max_stream_duration: {max_stream_duration: '0s', grpc_timeout_header_max: '0s'}},
                metadata: {filter_metadata: {istio: {config: istioPath(vs, 'virtual-service')}}},
                decorator: {operation: `${dests[0].destination.host.split('.')[0]}.${vs.metadata.namespace}.svc.cluster.local:${dests[0].destination.port?.number ?? 80}/*`},
              }
            })
          }
          vhosts.push({name: `${host}:${svcPort}`, domains: [host, `${host}:*`], routes: routesOf(), include_request_attempt_count: true})
        }
      }
      routes.push({name: routeName, virtual_hosts: vhosts, validate_clusters: false, max_direct_response_body_size_bytes: 1048576, ignore_port_in_host_matching: true})
    }
  }
  return {clusters, eds, listeners, routes}
}

/** The `/config_dump` object (with `include_eds` when asked). */
export function buildConfigDump(pod: SimPod, scenario: Scenario, includeEds: boolean, source: 'envoy' | 'istiod' = 'envoy'): J {
  const view = meshView(pod, scenario, source)
  const t = (n: number) => tsAfter(scenario, n)
  // A live mesh stamps each type with the push Envoy accepted (version_info, last_updated).
  const acked = scenario.xds?.versions(pod)?.envoy
  const versionOf = (type: 'cds' | 'lds' | 'rds') => acked?.[type]?.version ?? (scenario.xds ? '' : t(120))
  const updatedAt = (type: 'cds' | 'lds' | 'rds', fixed: number) => acked?.[type]?.at ?? t(fixed)
  const certificates = proxyCertificates(pod, scenario)
  const configs: J[] = [
    {'@type': `${ADMIN}BootstrapConfigDump`, bootstrap: bootstrap(pod, scenario), last_updated: t(1.234)},
    {'@type': `${ADMIN}ClustersConfigDump`, version_info: versionOf('cds'),
      static_clusters: staticClusters(pod).map((cluster) => ({cluster: {'@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...cluster}, last_updated: t(1.3)})),
      dynamic_active_clusters: view.clusters.map((cluster) => ({version_info: versionOf('cds'), cluster: {'@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...cluster}, last_updated: updatedAt('cds', 2.5)}))},
  ]
  if (includeEds) {
    configs.push({'@type': `${ADMIN}EndpointsConfigDump`,
      static_endpoint_configs: staticClusters(pod).map((c) => ({endpoint_config: {'@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', ...c.load_assignment, endpoints: c.load_assignment.endpoints.map((e: J) => ({...e, locality: {}}))}})),
      dynamic_endpoint_configs: view.eds.map((e) => ({endpoint_config: claJson(e)})).concat(view.clusters.filter((c) => c.type === 'STATIC').map((c) => ({endpoint_config: {'@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: c.name, policy: {overprovisioning_factor: 140}}}))),
    })
  }
  configs.push(
    {'@type': `${ADMIN}ListenersConfigDump`, version_info: versionOf('lds'),
      static_listeners: staticListeners().map((listener) => ({listener: {'@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...listener}, last_updated: t(1.3)})),
      dynamic_listeners: view.listeners.map((listener) => ({name: listener.name, active_state: {version_info: versionOf('lds'), listener: {'@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...listener}, last_updated: updatedAt('lds', 2.6)}}))},
    {'@type': `${ADMIN}ScopedRoutesConfigDump`},
    {'@type': `${ADMIN}RoutesConfigDump`,
      // Envoy tracks every inline route config (static and dynamic listeners) as a static one.
      static_route_configs: [...staticListeners(), ...view.listeners].flatMap((l: J) => (l.filter_chains as J[]).flatMap((c) => (c.filters as J[]).map((f) => f.typed_config?.route_config).filter(Boolean)))
        .map((rc: J) => ({route_config: {'@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', ...rc}, last_updated: t(1.3)})),
      dynamic_route_configs: view.routes.map((route) => ({version_info: versionOf('rds'), route_config: {'@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', ...route}, last_updated: updatedAt('rds', 2.7)}))},
    {'@type': `${ADMIN}SecretsConfigDump`, dynamic_active_secrets: [
      {name: 'default', version_info: t(0), last_updated: t(1.1), secret: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', name: 'default', tls_certificate: {certificate_chain: {inline_bytes: Buffer.from(certificates.chain).toString('base64')}, private_key: {inline_bytes: 'W3JlZGFjdGVkXQ=='}}}},
      {name: 'ROOTCA', version_info: t(0), last_updated: t(1.2), secret: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', name: 'ROOTCA', validation_context: {trusted_ca: {inline_bytes: Buffer.from(certificates.roots).toString('base64')}}}},
    ]},
  )
  return {configs}
}

export function claJson(e: EdsCluster): J {
  return {
    '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
    cluster_name: e.serviceName,
    endpoints: e.pods.length ? [{locality: {}, lb_endpoints: e.pods.map((p) => ({
      endpoint: {address: socket(p.ip, e.port), health_check_config: {}},
      health_status: p.ready ? 'HEALTHY' : 'UNHEALTHY',
      metadata: {filter_metadata: {'envoy.transport_socket_match': {tlsMode: p.proxy ? 'istio' : 'disabled'}, istio: {workload: `${p.labels.app ?? p.name};${p.namespace};${p.labels.app ?? p.name};${p.labels.version ?? 'latest'};${'Kubernetes'}`}}},
      load_balancing_weight: 1,
    }))}] : [],
    policy: {overprovisioning_factor: 140},
  }
}

/** Clusters and their live endpoints, for `/clusters`. */
export function liveClusters(pod: SimPod, scenario: Scenario): Array<{cluster: J; added_via_api: boolean; hosts: Array<{ip: string; port: number; healthy: boolean; pod?: SimPod}>}> {
  const view = meshView(pod, scenario)
  const edsByName = new Map(view.eds.map((e) => [e.name, e]))
  const staticOnes = staticClusters(pod).map((cluster) => ({cluster, added_via_api: false, hosts: (cluster.load_assignment.endpoints[0].lb_endpoints as J[]).map((l) => ({ip: l.endpoint.address.socket_address?.address ?? l.endpoint.address.pipe?.path, port: l.endpoint.address.socket_address?.port_value ?? 0, healthy: true}))}))
  const dynamic = view.clusters.map((cluster) => {
    const e = edsByName.get(cluster.name)
    return {cluster, added_via_api: true, hosts: e ? e.pods.map((p) => ({ip: p.ip, port: e.port, healthy: p.ready, pod: p})) : []}
  })
  return [...dynamic, ...staticOnes]
}

export function listenerAddresses(pod: SimPod, scenario: Scenario): Array<{name: string; address: string; port: number}> {
  const view = meshView(pod, scenario)
  return [...view.listeners, ...staticListeners().map((l, i): J => ({...l, name: i === 0 ? '0.0.0.0_15090' : '0.0.0.0_15021'}))]
    .map((l) => ({name: l.name, address: l.address.socket_address.address, port: l.address.socket_address.port_value}))
}
