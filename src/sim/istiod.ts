// istiod's HTTP debug handlers (8080 loopback, and the same set on 15014 behind a bearer token).
import type {IncomingMessage} from 'node:http'
import {buildConfigDump, claJson, serviceFqdn} from './envoy-config.js'
import type {EnvoyAdmin} from './envoy-admin.js'
import type {Scenario, SimPod} from './model.js'
import {clientConfig, connectedProxies, syncRow, type ConnectedProxy} from './sync.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
type Send = (code: number, body: string, contentType?: string) => void

/**
 * Proto JSON field names (snake_case) to golang jsonpb names; map keys that are not snake_case stay,
 * and so does a TypedStruct's `value` (a google.protobuf.Struct: its keys are data, printed as written).
 * `names` memoises each key's conversion for one call: a scale-scenario dump repeats a few hundred
 * keys millions of times, and the regex per key was a quarter of the simulator's CPU in a snapshot.
 */
export function toCamel(value: unknown, names: Map<string, string> = new Map()): unknown {
  if (Array.isArray(value)) return value.map((item) => toCamel(item, names))
  if (value === null || typeof value !== 'object') return value
  const out: J = {}
  const typedStruct = String((value as J)['@type'] ?? '').endsWith('.TypedStruct')
  for (const [k, v] of Object.entries(value)) {
    let key = names.get(k)
    if (key === undefined) {
      key = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(k) ? k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) : k
      names.set(k, key)
    }
    out[key] = typedStruct && k === 'value' ? v : toCamel(v, names)
  }
  return out
}

const NOT_CONNECTED = 'Proxy not connected to this Pilot instance. It may be connected to another instance.\n'

function versionAtLeast(version: string, minor: number): boolean {
  const [maj, min] = version.split('.').map(Number)
  return maj > 1 || min >= minor
}

export function handleIstiod(pod: SimPod, port: number, scenario: Scenario, _admin: (p: SimPod) => EnvoyAdmin, req: IncomingMessage, send: Send): void {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const path = url.pathname
  const q = url.searchParams
  const istiodVersion = pod.istiod?.version ?? '1.17.8'
  const pretty = q.has('pretty') && versionAtLeast(istiodVersion, 15)
  const json = (value: unknown) => send(200, JSON.stringify(value, null, pretty ? 4 : undefined), 'application/json')
  const mine = () => connectedProxies(scenario, pod.name)
  const byProxyId = (): ConnectedProxy | string => {
    const id = q.get('proxyID')
    if (!id) return 'You must provide a proxyID in the query string\n'
    // Connection IDs are `<pod>.<ns>-<counter>`; istiod matches them by substring.
    return mine().find((p, i) => `${p.id}-${i + 1}`.includes(id)) ?? NOT_CONNECTED
  }
  const withProxy = (fn: (p: ConnectedProxy) => void) => {
    const found = byProxyId()
    if (typeof found === 'string') return send(found === NOT_CONNECTED ? 404 : 400, found, 'text/plain; charset=utf-8')
    fn(found)
  }

  if (path === '/ready') return send(200, '')
  if (port === 15014 && path === '/metrics') {
    return send(200, `# HELP pilot_xds Number of endpoints connected to this pilot using XDS.\n# TYPE pilot_xds gauge\npilot_xds{version="${istiodVersion}"} ${mine().length}\n# HELP pilot_xds_pushes Pilot build and send errors for lds, rds, cds and eds.\n# TYPE pilot_xds_pushes counter\npilot_xds_pushes{type="cds"} 42\npilot_xds_pushes{type="eds"} 97\npilot_xds_pushes{type="lds"} 42\npilot_xds_pushes{type="rds"} 40\n`, 'text/plain; version=0.0.4; charset=utf-8')
  }
  if (port === 15014 && path === '/version') return send(200, `${istiodVersion}-${'a'.repeat(40)}-Clean\n`)

  switch (path) {
    case '/debug':
      return send(200, '<!DOCTYPE html><html><head><title>Pilot Debug Console</title></head><body><table><tr><td><a href="/debug/syncz">syncz</a></td></tr></table></body></html>', 'text/html; charset=utf-8')
    case '/debug/list':
      return json(['adsz', 'adsz?push=true', 'authorizationz', 'config_distribution', 'config_dump', 'configz', 'connections', 'edsz', 'endpointShardz', 'endpointz', 'inject', 'instancesz', 'mesh', 'ndsz', 'push_status', 'pushcontext', 'registryz', 'resourcesz', 'syncz', 'telemetryz'])
    case '/debug/syncz': {
      // pilot/pkg/xds/debug.go: the namespace filter arrived in 1.19 (a live mesh answers as its version).
      const ns = scenario.xds && !versionAtLeast(istiodVersion, 19) ? null : q.get('namespace')
      return json(mine().filter((p) => !ns || p.id.endsWith(`.${ns}`)).map((p) => syncRow(p, scenario.now, istiodVersion)))
    }
    case '/debug/adsz': case '/debug/connections': {
      if (q.get('push') === 'true') return send(200, 'Pushed to 0 servers\n', 'text/plain; charset=utf-8') // never act on it
      const id = q.get('proxyID')
      const clients = mine().filter((p) => !id || p.id.includes(id)).map((p, i) => path === '/debug/connections'
        ? {connectionId: `${p.id}-${i + 1}`, connectedAt: p.connectedAt, address: `${p.ip}:${41000 + i}`}
        : {connectionId: `${p.id}-${i + 1}`, connectedAt: p.connectedAt, address: `${p.ip}:${41000 + i}`, labels: p.pod?.labels ?? {},
          metadata: {CLUSTER_ID: p.clusterId, NAMESPACE: p.id.slice(p.id.lastIndexOf('.') + 1), ISTIO_VERSION: p.istioVersion, NAME: p.id.slice(0, p.id.lastIndexOf('.')), ...(p.pod ? {SERVICE_ACCOUNT: p.pod.serviceAccount, INSTANCE_IPS: p.pod.ip} : {})},
          locality: {}, watches: Object.fromEntries(Object.entries(p.sync).filter(([, s]) => s !== 'NOT_SENT').map(([t]) => [{cds: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', lds: 'type.googleapis.com/envoy.config.listener.v3.Listener', rds: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', eds: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', ecds: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig'}[t], []]))})
      return json(path === '/debug/connections' ? clients : {totalClients: clients.length, clients})
    }
    case '/debug/config_dump':
      return withProxy((p) => {
        if (!p.pod?.proxy) return json({configs: []})
        const dump = buildConfigDump(p.pod, scenario, q.has('include_eds'), 'istiod')
        const byType = (t: string) => (dump.configs as J[]).find((c) => c['@type'].endsWith(`.${t}`)) ?? {} // not ScopedRoutesConfigDump
        const clusters = byType('ClustersConfigDump')
        const listeners = byType('ListenersConfigDump')
        const routes = byType('RoutesConfigDump')
        const endpoints = byType('EndpointsConfigDump')
        const types = (q.get('types') ?? '').toLowerCase().split(',').filter(Boolean)
        if (types.length) {
          const flat: J[] = []
          for (const t of types) {
            if (t === 'cds' || t.endsWith('cluster.v3.cluster')) flat.push(...(clusters.dynamic_active_clusters ?? []).map((c: J) => c.cluster))
            if (t === 'lds' || t.endsWith('listener.v3.listener')) flat.push(...(listeners.dynamic_listeners ?? []).map((l: J) => l.active_state.listener))
            if (t === 'rds' || t.endsWith('route.v3.routeconfiguration')) flat.push(...(routes.dynamic_route_configs ?? []).map((r: J) => r.route_config))
            if (t === 'eds' || t.endsWith('endpoint.v3.clusterloadassignment')) flat.push(...((buildConfigDump(p.pod, scenario, true, 'istiod').configs as J[]).find((c) => c['@type'].endsWith('EndpointsConfigDump'))?.dynamic_endpoint_configs ?? []).map((e: J) => e.endpoint_config))
          }
          return json(toCamel({configs: flat}))
        }
        const version = clusters.version_info
        const out: J[] = [
          {'@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump'},
          {'@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', version_info: version, dynamic_active_clusters: (clusters.dynamic_active_clusters ?? []).map((c: J) => ({cluster: c.cluster}))},
          ...(q.has('include_eds') ? [{'@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump', dynamic_endpoint_configs: (endpoints.dynamic_endpoint_configs ?? []).map((e: J) => ({version_info: version, endpoint_config: e.endpoint_config}))}] : []),
          {'@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', version_info: version, dynamic_listeners: (listeners.dynamic_listeners ?? []).map((l: J) => ({name: l.name, active_state: {listener: l.active_state.listener, version_info: version}}))},
          {'@type': 'type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump'},
          {'@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', dynamic_route_configs: (routes.dynamic_route_configs ?? []).map((r: J) => ({version_info: version, route_config: r.route_config}))},
          {'@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump'},
          {'@type': 'type.googleapis.com/envoy.admin.v3.EcdsConfigDump'},
        ]
        return json(toCamel({configs: out}))
      })
    case '/debug/edsz':
      return withProxy((p) => {
        if (!p.pod?.proxy) return json([])
        const dump = buildConfigDump(p.pod, scenario, true, 'istiod')
        const eds = ((dump.configs as J[]).find((c) => c['@type'].endsWith('EndpointsConfigDump'))?.dynamic_endpoint_configs ?? []).map((e: J) => e.endpoint_config)
        const clas = eds.map(({'@type': _t, ...rest}: J) => rest)
        return versionAtLeast(istiodVersion, 25) ? json(toCamel({configs: eds})) : json(toCamel(clas))
      })
    case '/debug/ndsz':
      return withProxy((p) => {
        const table = nameTable(scenario, p.pod?.namespace ?? 'default')
        return versionAtLeast(istiodVersion, 25)
          ? json({configs: [{'@type': 'type.googleapis.com/istio.networking.nds.v1.NameTable', table}]})
          : json({name: p.id, resource: {'@type': 'type.googleapis.com/istio.networking.nds.v1.NameTable', table}})
      })
    case '/debug/registryz':
      return json(scenario.services.map((s) => ({
        Attributes: {ServiceRegistry: 'Kubernetes', Name: s.name, Namespace: s.namespace, Labels: s.labels, ExportTo: null, LabelSelectors: s.selector ?? null, ClusterExternalAddresses: null, ClusterExternalPorts: null, K8sAttributes: {Type: (s.type ?? 'ClusterIP')}},
        ports: s.ports.map((p) => ({name: p.name ?? '', port: p.port, protocol: /^(http|http2)/.test(p.name ?? '') ? 'HTTP' : /^grpc/.test(p.name ?? '') ? 'GRPC' : /^https/.test(p.name ?? '') ? 'HTTPS' : 'TCP'})),
        creationTime: s.creationTimestamp, hostname: serviceFqdn(s), clusterVIPs: {Addresses: {[scenario.clusterId]: [s.clusterIP]}}, defaultAddress: s.clusterIP, Resolution: 0, MeshExternal: false, ResourceVersion: String(2000 + s.name.length),
      })))
    case '/debug/configz':
      return json(scenario.istioConfigs.map((c) => ({kind: c.kind, apiVersion: c.apiVersion, metadata: {...c.metadata}, spec: c.spec, status: {}})))
    case '/debug/authorizationz': {
      const byNs: Record<string, J[]> = {}
      for (const c of scenario.istioConfigs.filter((x) => x.kind === 'AuthorizationPolicy')) {
        (byNs[c.metadata.namespace] ??= []).push({name: c.metadata.name, namespace: c.metadata.namespace, annotations: c.metadata.annotations ?? null, spec: c.spec})
      }
      return json({authorization_policies: {namespace_to_policies: byNs, root_namespace: scenario.meshConfig.rootNamespace}})
    }
    case '/debug/push_status': {
      const empty = scenario.services.flatMap((s) => s.ports.map((p) => ({s, p}))).filter(({s}) => s.selector && !scenario.pods.some((pod) => pod.namespace === s.namespace && pod.phase === 'Running' && Object.entries(s.selector!).every(([k, v]) => pod.labels[k] === v)))
      const status: J = {}
      if (empty.length) status.pilot_eds_no_instances = Object.fromEntries(empty.map(({s, p}) => [`outbound|${p.port}||${serviceFqdn(s)}`, {}]))
      return send(200, JSON.stringify(status, null, 4), 'application/json')
    }
    case '/debug/instancesz': {
      const out: J = {}
      for (const p of mine()) {
        if (!p.pod?.proxy) continue
        const pod = p.pod
        out[p.id] = scenario.services.filter((s) => s.namespace === pod.namespace && s.selector && Object.entries(s.selector).every(([k, v]) => pod.labels[k] === v))
          .flatMap((s) => s.ports.map((sp) => ({Service: {hostname: serviceFqdn(s), namespace: s.namespace}, ServicePort: {name: sp.name ?? '', port: sp.port, protocol: 'HTTP'}, Endpoint: {Labels: pod.labels, Address: pod.ip, EndpointPort: sp.targetPort, ServiceAccount: `spiffe://cluster.local/ns/${pod.namespace}/sa/${pod.serviceAccount}`, Network: '', Locality: {Label: '', ClusterID: scenario.clusterId}, TLSMode: pod.proxy ? 'istio' : 'disabled', Namespace: pod.namespace, WorkloadName: pod.labels.app ?? pod.name, HealthStatus: pod.ready ? 1 : 2}})))
      }
      return json(out)
    }
    case '/debug/config_distribution':
      return send(409, 'Pilot Version tracking is disabled. It may be enabled by setting the PILOT_ENABLE_CONFIG_DISTRIBUTION_TRACKING environment variable to true.', 'text/plain; charset=utf-8')
    case '/debug/mesh':
      return json({accessLogFile: '/dev/stdout', accessLogEncoding: scenario.meshConfig.accessLogEncoding, rootNamespace: scenario.meshConfig.rootNamespace, trustDomain: scenario.meshConfig.trustDomain, enablePrometheusMerge: true})
    default:
      if (path.startsWith('/debug/')) return send(404, '404 page not found\n', 'text/plain; charset=utf-8')
      return send(404, '404 page not found\n', 'text/plain; charset=utf-8')
  }
}

export function nameTable(scenario: Scenario, fromNamespace: string): J {
  const table: J = {}
  for (const s of scenario.services) {
    table[serviceFqdn(s)] = {ips: [s.clusterIP], registry: 'Kubernetes', shortname: s.name, namespace: s.namespace}
  }
  void fromNamespace
  return table
}

export {clientConfig, claJson}
