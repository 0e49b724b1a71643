import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {configDumpFromJson, parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {describeRouteDomains, routeVirtualService, selectRoutes, sortByRouteName, summarizeRouteConfig} from '../../src/lib/envoy/routes.js'
import {renderRouteTable} from '../../src/lib/render/route-table.js'
import {runCli} from '../helpers/cli.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'routes')
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8')
const sidecar = () => parseConfigDump(read('sidecar.json'), 'sidecar.json')

function camelCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCaseKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase()), camelCaseKeys(inner)]),
  )
}

// Hand-checked against istioctl's rules (behaviour reference §2.3): numeric runs sorted between
// non-numeric names, DOMAINS collapsing, PassthroughCluster routes hidden, empty vhost 404,
// VIRTUAL SERVICE from route metadata.
const SIDECAR_VERBOSE = `NAME               VHOST NAME                                 DOMAINS                                                                MATCH                  VIRTUAL SERVICE
80                 catalog.istioinaction.io:80                catalog.istioinaction.io                                               PathPrefix:/items      catalog-v1-v2.istioinaction
9080               reviews.default.svc.cluster.local:9080     reviews, reviews.default + 2 more...                                   /*                     reviews.default
9080               reviews.default.svc.cluster.local:9080     reviews, reviews.default + 2 more...                                   regex /api/v[0-9]+     
9080               ports-only:9080                                                                                                   /ratings               <unknown>
9080               no-routes                                  details.default.svc.cluster.local, details.default.svc + 1 more...     /*                     404
http.8080          a:80                                       a.example.com, b.example.com + 1 more...                               /*                     
15010              istiod:15010                               istiod.istio-system.svc.cluster.local                                  /*                     
inbound|9080||     inbound|http|9080                          *                                                                      /*                     <unknown>
                   backend                                    *                                                                      /stats/prometheus*     
`

const SIDECAR_SHORT = `NAME               VIRTUAL HOSTS
80                 1
9080               4
http.8080          1
443                0
15010              1
inbound|9080||     1
                   1
`

describe('DOMAINS column', () => {
  it.each([
    [[], ''],
    [['only:80'], 'only:80'],
    [['a', 'b'], 'a, b'],
    [['a', 'b', 'c'], 'a, b + 1 more...'],
    [['a:80', 'b:80'], ''],
    [['[fd00:10:96::7fc7]', '[fd00:10:96::7fc7]:80', 'x:1'], '[fd00:10:96::7fc7]'],
    // "[fd00::1]" has only two colons, so istioctl takes it for host:port and drops it.
    [['[fd00::1]', 'x:1'], ''],
    [['r.ns.svc.cluster.local', 'r.ns.svc', 'r.ns', 'r'], 'r.ns, r'],
    // Only one suffix is stripped per test: r.ns.svc.cluster.local is kept unless r.ns is listed.
    [['r.ns.svc.cluster.local', 'r.ns.svc'], 'r.ns.svc.cluster.local, r.ns.svc'],
    [['r.svc.cluster.local', 'x', 'r.svc.cluster.local:80'], 'r.svc.cluster.local, x'],
  ])('describes %j as %j', (domains, expected) => {
    expect(describeRouteDomains(domains)).toBe(expected)
  })
})

describe('VIRTUAL SERVICE column', () => {
  const withConfig = (config: unknown) => ({metadata: {filter_metadata: {istio: {config}}}})
  it.each([
    [{}, ''],
    [{metadata: {filter_metadata: {other: {}}}}, ''],
    [withConfig('/apis/networking.istio.io/v1/namespaces/default/virtual-service/httpbin'), 'httpbin.default'],
    [withConfig('/apis/networking.istio.io/v1/namespaces/default'), ''],
    [withConfig('/apis/gateway.networking.k8s.io/v1/namespaces/default/httproute/x'), '<unknown>'],
    [withConfig(''), '<unknown>'],
    [withConfig(7), '<unknown>'],
    [{metadata: {filterMetadata: {istio: {config: '/apis/networking.istio.io/v1/namespaces/ns/virtual-service/vs'}}}}, 'vs.ns'],
  ])('derives %j as %j', (route, expected) => {
    expect(routeVirtualService(route)).toBe(expected)
  })
})

/** Go's sort.Slice for <=12 items: insertionSortCmpFunc with istioctl's "both integers and smaller" comparator. */
function goInsertionSort(names: string[]): string[] {
  const data = [...names]
  const asInt = (name: string) => (/^[+-]?[0-9]+$/.test(name) ? Number(name) : undefined)
  const less = (a: string, b: string) => {
    const x = asInt(a)
    const y = asInt(b)
    return x !== undefined && y !== undefined && x < y
  }
  for (let i = 1; i < data.length; i++) {
    for (let j = i; j > 0 && less(data[j], data[j - 1]); j--) [data[j], data[j - 1]] = [data[j - 1], data[j]]
  }
  return data
}

describe('route configuration order', () => {
  const identity = (name: string) => name

  it('sorts runs of numeric names between non-numeric barriers', () => {
    expect(sortByRouteName(['9080', '80', 'http.8080', '15010', '443', 'inbound|9080||', ''], identity)).toEqual(['80', '9080', 'http.8080', '443', '15010', 'inbound|9080||', ''])
  })

  it('reads names as strconv.Atoi does (sign, leading zeros, int64 range)', () => {
    expect(sortByRouteName(['+5', '-3', '007', '4'], identity)).toEqual(['-3', '4', '+5', '007'])
    // Out of int64 range: not a number, so a barrier.
    expect(sortByRouteName(['9', '99999999999999999999', '1'], identity)).toEqual(['9', '99999999999999999999', '1'])
    expect(sortByRouteName(['9223372036854775807', '9223372036854775806'], identity)).toEqual(['9223372036854775806', '9223372036854775807'])
  })

  it('keeps equal numeric names in dump order', () => {
    const items = [{n: '80', id: 1}, {n: '8', id: 2}, {n: '80', id: 3}, {n: '08', id: 4}]
    expect(sortByRouteName(items, (item) => item.n).map((item) => item.id)).toEqual([2, 4, 1, 3])
  })

  it('matches Go insertion sort for every list of up to 12 names (randomized, seeded)', () => {
    let seed = 12345
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const pool = ['80', '9080', '443', '15010', '1', '80', 'http.8080', 'inbound|9080||', '', 'https.443.x', '007', '+7']
    for (let trial = 0; trial < 500; trial++) {
      const names = Array.from({length: Math.floor(random() * 13)}, () => pool[Math.floor(random() * pool.length)])
      expect(sortByRouteName(names, identity)).toEqual(goInsertionSort(names))
    }
  })
})

describe('route summaries and table', () => {
  it('renders the sidecar fixture like istioctl (verbose)', () => {
    expect(renderRouteTable(selectRoutes(sidecar(), {}).summaries)).toBe(SIDECAR_VERBOSE)
  })

  it('renders NAME and the vhost count with --verbose=false', () => {
    expect(renderRouteTable(selectRoutes(sidecar(), {}).summaries, {verbose: false})).toBe(SIDECAR_SHORT)
  })

  it('reads camelCase dumps like snake_case ones', () => {
    const camel = configDumpFromJson(camelCaseKeys(JSON.parse(read('sidecar.json'))), 'camel')
    expect(renderRouteTable(selectRoutes(camel, {}).summaries)).toBe(SIDECAR_VERBOSE)
  })

  it('prefixes names with route/ for proxy-config all', () => {
    const summaries = selectRoutes(sidecar(), {name: '80'}).summaries
    expect(renderRouteTable(summaries, {withName: true})).toBe(
      'NAME         VHOST NAME                      DOMAINS                      MATCH                 VIRTUAL SERVICE\n' +
        'route/80     catalog.istioinaction.io:80     catalog.istioinaction.io     PathPrefix:/items     catalog-v1-v2.istioinaction\n',
    )
    expect(renderRouteTable(summaries, {withName: true, verbose: false})).toBe('NAME         VIRTUAL HOSTS\nroute/80     1\n')
  })

  it('hides PassthroughCluster routes and shows a vhost without routes as /* 404', () => {
    const summary = summarizeRouteConfig({
      name: 'r',
      virtual_hosts: [
        {name: 'pass', domains: ['*'], routes: [{match: {prefix: '/'}, route: {cluster: 'PassthroughCluster'}}]},
        {name: 'empty', domains: ['*']},
      ],
    })
    expect(summary).toEqual({name: 'r', virtualHosts: 2, entries: [{virtualHost: 'empty', domains: ['*'], match: null, virtualService: ''}]})
  })

  it('filters --name exactly and prints only the header when nothing matches', () => {
    expect(selectRoutes(sidecar(), {name: '9080'}).summaries.map((s) => s.name)).toEqual(['9080'])
    expect(selectRoutes(sidecar(), {name: '908'}).summaries).toEqual([])
    expect(renderRouteTable([], {})).toBe('NAME     VHOST NAME     DOMAINS     MATCH     VIRTUAL SERVICE\n')
  })

  it('returns the selected RouteConfigurations as the dump has them, in table order, for -o json', () => {
    const {routeConfigs} = selectRoutes(sidecar(), {})
    expect(routeConfigs.map((config) => config.name)).toEqual(['80', '9080', 'http.8080', '443', '15010', 'inbound|9080||', undefined])
  })
})

describe('proxy-config route (CLI)', () => {
  it('reads a dump from stdin and prints the table', async () => {
    const result = await runCli(['proxy-config', 'routes', '-f', '-'], {input: read('sidecar.json')})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(SIDECAR_VERBOSE)
    const short = await runCli(['pc', 'r', '-f', '-', '--verbose=false', '--name', 'http.8080'], {input: read('sidecar.json')})
    expect(short.stdout).toBe('NAME          VIRTUAL HOSTS\nhttp.8080     1\n')
  })

  it('prints RouteConfiguration objects for -o yaml', async () => {
    const result = await runCli(['pc', 'r', '-f', '-', '--name', '443', '-o', 'yaml'], {input: read('sidecar.json')})
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('- name: "443"\n  virtual_hosts: []\n')
  })

  it('fails with exit 6 and one line (no stack trace despite --verbose) on bad input', async () => {
    const result = await runCli(['pc', 'r', '-f', '-'], {input: '{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump"'})
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr.split('\n')).toHaveLength(2)
    expect(result.stderr).toMatch(/^Error: stdin: not valid JSON/)
  })
})

describe('mesh story 1: the gateway route to subsets', () => {
  it('shows the weighted route with its VirtualService', () => {
    const dump = configDumpFromJson(
      {
        configs: [
          {
            '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
            dynamic_route_configs: [
              {
                route_config: {
                  name: 'http.8080',
                  virtual_hosts: [
                    {
                      name: 'catalog.istioinaction.io:80',
                      domains: ['catalog.istioinaction.io'],
                      routes: [
                        {
                          match: {prefix: '/'},
                          route: {
                            weighted_clusters: {
                              clusters: [
                                {name: 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local', weight: 20},
                                {name: 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local', weight: 80},
                              ],
                            },
                          },
                          metadata: {filter_metadata: {istio: {config: '/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/virtual-service/catalog-v1-v2'}}},
                        },
                      ],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
      'inline',
    )
    expect(renderRouteTable(selectRoutes(dump, {name: 'http.8080'}).summaries)).toBe(
      'NAME          VHOST NAME                      DOMAINS                      MATCH     VIRTUAL SERVICE\n' +
        'http.8080     catalog.istioinaction.io:80     catalog.istioinaction.io     /*        catalog-v1-v2.istioinaction\n',
    )
  })
})
