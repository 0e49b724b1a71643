// Route configurations read once per distinct text (RouteConfigMemo): the digest a proxy gets
// with the memo is the one it gets without, whether its configurations were seen before or not.
import {describe, expect, it} from 'vitest'

import {DIAGNOSE_DUMP_PATHS, readRoutesAnswer, RouteConfigMemo} from '../../src/lib/diagnose/dump-reads.js'
import {routeTargets} from '../../src/lib/diagnose/route-targets.js'
import {configDumpFromJson} from '../../src/lib/envoy/configdump.js'
import {MeshdbgError} from '../../src/lib/errors.js'
import {inputFromBytes} from '../../src/lib/input.js'
import {buildScaleScenario} from '../../src/sim/scale.js'
import {AdminAnswerCache, EnvoyAdmin} from '../../src/sim/envoy-admin.js'

const input = (text: string) => inputFromBytes(Buffer.from(text, 'utf8'), 'proxy')
const TYPE = 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump'
const RC = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration'

function routeConfig(name: string, cluster: string, extra = '') {
  return {'@type': RC, name, virtual_hosts: [{name: `${cluster}:80`, domains: ['*'], routes: [{name: 'default', match: {prefix: '/'}, route: {cluster, timeout: '0s'}, metadata: {filter_metadata: {istio: {config: `/apis/networking.istio.io/v1/namespaces/ns/virtual-service/${name}${extra}`}}}}]}]}
}

function answer(lastUpdated: string, ...configs: object[]) {
  return JSON.stringify({configs: [{'@type': TYPE, dynamic_route_configs: configs.map((config) => ({version_info: lastUpdated, route_config: config, last_updated: lastUpdated}))}]}, null, 1)
}

/** Two scale-scenario sidecars' routes answers, as the simulator serves them. */
function sidecarRoutes(): string[] {
  const scenario = buildScaleScenario()
  return scenario.pods.filter((p) => p.proxy?.kind === 'sidecar').slice(0, 3).map((pod) => {
    let body = ''
    new EnvoyAdmin(pod, scenario, new AdminAnswerCache(0)).handle({url: `/${DIAGNOSE_DUMP_PATHS.routes}`, method: 'GET'} as never, {} as never, (_status, text) => (body = text.toString()))
    return body
  })
}

describe('RouteConfigMemo', () => {
  it('reads sidecars\' routes as without it, seen or not, sharing each configuration read once', () => {
    const memo = new RouteConfigMemo()
    const answers = sidecarRoutes()
    expect(answers.length).toBe(3)
    for (const round of [1, 2]) {
      for (const text of answers) {
        const plain = readRoutesAnswer(input(text))
        const remembered = readRoutesAnswer(input(text), memo)
        expect(remembered, `round ${round}`).toEqual(plain)
        const targets = new WeakMap()
        expect(routeTargets(configDumpFromJson({configs: [remembered]}, 'p'), memo.targets)).toEqual(routeTargets(configDumpFromJson({configs: [plain]}, 'p')))
        expect(routeTargets(configDumpFromJson({configs: [remembered]}, 'p'), targets)).toEqual(routeTargets(configDumpFromJson({configs: [plain]}, 'p')))
      }
    }
    const first = readRoutesAnswer(input(answers[0]), memo) as {dynamic_route_configs: Array<{route_config: object}>}
    const again = readRoutesAnswer(input(answers[0]), memo) as {dynamic_route_configs: Array<{route_config: object}>}
    expect(first.dynamic_route_configs.length).toBeGreaterThan(2)
    expect(again.dynamic_route_configs[0].route_config).toBe(first.dynamic_route_configs[0].route_config)
  })

  it('shares a configuration between answers that differ only in version_info and last_updated, not one whose text differs', () => {
    const memo = new RouteConfigMemo()
    const a = readRoutesAnswer(input(answer('2026-12-04T10:00:00Z', routeConfig('80', 'outbound|80||a'), routeConfig('90', 'outbound|90||b'))), memo) as {dynamic_route_configs: Array<{route_config: object}>}
    const b = readRoutesAnswer(input(answer('2026-12-04T11:11:11Z', routeConfig('80', 'outbound|80||a'), routeConfig('90', 'outbound|90||b', '-changed'))), memo) as {dynamic_route_configs: Array<{route_config: object}>}
    expect(b.dynamic_route_configs[0].route_config).toBe(a.dynamic_route_configs[0].route_config)
    expect(b.dynamic_route_configs[1].route_config).not.toBe(a.dynamic_route_configs[1].route_config)
    // Same length, one byte apart (subset v1 against v2): not the same configuration.
    const c = readRoutesAnswer(input(answer('t', routeConfig('80', 'outbound|80|version-v2|a'))), memo) as {dynamic_route_configs: Array<{route_config: object}>}
    const d = readRoutesAnswer(input(answer('t', routeConfig('80', 'outbound|80|version-v1|a'))), memo) as {dynamic_route_configs: Array<{route_config: object}>}
    expect(d).toEqual(readRoutesAnswer(input(answer('t', routeConfig('80', 'outbound|80|version-v1|a')))))
    expect(d.dynamic_route_configs[0].route_config).not.toBe(c.dynamic_route_configs[0].route_config)
    expect(b.dynamic_route_configs[1]).toEqual({route_config: {name: '90', virtual_hosts: [{name: 'outbound|90||b:80', routes: [{name: 'default', route: {cluster: 'outbound|90||b'}, metadata: {filter_metadata: {istio: {config: '/apis/networking.istio.io/v1/namespaces/ns/virtual-service/90-changed'}}}}]}]}})
  })

  it('reads odd but valid answers as without it: compact, escaped names, repeated members, entries without a configuration, other sections first', () => {
    const rc = JSON.stringify(routeConfig('80', 'outbound|80||a'))
    const texts = [
      JSON.stringify(JSON.parse(answer('t', routeConfig('80', 'outbound|80||a')))),
      `{"configs":[{"@type":"x.Other","dynamic_route_configs":[{"route_config":${rc}}]},{"dynamic_route_configs":[{"route\\u005fconfig":${rc}},{"version_info":"1"}],"@type":"${TYPE}","static_route_configs":[]}]}`,
      `{"configs":[{"@type":"${TYPE}","dynamic_route_configs":[{"route_config":${JSON.stringify(routeConfig('1', 'c1'))},"route_config":${rc}}],"dynamic_route_configs":[{"route_config":${rc}}]}]}`,
      `{"configs":[],"configs":[{"@type":"${TYPE}","static_route_configs":[{"route_config":${rc}}]}]}`,
      '{"configs":[]}',
      // Laid out so that a closing brace indented as the "route_config" line comes before its end.
      `{\n "configs": [\n  {\n   "@type": "${TYPE}",\n   "dynamic_route_configs": [\n    {\n     "route_config": {"name": "x", "virtual_hosts": [{"name": "v", "routes": [{"route": {\n     }}]}]}\n    },\n    {\n     "route_config": {"name": "y", "virtual_hosts": [{"name": "w", "routes": [{"route": {"cluster": "c"}\n     }]}]}\n    }\n   ]\n  }\n ]\n}\n`,
      `{"configs":[{"@type":"${TYPE}","dynamic_route_configs":[{"route_config":null}]}]}`,
    ]
    const memo = new RouteConfigMemo(200)
    for (const round of [1, 2]) {
      for (const text of texts) expect(readRoutesAnswer(input(text), memo), `${round}: ${text.slice(0, 80)}`).toEqual(readRoutesAnswer(input(text)))
    }
  })

  it('fails a broken answer as without it', () => {
    for (const text of ['not json', '{"configs": [', `{"configs":[{"@type":"${TYPE}","dynamic_route_configs":[{"route_config":{"name":"x"}]}]}`, '[]', '{"configs": 3}']) {
      let plain: unknown
      let remembered: unknown
      try {
        plain = readRoutesAnswer(input(text))
      } catch (error) {
        plain = {kind: error instanceof MeshdbgError ? error.kind : 'other', message: (error as Error).message}
      }
      try {
        remembered = readRoutesAnswer(input(text), new RouteConfigMemo())
      } catch (error) {
        remembered = {kind: error instanceof MeshdbgError ? error.kind : 'other', message: (error as Error).message}
      }
      expect(remembered, text).toEqual(plain)
    }
  })

  it('takes a configuration found at the same place in the last answer by a byte comparison, and reads one that changed there', () => {
    class CountingMemo extends RouteConfigMemo {
      byPlaceHits = 0
      override startsAt(...args: Parameters<RouteConfigMemo['startsAt']>): boolean {
        const found = super.startsAt(...args)
        if (found) this.byPlaceHits++
        return found
      }
    }
    const memo = new CountingMemo()
    const texts = [
      answer('t1', routeConfig('80', 'outbound|80||a'), routeConfig('90', 'outbound|90||b')),
      answer('t2', routeConfig('80', 'outbound|80||a'), routeConfig('90', 'outbound|90||b')),
      // The first configuration is another one now; the second moved to the first place.
      answer('t3', routeConfig('90', 'outbound|90||b'), routeConfig('80', 'outbound|80||c')),
      answer('t4', routeConfig('90', 'outbound|90||b'), routeConfig('80', 'outbound|80||c')),
    ]
    for (const text of texts) expect(readRoutesAnswer(input(text), memo)).toEqual(readRoutesAnswer(input(text)))
    expect(memo.byPlaceHits).toBe(2 + 2)
  })

  it('keeps at most its byte budget of configurations, oldest dropped first', () => {
    // Each answer is its configuration and ~150 bytes around it: two fit, three do not.
    const cluster = `outbound|80||${'a'.repeat(4000)}`
    const size = answer('t', routeConfig('80', cluster)).length
    const memo = new RouteConfigMemo(2 * size - 100)
    const read = (name: string) => (readRoutesAnswer(input(answer('t', routeConfig(name, cluster))), memo) as {dynamic_route_configs: Array<{route_config: object}>}).dynamic_route_configs[0].route_config
    const a = read('81')
    read('82')
    expect(read('81')).toBe(a)
    read('83')
    expect(read('81')).not.toBe(a)
  })
})
