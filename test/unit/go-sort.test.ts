import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {hostEndpointLess, type HostEndpointRow} from '../../src/lib/envoy/endpoints.js'
import {clusterSortKeyLess, type ClusterSortKey} from '../../src/lib/envoy/istio-names.js'
import {chainDestinationLess, listenerSummaryLess, type ChainSortEntry, type ListenerSummary} from '../../src/lib/envoy/listeners.js'
import {selectRoutes, sortByRouteName} from '../../src/lib/envoy/routes.js'
import {goSortSlice, goSortSliceWeakOrder} from '../../src/lib/render/go-sort.js'

/** Made by Go's own sort.Slice (go1.19.8): see test/fixtures/go-sort/README.md. */
interface GoldenCase {
  comparator: 'int' | 'always' | 'coin' | 'route' | 'cluster' | 'listener' | 'chain' | 'host-endpoint'
  note?: string
  input: unknown[]
  order: number[]
}
const goldens: GoldenCase[] = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'go-sort', 'goldens.json'), 'utf8'))

/** The generator's LCG (a uint64), so the "coin" comparator answers as it did in Go. */
function lcg(seed: number): (n: number) => number {
  let state = BigInt(seed)
  return (n) => {
    state = BigInt.asUintN(64, state * 6364136223846793005n + 1442695040888963407n)
    return Number((state >> 33n) % BigInt(n))
  }
}

/** meshdbg's order of the input positions, with the comparator meshdbg uses for that table. */
function meshdbgOrder(golden: GoldenCase, sort: typeof goSortSlice = goSortSlice): number[] {
  const positions = golden.input.map((_, index) => index)
  switch (golden.comparator) {
    case 'int': {
      const keys = golden.input as number[]
      return sort(positions, (a, b) => keys[a] < keys[b])
    }
    case 'always':
      return sort(positions, () => true)
    case 'coin': {
      const next = lcg(golden.input.length)
      return sort(positions, () => next(2) === 0)
    }
    case 'route':
      return sortByRouteName(positions, (index) => (golden.input as string[])[index])
    case 'cluster': {
      const keys = (golden.input as Array<[string, string, number, string]>).map(([fqdn, subset, port, direction], index): ClusterSortKey & {index: number} => ({fqdn, subset, port, direction, name: '', index}))
      return sort(keys, clusterSortKeyLess).map((key) => key.index)
    }
    case 'listener': {
      const rows = (golden.input as Array<[number, string, ListenerSummary['type']]>).map(([port, address, type], index) => ({port, address, type, name: String(index), additionalAddresses: [], chains: []}) satisfies ListenerSummary)
      return sort(rows, listenerSummaryLess).map((row) => Number(row.name))
    }
    case 'chain': {
      const entries = (golden.input as string[]).map((destinationText, index): ChainSortEntry & {index: number} => ({destinationText, chain: {match: {serverNames: [], applicationProtocols: [], prefixRanges: []}, destination: {kind: 'none'}}, index}))
      return sort(entries, chainDestinationLess).map((entry) => entry.index)
    }
    case 'host-endpoint': {
      const rows = (golden.input as Array<[string, number, string]>).map(([address, port, cluster], index): HostEndpointRow => ({address, port, cluster, status: String(index), failedOutlierCheck: false}))
      return sort(rows, hostEndpointLess).map((row) => Number(row.status))
    }
  }
}

describe("goSortSlice matches Go's sort.Slice", () => {
  it('the goldens cover ties beyond 12 items for every comparator', () => {
    for (const comparator of ['int', 'route', 'cluster', 'listener', 'chain', 'host-endpoint']) {
      expect(goldens.some((golden) => golden.comparator === comparator && golden.input.length > 50)).toBe(true)
    }
  })

  it.each(['int', 'always', 'coin', 'route', 'cluster', 'listener', 'chain', 'host-endpoint'])('%s: every golden case, position for position', (comparator) => {
    const cases = goldens.filter((golden) => golden.comparator === comparator)
    for (const golden of cases) expect({note: golden.note, n: golden.input.length, order: meshdbgOrder(golden)}).toEqual({note: golden.note, n: golden.input.length, order: golden.order})
  })

  it.each(['int', 'cluster', 'listener', 'chain', 'host-endpoint'])('%s: goSortSliceWeakOrder gives the same order (a strict weak order)', (comparator) => {
    const cases = goldens.filter((golden) => golden.comparator === comparator)
    for (const golden of cases) expect(meshdbgOrder(golden, goSortSliceWeakOrder)).toEqual(golden.order)
    // Both paths are taken: inputs without ties (the native sort) and with ties (the port).
    const hasTie = (golden: GoldenCase) => new Set(golden.input.map((row) => JSON.stringify(row))).size < golden.input.length
    expect(cases.some(hasTie)).toBe(true)
    expect(cases.some((golden) => golden.input.length > 1 && !hasTie(golden))).toBe(true)
  })

  it('where a stable sort differs (so the goldens do test the algorithm)', () => {
    const differing = goldens.filter((golden) => {
      const positions = golden.input.map((_, index) => index)
      return golden.comparator === 'int' && JSON.stringify(positions.sort((a, b) => (golden.input[a] as number) - (golden.input[b] as number))) !== JSON.stringify(golden.order)
    })
    expect(differing.length).toBeGreaterThan(20)
  })
})

describe('route configurations in istioctl order', () => {
  it('16 route configs of a sidecar, numeric and not, in the order istioctl >= 1.16 prints', () => {
    const golden = goldens.find((entry) => entry.note === 'sidecar-16')!
    const names = golden.input as string[]
    const dump = parseConfigDump(
      JSON.stringify({
        configs: [
          {
            '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
            dynamic_route_configs: names.map((name) => ({route_config: {'@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', name}})),
          },
        ],
      }),
      'routes.json',
    )
    const expected = golden.order.map((index) => names[index])
    expect(selectRoutes(dump, {}).summaries.map((summary) => summary.name)).toEqual(expected)
    expect(expected).toEqual(['80', '443', '3000', '8080', '9080', '15010', 'backend', '15014', 'InboundPassthroughCluster', 'inbound|9080||', 'inbound|8080||', '9090', 'http.8080', '31400', 'outbound|9080||reviews.default.svc.cluster.local', '15021'])
  })
})
