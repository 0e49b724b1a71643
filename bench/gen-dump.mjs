#!/usr/bin/env node
// Deterministic generator of realistic Envoy v3 /config_dump?include_eds payloads (and the matching
// /clusters?format=json) for benchmarks. Same {services, seed} => same bytes, every run, every
// machine: all randomness comes from a seeded PRNG, timestamps are derived from a fixed epoch.
//
//   import {generateDump, generateClustersJson} from './gen-dump.mjs'
//   node bench/gen-dump.mjs --size 20MB --out bench/out/dump-20MB.json [--clusters-out FILE] [--seed N]
//   node bench/gen-dump.mjs --services 500 --out FILE
//
// Output is what Envoy prints: snake_case proto names, 1-space pretty JSON, proto3 defaults left
// out, sections in ConfigTracker order (Bootstrap, Clusters, Endpoints, Listeners, ScopedRoutes,
// Routes, Secrets). Items are serialised one at a time, so a 150 MB dump never exists as one tree.
import {closeSync, openSync, writeSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const ADMIN = 'type.googleapis.com/envoy.admin.v3.'
const T = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cla: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcp: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  typedStruct: 'type.googleapis.com/udpa.type.v1.TypedStruct',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fileLog: 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  downstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  rawBuffer: 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
  httpOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
}

// ---------------------------------------------------------------------------------------------
// PRNG and small helpers

function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

class Rng {
  constructor(seed) {
    this.next = mulberry32(seed)
  }
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }
  pick(list) {
    return list[Math.floor(this.next() * list.length)]
  }
  chance(p) {
    return this.next() < p
  }
  /** Picks from [[weight, value], ...]. */
  weighted(table) {
    const total = table.reduce((sum, [w]) => sum + w, 0)
    let r = this.next() * total
    for (const [w, v] of table) {
      if ((r -= w) < 0) return v
    }
    return table[table.length - 1][1]
  }
}

const EPOCH = Date.UTC(2026, 10, 2, 8, 10, 0)
const stamp = (offsetMs) => new Date(EPOCH + offsetMs).toISOString()
const VERSION = '2026-11-02T08:10:00Z/1473'

// Lazily expanded array (items generated while writing) and an object whose members are streamed.
class Lazy {
  constructor(count, make) {
    this.count = count
    this.make = make
  }
}
class Streamed {
  constructor(fields) {
    this.fields = fields
  }
}

function needsStreaming(value) {
  return value instanceof Lazy || value instanceof Streamed || (Array.isArray(value) && value.some(needsStreaming))
}

// Output layouts real dumps come in: Envoy's own (1-space pretty), the same saved on Windows (CRLF),
// and compact JSON (minified by a tool). Strings hold no raw line breaks, so every line break
// emitted is a layout line break.
export const LAYOUTS = {
  envoy: {nl: '\n', indent: ' ', colon: ': '},
  crlf: {nl: '\r\n', indent: ' ', colon: ': '},
  compact: {nl: '', indent: '', colon: ':'},
}

/** Writes `value` as JSON.stringify(value, null, 1) would (in `layout`), at nesting `depth`, through `out(chunk)`. */
function emit(value, depth, out, layout = LAYOUTS.envoy) {
  const {nl, indent, colon} = layout
  const pad = indent.repeat(depth + 1)
  if (value instanceof Streamed) {
    const entries = Object.entries(value.fields).filter(([, v]) => v !== undefined)
    out('{')
    entries.forEach(([key, v], i) => {
      out(`${i ? ',' : ''}${nl}${pad}${JSON.stringify(key)}${colon}`)
      emit(v, depth + 1, out, layout)
    })
    out(`${nl}${indent.repeat(depth)}}`)
  } else if (value instanceof Lazy || (Array.isArray(value) && value.some(needsStreaming))) {
    const count = value instanceof Lazy ? value.count : value.length
    if (count === 0) return out('[]')
    out('[')
    for (let i = 0; i < count; i++) {
      out(`${i ? ',' : ''}${nl}${pad}`)
      emit(value instanceof Lazy ? value.make(i) : value[i], depth + 1, out, layout)
    }
    out(`${nl}${indent.repeat(depth)}]`)
  } else if (!indent) {
    out(JSON.stringify(value))
  } else {
    // JSON.stringify escapes newlines inside strings, so every raw '\n' is a line break to indent.
    const text = JSON.stringify(value, null, 1)
    out(depth === 0 && nl === '\n' ? text : text.replaceAll('\n', nl + ' '.repeat(depth)))
  }
}

// ---------------------------------------------------------------------------------------------
// The mesh model: services, their ports, subsets and pods. Built once per dump, up front, so every
// section (CDS, EDS, LDS, RDS, /clusters) describes the same mesh.

const WORDS = [
  'reviews', 'ratings', 'details', 'productpage', 'catalog', 'checkout', 'cart', 'payments', 'inventory', 'shipping',
  'frontend', 'auth', 'search', 'recommend', 'orders', 'billing', 'users', 'notify', 'ledger', 'pricing',
  'gateway-api', 'profile', 'sessions', 'media', 'thumbnails', 'audit', 'reports', 'fraud', 'loyalty', 'coupons',
]
const REGIONS = [
  ['us-east1', ['us-east1-b', 'us-east1-c', 'us-east1-d']],
  ['us-west1', ['us-west1-a', 'us-west1-b']],
  ['europe-west4', ['europe-west4-a', 'europe-west4-b', 'europe-west4-c']],
]
const HEALTH = [
  [960, 'HEALTHY'],
  [20, 'UNHEALTHY'],
  [8, 'DRAINING'],
  [6, 'DEGRADED'],
  [3, 'TIMEOUT'],
  [3, 'UNKNOWN'],
]
// [weight, port, protocol, port name]
const PRIMARY_PORTS = [
  [30, 80, 'http', 'http'],
  [18, 8080, 'http', 'http-web'],
  [10, 9080, 'http', 'http'],
  [6, 8000, 'http', 'http-api'],
  [10, 50051, 'grpc', 'grpc'],
  [5, 3306, 'tcp', 'tcp-mysql'],
  [4, 5432, 'tcp', 'tcp-postgres'],
  [4, 6379, 'tcp', 'tcp-redis'],
  [2, 9092, 'tcp', 'tcp-kafka'],
  [2, 27017, 'tcp', 'mongo'],
  [9, 443, 'https', 'https'],
]
const SECONDARY_PORTS = [
  [50, 9090, 'http', 'http-metrics'],
  [20, 8443, 'https', 'https-admin'],
  [15, 8081, 'http', 'http-admin'],
  [15, 5005, 'tcp', 'tcp-debug'],
]

/** `base` is the first two octets; n < 65536. */
function ipFrom(base, n) {
  return `${base}.${(n >> 8) & 255}.${n & 255}`
}

function buildMesh(services, seed) {
  const rng = new Rng(seed ^ 0x5eed)
  const list = []
  let podCounter = 2
  const nsCount = Math.max(2, Math.ceil(services / 25))
  // istiod first: every sidecar dump has it.
  list.push({
    name: 'istiod', ns: 'istio-system', host: 'istiod.istio-system.svc.cluster.local', vip: '10.96.0.10', kind: 'k8s',
    ports: [
      {port: 15010, proto: 'grpc', name: 'grpc-xds'},
      {port: 15012, proto: 'https', name: 'https-dns'},
      {port: 443, proto: 'https', name: 'https-webhook'},
      {port: 15014, proto: 'http', name: 'http-monitoring'},
    ],
    subsets: [], dr: false, vs: false, sa: 'istiod',
    pods: [0, 1].map(() => ({ip: ipFrom('10.244', podCounter++), version: '', region: 0, zone: 0, health: 'HEALTHY'})),
  })
  for (let i = 1; i < services; i++) {
    const word = WORDS[i % WORDS.length]
    const name = `${word}-${Math.floor(i / WORDS.length)}`
    const ns = `team-${rng.int(0, nsCount - 1)}`
    const kind = rng.weighted([[90, 'k8s'], [6, 'external'], [4, 'headless']])
    const host = kind === 'external' ? `api.${name}.partner-${i % 17}.example.com` : `${name}.${ns}.svc.cluster.local`
    const [, port, proto, portName] = rng.weighted(PRIMARY_PORTS.map((p) => [p[0], p]))
    const ports = [{port, proto, name: portName}]
    if (kind === 'k8s' && rng.chance(0.35)) {
      const [, p2, proto2, name2] = rng.weighted(SECONDARY_PORTS.map((p) => [p[0], p]))
      if (p2 !== port) ports.push({port: p2, proto: proto2, name: name2})
    }
    const subsets = kind === 'k8s' && rng.chance(0.45) ? ['v1', 'v2', 'v3'].slice(0, rng.int(1, 3)) : []
    const podCount = kind === 'headless' ? 0 : rng.weighted([[30, 1], [30, 2], [20, 3], [10, 5], [7, 8], [3, 20]])
    const pods = []
    const region = rng.int(0, REGIONS.length - 1)
    for (let p = 0; p < podCount; p++) {
      pods.push({
        ip: kind === 'external' ? ipFrom('203.0', podCounter++ % 65536) : ipFrom('10.244', podCounter++),
        version: subsets.length ? subsets[p % subsets.length] : 'v1',
        region: rng.chance(0.85) ? region : rng.int(0, REGIONS.length - 1),
        zone: rng.int(0, 2),
        subZone: rng.chance(0.1) ? `rack-${rng.int(1, 9)}` : '',
        health: rng.weighted(HEALTH),
      })
    }
    list.push({
      name, ns, host, kind, ports, subsets, pods,
      vip: kind === 'headless' ? '' : ipFrom('10.96', 16 + i),
      dr: subsets.length > 0 || rng.chance(0.1),
      vs: ports.some((p) => p.proto === 'http' || p.proto === 'grpc') && rng.chance(0.3),
      sa: `${name}-sa`,
    })
  }
  // The workload this sidecar belongs to: its inbound ports.
  const inbound = [
    {port: 9080, proto: 'http', name: 'http'},
    {port: 8080, proto: 'http', name: 'http-web'},
    {port: 50051, proto: 'grpc', name: 'grpc'},
    {port: 5432, proto: 'tcp', name: 'tcp-postgres'},
  ]
  return {services: list, inbound, self: {name: 'productpage-v1-6b746f74dc-9stvs', ns: 'team-0', ip: '10.244.0.17', app: 'productpage'}}
}

const subsetSni = (port, subset, host) => `outbound_.${port}_.${subset}_.${host}`
const clusterName = (dir, port, subset, host) => `${dir}|${port}|${subset}|${host}`
const drPath = (svc) => `/apis/networking.istio.io/v1/namespaces/${svc.ns}/destination-rule/${svc.name}`
const vsPath = (svc) => `/apis/networking.istio.io/v1/namespaces/${svc.ns}/virtual-service/${svc.name}`

// ---------------------------------------------------------------------------------------------
// Reusable config fragments (the same shapes istiod sends)

const adsSource = () => ({ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3'})
const sdsConfig = (name) => ({
  name,
  sds_config: {
    api_config_source: {api_type: 'GRPC', grpc_services: [{envoy_grpc: {cluster_name: 'sds-grpc'}}], set_node_on_first_message_only: true, transport_api_version: 'V3'},
    initial_fetch_timeout: '0s',
    resource_api_version: 'V3',
  },
})

function upstreamMtls(svc, sni) {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': T.upstreamTls,
      common_tls_context: {
        tls_params: {tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3'},
        alpn_protocols: ['istio-peer-exchange', 'istio'],
        tls_certificate_sds_secret_configs: [sdsConfig('default')],
        combined_validation_context: {
          default_validation_context: {match_subject_alt_names: [{exact: `spiffe://cluster.local/ns/${svc.ns}/sa/${svc.sa}`}]},
          validation_context_sds_secret_config: sdsConfig('ROOTCA'),
        },
      },
      sni,
    },
  }
}

const circuitBreakers = () => ({
  thresholds: [{max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true}],
})

const metadataExchangeFilter = () => ({
  name: 'istio.metadata_exchange',
  typed_config: {'@type': T.typedStruct, type_url: 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', value: {protocol: 'istio-peer-exchange'}},
})

function httpProtocolOptions(proto) {
  return {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': T.httpOptions,
      common_http_protocol_options: {idle_timeout: '3600s'},
      ...(proto === 'grpc' ? {explicit_http_config: {http2_protocol_options: {}}} : {use_downstream_protocol_config: {http_protocol_options: {}, http2_protocol_options: {}}}),
    },
  }
}

function outboundCluster(rng, svc, port, subset) {
  const name = clusterName('outbound', port.port, subset, svc.host)
  const istio = {
    services: [{host: svc.host, name: svc.name, namespace: svc.ns}],
    default_original_port: port.port,
  }
  if (svc.dr) istio.config = drPath(svc)
  if (subset) istio.subset = subset
  const cluster = {'@type': T.cluster, name}
  if (svc.kind === 'external') {
    cluster.type = 'STRICT_DNS'
    cluster.connect_timeout = '10s'
    cluster.lb_policy = 'LEAST_REQUEST'
    cluster.load_assignment = {
      cluster_name: name,
      endpoints: [{locality: {}, lb_endpoints: [{endpoint: {address: {socket_address: {address: svc.host, port_value: port.port}}}, load_balancing_weight: 1}], load_balancing_weight: 1}],
    }
    cluster.dns_refresh_rate = '60s'
    cluster.respect_dns_ttl = true
    cluster.dns_lookup_family = 'V4_ONLY'
  } else if (svc.kind === 'headless') {
    cluster.type = 'ORIGINAL_DST'
    cluster.connect_timeout = '10s'
    cluster.lb_policy = 'CLUSTER_PROVIDED'
  } else {
    cluster.type = 'EDS'
    cluster.eds_cluster_config = {eds_config: adsSource(), service_name: name}
    cluster.connect_timeout = '10s'
    cluster.lb_policy = 'LEAST_REQUEST'
  }
  cluster.circuit_breakers = circuitBreakers()
  if (svc.dr && rng.chance(0.5)) {
    cluster.outlier_detection = {consecutive_5xx: 5, interval: '10s', base_ejection_time: '30s', max_ejection_percent: 100, enforcing_consecutive_5xx: 100, enforcing_success_rate: 0, consecutive_gateway_failure: 5, enforcing_consecutive_gateway_failure: 0}
  }
  cluster.common_lb_config = {locality_weighted_lb_config: {}}
  cluster.metadata = {filter_metadata: {istio}}
  if (port.proto !== 'tcp' && port.proto !== 'https') cluster.typed_extension_protocol_options = httpProtocolOptions(port.proto)
  if (svc.kind === 'k8s') {
    cluster.transport_socket_matches = [
      {name: 'tlsMode-istio', match: {tlsMode: 'istio'}, transport_socket: upstreamMtls(svc, subsetSni(port.port, subset, svc.host))},
      {name: 'tlsMode-disabled', match: {}, transport_socket: {name: 'envoy.transport_sockets.raw_buffer', typed_config: {'@type': T.rawBuffer}}},
    ]
  }
  cluster.filters = [metadataExchangeFilter()]
  return cluster
}

function staticCluster(name, address, extra = {}) {
  const socket = address.startsWith('./') ? {pipe: {path: address}} : {socket_address: {address: address.split(':')[0], port_value: Number(address.split(':')[1])}}
  return {
    '@type': T.cluster,
    name,
    ...(extra.type ? {type: extra.type} : {}),
    connect_timeout: extra.connect_timeout ?? '0.250s',
    load_assignment: {cluster_name: name, endpoints: [{lb_endpoints: [{endpoint: {address: socket}}]}]},
    ...(extra.http2 ? {typed_extension_protocol_options: {'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {'@type': T.httpOptions, explicit_http_config: {http2_protocol_options: {}}}}} : {}),
    ...(extra.rest ?? {}),
  }
}

const STATIC_CLUSTERS = [
  ['prometheus_stats', '127.0.0.1:15000', {}],
  ['agent', '127.0.0.1:15020', {}],
  ['sds-grpc', './var/run/secrets/workload-spiffe-uds/socket', {connect_timeout: '1s', http2: true}],
  ['xds-grpc', './etc/istio/proxy/XDS', {connect_timeout: '1s', http2: true, rest: {circuit_breakers: {thresholds: [{max_connections: 100000, max_pending_requests: 100000, max_requests: 100000}, {priority: 'HIGH', max_connections: 100000, max_pending_requests: 100000, max_requests: 100000}]}, upstream_connection_options: {tcp_keepalive: {keepalive_time: 300}}, max_requests_per_connection: 1}}],
  ['zipkin', 'zipkin.istio-system:9411', {type: 'STRICT_DNS', connect_timeout: '1s', rest: {dns_refresh_rate: '30s', respect_dns_ttl: true, dns_lookup_family: 'V4_ONLY'}}],
]

function specialClusters() {
  return [
    {'@type': T.cluster, name: 'BlackHoleCluster', connect_timeout: '10s'},
    {
      '@type': T.cluster, name: 'InboundPassthroughCluster', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED',
      circuit_breakers: circuitBreakers(), upstream_bind_config: {source_address: {address: '127.0.0.6', port_value: 0}},
      typed_extension_protocol_options: httpProtocolOptions('http'), filters: [metadataExchangeFilter()],
    },
    {
      '@type': T.cluster, name: 'PassthroughCluster', type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED',
      circuit_breakers: circuitBreakers(), typed_extension_protocol_options: httpProtocolOptions('http'), filters: [metadataExchangeFilter()],
    },
  ]
}

function inboundCluster(port) {
  return {
    '@type': T.cluster, name: clusterName('inbound', port.port, '', ''), type: 'ORIGINAL_DST', connect_timeout: '10s', lb_policy: 'CLUSTER_PROVIDED',
    circuit_breakers: circuitBreakers(), cleanup_interval: '60s', upstream_bind_config: {source_address: {address: '127.0.0.6', port_value: 0}},
    metadata: {filter_metadata: {istio: {services: [{host: 'productpage.team-0.svc.cluster.local', name: 'productpage', namespace: 'team-0'}]}}},
    ...(port.proto === 'tcp' ? {} : {typed_extension_protocol_options: httpProtocolOptions(port.proto)}),
  }
}

/** Every cluster of the dump, in dump order, with what EDS and /clusters need to know. */
function clusterPlan(mesh) {
  const plan = []
  for (const svc of mesh.services) {
    for (const port of svc.ports) {
      for (const subset of ['', ...svc.subsets]) {
        plan.push({svc, port, subset, name: clusterName('outbound', port.port, subset, svc.host)})
      }
    }
  }
  return plan
}

// ---------------------------------------------------------------------------------------------
// Listeners

const ACCESS_LOG_FORMAT = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n'
const accessLog = () => [{
  name: 'envoy.access_loggers.file',
  typed_config: {'@type': T.fileLog, path: '/dev/stdout', log_format: {text_format_source: {inline_string: ACCESS_LOG_FORMAT}}},
}]

const statsFilter = (reporter) => ({
  name: 'istio.stats',
  typed_config: {'@type': T.typedStruct, type_url: 'type.googleapis.com/stats.PluginConfig', value: {reporter, disable_host_header_fallback: reporter === 'SERVER' ? undefined : true}},
})

function tcpProxy(cluster, statPrefix) {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: {'@type': T.tcp, stat_prefix: statPrefix ?? cluster, cluster, access_log: accessLog(), ...(cluster === 'BlackHoleCluster' ? {} : {idle_timeout: '3600s'})},
  }
}

function hcm(statPrefix, routing, outbound) {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': T.hcm,
      stat_prefix: statPrefix,
      ...routing,
      http_filters: [
        {name: 'istio.metadata_exchange', typed_config: {'@type': T.typedStruct, type_url: 'type.googleapis.com/io.istio.http.peer_metadata.Config', value: outbound ? {upstream_discovery: [{istio_headers: {}}, {workload_discovery: {}}], upstream_propagation: [{istio_headers: {}}]} : {downstream_discovery: [{istio_headers: {}}, {workload_discovery: {}}], downstream_propagation: [{istio_headers: {}}]}}},
        {name: 'envoy.filters.http.grpc_stats', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig', emit_filter_state: true, stats_for_all_methods: false}},
        {name: 'envoy.filters.http.fault', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault'}},
        {name: 'envoy.filters.http.cors', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors'}},
        statsFilter(outbound ? 'CLIENT' : 'SERVER'),
        {name: 'envoy.filters.http.router', typed_config: {'@type': T.router}},
      ],
      tracing: {
        client_sampling: {value: 100}, random_sampling: {value: 1}, overall_sampling: {value: 100},
        custom_tags: [
          {tag: 'istio.canonical_revision', literal: {value: 'v1'}},
          {tag: 'istio.canonical_service', literal: {value: 'productpage'}},
          {tag: 'istio.mesh_id', literal: {value: 'cluster.local'}},
          {tag: 'istio.namespace', literal: {value: 'team-0'}},
        ],
      },
      access_log: accessLog(),
      use_remote_address: false,
      upgrade_configs: [{upgrade_type: 'websocket'}],
      stream_idle_timeout: '0s',
      normalize_path: true,
      request_id_extension: {typed_config: {'@type': 'type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig', use_request_id_for_trace_sampling: true}},
      path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
    },
  }
}

const HTTP_APP = ['http/1.0', 'http/1.1', 'h2c']
const ISTIO_HTTP_APP = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2']
const HTTP_TLS_APP = ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']
const TCP_TLS_APP = ['istio-peer-exchange', 'istio']

function downstreamMtls(alpn) {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': T.downstreamTls,
      common_tls_context: {
        tls_params: {tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3', cipher_suites: ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256']},
        alpn_protocols: alpn,
        tls_certificate_sds_secret_configs: [sdsConfig('default')],
        combined_validation_context: {default_validation_context: {match_subject_alt_names: [{prefix: 'spiffe://cluster.local/'}]}, validation_context_sds_secret_config: sdsConfig('ROOTCA')},
      },
      require_client_certificate: true,
    },
  }
}

function inlineInboundRoute(port) {
  const name = clusterName('inbound', port.port, '', '')
  return {
    name,
    virtual_hosts: [{
      name: `inbound|http|${port.port}`,
      domains: ['*'],
      routes: [{match: {prefix: '/'}, route: {cluster: name, timeout: '0s', max_stream_duration: {max_stream_duration: '0s', grpc_timeout_header_max: '0s'}}, decorator: {operation: `productpage.team-0.svc.cluster.local:${port.port}/*`}, name: 'default'}],
    }],
    validate_clusters: false,
  }
}

function virtualInbound(mesh) {
  const chains = []
  const passthrough = (transport, app, isHttp) => ({
    filter_chain_match: {prefix_ranges: [{address_prefix: '0.0.0.0', prefix_len: 0}], transport_protocol: transport, ...(app ? {application_protocols: app} : {})},
    filters: [isHttp ? hcm('InboundPassthroughCluster', {route_config: {name: 'InboundPassthroughCluster', virtual_hosts: [{name: 'inbound|http|0', domains: ['*'], routes: [{match: {prefix: '/'}, route: {cluster: 'InboundPassthroughCluster', timeout: '0s'}, name: 'default'}]}], validate_clusters: false}}, false) : tcpProxy('InboundPassthroughCluster')],
    ...(transport === 'tls' ? {transport_socket: downstreamMtls(app ?? ['h2', 'http/1.1'])} : {}),
    name: `virtualInbound-catchall-${isHttp ? 'http' : 'tcp'}`,
  })
  chains.push({filter_chain_match: {destination_port: 15006}, filters: [tcpProxy('BlackHoleCluster')], name: 'virtualInbound-blackhole'})
  chains.push(passthrough('raw_buffer', HTTP_APP, true), passthrough('tls', ISTIO_HTTP_APP, true), passthrough('raw_buffer', undefined, false), passthrough('tls', undefined, false), passthrough('tls', TCP_TLS_APP, false))
  for (const port of mesh.inbound) {
    const cluster = clusterName('inbound', port.port, '', '')
    const isHttp = port.proto !== 'tcp'
    const variants = isHttp
      ? [['tls', ISTIO_HTTP_APP, true], ['tls', HTTP_TLS_APP, true], ['raw_buffer', HTTP_APP, true], ['tls', TCP_TLS_APP, false], ['raw_buffer', undefined, false], ['tls', undefined, false]]
      : [['tls', TCP_TLS_APP, false], ['raw_buffer', undefined, false], ['tls', undefined, false]]
    for (const [transport, app, chainHttp] of variants) {
      chains.push({
        filter_chain_match: {destination_port: port.port, transport_protocol: transport, ...(app ? {application_protocols: app} : {})},
        filters: [chainHttp ? hcm(`inbound_0.0.0.0_${port.port}`, {route_config: inlineInboundRoute(port)}, false) : tcpProxy(cluster, `inbound_0.0.0.0_${port.port}`)],
        ...(transport === 'tls' ? {transport_socket: downstreamMtls(app ?? ['h2', 'http/1.1'])} : {}),
        name: `0.0.0.0_${port.port}`,
      })
    }
  }
  return {
    '@type': T.listener, name: 'virtualInbound',
    address: {socket_address: {address: '0.0.0.0', port_value: 15006}},
    filter_chains: chains,
    listener_filters: [
      {name: 'envoy.filters.listener.original_dst', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst'}},
      {name: 'envoy.filters.listener.tls_inspector', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector'}},
      {name: 'envoy.filters.listener.http_inspector', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector'}},
    ],
    listener_filters_timeout: '0s', continue_on_listener_filters_timeout: true, traffic_direction: 'INBOUND',
    access_log: accessLog(),
  }
}

function virtualOutbound(mesh) {
  const chains = []
  for (const svc of mesh.services) {
    if (!svc.vip) continue
    for (const port of svc.ports) {
      if (port.proto !== 'tcp') continue
      chains.push({
        filter_chain_match: {prefix_ranges: [{address_prefix: svc.vip, prefix_len: 32}], destination_port: port.port},
        filters: [tcpProxy(clusterName('outbound', port.port, '', svc.host))],
        name: `${svc.vip}_${port.port}`,
      })
    }
  }
  chains.push({filter_chain_match: {}, filters: [tcpProxy('PassthroughCluster')], name: 'PassthroughFilterChain'})
  return {
    '@type': T.listener, name: 'virtualOutbound',
    address: {socket_address: {address: '0.0.0.0', port_value: 15001}},
    filter_chains: chains,
    use_original_dst: true, traffic_direction: 'OUTBOUND', access_log: accessLog(),
  }
}

function httpPortListener(port, proto) {
  return {
    '@type': T.listener, name: `0.0.0.0_${port}`,
    address: {socket_address: {address: '0.0.0.0', port_value: port}},
    filter_chains: [
      {filter_chain_match: {transport_protocol: 'raw_buffer', application_protocols: proto === 'grpc' ? ['h2c'] : HTTP_APP}, filters: [hcm(`outbound_0.0.0.0_${port}`, {rds: {config_source: adsSource(), route_config_name: String(port)}}, true)], name: `0.0.0.0_${port}`},
    ],
    default_filter_chain: {filters: [tcpProxy('PassthroughCluster')], name: 'PassthroughFilterChain'},
    listener_filters: [{name: 'envoy.filters.listener.http_inspector', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector'}}],
    listener_filters_timeout: '0s', continue_on_listener_filters_timeout: true, traffic_direction: 'OUTBOUND', bind_to_port: false,
  }
}

function sniListener(port, svcs) {
  return {
    '@type': T.listener, name: `0.0.0.0_${port}`,
    address: {socket_address: {address: '0.0.0.0', port_value: port}},
    filter_chains: svcs.map((svc) => ({
      filter_chain_match: {server_names: svc.kind === 'external' ? [svc.host] : [svc.host, `${svc.name}.${svc.ns}`, `${svc.name}.${svc.ns}.svc`]},
      filters: [tcpProxy(clusterName('outbound', port, '', svc.host), `outbound|${port}||${svc.host}`)],
      name: `${svc.host}_${port}`,
    })),
    default_filter_chain: {filters: [tcpProxy('PassthroughCluster')], name: 'PassthroughFilterChain'},
    listener_filters: [{name: 'envoy.filters.listener.tls_inspector', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector'}}],
    listener_filters_timeout: '0s', continue_on_listener_filters_timeout: true, traffic_direction: 'OUTBOUND', bind_to_port: false,
  }
}

function vipListener(svc, port) {
  return {
    '@type': T.listener, name: `${svc.vip}_${port.port}`,
    address: {socket_address: {address: svc.vip, port_value: port.port}},
    filter_chains: [{filters: [metadataExchangeFilter(), tcpProxy(clusterName('outbound', port.port, '', svc.host))]}],
    traffic_direction: 'OUTBOUND', bind_to_port: false,
  }
}

function staticListeners() {
  const prom = {
    '@type': T.listener,
    address: {socket_address: {address: '0.0.0.0', port_value: 15090}},
    filter_chains: [{filters: [{name: 'envoy.filters.network.http_connection_manager', typed_config: {'@type': T.hcm, stat_prefix: 'stats', route_config: staticRouteConfig('/stats/prometheus', 'prometheus_stats'), http_filters: [{name: 'envoy.filters.http.router', typed_config: {'@type': T.router}}]}}]}],
  }
  const ready = {
    '@type': T.listener,
    address: {socket_address: {address: '0.0.0.0', port_value: 15021}},
    filter_chains: [{filters: [{name: 'envoy.filters.network.http_connection_manager', typed_config: {'@type': T.hcm, stat_prefix: 'agent', route_config: staticRouteConfig('/healthz/ready', 'agent'), http_filters: [{name: 'envoy.filters.http.router', typed_config: {'@type': T.router}}]}}]}],
  }
  return [prom, ready]
}

function staticRouteConfig(prefix, cluster) {
  return {virtual_hosts: [{name: 'backend', domains: ['*'], routes: [{match: {prefix}, route: {cluster}}]}]}
}

// ---------------------------------------------------------------------------------------------
// Routes

function domainsFor(svc, port) {
  const short = [svc.host]
  if (svc.kind === 'k8s') short.push(svc.name, `${svc.name}.${svc.ns}.svc`, `${svc.name}.${svc.ns}`)
  if (svc.vip) short.push(svc.vip)
  if (port === 80) return short
  const out = []
  for (const d of short) out.push(d, `${d}:${port}`)
  return out
}

const retryPolicy = () => ({
  retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
  num_retries: 2,
  retry_host_predicate: [{name: 'envoy.retry_host_predicates.previous_hosts', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate'}}],
  host_selection_retry_max_attempts: '5',
  retriable_status_codes: [503],
})

function routeAction(cluster) {
  return {cluster, timeout: '0s', retry_policy: retryPolicy(), max_stream_duration: {max_stream_duration: '0s', grpc_timeout_header_max: '0s'}}
}

function vhostRoutes(rng, svc, port) {
  const base = clusterName('outbound', port, '', svc.host)
  if (!svc.vs) {
    return [{match: {prefix: '/'}, route: routeAction(base), decorator: {operation: `${svc.host}:${port}/*`}, name: 'default'}]
  }
  const meta = {filter_metadata: {istio: {config: vsPath(svc)}}}
  const routes = []
  const n = rng.int(1, 4)
  for (let r = 0; r < n; r++) {
    const kind = rng.pick(['prefix', 'regex', 'path', 'prefix'])
    const match = kind === 'prefix' ? {prefix: `/api/v${r + 1}/${rng.pick(WORDS)}`} : kind === 'regex' ? {safe_regex: {regex: `^/${rng.pick(WORDS)}/[0-9]+(/.*)?$`}} : {path: `/${rng.pick(WORDS)}/healthz`}
    if (rng.chance(0.3)) match.headers = [{name: 'end-user', string_match: {exact: rng.pick(['jason', 'alice', 'canary-tester'])}}]
    let action
    if (svc.subsets.length >= 2 && rng.chance(0.6)) {
      const w = rng.pick([90, 80, 50, 95])
      action = {
        weighted_clusters: {clusters: [{name: clusterName('outbound', port, svc.subsets[0], svc.host), weight: w}, {name: clusterName('outbound', port, svc.subsets[1], svc.host), weight: 100 - w}]},
        timeout: '0s', retry_policy: retryPolicy(), max_stream_duration: {max_stream_duration: '0s', grpc_timeout_header_max: '0s'},
      }
    } else {
      action = routeAction(svc.subsets.length ? clusterName('outbound', port, svc.subsets[r % svc.subsets.length], svc.host) : base)
      if (rng.chance(0.2)) action.timeout = `${rng.int(1, 30)}s`
    }
    routes.push({match, route: action, metadata: meta, decorator: {operation: `${svc.name}.${svc.ns}.svc.cluster.local:${port}${match.prefix ?? match.path ?? '/*'}`}, name: `${svc.name}-route-${r}`})
  }
  routes.push({match: {prefix: '/'}, route: routeAction(svc.subsets.length ? clusterName('outbound', port, svc.subsets[0], svc.host) : base), metadata: meta, decorator: {operation: `${svc.host}:${port}/*`}, name: 'default'})
  return routes
}

// ---------------------------------------------------------------------------------------------
// Secrets and bootstrap

// A workload certificate chain and root (EC P-256, valid for 100 years), made once with openssl for
// this generator, so secret tables show real serials and dates. Private keys are redacted, as Envoy does.
const CERT_CHAIN_BASE64 = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ6akNDQVhTZ0F3SUJBZ0lVUWdCS2pRZERpODh0dUVXaUh3SE9USkJWbDVjd0NnWUlLb1pJemowRUF3SXcKR0RFV01CUUdBMVVFQ2d3TlkyeDFjM1JsY2k1c2IyTmhiREFnRncweU5qRXhNekF4TlRFNE1UQmFHQTh5TVRJMgpNVEV3TmpFMU1UZ3hNRm93QURCWk1CTUdCeXFHU000OUFnRUdDQ3FHU000OUF3RUhBMElBQkgwU1RKRTFMRTZhClFFL1pJVTIxMUpSMzA3ejc4TkZXcm01NGhUaVdSS0hieWljNGpXRE9XdlNEVFRydzF2WlN5T0krUWRub3g4bVkKalJMd3NTNUlMV2lqZ2JFd2dhNHdQUVlEVlIwUkJEWXdOSVl5YzNCcFptWmxPaTh2WTJ4MWMzUmxjaTVzYjJOaApiQzl1Y3k5MFpXRnRMVEF2YzJFdmNISnZaSFZqZEhCaFoyVXRjMkV3RGdZRFZSMFBBUUgvQkFRREFnV2dNQjBHCkExVWRKUVFXTUJRR0NDc0dBUVVGQndNQkJnZ3JCZ0VGQlFjREFqQWRCZ05WSFE0RUZnUVVsbTdWTkZlS1puUTQKdC91bmJWSGttRmlaRTdVd0h3WURWUjBqQkJnd0ZvQVVqN3VLNDZCRXhSd25YZk9NTmJNTU1WdFVFUzB3Q2dZSQpLb1pJemowRUF3SURTQUF3UlFJZ0lyV0JsbTlucjBENXViNW5Jb1pXMWR1MGhva1p2MlFUc2VoWUVYV3dvSGtDCklRQzAxVC9HK2crUUxGNzVTK3FwQlllTnpXRXNZd3liTnQyWEx2L2ZCeXJWMlE9PQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCi0tLS0tQkVHSU4gQ0VSVElGSUNBVEUtLS0tLQpNSUlCaHpDQ0FTMmdBd0lCQWdJVVk5eS95aDJmK0NPdjhHdDFiajZtSHF6di9mOHdDZ1lJS29aSXpqMEVBd0l3CkdERVdNQlFHQTFVRUNnd05ZMngxYzNSbGNpNXNiMk5oYkRBZ0Z3MHlOakV4TXpBeE5URTRNVEJhR0E4eU1USTIKTVRFd05qRTFNVGd4TUZvd0dERVdNQlFHQTFVRUNnd05ZMngxYzNSbGNpNXNiMk5oYkRCWk1CTUdCeXFHU000OQpBZ0VHQ0NxR1NNNDlBd0VIQTBJQUJLZG50cHpzSmF6MU50TkdEejE3RGpyK0NBcHh5N3hmWGc4ZWl0WWdBZ1E3CmoxbHFGcmM5QUlsaS9TdENFTWRIUnU0YVFaSHRlVUxkWUJCWUNlVlV3aG1qVXpCUk1CMEdBMVVkRGdRV0JCU1AKdTRyam9FVEZIQ2RkODR3MXN3d3hXMVFSTFRBZkJnTlZIU01FR0RBV2dCU1B1NHJqb0VURkhDZGQ4NHcxc3d3eApXMVFSTFRBUEJnTlZIUk1CQWY4RUJUQURBUUgvTUFvR0NDcUdTTTQ5QkFNQ0EwZ0FNRVVDSVFERElQUmN6alNVClRIdXE4dTdUK3EvaFJvYWZhWnEwalBHMVMrcm5SOG51WUFJZ0NkVDJPSHQvOVprRkJLWnU5eUpvQTB5eVpKU0UKLzVVSmRZNC9ucFJIbzdjPQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=='
const ROOT_CERT_BASE64 = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJoekNDQVMyZ0F3SUJBZ0lVWTl5L3loMmYrQ092OEd0MWJqNm1IcXp2L2Y4d0NnWUlLb1pJemowRUF3SXcKR0RFV01CUUdBMVVFQ2d3TlkyeDFjM1JsY2k1c2IyTmhiREFnRncweU5qRXhNekF4TlRFNE1UQmFHQTh5TVRJMgpNVEV3TmpFMU1UZ3hNRm93R0RFV01CUUdBMVVFQ2d3TlkyeDFjM1JsY2k1c2IyTmhiREJaTUJNR0J5cUdTTTQ5CkFnRUdDQ3FHU000OUF3RUhBMElBQktkbnRwenNKYXoxTnROR0R6MTdEanIrQ0FweHk3eGZYZzhlaXRZZ0FnUTcKajFscUZyYzlBSWxpL1N0Q0VNZEhSdTRhUVpIdGVVTGRZQkJZQ2VWVXdobWpVekJSTUIwR0ExVWREZ1FXQkJTUAp1NHJqb0VURkhDZGQ4NHcxc3d3eFcxUVJMVEFmQmdOVkhTTUVHREFXZ0JTUHU0cmpvRVRGSENkZDg0dzFzd3d4ClcxUVJMVEFQQmdOVkhSTUJBZjhFQlRBREFRSC9NQW9HQ0NxR1NNNDlCQU1DQTBnQU1FVUNJUURESVBSY3pqU1UKVEh1cTh1N1QrcS9oUm9hZmFacTBqUEcxUytyblI4bnVZQUlnQ2RUMk9IdC85WmtGQktadTl5Sm9BMHl5WkpTRQovNVVKZFk0L25wUkhvN2M9Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K'

function bootstrap(mesh) {
  const statsTags = []
  for (const tag of ['reporter', 'source_namespace', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version', 'source_cluster', 'destination_namespace', 'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version', 'destination_service', 'destination_service_name', 'destination_service_namespace', 'destination_port', 'destination_cluster', 'request_protocol', 'request_operation', 'request_host', 'response_flags', 'grpc_response_status', 'connection_security_policy', 'source_canonical_service', 'destination_canonical_service', 'source_canonical_revision', 'destination_canonical_revision']) {
    statsTags.push({tag_name: tag, regex: `(${tag}=\\.=(.*?);\\.;)`})
  }
  statsTags.push({tag_name: 'response_code', regex: '_rq(_(\\d{3}))$'}, {tag_name: 'cache', regex: '(cache\\.(.+?)\\.)'}, {tag_name: 'component', regex: '(component\\.(.+?)\\.)'}, {tag_name: 'tag', regex: '(tag\\.(.+?);\\.)'}, {tag_name: 'wasm_filter', regex: '(wasm_filter\\.(.+?)\\.)'}, {tag_name: 'authz_enforce_result', regex: 'rbac(\\.(allowed|denied))'}, {tag_name: 'authz_dry_run_action', regex: '(\\.istio_dry_run_(allow|deny)_)'}, {tag_name: 'authz_dry_run_result', regex: '(\\.shadow_(allowed|denied))'})
  const self = mesh.self
  return {
    '@type': ADMIN + 'BootstrapConfigDump',
    bootstrap: {
      node: {
        id: `sidecar~${self.ip}~${self.name}.${self.ns}~${self.ns}.svc.cluster.local`,
        cluster: `${self.app}.${self.ns}`,
        metadata: {
          ANNOTATIONS: {'istio.io/rev': 'default', 'kubectl.kubernetes.io/default-container': self.app, 'kubectl.kubernetes.io/default-logs-container': self.app, 'prometheus.io/path': '/stats/prometheus', 'prometheus.io/port': '15020', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/status': '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}'},
          APP_CONTAINERS: self.app, CLUSTER_ID: 'Kubernetes', ENVOY_PROMETHEUS_PORT: 15090, ENVOY_STATUS_PORT: 15021, INSTANCE_IPS: self.ip, INTERCEPTION_MODE: 'REDIRECT',
          ISTIO_PROXY_SHA: '4f1b7c6d2e9a8b3c5d7e0f1a2b3c4d5e6f708192', ISTIO_VERSION: '1.24.2',
          LABELS: {app: self.app, 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': self.app, 'service.istio.io/canonical-revision': 'v1', version: 'v1'},
          MESH_ID: 'cluster.local', NAME: self.name, NAMESPACE: self.ns, NODE_NAME: 'gke-prod-pool-1-7d9f8c6b-x2lq',
          OWNER: `kubernetes://apis/apps/v1/namespaces/${self.ns}/deployments/${self.app}-v1`, PILOT_SAN: ['istiod.istio-system.svc'],
          POD_PORTS: '[{"name":"http","containerPort":9080,"protocol":"TCP"},{"name":"http-web","containerPort":8080,"protocol":"TCP"},{"name":"grpc","containerPort":50051,"protocol":"TCP"}]',
          PROXY_CONFIG: {binaryPath: '/usr/local/bin/envoy', concurrency: 2, configPath: './etc/istio/proxy', controlPlaneAuthPolicy: 'MUTUAL_TLS', discoveryAddress: 'istiod.istio-system.svc:15012', drainDuration: '45s', proxyAdminPort: 15000, serviceCluster: 'istio-proxy', statNameLength: 189, statusPort: 15020, terminationDrainDuration: '5s', tracing: {zipkin: {address: 'zipkin.istio-system:9411'}}},
          SERVICE_ACCOUNT: `${self.app}-sa`, WORKLOAD_NAME: `${self.app}-v1`,
        },
        locality: {region: 'us-east1', zone: 'us-east1-b'},
        user_agent_name: 'envoy',
        user_agent_build_version: {version: {major_number: 1, minor_number: 32, patch: 3}, metadata: {'build.type': 'RELEASE', 'revision.sha': '4f1b7c6d2e9a8b3c5d7e0f1a2b3c4d5e6f708192', 'revision.status': 'Clean', 'ssl.version': 'BoringSSL'}},
        extensions: ['envoy.filters.http.router', 'envoy.filters.http.fault', 'envoy.filters.http.cors', 'envoy.filters.http.rbac', 'envoy.filters.http.grpc_stats', 'envoy.filters.network.tcp_proxy', 'envoy.filters.network.http_connection_manager', 'envoy.filters.listener.tls_inspector', 'envoy.filters.listener.http_inspector', 'envoy.filters.listener.original_dst', 'envoy.transport_sockets.tls', 'envoy.transport_sockets.raw_buffer', 'envoy.access_loggers.file', 'envoy.tracers.zipkin'].map((name) => ({name, category: name.split('.').slice(0, 2).join('.'), type_urls: []})),
        client_features: ['envoy.config.require-any-fields-contain-struct', 'envoy.lb.does_not_support_overprovisioning', 'xds.config.resource-in-sotw', 'envoy.lrs.supports_send_all_clusters'],
      },
      static_resources: {
        listeners: staticListeners().map(({['@type']: _, ...rest}) => rest),
        clusters: STATIC_CLUSTERS.map(([name, address, extra]) => {
          const {['@type']: _, ...rest} = staticCluster(name, address, extra)
          return rest
        }),
      },
      dynamic_resources: {
        lds_config: adsSource(), cds_config: adsSource(),
        ads_config: {api_type: 'GRPC', grpc_services: [{envoy_grpc: {cluster_name: 'xds-grpc'}}], set_node_on_first_message_only: true, transport_api_version: 'V3'},
      },
      cluster_manager: {outlier_detection: {}},
      stats_config: {stats_tags: statsTags, use_all_default_tags: false, stats_matcher: {inclusion_list: {patterns: ['cluster_manager', 'listener_manager', 'server', 'cluster.xds-grpc', 'wasm', 'component'].map((p) => ({prefix: p})).concat([{suffix: 'rbac.allowed'}, {suffix: 'rbac.denied'}, {suffix: 'downstream_rq_active'}])}}},
      admin: {address: {socket_address: {address: '127.0.0.1', port_value: 15000}}, profile_path: '/var/lib/istio/data/envoy.prof'},
      tracing: {http: {name: 'envoy.tracers.zipkin', typed_config: {'@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig', collector_cluster: 'zipkin', collector_endpoint: '/api/v2/spans', trace_id_128bit: true, shared_span_context: false, collector_endpoint_version: 'HTTP_JSON'}}},
      layered_runtime: {layers: [{name: 'global config', static_layer: {'envoy.reloadable_features.http_reject_path_with_fragment': 'false', 'overload.global_downstream_max_connections': '2147483647', 're2.max_program_size.error_level': '32768'}}, {name: 'admin', admin_layer: {}}]},
      bootstrap_extensions: [{name: 'envoy.bootstrap.internal_listener', typed_config: {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener', value: {buffer_size_kb: 64}}}],
    },
    last_updated: stamp(0),
  }
}

// ---------------------------------------------------------------------------------------------
// The dump

function endpointConfig(mesh, rng, entry) {
  const {svc, port, subset, name} = entry
  const pods = svc.pods.filter((pod) => !subset || pod.version === subset)
  const byLocality = new Map()
  for (const pod of pods) {
    const key = `${pod.region}/${pod.zone}/${pod.subZone ?? ''}`
    if (!byLocality.has(key)) byLocality.set(key, [])
    byLocality.get(key).push(pod)
  }
  const endpoints = []
  for (const group of byLocality.values()) {
    const [region, zones] = REGIONS[group[0].region]
    const locality = {region, zone: zones[group[0].zone % zones.length]}
    if (group[0].subZone) locality.sub_zone = group[0].subZone
    endpoints.push({
      locality,
      lb_endpoints: group.map((pod) => {
        const lb = {endpoint: {address: {socket_address: {address: pod.ip, port_value: svc.kind === 'external' ? port.port : port.port + (rng.chance(0.3) ? 1 : 0)}}, health_check_config: {}}}
        if (svc.kind === 'external') lb.endpoint.hostname = svc.host
        lb.health_status = pod.health
        if (svc.kind === 'k8s') lb.metadata = {filter_metadata: {'envoy.transport_socket_match': {tlsMode: 'istio'}, istio: {workload: `${svc.name}-${pod.version};${svc.ns};${svc.name};${pod.version};Kubernetes`}}}
        lb.load_balancing_weight = 1
        return lb
      }),
      load_balancing_weight: group.length,
    })
  }
  return {'@type': T.cla, cluster_name: name, ...(endpoints.length ? {endpoints} : {}), policy: {overprovisioning_factor: 140}}
}

function staticEndpointConfig(name, address) {
  const socket = address.startsWith('./') ? {pipe: {path: address}} : {socket_address: {address: address.split(':')[0], port_value: Number(address.split(':')[1])}}
  return {'@type': T.cla, cluster_name: name, endpoints: [{locality: {}, lb_endpoints: [{endpoint: {address: socket, health_check_config: {}}, health_status: 'HEALTHY', load_balancing_weight: 1}], load_balancing_weight: 0}], policy: {overprovisioning_factor: 140}}
}

/**
 * `clusterHeavy`: a gateway-like dump where the Clusters section is nearly the whole file (every
 * cluster of the mesh, as a gateway or an unscoped sidecar has, but no EDS and only a few
 * listeners and route configurations with few virtual hosts).
 */
function dumpTree(services, seed, {clusterHeavy = false} = {}) {
  const mesh = buildMesh(services, seed)
  const plan = clusterPlan(mesh)
  const cdsRng = new Rng(seed ^ 0xc1)
  const edsRng = new Rng(seed ^ 0xe1)
  const rdsRng = new Rng(seed ^ 0xd1)
  let tick = 1000
  const at = () => stamp((tick += 7) % 600000)

  const dynamicClusters = [
    ...specialClusters().map((cluster) => () => cluster),
    ...mesh.inbound.map((port) => () => inboundCluster(port)),
    ...plan.map((entry) => () => outboundCluster(cdsRng, entry.svc, entry.port, entry.subset)),
  ]
  const dynamicEndpoints = [
    ...mesh.inbound.map((port) => () => ({'@type': T.cla, cluster_name: clusterName('inbound', port.port, '', ''), policy: {overprovisioning_factor: 140}})),
    ...plan.map((entry) => () => endpointConfig(mesh, edsRng, entry)),
  ]

  const httpPorts = new Map()
  const sniPorts = new Map()
  const tcpServices = []
  for (const svc of mesh.services) {
    for (const port of svc.ports) {
      if (port.proto === 'http' || port.proto === 'grpc') {
        if (!httpPorts.has(port.port)) httpPorts.set(port.port, {proto: port.proto, services: []})
        httpPorts.get(port.port).services.push(svc)
      } else if (port.proto === 'https') {
        if (!sniPorts.has(port.port)) sniPorts.set(port.port, [])
        sniPorts.get(port.port).push(svc)
      } else if (svc.vip) {
        tcpServices.push([svc, port])
      }
    }
  }
  let sortedHttp = [...httpPorts.entries()].sort((a, b) => a[0] - b[0])
  if (clusterHeavy) sortedHttp = sortedHttp.slice(0, 3).map(([port, info]) => [port, {...info, services: info.services.slice(0, 40)}])
  let listenerMakers = [
    () => virtualOutbound(mesh),
    () => virtualInbound(mesh),
    ...sortedHttp.map(([port, info]) => () => httpPortListener(port, info.proto)),
    ...[...sniPorts.entries()].sort((a, b) => a[0] - b[0]).map(([port, svcs]) => () => sniListener(port, svcs)),
    ...tcpServices.map(([svc, port]) => () => vipListener(svc, port)),
  ]
  if (clusterHeavy) listenerMakers = listenerMakers.slice(0, 2 + sortedHttp.length)
  const dynamicListeners = new Lazy(listenerMakers.length, (i) => {
    const listener = listenerMakers[i]()
    return {name: listener.name, active_state: {version_info: VERSION, listener, last_updated: at()}}
  })

  const routeConfig = (port, info) => {
    const vhosts = info.services.map((svc) => () => ({
      name: `${svc.host}:${port}`,
      domains: domainsFor(svc, port),
      routes: vhostRoutes(rdsRng, svc, port),
      include_request_attempt_count: true,
    }))
    vhosts.push(() => ({name: 'allow_any', domains: ['*'], routes: [{match: {prefix: '/'}, route: {cluster: 'PassthroughCluster', timeout: '0s', max_stream_duration: {max_stream_duration: '0s', grpc_timeout_header_max: '0s'}}, name: 'allow_any'}], include_request_attempt_count: true}))
    return new Streamed({
      '@type': T.route,
      name: String(port),
      virtual_hosts: new Lazy(vhosts.length, (i) => vhosts[i]()),
      validate_clusters: false,
      max_direct_response_body_size_bytes: 1048576,
      ignore_port_in_host_matching: true,
    })
  }

  return new Streamed({
    configs: [
      bootstrap(mesh),
      new Streamed({
        '@type': ADMIN + 'ClustersConfigDump',
        version_info: VERSION,
        static_clusters: STATIC_CLUSTERS.map(([name, address, extra]) => ({cluster: staticCluster(name, address, extra), last_updated: stamp(12)})),
        dynamic_active_clusters: new Lazy(dynamicClusters.length, (i) => ({version_info: VERSION, cluster: dynamicClusters[i](), last_updated: at()})),
      }),
      clusterHeavy ? undefined : new Streamed({
        '@type': ADMIN + 'EndpointsConfigDump',
        static_endpoint_configs: STATIC_CLUSTERS.map(([name, address]) => ({endpoint_config: staticEndpointConfig(name, address)})),
        dynamic_endpoint_configs: new Lazy(dynamicEndpoints.length, (i) => ({endpoint_config: dynamicEndpoints[i]()})),
      }),
      new Streamed({
        '@type': ADMIN + 'ListenersConfigDump',
        version_info: VERSION,
        static_listeners: staticListeners().map((listener) => ({listener, last_updated: stamp(15)})),
        dynamic_listeners: dynamicListeners,
      }),
      {'@type': ADMIN + 'ScopedRoutesConfigDump'},
      new Streamed({
        '@type': ADMIN + 'RoutesConfigDump',
        static_route_configs: [
          ...staticListeners().map((l) => ({route_config: {'@type': T.route, ...l.filter_chains[0].filters[0].typed_config.route_config}, last_updated: stamp(15)})),
          ...mesh.inbound.filter((p) => p.proto !== 'tcp').map((port) => ({route_config: {'@type': T.route, ...inlineInboundRoute(port)}, last_updated: stamp(20)})),
          {route_config: {'@type': T.route, name: 'InboundPassthroughCluster', virtual_hosts: [{name: 'inbound|http|0', domains: ['*'], routes: [{match: {prefix: '/'}, route: {cluster: 'InboundPassthroughCluster', timeout: '0s'}, name: 'default'}]}], validate_clusters: false}, last_updated: stamp(20)},
        ],
        dynamic_route_configs: new Lazy(sortedHttp.length, (i) => new Streamed({version_info: VERSION, route_config: routeConfig(sortedHttp[i][0], sortedHttp[i][1]), last_updated: at()})),
      }),
      {
        '@type': ADMIN + 'SecretsConfigDump',
        dynamic_active_secrets: [
          {name: 'default', version_info: '2026-11-02 08:10:00.381 +0000 UTC m=+0.412', last_updated: stamp(400), secret: {'@type': T.secret, name: 'default', tls_certificate: {certificate_chain: {inline_bytes: CERT_CHAIN_BASE64}, private_key: {inline_bytes: 'W3JlZGFjdGVkXQ=='}}}},
          {name: 'ROOTCA', version_info: '2026-11-02 08:10:00.382 +0000 UTC m=+0.413', last_updated: stamp(401), secret: {'@type': T.secret, name: 'ROOTCA', validation_context: {trusted_ca: {inline_bytes: ROOT_CERT_BASE64}}}},
        ],
      },
    ].filter(Boolean),
  })
}

/** /clusters?format=json for the same mesh (envoy.admin.v3.Clusters, 1-space pretty). */
function clustersTree(services, seed) {
  const mesh = buildMesh(services, seed)
  const plan = clusterPlan(mesh)
  const rng = new Rng(seed ^ 0xca)
  const hostStats = (health) => {
    const total = rng.int(0, 5000)
    const errors = health === 'HEALTHY' ? rng.int(0, 3) : rng.int(5, 200)
    const stats = [{name: 'cx_connect_fail', ...(errors ? {value: String(errors)} : {})}, {name: 'cx_total', value: String(total + 3)}, {name: 'rq_error', ...(errors ? {value: String(errors)} : {})}, {name: 'rq_success', value: String(total)}, {name: 'rq_timeout'}, {name: 'rq_total', value: String(total + errors)}, {type: 'GAUGE', name: 'cx_active', value: String(rng.int(0, 4))}, {type: 'GAUGE', name: 'rq_active'}]
    return stats.map((s) => (s.value === undefined ? {name: s.name, ...(s.type ? {type: s.type} : {})} : s))
  }
  const statusFor = (entry) => {
    const {svc, port, subset, name} = entry
    const pods = svc.pods.filter((pod) => !subset || pod.version === subset)
    const status = {
      name, added_via_api: true, observability_name: name,
      ...(svc.kind === 'k8s' ? {eds_service_name: name} : {}),
      circuit_breakers: {thresholds: [{max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295}, {priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3}]},
    }
    if (svc.dr) status.success_rate_ejection_threshold = {value: 0}
    if (pods.length) {
      status.host_statuses = pods.map((pod) => {
        const [region, zones] = REGIONS[pod.region]
        const health = {eds_health_status: pod.health === 'HEALTHY' || pod.health === 'UNHEALTHY' || pod.health === 'DEGRADED' ? pod.health : 'HEALTHY'}
        if (pod.health === 'UNHEALTHY' && rng.chance(0.3)) health.failed_outlier_check = true
        if (pod.health === 'DRAINING') health.pending_dynamic_removal = true
        return {
          address: {socket_address: {address: pod.ip, port_value: port.port}},
          stats: hostStats(pod.health),
          health_status: health,
          weight: 1,
          locality: {region, zone: zones[pod.zone % zones.length], ...(pod.subZone ? {sub_zone: pod.subZone} : {})},
          ...(svc.kind === 'external' ? {hostname: svc.host} : {}),
        }
      })
    }
    return status
  }
  const statics = STATIC_CLUSTERS.map(([name, address]) => ({
    name, observability_name: name,
    circuit_breakers: {thresholds: [{max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3}, {priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3}]},
    host_statuses: [{address: address.startsWith('./') ? {pipe: {path: address}} : {socket_address: {address: address.split(':')[0], port_value: Number(address.split(':')[1])}}, stats: [{name: 'cx_total', value: '1'}, {type: 'GAUGE', name: 'cx_active', value: '1'}], health_status: {eds_health_status: 'HEALTHY'}, weight: 1, locality: {}}],
  }))
  const specials = ['BlackHoleCluster', 'PassthroughCluster', 'InboundPassthroughCluster', ...mesh.inbound.map((p) => clusterName('inbound', p.port, '', ''))].map((name) => ({name, added_via_api: true, observability_name: name, circuit_breakers: {thresholds: [{max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295}, {priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3}]}}))
  const makers = [...statics.map((s) => () => s), ...specials.map((s) => () => s), ...plan.map((entry) => () => statusFor(entry))]
  return new Streamed({cluster_statuses: new Lazy(makers.length, (i) => makers[i]())})
}

function collect(tree, layout = LAYOUTS.envoy) {
  const chunks = []
  emit(tree, 0, (chunk) => chunks.push(chunk), layout)
  return chunks.join('') + layout.nl
}

/** The whole /config_dump?include_eds text for `services` services (`layout`: a key of LAYOUTS). */
export function generateDump({services, seed = 1, layout = 'envoy', clusterHeavy = false}) {
  return collect(dumpTree(services, seed, {clusterHeavy}), layoutOf(layout))
}

function layoutOf(name) {
  const layout = LAYOUTS[name]
  if (!layout) throw new Error(`unknown layout "${name}" (use ${Object.keys(LAYOUTS).join(', ')})`)
  return layout
}

/** The matching /clusters?format=json text. */
export function generateClustersJson({services, seed = 1}) {
  return collect(clustersTree(services, seed))
}

/** Streams a tree to a file in ~4 MB writes; returns the byte count. */
function writeTree(tree, file, layout = LAYOUTS.envoy) {
  const fd = openSync(file, 'w')
  let buffer = []
  let pending = 0
  let total = 0
  const flush = () => {
    if (!buffer.length) return
    const bytes = Buffer.from(buffer.join(''), 'utf8')
    writeSync(fd, bytes)
    total += bytes.length
    buffer = []
    pending = 0
  }
  try {
    emit(tree, 0, (chunk) => {
      buffer.push(chunk)
      pending += chunk.length
      if (pending > 4 << 20) flush()
    }, layout)
    buffer.push(layout.nl || '\n')
    flush()
  } finally {
    closeSync(fd)
  }
  return total
}

export function writeDump(file, {services, seed = 1, layout = 'envoy', clusterHeavy = false}) {
  return writeTree(dumpTree(services, seed, {clusterHeavy}), file, layoutOf(layout))
}

export function writeClustersJson(file, {services, seed = 1}) {
  return writeTree(clustersTree(services, seed), file)
}

export function parseSize(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(String(text).trim())
  if (!match) throw new Error(`bad size "${text}" (use e.g. 1MB, 20MB, 150MB)`)
  const unit = {B: 1, KB: 1e3, MB: 1e6, GB: 1e9}[(match[2] ?? 'B').toUpperCase()]
  return Math.round(Number(match[1]) * unit)
}

/** Services needed for a dump of about `bytes` (linear fit on two small samples; within a few %). */
export function servicesForSize(bytes, seed = 1, shape = {}) {
  const a = 100
  const b = 400
  const sizeA = Buffer.byteLength(generateDump({services: a, seed, ...shape}))
  const sizeB = Buffer.byteLength(generateDump({services: b, seed, ...shape}))
  const perService = (sizeB - sizeA) / (b - a)
  const fixed = sizeA - perService * a
  return Math.max(2, Math.round((bytes - fixed) / perService))
}

function parseArgs(argv) {
  const opts = {seed: 1}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`)
      return argv[++i]
    }
    if (arg === '--size') opts.size = parseSize(value())
    else if (arg === '--services') opts.services = Number(value())
    else if (arg === '--seed') opts.seed = Number(value())
    else if (arg === '--out') opts.out = value()
    else if (arg === '--clusters-out') opts.clustersOut = value()
    else if (arg === '--no-clusters') opts.clustersOut = ''
    else if (arg === '--layout') opts.layout = value()
    else if (arg === '--cluster-heavy') opts.clusterHeavy = true
    else if (arg === '-h' || arg === '--help') opts.help = true
    else throw new Error(`unknown argument ${arg}`)
  }
  return opts
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const opts = parseArgs(process.argv.slice(2))
    if (opts.help || !opts.out || (!opts.size && !opts.services)) {
      console.log('usage: node bench/gen-dump.mjs (--size 20MB | --services N) --out FILE [--clusters-out FILE | --no-clusters] [--seed N] [--layout envoy|crlf|compact] [--cluster-heavy]')
      process.exit(opts.help ? 0 : 2)
    }
    const shape = {layout: opts.layout ?? 'envoy', clusterHeavy: opts.clusterHeavy === true}
    const services = opts.services ?? servicesForSize(opts.size, opts.seed, shape)
    const started = Date.now()
    const bytes = writeDump(opts.out, {services, seed: opts.seed, ...shape})
    const clustersOut = opts.clustersOut ?? opts.out.replace(/(\.json)?$/, '.clusters.json')
    const clusterBytes = clustersOut ? writeClustersJson(clustersOut, {services, seed: opts.seed}) : 0
    console.log(`${opts.out}: ${(bytes / 1e6).toFixed(1)} MB, ${services} services, seed ${opts.seed}` + (clustersOut ? `; ${clustersOut}: ${(clusterBytes / 1e6).toFixed(1)} MB` : '') + ` (${Date.now() - started} ms)`)
  } catch (error) {
    console.error(`gen-dump: ${error.message}`)
    process.exit(2)
  }
}
