import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {collectClusters, parseConfigDump, parseConfigDumpInput, requireSection, SECTION_SCAN_MIN_BYTES} from '../../src/lib/envoy/configdump.js'
import {inputFromBytes} from '../../src/lib/input.js'
import {enumField, field, numberField, path} from '../../src/lib/envoy/fields.js'
import {isMeshdbgError} from '../../src/lib/errors.js'

function errorOf(fn: () => unknown): {message: string; exitCode: number} {
  try {
    fn()
  } catch (error) {
    if (isMeshdbgError(error)) return {message: error.message, exitCode: error.exitCode}
    throw error
  }
  throw new Error('expected an error')
}

describe('parseConfigDump', () => {
  const dump = (configs: unknown[]) => JSON.stringify({configs})

  it('picks sections by @type, keeps the last of a type, and ignores unknown types', () => {
    const parsed = parseConfigDump(
      dump([
        {'@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', static_clusters: [{cluster: {name: 'first'}}]},
        {'@type': 'type.googleapis.com/envoy.admin.v3.FutureConfigDump', x: 1},
        {'@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', static_clusters: [{cluster: {name: 'second'}}]},
      ]),
      'd.json',
    )
    expect(collectClusters(parsed).map((c) => c.name)).toEqual(['second'])
  })

  it('collects dynamic active clusters before static ones and skips warming clusters', () => {
    const parsed = parseConfigDump(
      dump([
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
          static_clusters: [{cluster: {name: 's'}}],
          dynamic_active_clusters: [{cluster: {name: 'd'}}],
          dynamic_warming_clusters: [{cluster: {name: 'w'}}],
        },
      ]),
      'd.json',
    )
    expect(collectClusters(parsed).map((c) => c.name)).toEqual(['d', 's'])
  })

  it('reads camelCase section fields', () => {
    const parsed = parseConfigDump(
      dump([{'@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', dynamicActiveClusters: [{cluster: {name: 'camel'}}]}]),
      'd.json',
    )
    expect(collectClusters(parsed).map((c) => c.name)).toEqual(['camel'])
  })

  it('names the missing section as istioctl does', () => {
    const parsed = parseConfigDump(dump([]), 'empty.json')
    expect(errorOf(() => requireSection(parsed, 'Routes'))).toEqual({
      message: 'empty.json: config dump has no configuration type type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
      exitCode: 6,
    })
  })

  it.each([
    ['', 'x.json: it is empty; expected an Envoy /config_dump'],
    ['   \n', 'x.json: it is empty; expected an Envoy /config_dump'],
    ['<html><body>503</body></html>', 'x.json: it looks like an HTML page, not JSON'],
    ['{"configs": [', 'x.json: not valid JSON (truncated?)'],
    ['[]', 'x.json: got a JSON list; expected an Envoy /config_dump'],
    ['{"kind": "Pod"}', 'x.json: got an object without "configs"'],
    ['42', 'x.json: got a JSON number'],
    ['null', 'x.json: got null'],
  ])('rejects %j with one line and exit 6', (text, start) => {
    const error = errorOf(() => parseConfigDump(text, 'x.json'))
    expect(error.exitCode).toBe(6)
    expect(error.message.startsWith(start)).toBe(true)
    expect(error.message).not.toContain('\n')
  })

  it('rejects v2alpha dumps as an unsupported legacy format', () => {
    const text = dump([{'@type': 'type.googleapis.com/envoy.admin.v2alpha.ClustersConfigDump'}])
    const error = errorOf(() => parseConfigDump(text, 'old.json'))
    expect(error.exitCode).toBe(6)
    expect(error.message).toContain('unsupported legacy config dump format')
  })
})

describe('field accessors', () => {
  it('read snake_case and lowerCamelCase', () => {
    expect(field({route_config: 1}, 'route_config')).toBe(1)
    expect(field({routeConfig: 2}, 'route_config')).toBe(2)
    expect(path({a_b: {c_d: {e: 3}}}, 'a_b', 'c_d', 'e')).toBe(3)
    expect(path({aB: {cD: null}}, 'a_b', 'c_d', 'e')).toBeUndefined()
  })

  it('apply proto defaults to enums and numbers', () => {
    const names = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST']
    expect(enumField({}, 'type', names)).toBe('STATIC')
    expect(enumField({type: 3}, 'type', names)).toBe('EDS')
    expect(enumField({type: 'EDS'}, 'type', names)).toBe('EDS')
    expect(numberField({}, 'port_value')).toBe(0)
    expect(numberField({portValue: '15001'}, 'port_value')).toBe(15001)
  })
})

describe('parseConfigDump with only some sections (the structural shortcut)', () => {
  const envoyLayout = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'istio-ingressgateway.config_dump.json'), 'utf8')
  const kinds = ['Bootstrap', 'Clusters', 'Endpoints', 'Listeners', 'Routes', 'Secrets'] as const

  it.each(kinds)('gives the same %s section as a full parse, and only that section', (kind) => {
    const full = parseConfigDump(envoyLayout, 'x')
    const partial = parseConfigDump(envoyLayout, 'x', {only: [kind]})
    expect(partial.sections.get(kind)).toEqual(full.sections.get(kind))
    expect([...partial.sections.keys()]).toEqual([kind])
  })

  it('takes the shortcut in other layouts too (compact JSON, CRLF)', () => {
    for (const text of [JSON.stringify(JSON.parse(envoyLayout)), envoyLayout.replaceAll('\n', '\r\n')]) {
      const partial = parseConfigDump(text, 'x', {only: ['Clusters']})
      expect([...partial.sections.keys()]).toEqual(['Clusters'])
      expect(partial.sections.get('Clusters')).toEqual(parseConfigDump(envoyLayout, 'x').sections.get('Clusters'))
    }
  })

  it('still reports a truncated dump (exit 6)', () => {
    const error = errorOf(() => parseConfigDump(envoyLayout.slice(0, envoyLayout.length - 2000), 'cut.json', {only: ['Bootstrap']}))
    expect(error.exitCode).toBe(6)
    expect(error.message).toMatch(/^cut\.json: not valid JSON \(truncated\?\)/)
  })

  it('still rejects v2alpha dumps', () => {
    const legacy = '{\n "configs": [\n  {\n   "@type": "type.googleapis.com/envoy.admin.v2alpha.ClustersConfigDump"\n  }\n ]\n}\n'
    expect(errorOf(() => parseConfigDump(legacy, 'old.json', {only: ['Clusters']})).message).toContain('unsupported legacy config dump format')
  })
})

describe('parseConfigDumpInput (raw bytes)', () => {
  const bytes = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'istio-ingressgateway.config_dump.json'))

  it('finds the sections in the bytes without decoding the whole input', () => {
    const input = inputFromBytes(bytes, 'x')
    const fromBytes = parseConfigDumpInput(input, {scanMinBytes: 0, only: ['Listeners']})
    expect([...fromBytes.sections.keys()]).toEqual(['Listeners'])
    expect(fromBytes.sections.get('Listeners')).toEqual(parseConfigDump(bytes.toString('utf8'), 'x').sections.get('Listeners'))
  })

  it('keeps byte offsets right around multi-byte characters', () => {
    const text = '{\n "configs": [\n  {\n   "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",\n   "bootstrap": {"node": {"id": "ünïcødé-☃"}}\n  },\n  {\n   "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",\n   "static_clusters": [{"cluster": {"name": "naïve-☃"}}]\n  }\n ]\n}\n'
    const dump = parseConfigDumpInput(inputFromBytes(Buffer.from(text, 'utf8'), 'x'), {scanMinBytes: 0, only: ['Clusters']})
    expect(dump.sections.get('Clusters').static_clusters[0].cluster.name).toBe('naïve-☃')
  })

  it('reports bad bytes like a full parse does', () => {
    expect(errorOf(() => parseConfigDumpInput(inputFromBytes(Buffer.from('<html>oops</html>'), 'page'), {scanMinBytes: 0, only: ['Clusters']})).message).toBe(
      'page: it looks like an HTML page, not JSON; expected an Envoy /config_dump (an object with a "configs" list)',
    )
  })
})

describe('which inputs take the structural scan', () => {
  // A listeners section with a syntax error: only a whole parse reads it.
  const dump = (padding: number) =>
    `{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "static_clusters": [{"cluster": {"name": "c${'x'.repeat(padding)}"}}]},` +
    ` {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "dynamic_listeners": [nope]}]}`

  it('parses an input below SECTION_SCAN_MIN_BYTES whole: a syntax error anywhere is exit 6', () => {
    expect(() => parseConfigDumpInput(inputFromBytes(Buffer.from(dump(10)), 'small.json'), {only: ['Clusters']})).toThrow(/small\.json/)
  })

  it('scans an input of SECTION_SCAN_MIN_BYTES or more: the clusters table reads its section only', () => {
    const big = parseConfigDumpInput(inputFromBytes(Buffer.from(dump(SECTION_SCAN_MIN_BYTES)), 'big.json'), {only: ['Clusters']})
    expect(collectClusters(big)).toHaveLength(1)
  })
})
