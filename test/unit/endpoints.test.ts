import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {
  hostEndpointRow,
  hostServesTraffic,
  localityToString,
  matchLbEndpoint,
  parseEndpointInput,
  pruneClusterLoadAssignment,
  renderEdsAddress,
  selectEdsEndpoints,
  selectHostEndpoints,
} from '../../src/lib/envoy/endpoints.js'
import {clusterSortKey, clusterSortKeyLess} from '../../src/lib/envoy/istio-names.js'
import {renderEdsEndpointTable, renderHostEndpointTable} from '../../src/lib/render/endpoint-table.js'
import {goSortSlice} from '../../src/lib/render/go-sort.js'
import {runCli} from '../helpers/cli.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'endpoints')
const fixturePath = (name: string) => join(fixtures, name)
const read = (name: string) => readFileSync(fixturePath(name), 'utf8')
const clusterStatuses = () => JSON.parse(read('clusters.json')).cluster_statuses
const edsDump = () => parseConfigDump(read('eds-dump.json'), 'eds-dump.json')

describe('endpoint input detection', () => {
  it('recognises /clusters?format=json in snake_case and camelCase, and {} as no clusters', () => {
    expect(parseEndpointInput({text: read('clusters.json'), origin: 'f'}).kind).toBe('cluster-status')
    const camel = parseEndpointInput({text: read('clusters-camel.json'), origin: 'f'})
    expect(camel.kind === 'cluster-status' && camel.clusterStatuses.length).toBe(1)
    expect(parseEndpointInput({text: '{}', origin: 'f'})).toEqual({kind: 'cluster-status', clusterStatuses: []})
  })

  it('recognises a config dump', () => {
    expect(parseEndpointInput({text: read('eds-dump.json'), origin: 'f'}).kind).toBe('config-dump')
  })

  it.each([
    ['[]', /f: got a JSON list; expected Envoy \/clusters\?format=json output/],
    ['{"foo": 1}', /without "cluster_statuses" or "configs"/],
    ['{"cluster_statuses": 3}', /"cluster_statuses" is not a list/],
    ['{"configs": [', /not valid JSON/],
    ['', /it is empty/],
  ])('rejects %j with a bad-data error', (text, message) => {
    expect(() => parseEndpointInput({text, origin: 'f'})).toThrow(message)
    try {
      parseEndpointInput({text, origin: 'f'})
    } catch (error) {
      expect((error as {exitCode: number}).exitCode).toBe(6)
    }
  })
})

describe('/clusters?format=json rows (istioctl proxy-config endpoint)', () => {
  it('renders socket, pipe, internal and missing addresses; absent and numeric statuses; outlier flag', () => {
    expect(hostEndpointRow({address: {socket_address: {address: '10.0.0.1', port_value: 80}}}, 'c')).toEqual({
      address: '10.0.0.1', port: 80, status: 'UNKNOWN', failedOutlierCheck: false, cluster: 'c',
    })
    expect(hostEndpointRow({address: {pipe: {path: '/sock'}}, health_status: {eds_health_status: 4}}, 'c')).toMatchObject({address: 'unix:///sock', port: 0, status: 'TIMEOUT'})
    expect(hostEndpointRow({address: {envoy_internal_address: {server_listener_name: 'l', endpoint_id: 'e'}}}, 'c').address).toBe('envoy://l/e')
    expect(hostEndpointRow({health_status: {failed_outlier_check: true}}, 'c')).toMatchObject({address: 'unknown', failedOutlierCheck: true})
  })

  it('hostServesTraffic judges a host as Envoy\'s load balancer does (not failing EDS health, health checks or outlier detection), camelCase and numeric statuses too', () => {
    const hosts = [
      {health_status: {eds_health_status: 'HEALTHY'}},
      {health_status: {eds_health_status: 1}},
      {healthStatus: {edsHealthStatus: 'HEALTHY'}},
      {health_status: {eds_health_status: 'HEALTHY', failed_outlier_check: true}},
      {healthStatus: {edsHealthStatus: 'HEALTHY', failedActiveHealthCheck: true}},
      {health_status: {eds_health_status: 'UNHEALTHY'}},
      {health_status: {eds_health_status: 'DRAINING'}},
      {health_status: {eds_health_status: 4}},
      {health_status: {eds_health_status: 'DEGRADED'}},
      {health_status: {}},
      {},
    ]
    const judged = hosts.map((host) => hostServesTraffic(host))
    expect(judged).toEqual([true, true, true, false, false, false, false, false, true, true, true])
    // The row's STATUS and OUTLIER CHECK columns say why.
    expect(hosts.map((host) => {
      const row = hostEndpointRow(host, 'c')
      return `${row.status}${row.failedOutlierCheck ? ' ejected' : ''}`
    })).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY', 'HEALTHY ejected', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED', 'UNKNOWN', 'UNKNOWN'])
  })

  it('renders the golden table: sorted by address, port, cluster; port-less endpoints without ":0"', () => {
    const {rows} = selectHostEndpoints(clusterStatuses(), {})
    expect(renderHostEndpointTable(rows)).toBe(read('clusters.golden.txt'))
  })

  it('filters exactly and case-insensitively on address (without port), port, cluster and status', () => {
    const names = (filter: object) => selectHostEndpoints(clusterStatuses(), filter).rows.map((row) => `${row.address}:${row.port} ${row.cluster}`)
    expect(names({address: '10.0.0.7'})).toEqual(['10.0.0.7:80 outbound|80||httpbin.default.svc.cluster.local', '10.0.0.7:9080 outbound|9080||reviews.default.svc.cluster.local'])
    expect(names({address: '10.0.0.7:80'})).toEqual([])
    expect(names({address: '10.0.0'})).toEqual([])
    expect(names({port: 9080})).toHaveLength(2)
    expect(names({cluster: 'AGENT'})).toEqual(['127.0.0.1:15020 agent'])
    expect(names({cluster: 'agen'})).toEqual([])
    expect(names({status: 'unhealthy'})).toEqual(['10.0.0.12:9080 outbound|9080||reviews.default.svc.cluster.local'])
    expect(names({status: 'draining', port: 80})).toEqual(['10.0.0.7:80 outbound|80||httpbin.default.svc.cluster.local'])
  })

  it('emits whole ClusterStatus objects with at least one matching host, in input order', () => {
    const selected = selectHostEndpoints(clusterStatuses(), {status: 'HEALTHY'})
    expect(selected.clusterStatuses.map((status: {name: string}) => status.name)).toEqual([
      'outbound|9080||reviews.default.svc.cluster.local',
      'sds-grpc',
      'inbound-vip|8000|http|httpbin.default.svc.cluster.local',
    ])
    // The non-matching UNHEALTHY host stays in its ClusterStatus.
    expect(selected.clusterStatuses[0].host_statuses).toHaveLength(2)
  })

  it('reads camelCase input', () => {
    const input = parseEndpointInput({text: read('clusters-camel.json'), origin: 'f'})
    if (input.kind !== 'cluster-status') throw new Error('wrong kind')
    expect(renderHostEndpointTable(selectHostEndpoints(input.clusterStatuses, {}).rows)).toBe(
      'ENDPOINT           STATUS        OUTLIER CHECK     CLUSTER\n' +
        '10.0.0.12:9080     UNHEALTHY     FAILED            outbound|9080||reviews.default.svc.cluster.local\n' +
        '10.0.0.7:9080      HEALTHY       OK                outbound|9080||reviews.default.svc.cluster.local\n',
    )
  })

  it('prints the header only when nothing matches', () => {
    expect(renderHostEndpointTable(selectHostEndpoints(clusterStatuses(), {port: 1}).rows)).toBe('ENDPOINT     STATUS     OUTLIER CHECK     CLUSTER\n')
  })
})

describe('EDS rows from a config dump (istioctl eds)', () => {
  it('renders addresses: ip:port even for :0, pipe path as-is, envoy internal, unknown', () => {
    expect(renderEdsAddress({socket_address: {address: '10.0.0.1'}})).toBe('10.0.0.1:0')
    expect(renderEdsAddress({pipe: {path: './etc/istio/proxy/XDS'}})).toBe('./etc/istio/proxy/XDS')
    expect(renderEdsAddress({envoy_internal_address: {server_listener_name: 'connect_originate', endpoint_id: '1.2.3.4:80'}})).toBe('envoy://connect_originate/1.2.3.4:80')
    expect(renderEdsAddress(undefined)).toBe('unknown')
  })

  it.each([
    [undefined, ''],
    [{}, ''],
    [{region: 'r'}, 'r'],
    [{region: 'r', zone: 'z'}, 'r/z'],
    [{region: 'r', zone: 'z', sub_zone: 's'}, 'r/z/s'],
    [{region: 'r', sub_zone: 's'}, 'r'],
    [{zone: 'z', subZone: 's'}, '/z/s'],
  ])('locality %j -> %j', (locality, expected) => {
    expect(localityToString(locality)).toBe(expected)
  })

  it('sorts cluster names like clusters: FQDN, subset, port, direction', () => {
    const names = ['xds-grpc', 'outbound|9080|v2|r.ns', 'outbound|9080||r.ns', 'inbound|9080||r.ns', 'outbound|80||r.ns', 'agent']
    const sorted = goSortSlice(names.map(clusterSortKey), clusterSortKeyLess).map((key) => key.name)
    expect(sorted).toEqual(['agent', 'outbound|80||r.ns', 'inbound|9080||r.ns', 'outbound|9080||r.ns', 'outbound|9080|v2|r.ns', 'xds-grpc'])
  })

  it('renders the golden table: CLAs sorted, endpoint order kept, empty CLAs dropped, camelCase CLA read', () => {
    const {rows} = selectEdsEndpoints(edsDump(), {})
    expect(renderEdsEndpointTable(rows)).toBe(read('eds.golden.txt'))
    expect(rows.some((row) => row.cluster === 'zipkin')).toBe(false)
  })

  it('prefixes NAME with endpoint/ for proxy-config all', () => {
    const {rows} = selectEdsEndpoints(edsDump(), {cluster: 'xds-grpc'})
    expect(renderEdsEndpointTable(rows, {withName: true})).toBe(
      'NAME                               STATUS      LOCALITY     CLUSTER\nendpoint/./etc/istio/proxy/XDS     HEALTHY                  xds-grpc\n',
    )
  })

  it('matches --address against every rendered ip:port (so a bare IP never matches)', () => {
    const lbEndpoint = {
      endpoint: {
        address: {socket_address: {address: '10.0.2.9', port_value: 9080}},
        additional_addresses: [{address: {socket_address: {address: 'FD00::9', port_value: 9080}}}],
      },
    }
    expect(matchLbEndpoint({address: '10.0.2.9:9080'}, lbEndpoint, 'c')).toBe(true)
    expect(matchLbEndpoint({address: 'fd00::9:9080'}, lbEndpoint, 'c')).toBe(true)
    expect(matchLbEndpoint({address: '10.0.2.9'}, lbEndpoint, 'c')).toBe(false)
    expect(matchLbEndpoint({port: 9080, status: 'unknown', cluster: 'C'}, lbEndpoint, 'c')).toBe(true)
    expect(matchLbEndpoint({port: 80}, lbEndpoint, 'c')).toBe(false)
  })

  it('prunes non-matching endpoints into a copy, keeping emptied locality groups, and drops empty CLAs', () => {
    const dump = edsDump()
    const selected = selectEdsEndpoints(dump, {status: 'HEALTHY'})
    const reviews = selected.clusterLoadAssignments.find((cla: {cluster_name?: string}) => cla.cluster_name === 'outbound|9080||reviews.default.svc.cluster.local')
    expect(reviews.endpoints).toHaveLength(2)
    expect(reviews.endpoints[0].lb_endpoints.map((ep: {health_status: string}) => ep.health_status)).toEqual(['HEALTHY'])
    expect(reviews.endpoints[1].lb_endpoints).toEqual([])
    // The camelCase CLA keeps its spelling; the dump itself is untouched.
    const httpbin = pruneClusterLoadAssignment(dump.raw.configs[1].dynamic_endpoint_configs[2].endpoint_config, {status: 'draining'})
    expect(Object.keys(httpbin.endpoints[0])).toEqual(['locality', 'lbEndpoints'])
    expect(httpbin.endpoints[0].lbEndpoints).toHaveLength(1)
    expect(dump.raw.configs[1].dynamic_endpoint_configs[2].endpoint_config.endpoints[0].lbEndpoints).toHaveLength(2)
    expect(selectEdsEndpoints(dump, {port: 1}).clusterLoadAssignments).toEqual([])
  })

  it('returns unfiltered CLAs as the input has them', () => {
    const dump = edsDump()
    const selected = selectEdsEndpoints(dump, {})
    expect(selected.clusterLoadAssignments[0]).toBe(dump.raw.configs[1].dynamic_endpoint_configs[2].endpoint_config)
  })

  it('rejects a dump without an EndpointsConfigDump (exit 6, include_eds hint)', () => {
    const dump = parseConfigDump(read('no-eds-dump.json'), 'no-eds-dump.json')
    expect(() => selectEdsEndpoints(dump, {})).toThrow(/no-eds-dump.json: config dump has no endpoints/)
  })
})

describe('meshdbg proxy-config endpoint', () => {
  it('reads /clusters?format=json from stdin with -f -, through the ep alias', async () => {
    const result = await runCli(['pc', 'ep', '-f', '-'], {input: read('clusters.json')})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(read('clusters.golden.txt'))
  })

  it('prints the EDS table for an include_eds dump, and the pruned CLAs as JSON', async () => {
    const table = await runCli(['proxy-config', 'endpoints', '-f', fixturePath('eds-dump.json')])
    expect(table.stdout).toBe(read('eds.golden.txt'))
    const json = await runCli(['proxy-config', 'endpoint', '-f', fixturePath('eds-dump.json'), '--port', '8080', '-o', 'json'])
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout)
    expect(parsed.map((cla: {clusterName: string}) => cla.clusterName)).toEqual(['outbound|80||httpbin.default.svc.cluster.local'])
    expect(json.stdout.startsWith('[\n  {\n')).toBe(true)
  })

  it('prints whole ClusterStatus objects as YAML', async () => {
    const result = await runCli(['pc', 'endpoint', '-f', fixturePath('clusters.json'), '--cluster', 'agent', '-o', 'yaml'])
    expect(result.stdout).toBe('- name: agent\n  host_statuses:\n  - address:\n      socket_address:\n        address: 127.0.0.1\n        port_value: 15020\n    health_status: {}\n')
  })

  it('returns typed rows with --json', async () => {
    const result = await runCli(['pc', 'ep', '-f', fixturePath('clusters-camel.json'), '--status', 'healthy', '--json'])
    expect(JSON.parse(result.stdout).result).toEqual({
      source: 'clusters',
      endpoints: [{address: '10.0.0.7', port: 9080, status: 'HEALTHY', failedOutlierCheck: false, cluster: 'outbound|9080||reviews.default.svc.cluster.local'}],
    })
  })

  it('prints the header only and exits 0 when nothing matches', async () => {
    const result = await runCli(['pc', 'ep', '-f', fixturePath('eds-dump.json'), '--address', '10.0.1.5'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('NAME     STATUS     LOCALITY     CLUSTER\n')
  })

  it.each([
    ['no EDS section', read('no-eds-dump.json'), /^Error: stdin: config dump has no endpoints \(no EndpointsConfigDump section\)\. Hint: .*config_dump\?include_eds/],
    ['malformed JSON', '{"cluster_statuses": [', /^Error: stdin: not valid JSON \(truncated\?\)/],
    ['wrong shape', '"hello"', /^Error: stdin: got a JSON string/],
  ])('exits 6 with one line for %s', async (_what, input, message) => {
    const result = await runCli(['pc', 'ep', '-f', '-'], {input})
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })
})
