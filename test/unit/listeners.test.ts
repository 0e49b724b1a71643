import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {configDumpFromJson, parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {chainDestinationText, chainMatchText, describeChainMatch, selectListeners, summarizeListener} from '../../src/lib/envoy/listeners.js'
import {describeInlineRouteConfig, describeRouteMatch} from '../../src/lib/envoy/route-match.js'
import {renderListenerTable} from '../../src/lib/render/listener-table.js'
import {runCli} from '../helpers/cli.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'listeners')
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8')
const sidecar = () => parseConfigDump(read('sidecar.json'), 'sidecar.json')

/** Rewrites every object key to lowerCamelCase, as istiod's debug endpoints print proto JSON. */
function camelCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCaseKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase()), camelCaseKeys(inner)]),
  )
}

const listenerDump = (...listeners: object[]) =>
  configDumpFromJson({configs: [{'@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', static_listeners: listeners.map((listener) => ({listener}))}]}, 'inline')

const tcpProxy = (cluster: string) => ({name: 'envoy.filters.network.tcp_proxy', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', cluster}})
const hcmRds = (name: string) => ({name: 'envoy.filters.network.http_connection_manager', typed_config: {rds: {route_config_name: name}}})

// Hand-checked against istioctl's rules (behaviour reference §2.2): every MATCH and DESTINATION
// form, chains by DESTINATION descending (stable), listeners by port, address, type.
const SIDECAR_VERBOSE = `ADDRESSES                            PORT  MATCH                                            DESTINATION
/var/run/app.sock,/var/run/app2.sock 0     ALL                                              PassthroughCluster
10.96.0.10                           53    ALL                                              Cluster: outbound|53||kube-dns.kube-system.svc.cluster.local
10.0.0.1                             8443  ALL                                              TCP
10.0.0.1                             8443  ALL                                              HTTP
0.0.0.0,::                           9080  ALL                                              Route: 9080
0.0.0.0                              15001 Addr: 10.1.2.3/32                                Non-HTTP/Non-TCP
0.0.0.0                              15006 Addr: *:0                                        Weighted: outbound|3306|v1|db.default.svc.cluster.local=20, outbound|3306|v2|db.default.svc.cluster.local=80
0.0.0.0                              15006 Addr: 0.0.0.0/0:15006                            Non-HTTP/Non-TCP
0.0.0.0                              15006 SNI: a.example.com,b.example.com; App: h2,custom Non-HTTP/Non-TCP
0.0.0.0                              15006 App: Istio HTTP Plain; Addr: *:9080              Inline Route: reviews/reviews.default /exact, regex /re.*; /api*, PathPrefix:/v2
0.0.0.0                              15006 Trans: tls; App: TCP TLS                         InboundPassthroughCluster
0.0.0.0                              15006 App: HTTP                                        HTTP
0.0.0.0                              15006 ALL                                              Cluster: outbound|3306||mysql.db.svc.cluster.local
0.0.0.0                              15006 Trans: tls; App: HTTP TLS                        Cluster: inbound|9080||
0.0.0.0                              15006 Addr: 10.0.0.0/8,fd00::/64                       Cluster: inbound|8443||
0.0.0.0                              15021 ALL                                              Inline Route: /healthz/ready*
`

const SIDECAR_SHORT = `ADDRESSES                            PORT  TYPE
/var/run/app.sock,/var/run/app2.sock 0     TCP
10.96.0.10                           53    TCP
10.0.0.1                             8443  HTTP+TCP
0.0.0.0,::                           9080  HTTP
0.0.0.0                              15001 UNKNOWN
0.0.0.0                              15006 HTTP+TCP
0.0.0.0                              15021 HTTP
`

describe('listener MATCH column', () => {
  it.each([
    [undefined, 'ALL'],
    [{}, 'ALL'],
    [{server_names: ['a', 'b']}, 'SNI: a,b'],
    [{transport_protocol: 'raw_buffer'}, 'Trans: raw_buffer'],
    [{application_protocols: ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']}, 'App: HTTP TLS'],
    [{application_protocols: ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']}, 'App: Istio HTTP Plain'],
    [{application_protocols: ['istio-peer-exchange', 'istio']}, 'App: TCP TLS'],
    [{application_protocols: ['http/1.0', 'http/1.1', 'h2c']}, 'App: HTTP'],
    // The lists are compared exactly and in order.
    [{application_protocols: ['istio', 'istio-peer-exchange']}, 'App: istio,istio-peer-exchange'],
    [{destination_port: 8080}, 'Addr: *:8080'],
    [{destination_port: 0}, 'Addr: *:0'],
    [{destination_port: {value: 7}}, 'Addr: *:7'],
    [{prefix_ranges: [{address_prefix: '10.0.0.0', prefix_len: 8}]}, 'Addr: 10.0.0.0/8'],
    [{prefix_ranges: [{address_prefix: '10.0.0.1'}], destination_port: 80}, 'Addr: 10.0.0.1/0:80'],
    [{server_names: ['x'], transport_protocol: 'tls', application_protocols: ['h2'], destination_port: 443}, 'SNI: x; Trans: tls; App: h2; Addr: *:443'],
    [{source_prefix_ranges: [{address_prefix: '1.1.1.1', prefix_len: 32}], source_ports: [1]}, 'ALL'],
    [{serverNames: ['camel'], destinationPort: 1, prefixRanges: [{addressPrefix: '1.2.3.4', prefixLen: 32}]}, 'SNI: camel; Addr: 1.2.3.4/32:1'],
  ])('describes %j as %s', (match, expected) => {
    expect(describeChainMatch(match)).toBe(expected)
  })
})

describe('listener chains as data (the --json result)', () => {
  it('keeps filter_chain_match as arrays and numbers, from which the MATCH text derives', () => {
    const match = {server_names: ['x'], transport_protocol: 'tls', application_protocols: ['istio-peer-exchange', 'istio'], prefix_ranges: [{address_prefix: '10.0.0.1'}], destination_port: 443}
    const chain = summarizeListener({filter_chains: [{filter_chain_match: match, filters: [tcpProxy('c')]}]}).chains[0]
    expect(chain.match).toEqual({serverNames: ['x'], transportProtocol: 'tls', applicationProtocols: ['istio-peer-exchange', 'istio'], prefixRanges: ['10.0.0.1/0'], destinationPort: 443})
    expect(chainMatchText(chain.match)).toBe('SNI: x; Trans: tls; App: TCP TLS; Addr: 10.0.0.1/0:443')
  })

  it('gives every DESTINATION case a kind, from which the text derives', () => {
    const hcm = (typed_config?: object) => ({name: 'envoy.filters.network.http_connection_manager', ...(typed_config && {typed_config})})
    const inline = (prefix: string, cluster: string) => hcm({route_config: {virtual_hosts: [{domains: ['*'], routes: [{match: {prefix}, route: {cluster}}]}]}})
    const weighted = {name: 'envoy.filters.network.tcp_proxy', typed_config: {weighted_clusters: {clusters: [{name: 'a', weight: 1}, {name: 'b', weight: 2}]}}}
    const cases: Array<[object[], object, string]> = [
      [[hcmRds('http.8080')], {kind: 'route', routeConfig: 'http.8080'}, 'Route: http.8080'],
      [[inline('/healthz/ready', 'agent')], {kind: 'inline-route', virtualHosts: [{domains: ['*'], matches: [{prefix: '/healthz/ready'}]}]}, 'Inline Route: /healthz/ready*'],
      [[inline('/', 'PassthroughCluster')], {kind: 'cluster', cluster: 'PassthroughCluster'}, 'PassthroughCluster'],
      [[tcpProxy('outbound|53||dns')], {kind: 'cluster', cluster: 'outbound|53||dns'}, 'Cluster: outbound|53||dns'],
      [[weighted], {kind: 'weighted', clusters: [{name: 'a', weight: 1}, {name: 'b', weight: 2}]}, 'Weighted: a=1, b=2'],
      [[hcm()], {kind: 'http'}, 'HTTP'],
      [[{name: 'envoy.filters.network.tcp_proxy'}], {kind: 'tcp'}, 'TCP'],
      [[{name: 'envoy.filters.network.rbac'}], {kind: 'none'}, 'Non-HTTP/Non-TCP'],
    ]
    for (const [filters, destination, text] of cases) {
      const chain = summarizeListener({filter_chains: [{filters}]}).chains[0]
      expect(chain.destination).toEqual(destination)
      expect(chainDestinationText(chain.destination)).toBe(text)
    }
  })

  it('reports chains as data in pc listener --json', async () => {
    const result = await runCli(['pc', 'listener', '-f', join(fixtures, 'sidecar.json'), '--port', '15006', '--json'])
    expect(result.code).toBe(0)
    const chains = JSON.parse(result.stdout).result.listeners[0].chains
    expect(chains).toHaveLength(9) // eight filter_chains and the default_filter_chain
    for (const chain of chains) {
      expect(Array.isArray(chain.match.serverNames)).toBe(true)
      expect(Array.isArray(chain.match.prefixRanges)).toBe(true)
      expect(typeof chain.destination.kind).toBe('string')
    }
    expect(chains).toContainEqual({match: {serverNames: ['a.example.com', 'b.example.com'], applicationProtocols: ['h2', 'custom'], prefixRanges: []}, destination: {kind: 'none'}})
    expect(chains).toContainEqual(expect.objectContaining({match: {serverNames: [], applicationProtocols: [], prefixRanges: ['10.0.0.0/8', 'fd00::/64']}}))
  })
})

describe('inline route description', () => {
  const vhost = (domains: string[], routes: object[]) => ({domains, routes})
  const toCluster = (prefix: string, cluster: string) => ({match: {prefix}, route: {cluster}})

  it('shortens a match-all route to its cluster (bare when the name contains "Cluster")', () => {
    expect(describeInlineRouteConfig({virtual_hosts: [vhost(['*'], [toCluster('/', 'outbound|80||a')])]})).toBe('Cluster: outbound|80||a')
    expect(describeInlineRouteConfig({virtual_hosts: [vhost(['*'], [toCluster('/', 'PassthroughCluster')])]})).toBe('PassthroughCluster')
  })

  it('describes anything else route by route', () => {
    expect(describeInlineRouteConfig({virtual_hosts: [vhost(['*'], [toCluster('/x', 'c')])]})).toBe('Inline Route: /x*')
    expect(describeInlineRouteConfig({virtual_hosts: [vhost(['a', 'b'], [toCluster('/', 'c')])]})).toBe('Inline Route: a/b /*')
    expect(describeInlineRouteConfig({virtual_hosts: [vhost(['*'], [toCluster('/', 'c'), toCluster('/y', 'd')])]})).toBe('Inline Route: /*, /y*')
    expect(describeInlineRouteConfig({virtual_hosts: [vhost(['*'], [{match: {prefix: '/'}, route: {weighted_clusters: {}}}])]})).toBe('Inline Route: /*')
    expect(describeInlineRouteConfig({virtual_hosts: [vhost([], [toCluster('/z', 'c')]), vhost(['*'], [])]})).toBe('Inline Route: /z*; ')
    expect(describeInlineRouteConfig({})).toBe('Inline Route: ')
  })

  it.each([
    [{prefix: '/'}, '/*'],
    [{path: '/exact'}, '/exact'],
    [{path_separated_prefix: '/get'}, 'PathPrefix:/get'],
    [{safe_regex: {regex: '^/a.*'}}, 'regex ^/a.*'],
    [{connect_matcher: {}}, ''],
    [{prefix: '', headers: [{name: 'x'}]}, ''],
  ])('describes the route match %j as %j', (match, expected) => {
    expect(describeRouteMatch(match)).toBe(expected)
  })
})

describe('listener summaries and table', () => {
  it('renders every MATCH and DESTINATION form of the sidecar fixture like istioctl (verbose)', () => {
    expect(renderListenerTable(selectListeners(sidecar(), {}).summaries)).toBe(SIDECAR_VERBOSE)
  })

  it('renders the TYPE table with --verbose=false', () => {
    expect(renderListenerTable(selectListeners(sidecar(), {}).summaries, {verbose: false})).toBe(SIDECAR_SHORT)
  })

  it('reads camelCase dumps like snake_case ones', () => {
    const camel = configDumpFromJson(camelCaseKeys(JSON.parse(read('sidecar.json'))), 'camel')
    expect(renderListenerTable(selectListeners(camel, {}).summaries)).toBe(SIDECAR_VERBOSE)
  })

  it('adds the NAME column for proxy-config all', () => {
    const dump = listenerDump({name: 'l1', address: {socket_address: {address: '0.0.0.0', port_value: 80}}, filter_chains: [{filters: [hcmRds('80')]}]})
    const summaries = selectListeners(dump, {}).summaries
    expect(renderListenerTable(summaries, {withName: true})).toBe('NAME        ADDRESSES PORT MATCH DESTINATION\nlistener/l1 0.0.0.0   80   ALL   Route: 80\n')
    expect(renderListenerTable(summaries, {withName: true, verbose: false})).toBe('NAME        ADDRESSES PORT TYPE\nlistener/l1 0.0.0.0   80   HTTP\n')
  })

  it('skips dynamic listeners without an active state', () => {
    expect(selectListeners(sidecar(), {}).summaries.map((s) => s.name)).not.toContain('warming-only')
  })

  it('sorts by port, then address, then type, keeping dump order for ties', () => {
    const dump = listenerDump(
      {name: 'b-tcp', address: {socket_address: {address: '10.0.0.2', port_value: 80}}, filter_chains: [{filters: [tcpProxy('x')]}]},
      {name: 'a-http', address: {socket_address: {address: '10.0.0.2', port_value: 80}}, filter_chains: [{filters: [hcmRds('r')]}]},
      {name: 'first-tie', address: {socket_address: {address: '10.0.0.1', port_value: 80}}, filter_chains: [{filters: [tcpProxy('x')]}]},
      {name: 'second-tie', address: {socket_address: {address: '10.0.0.1', port_value: 80}}, filter_chains: [{filters: [tcpProxy('y')]}]},
      {name: 'low-port', address: {socket_address: {address: '10.0.0.9', port_value: 8}}},
    )
    expect(selectListeners(dump, {}).summaries.map((s) => s.name)).toEqual(['low-port', 'first-tie', 'second-tie', 'a-http', 'b-tcp'])
  })

  it("orders chains with equal destinations as istioctl's sort.Slice does (Go's unstable pdqsort)", () => {
    const chains = Array.from({length: 20}, (_, i) => ({filter_chain_match: {destination_port: i}, filters: [tcpProxy(i % 2 ? 'odd' : 'even')]}))
    const summary = summarizeListener({filter_chains: chains})
    // Printed by go1.19.8: sort.Slice over these destinations with `>`.
    const goOrder = [15, 17, 9, 3, 13, 5, 11, 7, 19, 1, 10, 6, 12, 4, 14, 0, 16, 2, 18, 8]
    expect(summary.chains.map((c) => c.match.destinationPort)).toEqual(goOrder)
  })

  it('counts a tcp_proxy as TCP only when its config does not mention BlackHoleCluster', () => {
    const blackholeViaWeighted = {name: 'envoy.filters.network.tcp_proxy', typed_config: {weighted_clusters: {clusters: [{name: 'BlackHoleCluster', weight: 1}]}}}
    expect(summarizeListener({filter_chains: [{filters: [blackholeViaWeighted]}]})).toMatchObject({type: 'UNKNOWN', chains: [{destination: {kind: 'none'}}]})
    // A later HTTP connection manager decides the destination when the tcp_proxy is a black hole.
    expect(summarizeListener({filter_chains: [{filters: [tcpProxy('BlackHoleCluster'), hcmRds('r')]}]})).toMatchObject({type: 'HTTP', chains: [{destination: {kind: 'route', routeConfig: 'r'}}]})
    expect(summarizeListener({filter_chains: [{filters: [{name: 'envoy.filters.network.tcp_proxy', typed_config: {}}]}]}).chains[0].destination).toEqual({kind: 'cluster', cluster: ''})
  })
})

describe('listener filters', () => {
  const names = (filter: Parameters<typeof selectListeners>[1]) => selectListeners(sidecar(), filter).summaries.map((s) => s.name)

  it('matches --address case-insensitively against primary and additional addresses, exactly', () => {
    expect(names({address: '10.96.0.10'})).toEqual(['10.96.0.10_53'])
    expect(names({address: '::'})).toEqual(['0.0.0.0_9080'])
    expect(names({address: '/VAR/RUN/APP2.SOCK'})).toEqual(['uds'])
    expect(names({address: '10.96.0.1'})).toEqual([])
  })

  it('matches --port on the primary port and --type case-insensitively', () => {
    expect(names({port: 15006})).toEqual(['virtualInbound'])
    expect(names({type: 'http+tcp'})).toEqual(['10.0.0.1_8443', 'virtualInbound'])
    expect(names({type: 'unknown'})).toEqual(['virtualOutbound'])
    expect(names({address: '0.0.0.0', type: 'HTTP'})).toEqual(['0.0.0.0_9080', ''])
  })

  it('renders only the header for an empty result', () => {
    expect(renderListenerTable(selectListeners(sidecar(), {port: 1}).summaries)).toBe('ADDRESSES PORT MATCH DESTINATION\n')
  })

  it('returns the selected listeners as the dump has them, in dump order, for -o json', () => {
    const selected = selectListeners(sidecar(), {type: 'TCP'})
    expect(selected.listeners.map((l) => l.name)).toEqual(['10.96.0.10_53', 'uds'])
    expect(selected.listeners[1].address).toEqual({pipe: {path: '/var/run/app.sock'}})
  })
})

describe('proxy-config listener (CLI)', () => {
  it('reads a dump from stdin and prints the table; --verbose=false switches to TYPE', async () => {
    const verbose = await runCli(['proxy-config', 'listener', '-f', '-'], {input: read('sidecar.json')})
    expect(verbose.stderr).toBe('')
    expect(verbose.code).toBe(0)
    expect(verbose.stdout).toBe(SIDECAR_VERBOSE)
    const short = await runCli(['pc', 'l', '-f', '-', '--verbose=false', '--port', '15006'], {input: read('sidecar.json')})
    expect(short.stdout).toBe('ADDRESSES PORT  TYPE\n0.0.0.0   15006 HTTP+TCP\n')
  })

  it('prints the Listener objects for -o json and the typed result for --json', async () => {
    const json = await runCli(['pc', 'listeners', '-f', '-', '--address', '10.96.0.10', '-o', 'json'], {input: read('sidecar.json')})
    expect(JSON.parse(json.stdout)).toEqual([JSON.parse(read('sidecar.json')).configs[0].dynamic_listeners[2].active_state.listener])
    const result = await runCli(['pc', 'l', '-f', '-', '--port', '53', '--json'], {input: read('sidecar.json')})
    expect(JSON.parse(result.stdout).result).toEqual({
      listeners: [{name: '10.96.0.10_53', address: '10.96.0.10', additionalAddresses: [], port: 53, type: 'TCP', chains: [{match: {serverNames: [], applicationProtocols: [], prefixRanges: []}, destination: {kind: 'cluster', cluster: 'outbound|53||kube-dns.kube-system.svc.cluster.local'}}]}],
    })
  })

  it('fails with exit 6 and one line (no stack trace despite --verbose) on a dump without listeners', async () => {
    const result = await runCli(['pc', 'l', '-f', '-'], {input: '{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"}]}'})
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('Error: stdin: config dump has no configuration type type.googleapis.com/envoy.admin.v3.ListenersConfigDump\n')
  })

  it('rejects an unknown --type with a usage error', async () => {
    const result = await runCli(['pc', 'l', '-f', '-', '--type', 'UDP'], {input: read('sidecar.json')})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^Error: --type "UDP" is not a listener type/)
  })
})

describe('mesh story 1: the ingress gateway', () => {
  it('shows the RDS route and the health/metrics inline routes (current istioctl headers)', () => {
    const inline = (prefix: string, cluster: string) => ({
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {route_config: {virtual_hosts: [{name: 'backend', domains: ['*'], routes: [{match: {prefix}, route: {cluster}}]}]}},
    })
    const dump = listenerDump(
      {address: {socket_address: {address: '0.0.0.0', port_value: 15090}}, filter_chains: [{filters: [inline('/stats/prometheus', 'prometheus_stats')]}]},
      {address: {socket_address: {address: '0.0.0.0', port_value: 15021}}, filter_chains: [{filters: [inline('/healthz/ready', 'agent')]}]},
      {name: '0.0.0.0_8080', address: {socket_address: {address: '0.0.0.0', port_value: 8080}}, filter_chains: [{filters: [hcmRds('http.8080')]}]},
    )
    expect(renderListenerTable(selectListeners(dump, {}).summaries)).toBe(
      'ADDRESSES PORT  MATCH DESTINATION\n' +
        '0.0.0.0   8080  ALL   Route: http.8080\n' +
        '0.0.0.0   15021 ALL   Inline Route: /healthz/ready*\n' +
        '0.0.0.0   15090 ALL   Inline Route: /stats/prometheus*\n',
    )
  })
})
