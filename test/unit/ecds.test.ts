import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {compareEcdsSummaries, selectEcds} from '../../src/lib/envoy/ecds.js'
import {renderEcdsTable} from '../../src/lib/render/ecds-table.js'
import {runCli} from '../helpers/cli.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'ecds')
const fixturePath = (name: string) => join(fixtures, name)
const read = (name: string) => readFileSync(fixturePath(name), 'utf8')
const dump = () => parseConfigDump(read('dump.json'), 'dump.json')

describe('ECDS summary', () => {
  it('merges every EcdsConfigDump section, reads camelCase, and renders the golden table', () => {
    const {summaries} = selectEcds(dump())
    expect(summaries.map((row) => row.name)).toEqual([
      'istio.io/telemetry/stats/sidecar/Outbound/HTTP',
      'custom.no-prefix',
      'default.aa-wasm',
      'default.zz-wasm',
      'tcp.rbac',
    ])
    expect(renderEcdsTable(summaries)).toBe(read('dump.golden.txt'))
  })

  it('strips only the type.googleapis.com/ prefix; no typed_config gives an empty type', () => {
    const types = Object.fromEntries(selectEcds(dump()).summaries.map((row) => [row.name, row.type]))
    expect(types['custom.no-prefix']).toBe('example.com/custom.Filter')
    expect(types['tcp.rbac']).toBe('envoy.extensions.filters.network.rbac.v3.RBAC')
    expect(types['istio.io/telemetry/stats/sidecar/Outbound/HTTP']).toBe('')
  })

  it('orders by full type URL, then name (empty types first)', () => {
    const row = (name: string, typeUrl: string) => ({name, typeUrl, type: typeUrl})
    expect(compareEcdsSummaries(row('b', ''), row('a', 'x'))).toBeLessThan(0)
    expect(compareEcdsSummaries(row('a', 'type.googleapis.com/b'), row('z', 'type.googleapis.com/a'))).toBeGreaterThan(0)
    expect(compareEcdsSummaries(row('a', 't'), row('b', 't'))).toBeLessThan(0)
  })

  it('gives one merged section (entries in dump order) for -o json', () => {
    const {section} = selectEcds(dump())
    expect(section['@type']).toBe('type.googleapis.com/envoy.admin.v3.EcdsConfigDump')
    expect(section.ecds_filters.map((entry: {ecds_filter?: {name: string}; ecdsFilter?: {name: string}}) => (entry.ecds_filter ?? entry.ecdsFilter)!.name)).toEqual([
      'default.zz-wasm',
      'default.aa-wasm',
      'istio.io/telemetry/stats/sidecar/Outbound/HTTP',
      'tcp.rbac',
      'custom.no-prefix',
    ])
  })

  it('treats a dump without ECDS as no filters (header only)', () => {
    const selected = selectEcds(parseConfigDump(read('no-ecds-dump.json'), 'f'))
    expect(selected.summaries).toEqual([])
    expect(renderEcdsTable(selected.summaries)).toBe('ECDS NAME     TYPE\n')
  })
})

describe('meshdbg proxy-config ecds', () => {
  it('reads the dump from stdin through the ec alias', async () => {
    const result = await runCli(['pc', 'ec', '-f', '-'], {input: read('dump.json')})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(read('dump.golden.txt'))
  })

  it('prints the merged section as 2-space JSON and as YAML', async () => {
    const json = await runCli(['proxy-config', 'ecds', '-f', fixturePath('no-ecds-dump.json'), '-o', 'json'])
    expect(json.stdout).toBe('{\n  "@type": "type.googleapis.com/envoy.admin.v3.EcdsConfigDump",\n  "ecds_filters": []\n}\n')
    const yaml = await runCli(['proxy-config', 'ecds', '-f', fixturePath('dump.json'), '-o', 'yaml'])
    expect(yaml.stdout).toContain('ecds_filters:\n- version_info: 2026-01-01T00:00:00Z/3\n  ecds_filter:\n')
  })

  it('returns typed rows with --json', async () => {
    const result = await runCli(['pc', 'ecds', '-f', fixturePath('dump.json'), '--json'])
    expect(JSON.parse(result.stdout).result.filters[4]).toEqual({name: 'tcp.rbac', typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC', type: 'envoy.extensions.filters.network.rbac.v3.RBAC'})
  })

  it.each([
    ['malformed JSON', '{"configs": [', /^Error: stdin: not valid JSON/],
    ['wrong shape', '{"cluster_statuses": []}', /^Error: stdin: got an object without "configs"/],
    ['an HTML page', '<html></html>', /^Error: stdin: it looks like an HTML page/],
  ])('exits 6 with one line for %s', async (_what, input, message) => {
    const result = await runCli(['pc', 'ecds', '-f', '-'], {input})
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
  })
})
