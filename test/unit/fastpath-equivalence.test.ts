// The fast path (structural scan, only the needed sections, table projections) and the full parse
// must print byte-identical output for every proxy-config table, on every fixture and on generated
// dumps in every layout a real dump comes in.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

// @ts-expect-error: a plain .mjs module without types (the bench generator)
import {generateDump} from '../../bench/gen-dump.mjs'
import {type HeldInput, prestartWorkers, summarizeAll} from '../../src/lib/envoy/all-parallel.js'
import {type AllFilter, selectAllSections} from '../../src/lib/envoy/all-sections.js'
import {bootstrapSection, summarizeBootstrap} from '../../src/lib/envoy/bootstrap.js'
import {selectClusters} from '../../src/lib/envoy/clusters.js'
import {type ConfigDump, parseConfigDump, parseConfigDumpInput, type SectionKind, sectionSource, sectionSourceOf} from '../../src/lib/envoy/configdump.js'
import {selectEcds} from '../../src/lib/envoy/ecds.js'
import {parseEndpointInput, selectEdsEndpoints} from '../../src/lib/envoy/endpoints.js'
import {camelName} from '../../src/lib/envoy/fields.js'
import {selectListeners} from '../../src/lib/envoy/listeners.js'
import {selectRoutes} from '../../src/lib/envoy/routes.js'
import {collectSecretRows, secretsSection} from '../../src/lib/envoy/secrets.js'
import {isMeshdbgError} from '../../src/lib/errors.js'
import {inputFromBytes} from '../../src/lib/input.js'
import {renderAllSummary} from '../../src/lib/render/all-summary.js'
import {renderBootstrapSummary} from '../../src/lib/render/bootstrap-summary.js'
import {renderEcdsTable} from '../../src/lib/render/ecds-table.js'
import {renderEdsEndpointTable} from '../../src/lib/render/endpoint-table.js'
import {renderStructured} from '../../src/lib/render/formats.js'
import {renderListenerTable} from '../../src/lib/render/listener-table.js'
import {renderClusterTable} from '../../src/lib/render/proxy-config-tables.js'
import {renderRouteTable} from '../../src/lib/render/route-table.js'
import {renderSecretTable} from '../../src/lib/render/secret-table.js'
import {projectRoot} from '../helpers/cli.js'

const NOW = new Date('2027-03-01T00:00:00Z')
const WORKER_URL = new URL('../../dist/lib/envoy/all-worker.js', import.meta.url)

interface Table {
  name: string
  kinds: SectionKind[]
  /** -o json/yaml output needs whole sections: no projections. */
  structured?: boolean
  render: (dump: ConfigDump) => string
}

const TABLES: Table[] = [
  {name: 'cluster', kinds: ['Clusters'], render: (d) => renderClusterTable(selectClusters(d, {}).summaries)},
  {name: 'cluster --port 80', kinds: ['Clusters'], render: (d) => renderClusterTable(selectClusters(d, {port: 80, direction: 'outbound'}).summaries)},
  {name: 'cluster -o json', kinds: ['Clusters'], structured: true, render: (d) => renderStructured(selectClusters(d, {}).clusters, 'json')},
  {name: 'listener', kinds: ['Listeners'], render: (d) => renderListenerTable(selectListeners(d, {}).summaries)},
  {name: 'listener --verbose=false', kinds: ['Listeners'], render: (d) => renderListenerTable(selectListeners(d, {}).summaries, {verbose: false})},
  {name: 'listener -o json', kinds: ['Listeners'], structured: true, render: (d) => renderStructured(selectListeners(d, {}).listeners, 'json')},
  {name: 'route', kinds: ['Routes'], render: (d) => renderRouteTable(selectRoutes(d, {}).summaries)},
  {name: 'route --verbose=false', kinds: ['Routes'], render: (d) => renderRouteTable(selectRoutes(d, {}).summaries, {verbose: false})},
  {name: 'route -o json', kinds: ['Routes'], structured: true, render: (d) => renderStructured(selectRoutes(d, {}).routeConfigs, 'json')},
  {name: 'endpoint (EDS)', kinds: ['Endpoints'], render: (d) => renderEdsEndpointTable(selectEdsEndpoints(d, {}).rows)},
  {name: 'endpoint (EDS) --port 9080 --status healthy', kinds: ['Endpoints'], render: (d) => renderEdsEndpointTable(selectEdsEndpoints(d, {port: 9080, status: 'healthy'}).rows)},
  {name: 'endpoint (EDS) -o json', kinds: ['Endpoints'], structured: true, render: (d) => renderStructured(selectEdsEndpoints(d, {}).clusterLoadAssignments, 'json')},
  {name: 'secret', kinds: ['Secrets'], render: (d) => renderSecretTable(collectSecretRows(secretsSection(d), NOW))},
  {name: 'bootstrap', kinds: ['Bootstrap'], render: (d) => renderBootstrapSummary(summarizeBootstrap(bootstrapSection(d)))},
  {name: 'bootstrap -o json', kinds: ['Bootstrap'], structured: true, render: (d) => renderStructured(bootstrapSection(d), 'json')},
  {name: 'ecds', kinds: ['Ecds'], render: (d) => renderEcdsTable(selectEcds(d).summaries)},
]

/** The output, or the one-line error both paths must agree on. */
function outcome(produce: () => string): string {
  try {
    return produce()
  } catch (error) {
    if (isMeshdbgError(error)) return `error (exit ${error.exitCode}): ${error.message}`
    throw error
  }
}

async function outcomeOf(produce: () => Promise<{text: string}>): Promise<string> {
  try {
    return (await produce()).text
  } catch (error) {
    if (isMeshdbgError(error)) return `error (exit ${error.exitCode}): ${error.message}`
    throw error
  }
}

function renderAll(source: Parameters<typeof selectAllSections>[0], filter: Parameters<typeof selectAllSections>[1] = {}): string {
  const sections = selectAllSections(source, filter, NOW)
  return `${renderAllSummary(sections, {withHeaders: true, verbose: true})}\nmissing: ${sections.missing.join(',')}`
}

/**
 * Asserts fast == full for every table on `text` (with `reading`, the tables that read that section:
 * a fault inside a section other tables skip is only seen by these).
 */
function expectSameOutput(text: string, reading?: SectionKind): void {
  const bytes = Buffer.from(text, 'utf8')
  const full = (): ConfigDump => parseConfigDump(text, 'dump.json')
  for (const table of TABLES) {
    if (reading && !table.kinds.includes(reading)) continue
    const fast = outcome(() => table.render(parseConfigDumpInput(inputFromBytes(bytes, 'dump.json'), {scanMinBytes: 0, only: table.kinds, summariesOnly: !table.structured})))
    expect(fast, table.name).toBe(outcome(() => table.render(full())))
  }
  // proxy-config endpoint -f tells a config dump from /clusters?format=json by its first bytes.
  if (/^\s*\{\s*"configs"\s*:/.test(text) && (!reading || reading === 'Endpoints')) {
    const parsed = outcome(() => {
      const endpointInput = parseEndpointInput(inputFromBytes(bytes, 'dump.json'), {summariesOnly: true, scanMinBytes: 0})
      return endpointInput.kind === 'config-dump' ? renderEdsEndpointTable(selectEdsEndpoints(endpointInput.dump, {}).rows) : 'cluster-status'
    })
    expect(parsed, 'endpoint -f').toBe(outcome(() => renderEdsEndpointTable(selectEdsEndpoints(full(), {}).rows)))
  }
  expect(outcome(() => renderAll(sectionSource(inputFromBytes(bytes, 'dump.json')))), 'all').toBe(outcome(() => renderAll(sectionSourceOf(full()))))
  const filter = {port: 8080, address: '0.0.0.0'}
  expect(outcome(() => renderAll(sectionSource(inputFromBytes(bytes, 'dump.json')), filter)), 'all --port --address').toBe(outcome(() => renderAll(sectionSourceOf(full()), filter)))
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name)
    if (statSync(full).isDirectory()) return jsonFiles(full)
    return name.endsWith('.json') ? [full] : []
  })
}

// ---------------------------------------------------------------------------------------------
// Layouts real dumps come in

const reorderKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reorderKeys)
  if (value === null || typeof value !== 'object') return value
  // Reversed, so "@type" comes last and the scanner meets a section's members before its type.
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reorderKeys(v)]))
}

const camelKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(camelKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [camelName(k), camelKeys(v)]))
}

const LAYOUTS: Record<string, (envoy: string) => string> = {
  'Envoy (1-space)': (text) => text,
  CRLF: (text) => text.replaceAll('\n', '\r\n'),
  compact: (text) => JSON.stringify(JSON.parse(text)),
  'jq (2-space)': (text) => JSON.stringify(JSON.parse(text), null, 2) + '\n',
  'Python (4-space)': (text) => JSON.stringify(JSON.parse(text), null, 4),
  tabs: (text) => JSON.stringify(JSON.parse(text), null, '\t'),
  'spaces around separators': (text) => JSON.stringify(JSON.parse(text), null, 1).replaceAll('": ', '" :  ').replaceAll(',\n', ' ,\n'),
  'keys reversed (@type last)': (text) => JSON.stringify(reorderKeys(JSON.parse(text)), null, 1),
  'istioctl -o json (camelCase, 2-space)': (text) => JSON.stringify(camelKeys(JSON.parse(text)), null, 2) + '\n',
}

describe('fast path and full parse print the same tables', () => {
  const fixtures = jsonFiles(join(projectRoot, 'test', 'fixtures'))
  fixtures.push(join(projectRoot, 'examples', 'istio-ingressgateway.config_dump.json'))

  it.each(fixtures.map((file) => [file.slice(projectRoot.length + 1), file]))('on %s', (_, file) => {
    expectSameOutput(readFileSync(file, 'utf8'))
  })

  const generated = generateDump({services: 8, seed: 3}) as string
  it.each(Object.keys(LAYOUTS))('on a generated dump, %s layout', (layout) => {
    const text = LAYOUTS[layout](generated)
    // The shortcut must really be taken: only the asked-for section, clusters projected.
    const dump = parseConfigDumpInput(inputFromBytes(Buffer.from(text), 'x'), {scanMinBytes: 0, only: ['Clusters'], summariesOnly: true})
    expect([...dump.sections.keys()]).toEqual(['Clusters'])
    const firstCluster = JSON.stringify(dump.sections.get('Clusters'))
    expect(firstCluster).not.toMatch(/connect_?[tT]imeout/)
    expectSameOutput(text)
  })

  it('on hand-made edge cases: escapes, unicode, brackets in strings, repeated sections and keys', () => {
    const type = (kind: string) => `type.googleapis.com/envoy.admin.v3.${kind}ConfigDump`
    const text = `{"configs":[
      {"\\u0040type": "${type('Clusters')}", "static_clusters": [{"cluster": {"name": "old"}}]},
      {"static_clusters": [{"cluster": {"name": "a\\"]}[{,\\\\", "type": "EDS", "na\\u006de": "x\\u00e9-☃ \\"}"}},
                           {"cluster": {"name": "b", "metadata": {"filter_metadata": {"istio": {"config": "/apis/networking.istio.io/v1/namespaces/ns/destination-rule/dr"}}}, "metadata": null}},
                           {"cluster": {"name": "c", "type": 3, "metadata": {"filterMetadata": {"istio": {"config": "/apis/networking.istio.io/v1/namespaces/ns/destination-rule/x"}}}}}],
       "dynamic_active_clusters": [], "@type": "${type('Clusters')}"},
      {"@type": "${type('Future')}", "x": [1, 2.5e3, true, false, null, "]"]},
      {"@type": "${type('Listeners')}", "static_listeners": [{"listener": {"name": "l", "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15090}}}}]}
    ], "extra": {"configs": "not this one"}}`
    expectSameOutput(text)
    expect(renderClusterTable(selectClusters(parseConfigDumpInput(inputFromBytes(Buffer.from(text), 'x'), {scanMinBytes: 0, only: ['Clusters'], summariesOnly: true}), {}).summaries)).toContain('x\u00e9-☃ "}')
  })

  // proxy-config all on worker threads (the worker as built: dist/ must be current, as for the e2e
  // tests), with ranges of 2 KB so that every list of these small dumps is split over the workers.
  const onWorkers = async (text: string, filter: AllFilter, wantRows: boolean) => {
    const options = {withHeaders: true, verbose: true, wantRows, now: NOW}
    const one = await summarizeAll(inputFromBytes(Buffer.from(text), 'dump.json'), filter, {...options, parallelMinBytes: 0, cores: 1})
    const many = await summarizeAll(inputFromBytes(Buffer.from(text), 'dump.json'), filter, {...options, parallelMinBytes: 0, rangeBytes: 2048, cores: 2, workerUrl: WORKER_URL})
    expect(one.workers).toBe(0)
    expect(many.text).toBe(one.text)
    expect(many.text).toBe(renderAllSummary(selectAllSections(sectionSourceOf(parseConfigDump(text, 'dump.json')), filter, NOW), options))
    if (wantRows) expect(many.sections).toEqual(one.sections)
    else expect(many.sections.missing).toEqual(one.sections.missing)
    // Given a way to read the dump again, the parallel path lets go of it once it is projected.
    const held: HeldInput = {input: inputFromBytes(Buffer.from(text), 'dump.json')}
    let rereads = 0
    const reread = async () => {
      rereads++
      return inputFromBytes(Buffer.from(text), 'dump.json')
    }
    const released = await summarizeAll(held, filter, {...options, parallelMinBytes: 0, rangeBytes: 2048, cores: 2, workerUrl: WORKER_URL, reread})
    expect(released.text).toBe(one.text)
    expect(released.workers).toBe(2)
    expect(held.input).toBeUndefined()
    expect(rereads).toBe(0)
    return many
  }

  it.each([false, true])('on worker threads, as on one, in every layout (rows returned: %s)', async (wantRows) => {
    const dumps = [...Object.values(LAYOUTS).map((layout) => layout(generated)), generateDump({services: 20, seed: 5, clusterHeavy: true}) as string]
    for (const text of dumps) {
      for (const filter of [{}, {port: 8080, address: '0.0.0.0'}, {fqdn: 'productpage', name: '9080'}]) {
        expect((await onWorkers(text, filter, wantRows)).workers).toBe(2)
      }
    }
  })

  it.each(fixtures.map((file) => [file.slice(projectRoot.length + 1), file]).filter(([, file]) => /^\s*\{\s*"configs"/.test(readFileSync(file, 'utf8'))))(
    'on worker threads, as on one, on %s',
    async (_, file) => {
      await onWorkers(readFileSync(file, 'utf8'), {}, true)
    },
  )

  it('uses workers started before the file is read (prestartWorkers), for large regular files only', async () => {
    const file = join(projectRoot, 'test', 'fixtures', 'endpoints', 'eds-dump.json')
    expect(prestartWorkers(file, {cores: 2, workerUrl: WORKER_URL})).toBeUndefined()
    expect(prestartWorkers('-', {cores: 2, parallelMinBytes: 0, workerUrl: WORKER_URL})).toBeUndefined()
    expect(prestartWorkers(file, {cores: 1, parallelMinBytes: 0, workerUrl: WORKER_URL})).toBeUndefined()
    const workers = prestartWorkers(file, {cores: 2, parallelMinBytes: 0, workerUrl: WORKER_URL})
    expect(workers?.size).toBe(2)
    const options = {withHeaders: false, verbose: true, wantRows: false, now: NOW}
    const text = readFileSync(file, 'utf8')
    const many = await summarizeAll(inputFromBytes(Buffer.from(text), file), {}, {...options, parallelMinBytes: 0, rangeBytes: 2048, workers})
    expect(many.workers).toBe(2)
    expect(many.text).toBe((await summarizeAll(inputFromBytes(Buffer.from(text), file), {}, {...options, cores: 1})).text)
  })

  it.each<[string, (text: string) => string]>([
    ['a section type repeated', (text) => text.replace('"configs": [', `"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "static_clusters": []},`)],
    ['garbage in a projected value', (text) => text.replace('"type": "EDS"', '"type": EDS')],
    ['a truncated dump', (text) => text.slice(0, text.length - 300)],
  ])('on worker threads, leaves a doubtful dump to one thread, which says the same (%s)', async (spoiled, spoil) => {
    const text = spoil(generated)
    const options = {withHeaders: true, verbose: true, wantRows: false, now: NOW}
    const one = await outcomeOf(() => summarizeAll(inputFromBytes(Buffer.from(text), 'dump.json'), {}, {...options, cores: 1}))
    const many = await outcomeOf(() => summarizeAll(inputFromBytes(Buffer.from(text), 'dump.json'), {}, {...options, parallelMinBytes: 0, rangeBytes: 2048, cores: 2, workerUrl: WORKER_URL}))
    expect(many).toBe(one)
    // The same when the dump may be let go of: a doubt found after that (the garbage, found when the
    // projected text is parsed) has the one-thread path read the dump again.
    let rereads = 0
    const reread = async () => {
      rereads++
      return inputFromBytes(Buffer.from(text), 'dump.json')
    }
    const held: HeldInput = {input: inputFromBytes(Buffer.from(text), 'dump.json')}
    expect(await outcomeOf(() => summarizeAll(held, {}, {...options, parallelMinBytes: 0, rangeBytes: 2048, cores: 2, workerUrl: WORKER_URL, reread}))).toBe(one)
    // Only a doubt found after every projection is back (the garbage) comes after the dump is let go of;
    // the one-thread path itself empties the holder once it has the sections, so the holder cannot tell.
    expect(rereads).toBe(spoiled === 'garbage in a projected value' ? 1 : 0)
  })

  it.each<[string, (text: string) => string]>([
    // A list of the last cluster closed on a line indented like the clusters list: taken for its end.
    ['an inner list closed at the clusters list\'s indentation', (text) => {
      const close = text.indexOf('\n   ]', text.indexOf('"dynamic_active_clusters"'))
      const lastClusterEnd = text.lastIndexOf('\n    }', close)
      return `${text.slice(0, lastClusterEnd)},\n     "x": [1\n   ]${text.slice(lastClusterEnd)}`
    }],
    // Inner lists printed at the clusters' own indentation: their "},\n    {" are taken for boundaries.
    ['inner lists of objects at the clusters\' indentation', (text) => text.replaceAll('\n     "last_updated"', '\n     "x": [\n    {\n    },\n    {\n    }\n],\n     "last_updated"')],
  ])('on worker threads, falls back to one thread when the line boundaries mislead (%s)', async (_, spoil) => {
    const text = spoil(generated)
    expect(() => JSON.parse(text)).not.toThrow()
    const options = {withHeaders: true, verbose: true, wantRows: false, now: NOW}
    const many = await summarizeAll(inputFromBytes(Buffer.from(text), 'dump.json'), {}, {...options, parallelMinBytes: 0, rangeBytes: 2048, cores: 2, workerUrl: WORKER_URL})
    expect(many.workers).toBe(0)
    expect(many.text).toBe((await summarizeAll(inputFromBytes(Buffer.from(text), 'dump.json'), {}, {...options, cores: 1})).text)
    expect(many.text).toBe((await summarizeAll(inputFromBytes(Buffer.from(generated), 'dump.json'), {}, {...options, cores: 1})).text)
  })

  it.each<[string, (text: string) => string, SectionKind?]>([
    ['truncated', (text: string) => text.slice(0, text.length - 300)],
    ['garbage after the dump', (text: string) => text + ' ]'],
    // Between members of a section, of an element or of a projected object: the levels the scan
    // walks. (Bytes inside values a table never reads are not checked: see json-scan.ts.)
    ['a bad separator between members of a cluster', (text: string) => {
      const at = text.lastIndexOf('"connect_timeout":') + '"connect_timeout"'.length
      return `${text.slice(0, at)};${text.slice(at + 1)}`
    }, 'Clusters'],
    ['a bad separator between sections', (text: string) => text.replace(/\}(,\n  \{\n   "@type": "type.googleapis.com\/envoy.admin.v3.Endpoints)/, '};$1')],
    ['a v2alpha section', (text: string) => text.replace('envoy.admin.v3.SecretsConfigDump', 'envoy.admin.v2alpha.SecretsConfigDump')],
  ])('gives the same errors (%s)', (_, spoil, reading) => {
    expectSameOutput(spoil(generated), reading)
  })
})
