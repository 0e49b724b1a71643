import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {matchCluster, selectClusters, summarizeCluster} from '../../src/lib/envoy/clusters.js'
import {parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {clusterSortKey, clusterSortKeyCompare, clusterSortKeyLess, istioConfigName, parseSubsetKey} from '../../src/lib/envoy/istio-names.js'
import {renderClusterTable} from '../../src/lib/render/proxy-config-tables.js'
import {runCli} from '../helpers/cli.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'clusters')
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8')

describe('Istio name conventions', () => {
  it.each([
    ['outbound|80|v1|reviews.default.svc.cluster.local', {direction: 'outbound', port: 80, subset: 'v1', hostname: 'reviews.default.svc.cluster.local'}],
    ['inbound|9080||', {direction: 'inbound', port: 9080, subset: '', hostname: ''}],
    ['outbound|abc|x|h', {direction: 'outbound', port: 0, subset: 'x', hostname: 'h'}],
    ['outbound|80|v1|h|extra', {direction: 'outbound', port: 80, subset: 'v1', hostname: ''}],
  ])('parses %s', (name, expected) => {
    expect(parseSubsetKey(name)).toEqual(expected)
  })

  it.each(['BlackHoleCluster', 'outbound_.80_.v1_.h', 'a|b|c'])('leaves %s unparsed', (name) => {
    expect(parseSubsetKey(name)).toBeUndefined()
  })

  it.each([
    [undefined, ''],
    ['/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/reviews', 'reviews.default'],
    ['/apis/networking.istio.io/v1/namespaces/default', ''],
    ['/apis/other/v1/x', '<unknown>'],
    ['', '<unknown>'],
  ])('derives the config name of %j', (configPath, expected) => {
    expect(istioConfigName(configPath)).toBe(expected)
  })
})

describe('cluster filter', () => {
  it('uses case-sensitive substring tests on the full name and |port| for --port', () => {
    const name = 'outbound|9080|v1|reviews.default.svc.cluster.local'
    expect(matchCluster({}, name)).toBe(true)
    expect(matchCluster({fqdn: 'default'}, name)).toBe(true)
    expect(matchCluster({fqdn: 'Default'}, name)).toBe(false)
    expect(matchCluster({direction: 'out'}, name)).toBe(true)
    expect(matchCluster({subset: 'v1', port: 9080}, name)).toBe(true)
    expect(matchCluster({port: 908}, name)).toBe(false)
    expect(matchCluster({direction: 'inbound'}, 'inbound-vip|80|http|x')).toBe(true)
  })
})

describe('cluster summary', () => {
  it('shows STATIC for an absent type and for custom cluster_type clusters', () => {
    expect(summarizeCluster({name: 'a'}).type).toBe('STATIC')
    expect(summarizeCluster({name: 'a', cluster_type: {name: 'envoy.clusters.aggregate'}}).type).toBe('STATIC')
  })

  it('renders the golden table (sort, padding, unparsed names, DR column)', () => {
    const {summaries} = selectClusters(parseConfigDump(read('dump.json'), 'dump.json'), {})
    expect(renderClusterTable(summaries)).toBe(read('table.golden.txt'))
  })

  it('gives the same table for camelCase input', () => {
    const {summaries} = selectClusters(parseConfigDump(read('dump-camel.json'), 'dump-camel.json'), {})
    expect(renderClusterTable(summaries)).toBe(read('table.golden.txt'))
  })

  it('orders by FQDN, whatever the dump order', () => {
    const clusters = (names: string[]) =>
      JSON.stringify({configs: [{'@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', dynamic_active_clusters: names.map((name) => ({cluster: {name}}))}]})
    const names = Array.from({length: 40}, (_, i) => `outbound|80||svc-${String(i).padStart(2, '0')}.ns.svc.cluster.local`)
    const forward = selectClusters(parseConfigDump(clusters(names), 'a'), {}).summaries.map((s) => s.name)
    const backward = selectClusters(parseConfigDump(clusters([...names].reverse()), 'b'), {}).summaries.map((s) => s.name)
    expect(forward).toEqual(names)
    expect(backward).toEqual(names)
  })
})

describe('cluster order on tied keys', () => {
  // 16 names with extra `|` parts (hostname "", all tied) interleaved with 16 plain ones.
  const names = Array.from({length: 16}, (_, i) => [`outbound|80||h${String(15 - i).padStart(2, '0')}.svc`, `outbound|80||x${i}|y`]).flat()
  const dump = JSON.stringify({configs: [{'@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', dynamic_active_clusters: names.map((name) => ({cluster: {name}}))}]})
  const selected = (filter: object) => selectClusters(parseConfigDump(dump, 'd'), filter).summaries.map((s) => s.name)
  // Printed by go1.19.8: sort.Slice over these names with istioctl's comparator.
  const goTied = [13, 6, 11, 1, 10, 2, 14, 3, 8, 0, 15, 5, 4, 9, 12, 7].map((i) => `outbound|80||x${i}|y`)

  it("is Go's sort.Slice order", () => {
    expect(selected({})).toEqual([...goTied, ...Array.from({length: 16}, (_, i) => `outbound|80||h${String(i).padStart(2, '0')}.svc`)])
  })

  it('is computed over every cluster, then filtered (as istioctl)', () => {
    expect(selected({fqdn: 'x1'})).toEqual(goTied.filter((name) => name.includes('x1')))
  })
})

describe('cluster sort key', () => {
  const names = ['outbound|80||a.svc', 'outbound|9080||a.svc', 'inbound|80||a.svc', 'outbound|80|v1|a.svc', 'outbound|x||a.svc', 'outbound|0||a.svc', 'BlackHoleCluster', 'a.svc', 'outbound|80||x|y', 'outbound|81||x|z', '']

  it('compares three-way exactly as clusterSortKeyLess orders (ties are 0)', () => {
    for (const a of names.map(clusterSortKey)) {
      for (const b of names.map(clusterSortKey)) {
        expect(Math.sign(clusterSortKeyCompare(a, b))).toBe(clusterSortKeyLess(a, b) ? -1 : clusterSortKeyLess(b, a) ? 1 : 0)
      }
    }
  })

  it('summarizes a cluster as parsing its name does', () => {
    for (const name of names) {
      const cluster = {name, type: 'EDS'}
      expect(summarizeCluster(cluster, clusterSortKey(name))).toEqual(summarizeCluster(cluster))
      const key = parseSubsetKey(name)
      expect(summarizeCluster(cluster)).toMatchObject(key ? {fqdn: key.hostname, port: key.port, subset: key.subset, direction: key.direction, parsed: true} : {fqdn: name, port: 0, subset: '', direction: '', parsed: false})
    }
  })
})

describe('proxy-config cluster (CLI)', () => {
  it('reads the dump from stdin', async () => {
    const result = await runCli(['proxy-config', 'cluster', '-f', '-'], {input: read('dump.json')})
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(read('table.golden.txt'))
  })

  it('applies filters and the pc/c aliases', async () => {
    const result = await runCli(['pc', 'c', '-f', join(fixtures, 'dump.json'), '--fqdn', 'reviews', '--subset', 'v2'])
    expect(result.code).toBe(0)
    expect(result.stdout.trim().split('\n')).toEqual([
      'SERVICE FQDN                       PORT     SUBSET     DIRECTION     TYPE     DESTINATION RULE',
      'reviews.shop.svc.cluster.local     9080     v2         outbound      EDS      reviews.shop',
    ])
  })

  it('prints the header only, exit 0, when nothing matches', async () => {
    const result = await runCli(['pc', 'clusters', '-f', join(fixtures, 'dump.json'), '--fqdn', 'nothing-matches'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('SERVICE FQDN     PORT     SUBSET     DIRECTION     TYPE     DESTINATION RULE\n')
  })

  it('prints the selected clusters as Envoy JSON and YAML', async () => {
    const json = await runCli(['pc', 'c', '-f', join(fixtures, 'dump.json'), '--fqdn', 'api.example.com', '-o', 'json'])
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout)
    expect(parsed).toHaveLength(1)
    expect(parsed[0].name).toBe('outbound|443||api.example.com')
    expect(parsed[0].metadata.filter_metadata.istio.config).toBe('/apis/other.example/v1/thing')
    const yaml = await runCli(['pc', 'c', '-f', join(fixtures, 'dump.json'), '--fqdn', 'api.example.com', '-o', 'yaml'])
    expect(yaml.stdout).toContain('- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: outbound|443||api.example.com\n')
  })

  it('returns the typed result with --json', async () => {
    const result = await runCli(['pc', 'c', '-f', join(fixtures, 'dump.json'), '--port', '443', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).result).toEqual({
      clusters: [{name: 'outbound|443||api.example.com', fqdn: 'api.example.com', port: 443, subset: '', direction: 'outbound', parsed: true, type: 'STRICT_DNS', destinationRule: '<unknown>'}],
    })
  })
})
