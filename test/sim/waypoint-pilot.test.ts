// The waypoint rules of the simulator's pilot (src/sim/pilot/waypoint.ts) on the ambient scenario's
// model, one test per rule of istio/istio 1.30.0 pilot/pkg/networking/core it follows.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {claJson} from '../../src/sim/envoy-config.js'
import type {IstioConfig, Scenario} from '../../src/sim/model.js'
import {generate, pushContext} from '../../src/sim/pilot/index.js'
import {findWaypointResources} from '../../src/sim/pilot/waypoint.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot} from '../helpers/cli.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = Record<string, any>
const ambient = () => loadScenario(readFileSync(join(projectRoot, 'scenarios', 'ambient.yaml'), 'utf8'), 'ambient')
const waypointPod = (s: Scenario) => s.pods.find((p) => p.name.startsWith('waypoint-'))!
const view = (s: Scenario) => generate(pushContext(s), waypointPod(s))
const mainInternal = (s: Scenario) => view(s).listeners.find((l) => l.name === 'main_internal')!
const cfg = (kind: string, name: string, spec: J): IstioConfig => ({apiVersion: 'networking.istio.io/v1', kind, metadata: {name, namespace: 'bookinfo', creationTimestamp: '2025-05-03T00:00:00Z'}, spec})
const REVIEWS = 'reviews.bookinfo.svc.cluster.local'

describe('waypoint resources (waypoint.go findWaypointResources)', () => {
  it('a service waypoint serves the namespace\'s services, never its own Service, and no workloads', () => {
    const s = ambient()
    const res = findWaypointResources(pushContext(s), waypointPod(s))
    expect(res.services.map((svc) => svc.name)).toEqual(['productpage', 'ratings', 'reviews'])
    expect(res.workloads).toEqual([])
  })

  it('waypoint-for all adds the enrolled workloads: their IPs dispatch to direct-http/direct-tcp and the HTTP inspector stays on for every port', () => {
    const s = ambient()
    s.gatewayApiGateways![0].metadata.labels = {'istio.io/waypoint-for': 'all'}
    const l = mainInternal(s)
    const ranges = l.filter_chain_matcher.matcher_tree.custom_match.typed_config.range_matchers as J[]
    // debug and the waypoint itself opt out (istio.io/dataplane-mode: none).
    expect(ranges.at(-1)!.ranges.map((r: J) => r.address_prefix).sort()).toEqual(['10.10.1.10', '10.10.1.11', '10.10.2.11', '10.10.2.12'])
    expect(ranges.at(-1)!.on_match.matcher.on_no_match.action.name).toBe('direct-tcp')
    expect(l.listener_filters[1].filter_disabled).toBeUndefined()
    s.gatewayApiGateways![0].metadata.labels = {'istio.io/waypoint-for': 'workload'}
    expect(mainInternal(s).filter_chains.map((c: J) => c.name)).toEqual(['direct-tcp', 'direct-http'])
  })
})

describe('main_internal (listener_waypoint.go buildWaypointInternal)', () => {
  it('dispatches each service VIP by port; the HTTP inspector is skipped on ports of a known protocol', () => {
    const l = mainInternal(ambient())
    const ranges = l.filter_chain_matcher.matcher_tree.custom_match.typed_config.range_matchers as J[]
    expect(ranges.map((r) => r.ranges[0].address_prefix)).toEqual(['10.96.50.10', '10.96.50.12', '10.96.50.11'])
    expect(ranges[2].on_match.matcher.matcher_tree.exact_match_map.map['9080'].action.name).toBe(`inbound-vip|9080|http|${REVIEWS}`)
    expect(l.listener_filters[1].filter_disabled).toEqual({destination_port_range: {start: 9080, end: 9081}})
  })

  it('a TCP port gets a tcp chain and cluster; a port of unknown protocol both, behind the application-protocol matcher', () => {
    const s = ambient()
    s.services.find((svc) => svc.name === 'reviews')!.ports.push({name: 'tcp-metrics', port: 9090, targetPort: 9090}, {port: 7000, targetPort: 7000})
    const v = view(s)
    expect(v.clusters.filter((c) => c.name.endsWith(REVIEWS)).map((c) => c.name)).toEqual([`inbound-vip|9080|http|${REVIEWS}`, `inbound-vip|9090|tcp|${REVIEWS}`, `inbound-vip|7000|tcp|${REVIEWS}`, `inbound-vip|7000|http|${REVIEWS}`])
    const l = v.listeners.find((x) => x.name === 'main_internal')!
    const byPort = (l.filter_chain_matcher.matcher_tree.custom_match.typed_config.range_matchers as J[])[2].on_match.matcher.matcher_tree.exact_match_map.map
    expect(byPort['7000'].matcher.on_no_match.action.name).toBe(`inbound-vip|7000|tcp|${REVIEWS}`)
    expect(byPort['7000'].matcher.matcher_tree.exact_match_map.map["'http/1.1'"].action.name).toBe(`inbound-vip|7000|http|${REVIEWS}`)
    expect(l.filter_chains.find((c: J) => c.name === `inbound-vip|9090|tcp|${REVIEWS}`).filters[0].typed_config.cluster).toBe(`inbound-vip|9090|tcp|${REVIEWS}`)
    // 9090 and 9080 are known; 7000 needs sniffing, so it keeps the inspector.
    expect(l.listener_filters[1].filter_disabled).toEqual({or_match: {rules: [{destination_port_range: {start: 9080, end: 9081}}, {destination_port_range: {start: 9090, end: 9091}}]}})
  })

  it('a route to a service the waypoint does not serve uses (and adds) the outbound cluster', () => {
    const s = ambient()
    s.istioConfigs.push(cfg('VirtualService', 'productpage', {hosts: ['productpage'], http: [{route: [{destination: {host: 'httpbin.legacy.svc.cluster.local'}}]}]}))
    const v = view(s)
    expect(v.clusters.map((c) => c.name)).toContain('outbound|8000||httpbin.legacy.svc.cluster.local')
    const chain = v.listeners.find((x) => x.name === 'main_internal')!.filter_chains.find((c: J) => c.name.includes('productpage'))
    expect(chain.filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster).toBe('outbound|8000||httpbin.legacy.svc.cluster.local')
    // legacy is not enrolled: its endpoint is the pod address, not tunnelled.
    expect(claJson(v.eds.find((e) => e.name === 'outbound|8000||httpbin.legacy.svc.cluster.local')!).endpoints[0].lb_endpoints[0].endpoint.address).toEqual({socket_address: {address: '10.10.1.20', port_value: 8080}})
  })

  it('a VirtualService TCP route splits a TCP chain over its destinations, served ones by inbound-vip (getWaypointTCPRoutes)', () => {
    const s = ambient()
    s.services.find((svc) => svc.name === 'reviews')!.ports.push({name: 'tcp-metrics', port: 9090, targetPort: 9090})
    s.istioConfigs.push(cfg('VirtualService', 'reviews-tcp', {hosts: ['reviews'], tcp: [{match: [{port: 9090}], route: [
      {destination: {host: 'reviews', port: {number: 9090}}, weight: 80}, {destination: {host: 'httpbin.legacy.svc.cluster.local'}, weight: 20}, {destination: {host: 'ratings'}, weight: 0}]}]}))
    const v = view(s)
    const chain = v.listeners.find((x) => x.name === 'main_internal')!.filter_chains.find((c: J) => c.name === `inbound-vip|9090|tcp|${REVIEWS}`)
    expect(chain.filters[0].typed_config).toMatchObject({stat_prefix: `inbound-vip|9090|tcp|${REVIEWS}`, weighted_clusters: {clusters: [{name: `inbound-vip|9090|tcp|${REVIEWS}`, weight: 80}, {name: 'outbound|8000||httpbin.legacy.svc.cluster.local', weight: 20}]}})
    expect(v.clusters.map((c) => c.name)).toContain('outbound|8000||httpbin.legacy.svc.cluster.local')
  })
})

describe('waypoint clusters (cluster_waypoint.go)', () => {
  it('a DestinationRule subset adds inbound-vip|port|http/<subset>|host with the DR\'s metadata and the subset\'s endpoints', () => {
    const s = ambient()
    s.istioConfigs.push(cfg('DestinationRule', 'reviews', {host: 'reviews', subsets: [{name: 'v1', labels: {version: 'v1'}}]}))
    const v = view(s)
    const subset = v.clusters.find((c) => c.name === `inbound-vip|9080|http/v1|${REVIEWS}`)!
    expect(subset.metadata.filter_metadata.istio).toMatchObject({config: '/apis/networking.istio.io/v1alpha3/namespaces/bookinfo/destination-rule/reviews', subset: 'v1'})
    expect(v.eds.find((e) => e.name === subset.name)!.pods.map((p) => p.ip)).toEqual(['10.10.1.11', '10.10.2.11'])
  })

  it('enrolled endpoints are reached through connect_originate with their original destination (endpoint_builder.go)', () => {
    const v = view(ambient())
    const cla = claJson(v.eds.find((e) => e.name === `inbound-vip|9080|http|${REVIEWS}`)!)
    expect(cla.endpoints[0].lb_endpoints[0].endpoint.address).toEqual({envoy_internal_address: {server_listener_name: 'connect_originate', endpoint_id: '10.10.1.11:9080'}})
    expect(cla.endpoints[0].lb_endpoints[0].metadata.filter_metadata['envoy.filters.listener.original_dst']).toEqual({local: '10.10.1.11:9080'})
    expect(v.clusters.find((c) => c.name === 'connect_originate')!.transport_socket.typed_config.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names)
      .toEqual([{san_type: 'URI', matcher: {prefix: 'spiffe://cluster.local/'}}, {san_type: 'URI', matcher: {prefix: 'spiffe://cluster.local/ns/bookinfo/sa/'}}])
  })
})
