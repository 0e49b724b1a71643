import {describe, expect, it} from 'vitest'

import {clusterHealthFromEndpoints, EndpointItemMemo, readEndpointStates, type EndpointStates} from '../../src/lib/diagnose/endpoint-states.js'
import {MeshdbgError} from '../../src/lib/errors.js'

const CLA = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'
const ITEM = 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump.DynamicEndpointConfig'

const host = (ip: string, health?: string, metadata?: object) => ({
  endpoint: {address: {socket_address: {address: ip, port_value: 8080}}, health_check_config: {}},
  ...(health ? {health_status: health} : {}),
  ...(metadata ? {metadata} : {}),
  load_balancing_weight: 1,
})
const config = (name: string, ...groups: object[][]) => ({'@type': ITEM, endpoint_config: {'@type': CLA, cluster_name: name, ...(groups.length ? {endpoints: groups.map((lb_endpoints) => ({locality: {}, lb_endpoints}))} : {}), policy: {overprovisioning_factor: 140}}})
/** As Envoy prints it: pretty, one space per level. */
const answer = (...configs: object[]) => JSON.stringify({configs}, null, 1) + '\n'
const input = (text: string) => ({text, origin: 'p.ns', bytes: Buffer.from(text, 'utf8')})
const sorted = (states: EndpointStates) => ({clusters: [...states.clusters].sort(), empty: [...states.empty].sort(), unserved: [...states.unserved].sort()})

const MESH = [
  config('none'),
  config('explicit-empty'),
  config('down', [host('10.0.0.1', 'UNHEALTHY'), host('10.0.0.2', 'UNHEALTHY')]),
  config('up', [host('10.0.0.3', 'HEALTHY')]),
  config('degraded', [host('10.0.0.4', 'UNHEALTHY')], [host('10.0.0.5', 'DEGRADED')]),
  config('unknown', [host('10.0.0.6')]),
]
const EXPECTED = {clusters: ['none', 'explicit-empty', 'down', 'up', 'degraded', 'unknown'], empty: ['none', 'explicit-empty'], unserved: ['down', 'unknown']}

/** Counts the items the memo gave back. */
class CountingMemo extends EndpointItemMemo {
  hits = 0
  override lookup(bytes: Buffer, at: number, key: number) {
    const found = super.lookup(bytes, at, key)
    if (found) this.hits++
    return found
  }
}

describe('readEndpointStates', () => {
  it('sorts clusters into empty, without a serving host, and serving (HEALTHY or DEGRADED in any locality)', () => {
    const withEmptyList = answer(...MESH).replace(/("cluster_name": "explicit-empty")/, '$1,\n    "endpoints": []')
    expect(withEmptyList).toContain('"endpoints": []')
    expect(readEndpointStates(input(withEmptyList))).toEqual(EXPECTED)
    expect(readEndpointStates(input(withEmptyList), new EndpointItemMemo())).toEqual(EXPECTED)
  })

  it('reads the same states through the memo, items found again by their bytes whatever their order', () => {
    const memo = new CountingMemo()
    expect(readEndpointStates(input(answer(...MESH)), memo)).toEqual(EXPECTED)
    expect(memo.hits).toBe(0)
    // Another proxy: another order, and one cluster whose host went down.
    const next = [MESH[3], MESH[0], MESH[5], MESH[1], config('degraded', [host('10.0.0.4', 'UNHEALTHY')], [host('10.0.0.5', 'UNHEALTHY')]), MESH[2]]
    const text = answer(...next)
    expect(readEndpointStates(input(text), memo)).toEqual(readEndpointStates(input(text)))
    expect(sorted(readEndpointStates(input(text), memo))).toEqual({clusters: [...EXPECTED.clusters].sort(), empty: ['explicit-empty', 'none'], unserved: ['degraded', 'down', 'unknown']})
    expect(memo.hits).toBe(5 + 6)
  })

  it('gives the right states when the text misleads the key search (a metadata key "cluster_name", names that repeat)', () => {
    const decoy = {filter_metadata: {istio: {cluster_name: 'up'}}}
    const tricky = [
      config('a', [host('10.0.1.1', 'UNHEALTHY', decoy)]),
      config('up', [host('10.0.0.3', 'HEALTHY')]),
      {'@type': ITEM, endpoint_config: {'@type': CLA}},
      config('b', [host('10.0.1.2', 'HEALTHY', decoy)]),
    ]
    const memo = new EndpointItemMemo()
    const plain = readEndpointStates(input(answer(...tricky)))
    expect(plain).toEqual({clusters: ['a', 'up', 'b'], empty: [], unserved: ['a']})
    for (let round = 0; round < 3; round++) expect(readEndpointStates(input(answer(...tricky)), memo)).toEqual(plain)
    // The same key with other bytes is read again.
    const changed = answer(config('up', [host('10.0.0.3', 'UNHEALTHY')]))
    expect(readEndpointStates(input(changed), memo)).toEqual({clusters: ['up'], empty: [], unserved: ['up']})
  })

  it('reads compact and camelCase answers as the pretty snake_case ones', () => {
    const compact = JSON.stringify({configs: MESH})
    expect(readEndpointStates(input(compact), new EndpointItemMemo())).toEqual(EXPECTED)
    // One memo across layouts: the name is found at another offset in each, and an item's text in
    // another layout is read again (then found again as that text).
    const memo = new CountingMemo()
    for (const text of [answer(...MESH), answer(...MESH), compact, compact, answer(...MESH)]) expect(readEndpointStates(input(text), memo)).toEqual(EXPECTED)
    expect(memo.hits).toBe(12)
    const camel = compact.replace(/"cluster_name"/g, '"clusterName"').replace(/"lb_endpoints"/g, '"lbEndpoints"').replace(/"health_status"/g, '"healthStatus"').replace(/"endpoint_config"/g, '"endpointConfig"')
    expect(readEndpointStates(input(camel), new EndpointItemMemo())).toEqual(EXPECTED)
  })

  it('fails a malformed or truncated answer with a bad-data error naming the proxy', () => {
    const whole = answer(...MESH)
    for (const text of ['not json', whole.slice(0, whole.length / 2), '{"cluster_statuses": []}', '[]']) {
      for (const memo of [undefined, new EndpointItemMemo()]) {
        let error: unknown
        try {
          readEndpointStates(input(text), memo)
        } catch (caught) {
          error = caught
        }
        expect(error, text.slice(0, 20)).toBeInstanceOf(MeshdbgError)
        expect((error as MeshdbgError).kind).toBe('bad-data')
        expect((error as MeshdbgError).message).toContain('p.ns')
      }
    }
  })
})

describe('clusterHealthFromEndpoints', () => {
  const states: EndpointStates = {clusters: ['z', 'b', 'a', 'down', 'up'], empty: ['z', 'b', 'a'], unserved: ['down']}

  it('lists the used clusters without hosts, sorted by code point, once each', () => {
    expect(clusterHealthFromEndpoints(states, ['z', 'up', 'a', 'z'])).toEqual({empty: ['a', 'z'], unhealthy: []})
    expect(clusterHealthFromEndpoints(states, ['up'])).toEqual({empty: [], unhealthy: []})
    expect(clusterHealthFromEndpoints(states, [])).toEqual({empty: [], unhealthy: []})
  })

  it('leaves to /clusters a used cluster whose hosts are all down, or one the dump does not list', () => {
    expect(clusterHealthFromEndpoints(states, ['a', 'down'])).toBeUndefined()
    expect(clusterHealthFromEndpoints(states, ['a', 'missing'])).toBeUndefined()
  })
})
