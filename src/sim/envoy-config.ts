// Builds an Envoy config dump (Envoy's own snake_case JSON) for a simulated proxy from the mesh model,
// the way istiod would have configured it: bootstrap, CDS, EDS, LDS, RDS, SDS.
import {createHash} from 'node:crypto'
import {proxyCertificates} from './mesh-ca.js'
import type {Scenario, SimPod, SimService} from './model.js'
import {generate, pushContext, type SidecarOutbound} from './pilot/index.js'
import {isWaypointProxy} from './pilot/waypoint.js'
import {socket} from './pilot/context.js'
import {statsInclusionPatterns} from './stats-matcher.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const ADMIN = 'type.googleapis.com/envoy.admin.v3.'
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'
const ADS = {ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3'}

/**
 * The istio/proxy commit each Istio release builds its Envoy from (`PROXY_REPO_SHA` in istio.deps
 * at that tag): Envoy reports it in /server_info's version and Istio in ISTIO_PROXY_SHA.
 */
const PROXY_SHAS: Record<string, string> = {
  '1.17.8': 'e1222b5645a29ad3d02b280797ac1219dd88cfbc',
  '1.24.3': '1c795e96d02ca3ddac6b8610b8368a65b91f990a',
  '1.25.2': '8d14f6fc8fe9703ff17d4377d9053b3cbbe85dea',
}

/**
 * The Envoy an Istio proxy runs: Istio 1.N ships Envoy 1.(N+8), the table of istio.io's "Supported
 * Releases" page (Istio 1.17: Envoy 1.25; the istio source says so for 1.22/Envoy 1.30 in
 * pilot/pkg/networking/core/route/route.go and 1.25/Envoy 1.33 in core/gateway.go). The patch
 * level is not modelled (0); a release missing from PROXY_SHAS gets a stable made-up commit.
 */
export function envoyVersionFor(istioVersion: string): {major: number; minor: number; patch: number; sha: string} {
  const [, minor] = istioVersion.split('.').map(Number)
  const made = createHash('sha1').update(`istio-proxy ${istioVersion}`).digest('hex')
  return {major: 1, minor: minor + 8, patch: 0, sha: PROXY_SHAS[istioVersion] ?? made}
}

export function serviceFqdn(s: SimService): string {
  return `${s.name}.${s.namespace}.svc.cluster.local`
}

export function tsAfter(scenario: Scenario, seconds: number): string {
  return new Date(Date.parse(scenario.now) - 3600_000 + seconds * 1000).toISOString()
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
  // pilot-agent `proxy waypoint` registers as model.Waypoint (pkg/model/proxy.go NodeType "waypoint").
  return `${isWaypointProxy(pod) ? 'waypoint' : pod.proxy!.kind}~${pod.ip}~${pod.name}.${pod.namespace}~${pod.namespace}.svc.cluster.local`
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
    stats_config: {use_all_default_tags: false, stats_matcher: {inclusion_list: {patterns: statsInclusionPatterns(pod)}}},
    admin: {address: socket('127.0.0.1', pod.proxy!.adminPort), profile_path: '/var/lib/istio/data/envoy.prof'},
    tracing: {http: {name: 'envoy.tracers.zipkin', typed_config: {'@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig', collector_cluster: 'zipkin', collector_endpoint: '/api/v2/spans', trace_id_128bit: true, shared_span_context: false, collector_endpoint_version: 'HTTP_JSON'}}},
    layered_runtime: {layers: [{name: 'global config', static_layer: {'envoy.deprecated_features:envoy.config.listener.v3.Listener.hidden_envoy_deprecated_use_original_dst': 'true', 're2.max_program_size.error_level': '32768', 'overload.global_downstream_max_connections': '2147483647'}}, {name: 'admin', admin_layer: {}}]},
  }
}

export interface EdsCluster {
  name: string
  serviceName: string
  pods: SimPod[]
  port: number
  /** Endpoints reached through an internal listener (a waypoint's HBONE `connect_originate`): those pods (`ns/name`) by `envoy://<listener>/<ip:port>`. */
  tunnel?: {listener: string; pods: string[]}
}

export interface MeshView {
  clusters: J[]
  eds: EdsCluster[]
  listeners: J[]
  routes: J[]
}

/**
 * The xDS config a proxy runs: in a live mesh what it acknowledged (src/sim/xds.ts); in a mesh
 * without pushes (the scale scenario) what the pilot generates from the model now, cached per pod
 * when the scenario asks (2,000 services make each sidecar's config large).
 */
function meshView(pod: SimPod, scenario: Scenario, source: 'envoy' | 'istiod' = 'envoy'): MeshView {
  if (scenario.xds) return (source === 'istiod' ? scenario.xds.istiodView(pod) : scenario.xds.envoyView(pod)) ?? {clusters: [], eds: [], listeners: [], routes: []}
  if (!scenario.cacheDumps) return generate(pushContext(scenario), pod)
  let view = viewCache.get(pod)
  if (!view) {
    let scopes = scopeCache.get(scenario)
    if (!scopes) scopeCache.set(scenario, (scopes = new Map()))
    view = generate(pushContext(scenario), pod, scopes)
    viewCache.set(pod, view)
  }
  return view
}

/** Keyed by the pod object, so a replaced pod (or another simulator's) never reads a stale view. */
const viewCache = new WeakMap<SimPod, MeshView>()
/**
 * Each SidecarScope's outbound config, shared by its sidecars as istiod shares it: 500 sidecars of
 * 20 namespaces hold 20 copies of 2,000 services' clusters and routes, not 500 (which passed V8's
 * heap limit and killed the simulator).
 */
const scopeCache = new WeakMap<Scenario, Map<string, SidecarOutbound>>()

/**
 * Envoy keeps its clusters in a std::map by name "so that config dumping is consistent"
 * (cluster_manager_impl.h, ClusterMap) and dumps them in that order; istiod's debug dump keeps
 * the order it generated them in.
 */
function byClusterName(clusters: readonly J[], source: 'envoy' | 'istiod'): readonly J[] {
  if (source === 'istiod') return clusters
  return [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
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
      static_clusters: byClusterName(staticClusters(pod), source).map((cluster) => ({cluster: {'@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...cluster}, last_updated: t(1.3)})),
      dynamic_active_clusters: byClusterName(view.clusters, source).map((cluster) => ({version_info: versionOf('cds'), cluster: {'@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...cluster}, last_updated: updatedAt('cds', 2.5)}))},
  ]
  if (includeEds && source === 'envoy') {
    const endpoints = envoyEndpointConfigs(pod, scenario)
    configs.push({'@type': `${ADMIN}EndpointsConfigDump`,
      static_endpoint_configs: endpoints.static.map((endpoint_config) => ({endpoint_config})),
      dynamic_endpoint_configs: endpoints.dynamic.map((endpoint_config) => ({endpoint_config})),
    })
  } else if (includeEds) {
    // istiod's debug dump: the assignments it pushed.
    configs.push({'@type': `${ADMIN}EndpointsConfigDump`,
      static_endpoint_configs: staticClusters(pod).map((c) => ({endpoint_config: {'@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', ...c.load_assignment, endpoints: c.load_assignment.endpoints.map((e: J) => ({...e, locality: {}}))}})),
      dynamic_endpoint_configs: view.eds.map((e) => ({endpoint_config: claJson(e)})).concat(view.clusters.filter((c) => c.type === 'STATIC').map((c) => ({endpoint_config: {'@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: c.name, ...(c.load_assignment ? {endpoints: (c.load_assignment.endpoints as J[]).map((e) => ({...e, locality: {}}))} : {}), policy: {overprovisioning_factor: 140}}}))),
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

const tunnelled = (e: EdsCluster, p: SimPod) => e.tunnel?.pods.includes(`${p.namespace}/${p.name}`) === true
const internalAddress = (listener: string, id: string): J => ({envoy_internal_address: {server_listener_name: listener, ...(id ? {endpoint_id: id} : {})}})

export function claJson(e: EdsCluster): J {
  return {
    '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
    cluster_name: e.serviceName,
    endpoints: e.pods.length ? [{locality: {}, lb_endpoints: e.pods.map((p) => ({
      endpoint: {address: tunnelled(e, p) ? internalAddress(e.tunnel!.listener, `${p.ip}:${e.port}`) : socket(p.ip, e.port), health_check_config: {}},
      health_status: p.ready ? 'HEALTHY' : 'UNHEALTHY',
      // endpoint_builder.go: a tunnelled endpoint names its logical destination under the original_dst key.
      metadata: {filter_metadata: {...(tunnelled(e, p) ? {'envoy.filters.listener.original_dst': {local: `${p.ip}:${e.port}`}} : {'envoy.transport_socket_match': {tlsMode: p.proxy ? 'istio' : 'disabled'}}), istio: {workload: `${p.labels.app ?? p.name};${p.namespace};${p.labels.app ?? p.name};${p.labels.version ?? 'latest'};${'Kubernetes'}`}}},
      load_balancing_weight: 1,
    }))}] : [],
    policy: {overprovisioning_factor: 140},
  }
}

const CLA_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'

/**
 * Envoy's EDS dump (admin/config_dump_handler.cc, dumpEndpointConfigs): every active cluster, EDS
 * or not, named by its EDS service name, else its own; its hosts as Envoy holds them (the ones
 * `/clusters` shows: liveClusters), grouped by locality, each with the `health_status` Envoy
 * derives from the host's health flags (addLbEndpoint), `load_balancing_weight` and metadata. A
 * cluster without hosts has no `endpoints` (proto JSON leaves an empty list out). The bootstrap's
 * clusters are the static ones. Listed in the order `/clusters` lists them: both walk the same map.
 */
export function envoyEndpointConfigs(pod: SimPod, scenario: Scenario): {static: J[]; dynamic: J[]} {
  const view = meshView(pod, scenario)
  const edsByName = new Map(view.eds.map((e) => [e.name, e]))
  const dynamic = view.clusters.map((cluster) => {
    const e = edsByName.get(cluster.name)
    return e ? endpointConfig(e.serviceName, claJson(e).endpoints as J[]) : assignedEndpointConfig(cluster)
  })
  return {static: staticClusters(pod).map(assignedEndpointConfig), dynamic}
}

/** A cluster's own load_assignment as Envoy holds it: its hosts are healthy (no health checks, no EDS status). */
function assignedEndpointConfig(cluster: J): J {
  const groups = ((cluster.load_assignment?.endpoints ?? []) as J[]).filter((group) => (group.lb_endpoints ?? []).length > 0).map((group) => ({
    locality: group.locality ?? {},
    lb_endpoints: (group.lb_endpoints as J[]).map((l) => ({endpoint: {address: l.endpoint.address, health_check_config: {}}, health_status: 'HEALTHY', ...(l.metadata ? {metadata: l.metadata} : {}), load_balancing_weight: l.load_balancing_weight ?? 1})),
  }))
  return endpointConfig(cluster.eds_cluster_config?.service_name || cluster.name, groups)
}

function endpointConfig(name: string, groups: J[]): J {
  return {'@type': CLA_TYPE, cluster_name: name, ...(groups.length > 0 ? {endpoints: groups} : {}), policy: {overprovisioning_factor: 140}}
}

/** Clusters and their live endpoints, for `/clusters`. */
/** A host of `/clusters`; `internal`: an Envoy internal address (`envoy://<listener>/<id>`), ip and port then unused. */
export interface LiveHost {ip: string; port: number; healthy: boolean; pod?: SimPod; internal?: {listener: string; id: string}}

/** The hosts of a cluster's own load_assignment (static clusters, a waypoint's internal-listener clusters). */
function assignedHosts(cluster: J): LiveHost[] {
  return ((cluster.load_assignment?.endpoints ?? []) as J[]).flatMap((group) => (group.lb_endpoints as J[]).map((l): LiveHost => {
    const a = l.endpoint.address
    if (a.envoy_internal_address) return {ip: '', port: 0, healthy: true, internal: {listener: a.envoy_internal_address.server_listener_name, id: a.envoy_internal_address.endpoint_id ?? ''}}
    return {ip: a.socket_address?.address ?? a.pipe?.path, port: a.socket_address?.port_value ?? 0, healthy: true}
  }))
}

export function liveClusters(pod: SimPod, scenario: Scenario): Array<{cluster: J; added_via_api: boolean; hosts: LiveHost[]}> {
  const view = meshView(pod, scenario)
  const edsByName = new Map(view.eds.map((e) => [e.name, e]))
  const staticOnes = staticClusters(pod).map((cluster) => ({cluster, added_via_api: false, hosts: assignedHosts(cluster)}))
  const dynamic = view.clusters.map((cluster) => {
    const e = edsByName.get(cluster.name)
    if (!e) return {cluster, added_via_api: true, hosts: assignedHosts(cluster)}
    return {cluster, added_via_api: true, hosts: e.pods.map((p): LiveHost => ({ip: p.ip, port: e.port, healthy: p.ready, pod: p, ...(tunnelled(e, p) ? {internal: {listener: e.tunnel!.listener, id: `${p.ip}:${e.port}`}} : {})}))}
  })
  return [...dynamic, ...staticOnes]
}

/**
 * Each of `liveClusters`' clusters with the counts Envoy's membership gauges report (every host,
 * and the healthy ones: the simulator's hosts are HEALTHY or UNHEALTHY by EDS, never ejected or
 * degraded), without building the hosts: /stats may be asked for them on every diagnose.
 */
export function clusterMembership(pod: SimPod, scenario: Scenario): Array<{name: string; healthy: number; total: number}> {
  const view = meshView(pod, scenario)
  const edsByName = new Map(view.eds.map((e) => [e.name, e]))
  const assigned = (cluster: J) => {
    const total = assignedHosts(cluster).length
    return {name: cluster.name as string, healthy: total, total}
  }
  const dynamic = view.clusters.map((cluster) => {
    const e = edsByName.get(cluster.name)
    if (!e) return assigned(cluster)
    let healthy = 0
    for (const p of e.pods) if (p.ready) healthy++
    return {name: cluster.name as string, healthy, total: e.pods.length}
  })
  return [...dynamic, ...staticClusters(pod).map(assigned)]
}

/**
 * How many clusters `liveClusters` lists, and how many of them came over xDS, without building
 * each cluster's hosts (/stats asks for the counts on every scrape).
 */
export function clusterCounts(pod: SimPod, scenario: Scenario): {total: number; dynamic: number} {
  const dynamic = meshView(pod, scenario).clusters.length
  return {total: dynamic + staticClusters(pod).length, dynamic}
}

/** `internal`: an internal listener (a waypoint's main_internal), whose local address is `envoy://<name>/`. */
export function listenerAddresses(pod: SimPod, scenario: Scenario): Array<{name: string; address: string; port: number; internal?: boolean}> {
  const view = meshView(pod, scenario)
  return [...view.listeners, ...staticListeners().map((l, i): J => ({...l, name: i === 0 ? '0.0.0.0_15090' : '0.0.0.0_15021'}))]
    .map((l) => (l.internal_listener ? {name: l.name, address: '', port: 0, internal: true} : {name: l.name, address: l.address.socket_address.address, port: l.address.socket_address.port_value}))
}
