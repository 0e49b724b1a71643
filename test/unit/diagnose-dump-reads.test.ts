import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

import {CLUSTER_MASK, ClusterItemMemo, projectClusterStatuses, projectRoutes, readClusterItems, readClusterStatuses, readRoutesAnswer} from '../../src/lib/diagnose/dump-reads.js'
import {ADMIN_V3} from '../../src/lib/envoy/configdump.js'
import {parseEndpointInput} from '../../src/lib/envoy/endpoints.js'
import {inputFromBytes, type InputText} from '../../src/lib/input.js'
import {looksCutOffJson} from '../../src/lib/transport/http.js'
import {buildScaleScenario} from '../../src/sim/scale.js'
import {AdminAnswerCache, EnvoyAdmin} from '../../src/sim/envoy-admin.js'

const corpus = (name: string) => readFileSync(new URL(`../../../shared/corpus/payloads/${name}`, import.meta.url), 'utf8')
const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')
const bytesOf = (text: string): InputText => inputFromBytes(Buffer.from(text, 'utf8'), 'proxy')
/** Bytes whose text must never be needed: the answer is scanned, not decoded and parsed whole. */
const scanOnly = (text: string): InputText => ({
  origin: 'proxy',
  bytes: Buffer.from(text, 'utf8'),
  get text(): string {
    throw new Error('decoded the whole answer')
  },
})

// The reference: what diagnose read before the scanner, JSON.parse of the whole answer.
function routesByParse(text: string): unknown {
  const configs = (JSON.parse(text) as {configs?: Array<Record<string, unknown>>}).configs ?? []
  return projectRoutes(configs.find((config) => config?.['@type'] === `${ADMIN_V3}RoutesConfigDump`) ?? {'@type': `${ADMIN_V3}RoutesConfigDump`})
}
function clusterItemsByParse(text: string): unknown {
  const configs = (JSON.parse(text) as {configs?: Array<{cluster?: Record<string, unknown> & {metadata?: {filter_metadata?: {istio?: {config?: unknown}}}}}>}).configs ?? []
  return configs.map(({cluster}) => {
    if (cluster === undefined) return {}
    const {name, type, eds_cluster_config: eds} = cluster
    const config = cluster.metadata?.filter_metadata?.istio?.config
    return {cluster: {...(name === undefined ? {} : {name}), ...(type === undefined ? {} : {type}), ...(eds === undefined ? {} : {eds_cluster_config: eds}), ...(config === undefined ? {} : {metadata: {filter_metadata: {istio: {config}}}})}}
  })
}
function statusesByParse(text: string): unknown {
  const input = parseEndpointInput({text, origin: 'proxy'})
  if (input.kind !== 'cluster-status') throw new Error('not cluster statuses')
  return projectClusterStatuses(input.clusterStatuses)
}

/** The same JSON laid out other ways: compact, tabs and CRLF, member names and values spelled with escapes. */
function layouts(text: string): string[] {
  const value = JSON.parse(text) as unknown
  const escapedNames = JSON.stringify(value, null, 2).replace(/"(name|routes|cluster|virtual_hosts|host_statuses|cluster_statuses|route_config)":/g, (_m, name: string) => `"${name.replace(/[a-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}" :`)
  const escapedValues = JSON.stringify(value).replace(/"outbound\|/g, '"outbound\\u007c').replace(/\.svc\./g, '\\u002esvc\\u002e').replace(/\//g, '\\/')
  return [text, JSON.stringify(value), JSON.stringify(value, null, '\t').replace(/\n/g, '\r\n') + '\r\n', escapedNames, escapedValues, `\n  ${text}  \n`]
}

/** A scale-scenario sidecar's answers, as the simulator serves them (2,000 services). */
function scaleAnswers(): {routes: string; clusters: string; cds: string} {
  const scenario = buildScaleScenario()
  const pod = scenario.pods.find((p) => p.proxy?.kind === 'sidecar' && p.namespace === 'team-01')!
  const admin = new EnvoyAdmin(pod, scenario, new AdminAnswerCache(0))
  const get = (url: string) => {
    let body = ''
    admin.handle({url, method: 'GET'} as never, {} as never, (_status, answer) => (body = answer.toString()))
    return body
  }
  return {routes: get('/config_dump?mask=static_route_configs,dynamic_route_configs'), clusters: get('/clusters?format=json'), cds: get(`/config_dump?resource=dynamic_active_clusters&mask=${CLUSTER_MASK}`)}
}

describe('diagnose reads the big admin answers by scanning them', () => {
  const scale = scaleAnswers()
  const routeTexts = [
    fixture('routes/sidecar.json'),
    scale.routes,
    ...['envoy-config_dump-sidecar-istio1.3-v2alpha.json', 'envoy-config_dump-ingressgateway-istio1.3-v2alpha.json', 'pilot-debug-config_dump-camelcase-2018-v2alpha.json'].map((name) => corpus(name).replaceAll('envoy.admin.v2alpha.', 'envoy.admin.v3.')),
  ]
  const clusterTexts = [fixture('endpoints/clusters.json'), fixture('endpoints/clusters-camel.json'), corpus('istioctl-clusters-json-camelcase-remarshalled-2019.json'), scale.clusters]

  it('the routes projection equals the JSON.parse-based one, in every layout', () => {
    for (const text of routeTexts) {
      const expected = routesByParse(text)
      expect(JSON.stringify(expected).length).toBeGreaterThan(200)
      for (const layout of layouts(text)) expect(readRoutesAnswer(scanOnly(layout))).toEqual(expected)
    }
  })

  it('the /clusters projection equals the JSON.parse-based one, in every layout', () => {
    for (const text of clusterTexts) {
      const expected = statusesByParse(text)
      expect((expected as unknown[]).length).toBeGreaterThan(0)
      for (const layout of layouts(text)) expect(readClusterStatuses(scanOnly(layout), 'proxy')).toEqual(expected)
    }
  })

  it('the clusters answer keeps name, type, EDS config and the DestinationRule of each cluster, as JSON.parse gives them', () => {
    const fromDump = JSON.stringify({configs: (JSON.parse(fixture('clusters/dump.json')) as {configs: Array<Record<string, unknown>>}).configs
      .flatMap((config) => (config.dynamic_active_clusters as unknown[] | undefined) ?? [])
      .map((item) => ({'@type': `${ADMIN_V3}ClustersConfigDump.DynamicCluster`, ...(item as object)}))})
    for (const text of [scale.cds, fromDump]) {
      const expected = clusterItemsByParse(text)
      expect(JSON.stringify(expected)).toContain('istio')
      for (const layout of layouts(text)) expect(readClusterItems(scanOnly(layout))).toEqual(expected)
    }
  })

  it('read through a ClusterItemMemo, the clusters answer is the same in every layout, and a repeated item is read once', () => {
    const fromDump = JSON.stringify({configs: (JSON.parse(fixture('clusters/dump.json')) as {configs: Array<Record<string, unknown>>}).configs
      .flatMap((config) => (config.dynamic_active_clusters as unknown[] | undefined) ?? [])
      .map((item) => ({'@type': `${ADMIN_V3}ClustersConfigDump.DynamicCluster`, ...(item as object)}))})
    const memo = new ClusterItemMemo()
    for (const text of [scale.cds, fromDump]) {
      const expected = clusterItemsByParse(text)
      // Twice each: the second time every item comes from the memo.
      for (const layout of [...layouts(text), ...layouts(text)]) expect(readClusterItems(scanOnly(layout), memo)).toEqual(expected)
    }
    // Another proxy's answer: the same items but one dropped, one renamed and one added. Unchanged
    // items are the objects read before (not read again); the changed ones are read from their text.
    const first = readClusterItems(scanOnly(scale.cds), memo) as Array<{cluster: {name: string}}>
    const configs = (JSON.parse(scale.cds) as {configs: Array<{cluster: {name: string}}>}).configs
    const renamed = configs.slice(1).map((item, k) => (k === 3 ? {...item, cluster: {...item.cluster, name: `${item.cluster.name}-other`}} : item))
    renamed.splice(6, 0, {cluster: {name: 'added', type: 'STATIC'}} as never)
    const second = readClusterItems(scanOnly(JSON.stringify({configs: renamed}, null, 1)), memo) as Array<{cluster: {name: string}}>
    expect(second).toEqual(clusterItemsByParse(JSON.stringify({configs: renamed})))
    expect(second[0]).toBe(first[1])
    expect(second[3]).not.toBe(first[4])
    expect(second[3].cluster.name).toBe(`${first[4].cluster.name}-other`)
    expect(second[4]).toBe(first[5])
    expect(second[6]).toEqual({cluster: {name: 'added', type: 'STATIC'}})
    expect(second[7]).toBe(first[7])
    expect(second.at(-1)).toBe(first.at(-1))
  })

  it('a memo never answers for text that only starts like an item it read', () => {
    const memo = new ClusterItemMemo()
    const item = (name: string) => `{\n  "cluster": {\n   "name": "${name}",\n   "type": "EDS"\n  }\n  }`
    const answer = (items: string[]) => `{\n "configs": [\n  ${items.join(',\n  ')}\n ]\n}\n`
    expect(readClusterItems(scanOnly(answer([item('a'), item('b')])), memo)).toEqual([{cluster: {name: 'a', type: 'EDS'}}, {cluster: {name: 'b', type: 'EDS'}}])
    // The same first lines, then a member more before the item closes: the guessed end is wrong, so it is walked.
    const longer = `{\n  "cluster": {\n   "name": "a",\n   "type": "EDS"\n  },\n  "cluster": {\n   "name": "c"\n  }\n  }`
    expect(readClusterItems(scanOnly(answer([longer])), memo)).toEqual([{cluster: {name: 'c'}}])
    expect(readClusterItems(scanOnly('{"configs": 3}'), memo)).toEqual([])
  })

  it('answers the scanner doubts give the full parse\'s results and errors', () => {
    const text = fixture('endpoints/clusters.json')
    const broken = [text.slice(0, text.length / 2), `${text}]`, '{"cluster_statuses": 3}', '[]', '{}', '{"configs": []}', 'not json']
    for (const body of broken) {
      const byParse = (() => {
        try {
          return statusesByParse(body)
        } catch (error) {
          return (error as Error).message
        }
      })()
      const byScan = (() => {
        try {
          return readClusterStatuses(bytesOf(body), 'proxy')
        } catch (error) {
          return (error as Error).message
        }
      })()
      if (typeof byParse === 'string') expect(typeof byScan).toBe('string')
      else expect(byScan).toEqual(byParse)
    }
    expect(() => readRoutesAnswer(bytesOf('{"configs": ['))).toThrow(/not valid JSON/)
  })

  it('the cut-off check reads the bytes as it reads the text', () => {
    const bodies = ['', '  ', '{}', '{"a": 1', '[1, 2]\n', '[1, 2', 'plain text', '\ufeff{"a": 1}', ' '.repeat(80) + '{"a": 1', '{"a": "}"}  \r\n', '{"a": "}"']
    for (const body of bodies) {
      for (const type of [undefined, 'application/json', 'text/plain']) {
        expect(looksCutOffJson(type, Buffer.from(body, 'utf8'))).toBe(looksCutOffJson(type, body))
      }
    }
  })
})
