import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {configDumpFromJson} from '../../src/lib/envoy/configdump.js'
import {
  diffProxyConfig,
  normaliseProtoJson,
  parseEnvoyDump,
  parseIstiodDump,
  renderProxyConfigDiff,
  renderResourceChanges,
  resourceChanges,
  snakeKey,
  stableJson,
  unifiedDiff,
} from '../../src/lib/istio/sync-diff.js'
import {projectRoot} from '../helpers/cli.js'
import {corpusDir, corpusNotice} from '../helpers/corpus.js'

const fixturePath = (name: string) => join(projectRoot, 'test', 'fixtures', 'syncz', name)
const fixtureJson = (name: string) => JSON.parse(readFileSync(fixturePath(name), 'utf8'))
const istiodView = () => configDumpFromJson(fixtureJson('diff-istiod-view.json'), 'istiod')
const envoyDumpJson = () => fixtureJson('diff-envoy-dump.json')
const sectionOf = (json: {configs: Array<Record<string, unknown>>}, suffix: string) => json.configs.find((c) => String(c['@type']).endsWith(suffix))!

describe('snakeKey', () => {
  it('converts lowerCamelCase proto names and leaves snake_case alone', () => {
    expect(snakeKey('dynamicActiveClusters')).toBe('dynamic_active_clusters')
    expect(snakeKey('http2ProtocolOptions')).toBe('http2_protocol_options')
    expect(snakeKey('http2_protocol_options')).toBe('http2_protocol_options')
    expect(snakeKey('name')).toBe('name')
  })

  it('makes both spellings agree where snake -> camel -> snake does not round-trip', () => {
    expect(snakeKey('foo_1bar')).toBe(snakeKey('foo1bar'))
  })

  it('leaves keys that cannot be field names alone', () => {
    for (const key of ['@type', '10.0.0.1', 'envoy.filters.http.fault', 'X-Forwarded-For', 'ns[default]-policy[allowAll]-rule[0]']) {
      expect(snakeKey(key)).toBe(key)
    }
  })
})

describe('normaliseProtoJson', () => {
  it('renames proto fields at every depth, through lists and Any payloads', () => {
    const input = {filterChains: [{filters: [{typedConfig: {'@type': 'type.googleapis.com/x.Hcm', statPrefix: 's', httpFilters: [{name: 'r'}]}}]}]}
    expect(normaliseProtoJson(input)).toEqual({filter_chains: [{filters: [{typed_config: {'@type': 'type.googleapis.com/x.Hcm', stat_prefix: 's', http_filters: [{name: 'r'}]}}]}]})
  })

  it('keeps Struct metadata verbatim but renames the Metadata message fields around it', () => {
    const input = {metadata: {filterMetadata: {istio: {subsetName: 'v1', nestedThing: {camelKey: 1}}}}}
    expect(normaliseProtoJson(input)).toEqual({metadata: {filter_metadata: {istio: {subsetName: 'v1', nestedThing: {camelKey: 1}}}}})
  })

  it('keeps the keys of typed_filter_metadata but normalises its Any values', () => {
    const input = {typedFilterMetadata: {myFilterKey: {'@type': 'type.googleapis.com/x.Y', someField: 1}}}
    expect(normaliseProtoJson(input)).toEqual({typed_filter_metadata: {myFilterKey: {'@type': 'type.googleapis.com/x.Y', some_field: 1}}})
  })

  it('keeps node.metadata (a Struct) verbatim, but not metadata elsewhere', () => {
    const input = {node: {id: 'x', userAgentName: 'envoy', metadata: {ISTIO_VERSION: '1.25', appLabels: {appVersion: 'v1'}}}}
    expect(normaliseProtoJson(input)).toEqual({node: {id: 'x', user_agent_name: 'envoy', metadata: {ISTIO_VERSION: '1.25', appLabels: {appVersion: 'v1'}}}})
    // tracing custom_tags[].metadata is a message (MetadataKind + key), not a Struct.
    expect(normaliseProtoJson({customTags: [{tag: 't', metadata: {metadataKey: {key: 'k'}}}]})).toEqual({
      custom_tags: [{tag: 't', metadata: {metadata_key: {key: 'k'}}}],
    })
  })

  it('keeps the value of TypedStruct and Struct Anys verbatim, renaming TypedStruct\'s own fields', () => {
    const typed = {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', typeUrl: 'type.googleapis.com/stats.PluginConfig', value: {disableHostHeaderFallback: true}}
    expect(normaliseProtoJson({typedConfig: typed})).toEqual({
      typed_config: {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/stats.PluginConfig', value: {disableHostHeaderFallback: true}},
    })
    const struct = {'@type': 'type.googleapis.com/google.protobuf.Struct', value: {someKey: {innerKey: 1}}}
    expect(normaliseProtoJson(struct)).toEqual(struct)
  })

  it('keeps user-chosen keys of access log json_format and map fields such as RBAC policies', () => {
    const input = {logFormat: {jsonFormat: {upstreamCluster: '%UPSTREAM_CLUSTER%'}}, rules: {policies: {allowFrontend: {permissions: [{any: true}], principals: [{andIds: {}}]}}}}
    expect(normaliseProtoJson(input)).toEqual({
      log_format: {json_format: {upstreamCluster: '%UPSTREAM_CLUSTER%'}},
      rules: {policies: {allowFrontend: {permissions: [{any: true}], principals: [{and_ids: {}}]}}},
    })
  })

  it('leaves Envoy\'s snake_case dump unchanged', () => {
    const envoy = sectionOf(envoyDumpJson(), 'ClustersConfigDump')
    expect(normaliseProtoJson(envoy)).toEqual(envoy)
  })

  it('does not change scalar values, even ones that look like field names', () => {
    expect(normaliseProtoJson({name: 'camelCaseName', domains: ['fooBar']})).toEqual({name: 'camelCaseName', domains: ['fooBar']})
  })
})

describe('stableJson', () => {
  it('sorts keys at every level, keeps list order', () => {
    expect(stableJson({b: 1, a: {d: [2, 1], c: null}})).toBe('{\n  "a": {\n    "c": null,\n    "d": [\n      2,\n      1\n    ]\n  },\n  "b": 1\n}\n')
  })
})

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a', 'b', 'x\n', 'x\n')).toBe('')
  })

  it('prints difflib-style headers and ranges (length 1 prints the start only; empty prints start-1)', () => {
    expect(unifiedDiff('A', 'B', 'one\ntwo\n', 'one\nTWO\n', 0)).toBe('--- A\n+++ B\n@@ -2 +2 @@\n-two\n+TWO\n')
    expect(unifiedDiff('A', 'B', 'one\n', 'one\nextra\n', 0)).toBe('--- A\n+++ B\n@@ -1,0 +2 @@\n+extra\n')
  })
})

describe('diffProxyConfig', () => {
  it('matches istiod\'s camelCase view with Envoy\'s snake_case dump of the same config', () => {
    // Envoy's side also carries versions, timestamps, a draining listener, static clusters and
    // another order of clusters and virtual hosts: none of that is a difference.
    const result = diffProxyConfig(istiodView(), configDumpFromJson(envoyDumpJson(), 'envoy'))
    expect(result.sections.map((s) => `${s.name} ${s.match}`)).toEqual(['Clusters true', 'Listeners true', 'Routes true'])
    expect(result.anyDifference).toBe(false)
    expect(result.sections[2].lastLoaded).toBe('2026-01-10T11:00:03Z')
    expect(renderProxyConfigDiff(result)).toBe('Clusters Match\nListeners Match\nRoutes Match (RDS last loaded at Sat, 10 Jan 2026 11:00:03 UTC)\n')
  })

  it('reports a cluster istiod sent that Envoy lacks', () => {
    const envoy = envoyDumpJson()
    const clusters = sectionOf(envoy, 'ClustersConfigDump') as {dynamic_active_clusters: Array<{cluster: {name: string}}>}
    clusters.dynamic_active_clusters = clusters.dynamic_active_clusters.filter((c) => c.cluster.name !== 'BlackHoleCluster')
    const result = diffProxyConfig(istiodView(), configDumpFromJson(envoy, 'envoy'))
    expect(result.anyDifference).toBe(true)
    expect(result.sections.map((s) => s.match)).toEqual([false, true, true])
    const {diff} = result.sections[0]
    expect(diff.startsWith('--- Istiod Clusters\n+++ Envoy Clusters\n@@ -')).toBe(true)
    expect(diff).toContain('-        "name": "BlackHoleCluster",')
    expect(diff.split('\n').filter((line) => line.startsWith('+'))).toEqual(['+++ Envoy Clusters'])
    expect(result.sections[0].resources).toEqual({added: ['BlackHoleCluster'], removed: [], changed: []})
    expect(renderProxyConfigDiff(result)).toMatch(/^Clusters Don't Match\n {2}only in istiod \(not in Envoy\): BlackHoleCluster\n--- Istiod Clusters\n[\s\S]*\n\nListeners Match\nRoutes Match/)
  })

  it('reports a changed route value as a one-line change', () => {
    const envoy = envoyDumpJson()
    const routes = sectionOf(envoy, 'RoutesConfigDump') as {dynamic_route_configs: Array<{route_config: {virtual_hosts: Array<{name: string; routes: Array<{route: {timeout: string}}>}>}}>}
    routes.dynamic_route_configs[0].route_config.virtual_hosts.find((vh) => vh.name === 'allow_any')!.routes[0].route.timeout = '15s'
    const [, , route] = diffProxyConfig(istiodView(), configDumpFromJson(envoy, 'envoy')).sections
    expect(route.match).toBe(false)
    expect(route.diff.split('\n').filter((line) => /^[-+][^-+]/.test(line))).toEqual(['-' + ' '.repeat(18) + '"timeout": "0s"', '+' + ' '.repeat(18) + '"timeout": "15s"'])
    const name = routes.dynamic_route_configs[0].route_config as unknown as {name: string}
    expect(route.resources).toEqual({added: [], removed: [], changed: [name.name]})
  })

  it('names what differs before the diff: only in istiod, only in Envoy, changed (at most 10 names a line)', () => {
    expect(renderResourceChanges({added: ['b', 'a'], removed: ['old'], changed: []})).toBe('  only in istiod (not in Envoy): b, a\n  only in Envoy (istiod no longer sends): old\n')
    const many = Array.from({length: 12}, (_, i) => `c${String(i).padStart(2, '0')}`)
    expect(renderResourceChanges({added: [], removed: [], changed: many})).toBe(`  changed: ${many.slice(0, 10).join(', ')}, and 2 more\n`)
    expect(renderResourceChanges(undefined)).toBe('')
  })

  it('finds added, removed and changed resources by name', () => {
    const spec = {entries: (view: {list: Array<{name: string}>}) => view.list, nameOf: (entry: {name: string}) => entry.name}
    const istiod = {list: [{name: 'a', v: 1}, {name: 'b', v: 1}, {name: 'c', v: 1}]}
    const envoy = {list: [{name: 'b', v: 2}, {name: 'c', v: 1}, {name: 'd', v: 1}]}
    expect(resourceChanges(spec, istiod, envoy)).toEqual({added: ['a'], removed: ['d'], changed: ['b']})
  })

  it('compares a missing section as its explanation', () => {
    const envoy = envoyDumpJson()
    envoy.configs = envoy.configs.filter((c: Record<string, unknown>) => !String(c['@type']).endsWith('ListenersConfigDump'))
    const [, listeners] = diffProxyConfig(istiodView(), configDumpFromJson(envoy, 'envoy.json')).sections
    expect(listeners.match).toBe(false)
    expect(listeners.diff).toContain('+Envoy config dump (envoy.json) has no ListenersConfigDump')
    expect(listeners.resources).toBeUndefined()
  })
})

describe('parseIstiodDump / parseEnvoyDump', () => {
  it('accepts istiod\'s xDS debug response ({resources}) as well as {configs}', () => {
    const view = fixtureJson('diff-istiod-view.json')
    const dump = parseIstiodDump(JSON.stringify({resources: view.configs, typeUrl: 'istio.io/debug/config_dump'}), 'xds')
    expect(dump.sections.has('Clusters')).toBe(true)
  })

  it('rejects unusable input as bad data naming the file', () => {
    expect(() => parseEnvoyDump('{"configs":', 'envoy.json')).toThrow(/^envoy\.json: not valid JSON \(truncated\?\)/)
    expect(() => parseIstiodDump('[]', 'istiod.json')).toThrow(/^istiod\.json: got a JSON list/)
  })
})

corpusNotice('the istioctl diff dumps (istioctl/diff)')
const corpusDiff = corpusDir ? join(corpusDir, 'istioctl', 'diff') : undefined

describe.skipIf(!corpusDiff || !existsSync(join(corpusDiff, 'configdump_diff.json')))('istioctl diff testdata (read in place)', () => {
  const read = (name: string) => readFileSync(join(corpusDiff!, name), 'utf8')

  it('matches a dump with itself', () => {
    const result = diffProxyConfig(parseIstiodDump(read('configdump.json'), 'a'), parseEnvoyDump(read('configdump.json'), 'a'))
    expect(result.anyDifference).toBe(false)
  })

  it('finds the changed port in every section', () => {
    const result = diffProxyConfig(parseIstiodDump(read('configdump.json'), 'a'), parseEnvoyDump(read('configdump_diff.json'), 'b'))
    expect(result.sections.map((s) => s.match)).toEqual([false, false, false])
    expect(result.sections[0].diff).toContain('+        "name": "inbound-vip|9999|http|ratings.default.svc.cluster.local",')
  })
})
