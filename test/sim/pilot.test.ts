// One test per generation rule of the simulator's pilot (src/sim/pilot), on the catalog model.
import {describe, expect, it} from 'vitest'
import {buildCatalogScenario, catalogFix} from '../../src/sim/catalog.js'
import type {IstioConfig, Scenario, SimPod} from '../../src/sim/model.js'
import {authorize} from '../../src/sim/pilot/authz.js'
import {envoyDuration, mtlsMode} from '../../src/sim/pilot/context.js'
import {generate, pushContext} from '../../src/sim/pilot/index.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = Record<string, any>
const pod = (s: Scenario, prefix: string) => s.pods.find((p) => p.name.startsWith(prefix))!
const cfg = (kind: string, name: string, namespace: string, spec: J, created = '2025-05-03T00:00:00Z'): IstioConfig =>
  ({apiVersion: kind.match(/Peer|Authorization|Request/) ? 'security.istio.io/v1beta1' : 'networking.istio.io/v1beta1', kind, metadata: {name, namespace, creationTimestamp: created}, spec})
const view = (s: Scenario, p: SimPod) => generate(pushContext(s), p)
const cluster = (v: ReturnType<typeof generate>, name: string) => v.clusters.find((c) => c.name === name)
const CATALOG = 'catalog.istioinaction.svc.cluster.local'

describe('clusters (cluster_builder.go)', () => {
  it('without a DestinationRule the gateway has the service cluster only, no subset clusters', () => {
    const s = buildCatalogScenario()
    const v = view(s, pod(s, 'istio-ingressgateway'))
    expect(v.clusters.filter((c) => c.name.endsWith(CATALOG)).map((c) => c.name)).toEqual([`outbound|80||${CATALOG}`])
    expect(cluster(v, `outbound|80||${CATALOG}`)!.metadata.filter_metadata.istio.config).toBeUndefined()
  })

  it('a DestinationRule adds a cluster per subset with istio.config and subset metadata, and EDS per subset labels', () => {
    const s = buildCatalogScenario()
    s.istioConfigs.push(...catalogFix('story1-destinationrule'))
    const v = view(s, pod(s, 'istio-ingressgateway'))
    expect(v.clusters.filter((c) => c.name.endsWith(CATALOG)).map((c) => c.name)).toEqual([`outbound|80||${CATALOG}`, `outbound|80|version-v1|${CATALOG}`, `outbound|80|version-v2|${CATALOG}`])
    expect(cluster(v, `outbound|80|version-v2|${CATALOG}`)!.metadata.filter_metadata.istio).toMatchObject({config: '/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/destination-rule/catalog', subset: 'version-v2'})
    expect(v.eds.find((e) => e.name === `outbound|80|version-v2|${CATALOG}`)!.pods.map((p) => p.ip)).toEqual(['10.10.0.12', '10.10.0.13'])
    expect(v.eds.find((e) => e.name === `outbound|80|version-v1|${CATALOG}`)!.pods.map((p) => p.ip)).toEqual(['10.10.0.11'])
  })

  it('the DR traffic policy sets outlier detection and TLS; a subset policy overrides the DR one', () => {
    const s = buildCatalogScenario()
    s.istioConfigs.push(cfg('DestinationRule', 'catalog', 'istioinaction', {host: 'catalog', trafficPolicy: {tls: {mode: 'ISTIO_MUTUAL'}, outlierDetection: {consecutive5xxErrors: 1, interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 100}},
      subsets: [{name: 'version-v1', labels: {version: 'v1'}, trafficPolicy: {tls: {mode: 'DISABLE'}}}]}))
    const v = view(s, pod(s, 'webapp'))
    const base = cluster(v, `outbound|80||${CATALOG}`)!
    expect(base.outlier_detection).toEqual({enforcing_success_rate: 0, consecutive_5xx: 1, enforcing_consecutive_5xx: 100, interval: '5s', base_ejection_time: '30s', max_ejection_percent: 100})
    expect(base.transport_socket.name).toBe('envoy.transport_sockets.tls')
    expect(base.transport_socket_matches).toBeUndefined()
    const v1 = cluster(v, `outbound|80|version-v1|${CATALOG}`)!
    expect(v1.transport_socket).toBeUndefined()
    expect(v1.outlier_detection.consecutive_5xx).toBe(1)
  })

  it('without DR TLS settings the cluster uses auto mTLS (tlsMode-istio match)', () => {
    const s = buildCatalogScenario()
    expect(cluster(view(s, pod(s, 'webapp')), `outbound|80||${CATALOG}`)!.transport_socket_matches.map((m: J) => m.name)).toEqual(['tlsMode-istio', 'tlsMode-disabled'])
  })

  it('a Sidecar egress scope hides other namespaces\' services', () => {
    const s = buildCatalogScenario()
    s.istioConfigs.push(cfg('Sidecar', 'default', 'default', {egress: [{hosts: ['./*', 'istio-system/*']}]}))
    const names = view(s, pod(s, 'sleep-6f8')).clusters.map((c) => c.name)
    expect(names).toContain('outbound|8000||httpbin.default.svc.cluster.local')
    expect(names.some((n) => n.endsWith('istioinaction.svc.cluster.local'))).toBe(false)
    expect(view(s, pod(s, 'webapp')).clusters.some((c) => c.name === `outbound|80||${CATALOG}`)).toBe(true)
  })
})

describe('routes (route.go)', () => {
  it('the gateway route http.8080 splits 20/80 over the subset clusters, timeout 0s by default', () => {
    const s = buildCatalogScenario()
    // The catalog's VirtualService sets story 2's 0.5 s timeout: without it the route says 0s.
    delete (s.istioConfigs.find((c) => c.metadata.name === 'catalog-v1-v2')!.spec.http as J[])[0].timeout
    const rc = view(s, pod(s, 'istio-ingressgateway')).routes.find((r) => r.name === 'http.8080')!
    expect(rc.virtual_hosts.map((vh: J) => [vh.name, vh.domains])).toEqual([['catalog.istioinaction.io:80', ['catalog.istioinaction.io', 'catalog.istioinaction.io:*']]])
    const route = rc.virtual_hosts[0].routes[0]
    expect(route.route.weighted_clusters).toEqual({clusters: [{name: `outbound|80|version-v1|${CATALOG}`, weight: 20}, {name: `outbound|80|version-v2|${CATALOG}`, weight: 80}], total_weight: 100})
    expect(route.route.timeout).toBe('0s')
    expect(route.metadata.filter_metadata.istio.config).toBe('/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/virtual-service/catalog-v1-v2')
    expect(route.decorator.operation).toBe('catalog-v1-v2:80/*')
  })

  it('story 2: timeout 0.5s reaches the route; retries follow retry.go ConvertPolicy', () => {
    const s = buildCatalogScenario()
    const vs = s.istioConfigs.find((c) => c.metadata.name === 'catalog-v1-v2')!
    ;(vs.spec.http as J[])[0].timeout = '0.5s'
    ;(vs.spec.http as J[])[0].retries = {attempts: 3, retryOn: '5xx,503', perTryTimeout: '100ms'}
    const route = view(s, pod(s, 'istio-ingressgateway')).routes[0].virtual_hosts[0].routes[0]
    expect(route.route.timeout).toBe('0.5s')
    expect(route.route.retry_policy).toMatchObject({num_retries: 3, retry_on: '5xx,retriable-status-codes', retriable_status_codes: [503], per_try_timeout: '0.1s'})
    ;(vs.spec.http as J[])[0].retries = {attempts: 0}
    expect(view(s, pod(s, 'istio-ingressgateway')).routes[0].virtual_hosts[0].routes[0].route.retry_policy).toBeUndefined()
  })

  it('a mesh VirtualService shapes the sidecar\'s port route; other services keep the default route', () => {
    const s = buildCatalogScenario()
    s.istioConfigs.push(cfg('VirtualService', 'catalog', 'istioinaction', {hosts: ['catalog'], http: [
      {match: [{uri: {prefix: '/items'}, headers: {'x-canary': {exact: 'yes'}}}], route: [{destination: {host: 'catalog', subset: 'version-v2'}}]},
      {route: [{destination: {host: 'catalog', subset: 'version-v1'}}]},
    ]}))
    const rc = view(s, pod(s, 'webapp')).routes.find((r) => r.name === '80')!
    const vh = rc.virtual_hosts.find((h: J) => h.name === `${CATALOG}:80`)
    expect(vh.domains).toContain('catalog')
    expect(vh.routes.map((r: J) => [r.match, r.route.cluster])).toEqual([
      [{prefix: '/items', case_sensitive: true, headers: [{name: 'x-canary', string_match: {exact: 'yes'}}]}, `outbound|80|version-v2|${CATALOG}`],
      [{prefix: '/', case_sensitive: true}, `outbound|80|version-v1|${CATALOG}`],
    ])
    expect(rc.virtual_hosts.find((h: J) => h.name === 'webapp.istioinaction.svc.cluster.local:80').routes[0].name).toBe('default')
  })

  it('durations come out in Envoy\'s form', () => {
    expect([envoyDuration('0.5s'), envoyDuration('500ms'), envoyDuration('2m'), envoyDuration('10s')]).toEqual(['0.5s', '0.5s', '120s', '10s'])
  })
})

describe('inbound mTLS (policy_applier.go, filterchain_options.go)', () => {
  const transports = (s: Scenario, p: SimPod, port: number) => view(s, p).listeners.find((l) => l.name === 'virtualInbound')!.filter_chains
    .filter((c: J) => c.filter_chain_match.destination_port === port).map((c: J) => c.filter_chain_match.transport_protocol)

  it('mesh-wide STRICT: only the TLS chain on the app port', () => {
    const s = buildCatalogScenario()
    expect(transports(s, pod(s, 'webapp'), 8080)).toEqual(['tls'])
  })

  it('a namespace PERMISSIVE policy adds the plaintext chain; a workload port-level DISABLE leaves plaintext only', () => {
    const s = buildCatalogScenario()
    s.istioConfigs.push(cfg('PeerAuthentication', 'default', 'istioinaction', {mtls: {mode: 'PERMISSIVE'}}))
    expect(transports(s, pod(s, 'webapp'), 8080)).toEqual(['tls', 'raw_buffer'])
    s.istioConfigs.push(cfg('PeerAuthentication', 'webapp', 'istioinaction', {selector: {matchLabels: {app: 'webapp'}}, mtls: {mode: 'STRICT'}, portLevelMtls: {8080: {mode: 'DISABLE'}}}))
    expect(mtlsMode(pushContext(s), pod(s, 'webapp'), 8080)).toBe('DISABLE')
    expect(mtlsMode(pushContext(s), pod(s, 'webapp'), 9999)).toBe('STRICT')
    expect(transports(s, pod(s, 'webapp'), 8080)).toEqual(['raw_buffer'])
  })
})

describe('authorization (builder.go)', () => {
  const filters = (s: Scenario, p: SimPod) => view(s, p).listeners.find((l) => l.name === 'virtualInbound')!.filter_chains
    .find((c: J) => c.filter_chain_match.destination_port === 8080).filters[0].typed_config.http_filters.filter((f: J) => f.name.includes('rbac') || f.name.includes('ext_authz'))

  it('an ALLOW policy becomes rules keyed ns[..]-policy[..]-rule[i] with the 1.17 matcher shapes', () => {
    const s = buildCatalogScenario()
    const [rbac] = filters(s, pod(s, 'webapp'))
    expect(rbac.typed_config.shadow_rules_stat_prefix).toBe('istio_dry_run_allow_')
    expect(rbac.typed_config.rules.policies).toEqual({'ns[istioinaction]-policy[allow-catalog-requests-in-web-app]-rule[0]': {
      permissions: [{and_rules: {rules: [{or_rules: {rules: [{url_path: {path: {prefix: '/api/catalog'}}}]}}]}}], principals: [{and_ids: {ids: [{any: true}]}}]}})
  })

  it('CUSTOM comes first as ext-authz shadow rules, then DENY, then ALLOW', () => {
    const s = buildCatalogScenario()
    s.meshConfig.extensionProviders = {'sample-ext-authz-http': {service: 'ext-authz.istioinaction.svc.cluster.local', port: 8000}}
    s.istioConfigs.push(cfg('AuthorizationPolicy', 'ext-authz', 'istioinaction', {selector: {matchLabels: {app: 'webapp'}}, action: 'CUSTOM', provider: {name: 'sample-ext-authz-http'}, rules: [{to: [{operation: {paths: ['/admin*']}}]}]}))
    s.istioConfigs.push(cfg('AuthorizationPolicy', 'deny-post', 'istioinaction', {selector: {matchLabels: {app: 'webapp'}}, action: 'DENY', rules: [{to: [{operation: {methods: ['POST']}}]}]}))
    const out = filters(s, pod(s, 'webapp'))
    expect(out.map((f: J) => [f.name, f.typed_config.rules?.action ?? (f.typed_config.shadow_rules ? 'shadow' : '-')])).toEqual([
      ['envoy.filters.http.rbac', 'shadow'], ['envoy.filters.http.ext_authz', '-'], ['envoy.filters.http.rbac', 'DENY'], ['envoy.filters.http.rbac', '-'],
    ])
    expect(Object.keys(out[0].typed_config.shadow_rules.policies)).toEqual(['istio-ext-authz-ns[istioinaction]-policy[ext-authz]-rule[0]'])
    expect(out[1].typed_config.http_service.server_uri.cluster).toBe('outbound|8000||ext-authz.istioinaction.svc.cluster.local')
    expect(out[2].typed_config.rules.policies['ns[istioinaction]-policy[deny-post]-rule[0]'].permissions[0].and_rules.rules[0].or_rules.rules[0]).toEqual({header: {name: ':method', exact_match: 'POST'}})
  })

  it('decides requests in CUSTOM, DENY, ALLOW order', () => {
    const s = buildCatalogScenario()
    // mesh-scenarios.md story 4: a DENY for requests without a token beside the gateway's RequestAuthentication.
    s.istioConfigs.push(cfg('AuthorizationPolicy', 'deny-no-token', 'istio-system', {selector: {matchLabels: {app: 'istio-ingressgateway'}}, action: 'DENY', rules: [{from: [{source: {notRequestPrincipals: ['*']}}]}]}))
    const ctx = pushContext(s)
    const webapp = pod(s, 'webapp')
    expect(authorize(ctx, webapp, {path: '/api/catalog/items', method: 'GET', port: 8080})).toEqual({allowed: true})
    expect(authorize(ctx, webapp, {path: '/items', method: 'GET', port: 8080})).toEqual({allowed: false, details: 'rbac_access_denied_matched_policy[none]', flag: '-'})
    expect(authorize(ctx, pod(s, 'istio-ingressgateway'), {path: '/items', method: 'GET', port: 8080})).toMatchObject({allowed: false, details: 'rbac_access_denied_matched_policy[ns[istio-system]-policy[deny-no-token]-rule[0]]'})
    expect(authorize(ctx, pod(s, 'istio-ingressgateway'), {path: '/items', method: 'GET', port: 8080, requestPrincipal: 'auth@istioinaction.io/user'})).toEqual({allowed: true})
  })
})
