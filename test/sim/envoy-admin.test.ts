import {X509Certificate} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {GATEWAY, HTTPBIN, RATINGS, SLEEP, SLOW_CATALOG, WEBAPP, applyFix, podHttp} from './helpers.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

const admin = (path: string, target = GATEWAY, method = 'GET') => podHttp(sim, {...target, port: 15000}, path, {method})
const types = (body: string) => (JSON.parse(body).configs as Array<{'@type': string}>).map((c) => c['@type'].split('.').pop())

describe('Envoy admin /config_dump', () => {
  it('is Envoy JSON: sorted sections, 1-space indent, snake_case, v3 types', async () => {
    const r = await admin('/config_dump')
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.body.startsWith('{\n "configs": [\n  {\n   "@type"')).toBe(true)
    expect(types(r.body)).toEqual(['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'])
    const boot = JSON.parse(r.body).configs[0].bootstrap
    expect(boot.node.metadata.ISTIO_VERSION).toBe('1.17.8')
    expect(boot.node.user_agent_build_version.version).toEqual({major_number: 1, minor_number: 25, patch: 0})
    expect(boot.node.id).toBe(`router~10.10.0.7~${GATEWAY.pod}.istio-system~istio-system.svc.cluster.local`)
  })

  it('include_eds adds the EndpointsConfigDump after the clusters', async () => {
    const r = await admin('/config_dump?include_eds')
    expect(types(r.body)).toEqual(['BootstrapConfigDump', 'ClustersConfigDump', 'EndpointsConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'])
    const eds = JSON.parse(r.body).configs[2]
    const catalog = eds.dynamic_endpoint_configs.find((e: {endpoint_config: {cluster_name: string}}) => e.endpoint_config.cluster_name === 'outbound|80||catalog.istioinaction.svc.cluster.local')
    expect(catalog.endpoint_config.endpoints[0].lb_endpoints.map((l: {endpoint: {address: {socket_address: {address: string}}}}) => l.endpoint.address.socket_address.address).sort()).toEqual(['10.10.0.11', '10.10.0.12', '10.10.0.13'])
  })

  it("the EDS dump lists every active cluster with the hosts and health /clusters shows, the bootstrap's as static, an empty one without endpoints", async () => {
    type Lb = {endpoint: {address: {socket_address?: {address: string; port_value: number}; pipe?: {path: string}}}; health_status: string}
    type Cla = {cluster_name: string; endpoints?: Array<{lb_endpoints: Lb[]}>}
    type Status = {name: string; added_via_api?: boolean; host_statuses?: Array<{address: Lb['endpoint']['address']; health_status: {eds_health_status: string}}>}
    for (const target of [GATEWAY, WEBAPP]) {
      const [dump, clusters] = await Promise.all([admin('/config_dump?include_eds', target), admin('/clusters?format=json', target)])
      const eds = JSON.parse(dump.body).configs.find((c: {'@type': string}) => c['@type'].endsWith('EndpointsConfigDump'))
      const hostsOf = (cla: Cla) => (cla.endpoints ?? []).flatMap((group) => group.lb_endpoints.map((l) => `${JSON.stringify(l.endpoint.address)} ${l.health_status}`))
      const fromEds = (list: Array<{endpoint_config: Cla}>) => list.map(({endpoint_config: cla}) => [cla.cluster_name, hostsOf(cla)])
      const statuses = (JSON.parse(clusters.body) as {cluster_statuses: Status[]}).cluster_statuses
      const fromClusters = (dynamic: boolean) => statuses.filter((status) => (status.added_via_api === true) === dynamic).map((status) => [status.name, (status.host_statuses ?? []).map((h) => `${JSON.stringify(h.address)} ${h.health_status.eds_health_status}`)])
      expect(fromEds(eds.dynamic_endpoint_configs)).toEqual(fromClusters(true))
      expect(fromEds(eds.static_endpoint_configs)).toEqual(fromClusters(false))
      for (const {endpoint_config: cla} of eds.dynamic_endpoint_configs as Array<{endpoint_config: Cla}>) expect(cla.endpoints === undefined || cla.endpoints.length > 0).toBe(true)
    }
    // webapp never acknowledged EDS: its EDS clusters are active with no hosts, listed all the same.
    const webapp = JSON.parse((await admin('/config_dump?include_eds&resource=dynamic_endpoint_configs', WEBAPP)).body).configs as Array<{endpoint_config: Cla}>
    const catalog = webapp.find((item) => item.endpoint_config.cluster_name === 'outbound|80||catalog.istioinaction.svc.cluster.local')
    expect(catalog?.endpoint_config).toEqual({'@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: 'outbound|80||catalog.istioinaction.svc.cluster.local', policy: {overprovisioning_factor: 140}})
  })

  it('mask keeps only the dumps it fits and only the masked fields', async () => {
    const r = await admin('/config_dump?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters')
    const configs = JSON.parse(r.body).configs
    expect(configs).toHaveLength(1)
    expect(Object.keys(configs[0])).toEqual(['@type', 'dynamic_active_clusters', 'static_clusters'])
  })

  it('mask keeps a set sub-message as {} when none of its masked fields are set, as protobuf\'s TrimMessage does', async () => {
    const r = await admin('/config_dump?resource=static_clusters&mask=cluster.name,cluster.circuit_breakers.per_host_thresholds')
    const clusters = (JSON.parse(r.body).configs as Array<{cluster: {name: string; circuit_breakers?: unknown}}>).map((c) => c.cluster)
    // Only xds-grpc sets circuit_breakers (thresholds, no per_host_thresholds).
    const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster'
    expect(clusters.find((c) => c.name === 'xds-grpc')).toEqual({'@type': CLUSTER, name: 'xds-grpc', circuit_breakers: {}})
    expect(clusters.find((c) => c.name === 'agent')).toEqual({'@type': CLUSTER, name: 'agent'})
  })

  it('mask that fits nothing is a 400', async () => {
    const r = await admin('/config_dump?mask=dynamic_active_clusters,dynamic_listeners')
    expect(r.status).toBe(400)
    expect(r.body).toContain('could not be successfully applied to any configs')
  })

  it('clusters are dumped in name order, static and dynamic alike, as Envoy keeps them (a std::map by name)', async () => {
    const configs = JSON.parse((await admin('/config_dump')).body).configs as Array<Record<string, Array<{cluster: {name: string}}>>>
    const clusters = configs.find((c) => String(c['@type']).endsWith('ClustersConfigDump'))!
    for (const field of ['static_clusters', 'dynamic_active_clusters']) {
      const names = clusters[field].map((item) => item.cluster.name)
      expect(names.length).toBeGreaterThan(2)
      expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
    }
  })

  it('resource flattens a repeated field with the inner type, and mask reaches inside', async () => {
    const r = await admin('/config_dump?resource=dynamic_active_clusters&mask=cluster.name')
    const configs = JSON.parse(r.body).configs
    // The masked Any is packed again with its type, first (Envoy's ConfigDumpFiltersByResourceAndMask test).
    expect(JSON.stringify(configs[0])).toBe(JSON.stringify({'@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster', cluster: {'@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'BlackHoleCluster'}}))
    const listeners = JSON.parse((await admin('/config_dump?resource=dynamic_listeners')).body).configs
    expect(listeners[0]['@type']).toBe('type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener')
    expect((await admin('/config_dump?resource=version_info')).status).toBe(400)
    const missing = await admin('/config_dump?resource=nothing_here')
    expect(missing.status).toBe(404)
    expect(missing.body).toBe('nothing_here not found in config dump')
  })

  it('name_regex filters every named item; a bad regex is a 400', async () => {
    const r = await admin('/config_dump?name_regex=.*catalog.*&resource=dynamic_active_clusters')
    const names = JSON.parse(r.body).configs.map((c: {cluster: {name: string}}) => c.cluster.name)
    expect(names).toEqual(['outbound|80||catalog.istioinaction.svc.cluster.local'])
    expect((await admin('/config_dump?name_regex=(')).status).toBe(400)
  })

  it('the gateway reads like story 1, and a DestinationRule adds subset clusters', async () => {
    const dump = JSON.parse((await admin('/config_dump')).body).configs
    const listeners = dump[2]
    expect(listeners.dynamic_listeners.map((l: {name: string}) => l.name)).toEqual(['0.0.0.0_8080'])
    const hcm = listeners.dynamic_listeners[0].active_state.listener.filter_chains[0].filters[0].typed_config
    expect(hcm.rds.route_config_name).toBe('http.8080')
    const route = dump[4].dynamic_route_configs[0].route_config
    expect(route.name).toBe('http.8080')
    expect(route.virtual_hosts[0].domains[0]).toBe('catalog.istioinaction.io')
    expect(route.virtual_hosts[0].routes[0].route.weighted_clusters.clusters).toEqual([
      {name: 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local', weight: 20},
      {name: 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local', weight: 80},
    ])
    const clusterNames = (d: Array<Record<string, unknown>>) => (d[1].dynamic_active_clusters as Array<{cluster: {name: string}}>).map((c) => c.cluster.name).filter((n) => n.includes('catalog'))
    expect(clusterNames(dump)).toEqual(['outbound|80||catalog.istioinaction.svc.cluster.local'])
    // Story 1's fix through the API: the gateway ACKs pushes 3 s late in the catalog, not here.
    sim.scenario.live!.proxies[GATEWAY.pod] = {}
    await applyFix(sim, 'story1-destinationrule', {waitFor: GATEWAY})
    try {
      const after = JSON.parse((await admin('/config_dump')).body).configs
      // In Envoy's order, by name ("v" is before "|").
      expect(clusterNames(after)).toEqual(['outbound|80|version-v1|catalog.istioinaction.svc.cluster.local', 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local', 'outbound|80||catalog.istioinaction.svc.cluster.local'])
      const subset = after[1].dynamic_active_clusters.find((c: {cluster: {name: string}}) => c.cluster.name.includes('version-v1'))
      expect(subset.cluster.metadata.filter_metadata.istio.config).toBe('/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/destination-rule/catalog')
    } finally {
      await applyFix(sim, 'story1-destinationrule', {waitFor: GATEWAY, remove: true})
    }
  })

  it('sidecars carry RBAC filters keyed like Istio on the inbound chain', async () => {
    const dump = JSON.parse((await admin('/config_dump?resource=dynamic_listeners&name_regex=^virtualInbound$', WEBAPP)).body).configs
    const chains = dump[0].active_state.listener.filter_chains
    const http = chains.find((c: {name: string}) => c.name === '0.0.0.0_8080').filters[0].typed_config.http_filters
    const rbac = http.find((f: {name: string}) => f.name === 'envoy.filters.http.rbac').typed_config
    expect(Object.keys(rbac.rules.policies)).toEqual(['ns[istioinaction]-policy[allow-catalog-requests-in-web-app]-rule[0]'])
    expect(rbac.shadow_rules_stat_prefix).toBe('istio_dry_run_allow_')
  })

  it('setConfigDump serves the given bytes verbatim', async () => {
    sim.setConfigDump(HTTPBIN, '{"configs":[]}')
    const r = await podHttp(sim, {...HTTPBIN, port: 15800}, '/config_dump')
    expect(r.body).toBe('{"configs":[]}')
  })
})

describe('Envoy admin: other handlers', () => {
  it('GET /logging is 405; POST lists, sets all, sets one, sets paths; unknown logger is a 400 (Envoy >= 1.23)', async () => {
    const get = await admin('/logging', SLEEP)
    expect(get.status).toBe(405)
    expect(get.body).toBe('Method GET not allowed, POST required.')
    const list = await admin('/logging', SLEEP, 'POST')
    expect(list.body).toMatch(/^active loggers:\n {2}admin: warning\n/)
    expect(list.body).toContain('  misc: error\n')
    expect(list.body.endsWith('\n\n')).toBe(true)
    expect((await admin('/logging?level=info', SLEEP, 'POST')).body).not.toContain(': warning')
    expect((await admin('/logging?rbac=debug', SLEEP, 'POST')).body).toContain('  rbac: debug\n')
    const paths = await admin('/logging?paths=http:trace,router:debug,http:error', SLEEP, 'POST')
    expect(paths.body).toContain('  http: trace\n')
    expect(paths.body).toContain('  router: debug\n')
    const unknown = await admin('/logging?nosuch=debug', SLEEP, 'POST')
    expect(unknown.status).toBe(400)
    expect(unknown.body).toMatch(/^error: unknown logger name\n\nusage: \/logging\?<name>=<level>/)
    const badLevel = await admin('/logging?level=warn', SLEEP, 'POST')
    expect(badLevel.body).toMatch(/^error: unknown logger level/)
    const twoParams = await admin('/logging?http=debug&rbac=debug', SLEEP, 'POST')
    expect(twoParams.body).toMatch(/^error: invalid number of parameters/)
    // The state is per pod: the gateway is untouched.
    expect((await admin('/logging', GATEWAY, 'POST')).body).toContain('  rbac: warning\n')
  })

  it('unknown paths are a 404 with the help text', async () => {
    const r = await admin('/clustersX')
    expect(r.status).toBe(404)
    expect(r.body).toMatch(/^invalid path\. admin commands are:\n {2}\/: Admin home page\n/)
    expect(r.body).toContain('  /logging (POST): query/change logging levels\n')
  })

  it('clusters in text and JSON forms', async () => {
    const text = (await admin('/clusters')).body
    expect(text).toContain('outbound|80||catalog.istioinaction.svc.cluster.local::10.10.0.13:3000::health_flags::healthy\n')
    expect(text).toContain('outbound|80||catalog.istioinaction.svc.cluster.local::added_via_api::true\n')
    const json = JSON.parse((await admin('/clusters?format=json')).body)
    const catalog = json.cluster_statuses.find((c: {name: string}) => c.name === 'outbound|80||catalog.istioinaction.svc.cluster.local')
    expect(catalog.host_statuses[0].health_status.eds_health_status).toBe('HEALTHY')
    expect(typeof catalog.host_statuses[0].stats.find((s: {name: string}) => s.name === 'cx_total').value).toBe('string')
  })

  it('certs are the SDS certificates with the workload SPIFFE identity', async () => {
    const certs = JSON.parse((await admin('/certs', WEBAPP)).body).certificates
    expect(certs[0].cert_chain[0].subject_alt_names).toEqual([{uri: 'spiffe://cluster.local/ns/istioinaction/sa/webapp'}])
    expect(Number(certs[0].cert_chain[0].days_until_expiration)).toBeGreaterThan(1000)
    const secrets = JSON.parse((await admin('/config_dump?resource=dynamic_active_secrets', WEBAPP)).body).configs
    expect(secrets.map((s: {name: string}) => s.name)).toEqual(['default', 'ROOTCA'])
    const pem = Buffer.from(secrets[0].secret.tls_certificate.certificate_chain.inline_bytes, 'base64').toString()
    expect(new X509Certificate(pem).subjectAltName).toContain('spiffe://cluster.local/ns/istioinaction/sa/webapp')
    expect(secrets[0].secret.tls_certificate.private_key.inline_bytes).toBe('W3JlZGFjdGVkXQ==')
  })

  it('stats count the clusters /clusters lists, static ones included, and what came over xDS', async () => {
    const statuses = JSON.parse((await admin('/clusters?format=json', WEBAPP)).body).cluster_statuses as Array<{added_via_api?: boolean}>
    const stats = JSON.parse((await admin('/stats?format=json&filter=^cluster_manager', WEBAPP)).body).stats as Array<{name: string; value: number}>
    const stat = (name: string) => stats.find((s) => s.name === name)?.value
    expect(stat('cluster_manager.active_clusters')).toBe(statuses.length)
    expect(stat('cluster_manager.cluster_added')).toBe(statuses.filter((c) => c.added_via_api).length + 5)
    expect(statuses.some((c) => !c.added_via_api)).toBe(true)
  })

  it('certs answer the same certificates again, and each of them a CA as its own', async () => {
    const first = JSON.parse((await admin('/certs', WEBAPP)).body).certificates
    const again = JSON.parse((await admin('/certs', WEBAPP)).body).certificates
    expect(again).toEqual(first)
    const other = JSON.parse((await admin('/certs', SLEEP)).body).certificates
    expect(other[0].cert_chain[0].subject_alt_names).toEqual([{uri: 'spiffe://cluster.local/ns/default/sa/sleep'}])
    expect(other[0].ca_cert[0].subject_alt_names).toEqual([])
  })

  it('server_info, stats for the readiness probe, prometheus', async () => {
    const info = JSON.parse((await admin('/server_info')).body)
    expect(info.state).toBe('LIVE')
    // Istio 1.17.8 runs Envoy 1.25 built by istio/proxy e1222b56 (istio.deps); ratings' 1.25.2, Envoy 1.33.
    expect(info.version).toBe('e1222b5645a29ad3d02b280797ac1219dd88cfbc/1.25.0/Clean/RELEASE/BoringSSL')
    expect(info.node.user_agent_build_version.version).toEqual({major_number: 1, minor_number: 25, patch: 0})
    expect(JSON.parse((await admin('/server_info', RATINGS)).body).version).toBe('8d14f6fc8fe9703ff17d4377d9053b3cbbe85dea/1.33.0/Clean/RELEASE/BoringSSL')
    const stats = (await admin('/stats?usedonly&filter=^(cluster_manager\\.cds|listener_manager\\.lds)\\.(update_success|update_rejected)$')).body
    expect(stats.trim().split('\n').map((l) => l.split(':')[0])).toEqual(['cluster_manager.cds.update_rejected', 'cluster_manager.cds.update_success', 'listener_manager.lds.update_rejected', 'listener_manager.lds.update_success'])
    expect((await admin('/stats/prometheus')).body).toContain('# TYPE envoy_server_state gauge\n')
    // The proxy that NACKs LDS counts the rejected update.
    expect((await admin('/stats?filter=^listener_manager\\.lds\\.update_rejected$', SLOW_CATALOG)).body).toBe('listener_manager.lds.update_rejected: 1\n')
  })

  it('a non-default admin port (annotation) is where Envoy answers', async () => {
    expect((await podHttp(sim, {...HTTPBIN, port: 15800}, '/ready')).body).toBe('LIVE\n')
    const r = await podHttp(sim, {...HTTPBIN, port: 15000}, '/ready')
    expect(r.raw.errorText).toContain('connection refused')
  })
})
