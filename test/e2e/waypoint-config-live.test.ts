// Every `proxy-config` table and the one-proxy sync diff on the ambient scenario's waypoint
// (scenarios/ambient.yaml, Istio 1.30.0): the waypoint runs the config istiod generates for
// model.Waypoint, not a gateway's. Goldens checked row by row against istio/istio 1.30.0
// (pilot/pkg/networking/core unless named):
// - listeners: `connect_terminate` 0.0.0.0:15008 (listener_waypoint.go buildConnectTerminateListener:
//   its one route matches CONNECT, so the inline route has no path to print); the `main_internal`
//   internal listener (no address, port 0) with, per served service in SortServicesByCreationTime
//   order, one chain named after its inbound-vip cluster (buildWaypointInternal: ratings carries the
//   VirtualService's /health and catch-all routes, waypointInboundRoute; reviews and productpage the
//   default inbound route, buildSidecarInboundHTTPRouteConfig, so a match-all cluster), then
//   `direct-tcp` / `direct-http` to `encap`; `connect_originate` (buildConnectForwarder); 15021 and
//   15090 from the bootstrap (tools/packaging/common/envoy_bootstrap.json). No BlackHole or
//   Passthrough chain or listener: buildWaypointInbound adds none for a single-network waypoint.
// - routes: the inline route configurations of those chains, named by their cluster with virtual
//   host `inbound|http|<port>` (`inbound|http|0` for direct-http: its ServicePort has no number),
//   `default`/`default` of connect_terminate, and the bootstrap's two `backend` hosts.
// - clusters: cluster_waypoint.go buildWaypointInboundClusters: `main_internal` and `encap` (STATIC,
//   buildInternalUpstreamCluster), `inbound-vip|9080|http|<svc>` per HTTP port (EDS,
//   buildWaypointInboundVIP; no tcp cluster since every port is named http), `connect_originate`
//   (ORIGINAL_DST, buildWaypointConnectOriginate); cluster.go BuildClusters adds no outbound
//   cluster (the VirtualService routes only to a served service) and no BlackHole/Passthrough.
// - endpoints: pilot/pkg/xds/endpoints/endpoint_builder.go: enrolled pods are tunnelled, so each
//   inbound-vip host is `envoy://connect_originate/<pod ip>:<target port>`
//   (util.BuildInternalAddressWithIdentifier); encap and main_internal reach their internal
//   listener without an endpoint id (util.BuildInternalEndpoint).
// istioctl's testdata has no waypoint golden (istioctl/pkg/writer at 1.30.0: only ztunnel's).
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

const WAYPOINT = 'waypoint-7b9d6c5f4-rc2gg.bookinfo'
const scenarioText = readFileSync(join(projectRoot, 'scenarios', 'ambient.yaml'), 'utf8')

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(scenarioText, 'ambient')})
})
afterAll(async () => {
  await sim?.close()
})

const cli = (target: Simulator, ...args: string[]) => runCli([...args, '--timeout', '30s'], {env: {KUBECONFIG: target.kubeconfigPath}, killAfterMs: 60_000})
/** tabwriter pads the last column; the goldens compare lines without trailing blanks. */
const trimmed = (text: string) => text.split('\n').map((line) => line.trimEnd()).join('\n')

const LISTENERS = `ADDRESSES PORT  MATCH DESTINATION
          0     ALL   Inline Route: /health, /*
          0     ALL   Cluster: inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local
          0     ALL   Cluster: inbound-vip|9080|http|productpage.bookinfo.svc.cluster.local
          0     ALL   Cluster: encap
          0     ALL   Cluster: encap
          0     ALL   Cluster: connect_originate
0.0.0.0   15008 ALL   Inline Route:
0.0.0.0   15021 ALL   Inline Route: /healthz/ready*
0.0.0.0   15090 ALL   Inline Route: /stats/prometheus*
`

const ROUTES = `NAME                                                             VHOST NAME            DOMAINS     MATCH                  VIRTUAL SERVICE
                                                                 backend               *           /stats/prometheus*
                                                                 backend               *           /healthz/ready*
default                                                          default               *
inbound-vip|9080|http|productpage.bookinfo.svc.cluster.local     inbound|http|9080     *           /*
inbound-vip|9080|http|ratings.bookinfo.svc.cluster.local         inbound|http|9080     *           /health                ratings.bookinfo
inbound-vip|9080|http|ratings.bookinfo.svc.cluster.local         inbound|http|9080     *           /*                     ratings.bookinfo
inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local         inbound|http|9080     *           /*
encap                                                            inbound|http|0        *           /*
`

const CLUSTERS = `SERVICE FQDN                               PORT     SUBSET     DIRECTION       TYPE             DESTINATION RULE
agent                                      -        -          -               STATIC
connect_originate                          -        -          -               ORIGINAL_DST
encap                                      -        -          -               STATIC
main_internal                              -        -          -               STATIC
productpage.bookinfo.svc.cluster.local     9080     http       inbound-vip     EDS
prometheus_stats                           -        -          -               STATIC
ratings.bookinfo.svc.cluster.local         9080     http       inbound-vip     EDS
reviews.bookinfo.svc.cluster.local         9080     http       inbound-vip     EDS
sds-grpc                                   -        -          -               STATIC
xds-grpc                                   -        -          -               STATIC
zipkin                                     -        -          -               STRICT_DNS
`

const ENDPOINTS = `ENDPOINT                                                STATUS      OUTLIER CHECK     CLUSTER
127.0.0.1:15000                                         HEALTHY     OK                prometheus_stats
127.0.0.1:15020                                         HEALTHY     OK                agent
envoy://connect_originate/                              HEALTHY     OK                encap
envoy://connect_originate/10.10.1.10:9080               HEALTHY     OK                inbound-vip|9080|http|productpage.bookinfo.svc.cluster.local
envoy://connect_originate/10.10.1.11:9080               HEALTHY     OK                inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local
envoy://connect_originate/10.10.2.11:9080               HEALTHY     OK                inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local
envoy://connect_originate/10.10.2.12:9080               HEALTHY     OK                inbound-vip|9080|http|ratings.bookinfo.svc.cluster.local
envoy://main_internal/                                  HEALTHY     OK                main_internal
unix://./etc/istio/proxy/XDS                            HEALTHY     OK                xds-grpc
unix://./var/run/secrets/workload-spiffe-uds/socket     HEALTHY     OK                sds-grpc
zipkin.istio-system:9411                                HEALTHY     OK                zipkin
`

describe('proxy-config on a waypoint', () => {
  it('listener, route, cluster and endpoint tables show the waypoint\'s own config', {timeout: 120_000}, async () => {
    const [listeners, routes, clusters, endpoints] = await Promise.all(['listener', 'route', 'cluster', 'endpoint'].map((table) => cli(sim, 'proxy-config', table, WAYPOINT)))
    for (const result of [listeners, routes, clusters, endpoints]) expect(result.code, result.stderr).toBe(0)
    expect(trimmed(listeners.stdout)).toBe(LISTENERS)
    expect(trimmed(routes.stdout)).toBe(ROUTES)
    expect(trimmed(clusters.stdout)).toBe(CLUSTERS)
    expect(trimmed(endpoints.stdout)).toBe(ENDPOINTS)
  })

  it('the chains carry what binds to each service: the targetRef policy on reviews only, the VirtualService on ratings', {timeout: 120_000}, async () => {
    const result = await cli(sim, 'proxy-config', 'listener', WAYPOINT, '-o', 'json')
    const listeners = JSON.parse(result.stdout) as Array<{name: string; filter_chains: Array<{name: string; filters: Array<{typed_config: {http_filters?: Array<{name: string; typed_config: {rules?: {policies: Record<string, unknown>}}}>; route_config?: {virtual_hosts: Array<{routes: Array<{route?: {cluster: string; timeout: string}}>}>}}}>}>}>
    expect(listeners.map((l) => l.name)).toEqual(['connect_terminate', 'main_internal', 'connect_originate', '', ''])
    const chains = listeners.find((l) => l.name === 'main_internal')!.filter_chains
    expect(chains.map((c) => c.name)).toEqual(['inbound-vip|9080|http|productpage.bookinfo.svc.cluster.local', 'inbound-vip|9080|http|ratings.bookinfo.svc.cluster.local', 'inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local', 'direct-tcp', 'direct-http'])
    const rbac = (chain: string) => chains.find((c) => c.name === chain)!.filters.at(-1)!.typed_config.http_filters!.filter((f) => f.name === 'envoy.filters.http.rbac').map((f) => Object.keys(f.typed_config.rules!.policies))
    // model.WorkloadPolicyMatcher: selector policies (productpage-viewer, deny-legacy) never attach to a waypoint.
    expect(rbac('inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local')).toEqual([['ns[bookinfo]-policy[reviews-get-only]-rule[0]']])
    expect(rbac('inbound-vip|9080|http|productpage.bookinfo.svc.cluster.local')).toEqual([])
    // getWaypointDestinationCluster: a served destination is its inbound-vip cluster, not outbound.
    const ratings = chains.find((c) => c.name.includes('ratings'))!.filters[0].typed_config.route_config!.virtual_hosts[0].routes
    expect(ratings.at(-1)!.route).toMatchObject({cluster: 'inbound-vip|9080|http|ratings.bookinfo.svc.cluster.local', timeout: '2s'})
  })

  it('secret and bootstrap: the waypoint\'s certificates and its node type', {timeout: 120_000}, async () => {
    const [secrets, bootstrap] = await Promise.all([cli(sim, 'proxy-config', 'secret', WAYPOINT), cli(sim, 'proxy-config', 'bootstrap', WAYPOINT)])
    const rows = secrets.stdout.trim().split('\n').map((line) => line.split(/\s{2,}/))
    expect(rows.map((r) => r.slice(0, 4))).toEqual([['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT'], ['default', 'Cert Chain', 'ACTIVE', 'true'], ['ROOTCA', 'CA', 'ACTIVE', 'true']])
    // pkg/model/proxy.go: `pilot-agent proxy waypoint` registers as node type waypoint.
    expect(JSON.parse(bootstrap.stdout).bootstrap.node).toMatchObject({id: 'waypoint~10.10.2.13~waypoint-7b9d6c5f4-rc2gg.bookinfo~bookinfo.svc.cluster.local', cluster: 'waypoint.bookinfo'})
  })

  it('all prints the same rows as the single tables', {timeout: 120_000}, async () => {
    const result = await cli(sim, 'proxy-config', 'all', WAYPOINT)
    expect(result.code, result.stderr).toBe(0)
    const lines = trimmed(result.stdout).split('\n')
    for (const row of ['cluster/main_internal', 'cluster/inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local', 'listener/connect_terminate 0.0.0.0   15008 ALL   Inline Route:',
      'route/inbound-vip|9080|http|ratings.bookinfo.svc.cluster.local         inbound|http|9080     *           /health                ratings.bookinfo',
      'endpoint/envoy://connect_originate/10.10.2.12:9080        HEALTHY                  inbound-vip|9080|http|ratings.bookinfo.svc.cluster.local']) {
      expect(lines.some((line) => line.startsWith(row)), row).toBe(true)
    }
  })
})

describe('sync-status on a waypoint', () => {
  let stale: Simulator
  beforeAll(async () => {
    // The waypoint stops answering LDS pushes after start: a policy written later reaches istiod's view only.
    stale = await startSimulator({scenario: loadScenario(scenarioText.replace('  clusterId: Kubernetes\n', '  clusterId: Kubernetes\n  proxies:\n    waypoint-7b9d6c5f4-rc2gg: {stale: [lds]}\n'), 'ambient-stale')})
  })
  afterAll(async () => {
    await stale?.close()
  })

  it('matches while nothing changed, then shows the main_internal chain istiod has and Envoy lacks', {timeout: 120_000}, async () => {
    const before = await cli(stale, 'sync-status', WAYPOINT)
    expect(before.stdout).toBe('Clusters Match\nListeners Match\nRoutes Match\n')
    const policy = {apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: {name: 'ratings-deny-post', namespace: 'bookinfo'},
      spec: {targetRefs: [{kind: 'Service', group: '', name: 'ratings'}], action: 'DENY', rules: [{to: [{operation: {methods: ['POST']}}]}]}}
    const created = await fetch(`${stale.url}/apis/security.istio.io/v1/namespaces/bookinfo/authorizationpolicies`, {method: 'POST', headers: {Authorization: 'Bearer sim-token', 'Content-Type': 'application/json'}, body: JSON.stringify(policy)})
    expect(created.status).toBe(201)
    let after = await cli(stale, 'sync-status', WAYPOINT)
    // istiod pushes after its debounce; poll (bounded) until its view has the policy.
    for (let i = 0; i < 20 && !after.stdout.includes('Listeners Don\'t Match'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      after = await cli(stale, 'sync-status', WAYPOINT)
    }
    expect(after.stdout).toContain('Clusters Match\nListeners Don\'t Match\n  changed: main_internal\n')
    expect(after.stdout).toMatch(/^-\s+"ns\[bookinfo\]-policy\[ratings-deny-post\]-rule\[0\]": \{$/m)
    expect(after.stdout).toContain('Routes Match')
  })
})
