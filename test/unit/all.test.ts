import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {selectAllSections} from '../../src/lib/envoy/all-sections.js'
import {parseConfigDump, sectionSource, sectionSourceOf} from '../../src/lib/envoy/configdump.js'
import {renderAllSummary} from '../../src/lib/render/all-summary.js'
import {runCli} from '../helpers/cli.js'

const fixture = join(import.meta.dirname, '..', 'fixtures', 'all', 'dump.json')
const text = readFileSync(fixture, 'utf8')
// The certificates in the fixture are valid from 2026-11-30 for 100 years; one expired in 2020.
const now = new Date('2027-06-01T00:00:00Z')

describe('proxy-config all', () => {
  it('renders every section with NAME columns and titles (golden)', () => {
    const sections = selectAllSections(sectionSourceOf(parseConfigDump(text, 'dump.json')), {}, now)
    expect(renderAllSummary(sections, {withHeaders: true, verbose: true})).toBe(
      readFileSync(join(import.meta.dirname, '..', 'fixtures', 'all', 'with-headers.golden.txt'), 'utf8'),
    )
  })

  it('without headers separates sections by one blank line, bootstrap first', () => {
    const sections = selectAllSections(sectionSourceOf(parseConfigDump(text, 'dump.json')), {}, now)
    const out = renderAllSummary(sections, {withHeaders: false, verbose: true})
    expect(out.startsWith('Istio Version:')).toBe(true)
    expect(out).not.toContain('------')
    const blocks = out.split('\n\n')
    expect(blocks.map((block) => block.split('\n')[0].split(/\s+/)[0])).toEqual(['Istio', 'NAME', 'NAME', 'NAME', 'RESOURCE', 'NAME'])
  })

  it('applies --port to clusters, listeners and endpoints, and --name to routes', () => {
    const sections = selectAllSections(sectionSourceOf(parseConfigDump(text, 'dump.json')), {port: 9080, name: '9080'}, now)
    expect(sections.clusters!.map((c) => c.name)).toEqual([
      'outbound|9080||reviews.shop.svc.cluster.local',
      'outbound|9080|v1|reviews.shop.svc.cluster.local',
      'outbound|9080|v2|reviews.shop.svc.cluster.local',
    ])
    expect(new Set(sections.listeners!.map((l) => l.port))).toEqual(new Set([9080]))
    expect(sections.endpoints.every((e) => e.name.includes(':9080'))).toBe(true)
    expect(sections.endpoints.length).toBeGreaterThan(0)
    expect(new Set(sections.routes!.map((r) => r.name))).toEqual(new Set(['9080']))
  })

  it('reads an Envoy-layout dump section by section with the same result as from one parsed dump', () => {
    const layout = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'istio-ingressgateway.config_dump.json'), 'utf8')
    const bySection = selectAllSections(sectionSource({text: layout, origin: 'x'}), {}, now)
    const whole = selectAllSections(sectionSourceOf(parseConfigDump(layout, 'x')), {}, now)
    expect(bySection).toEqual(whole)
    expect(bySection.missing).toEqual([])
    expect(bySection.endpoints.length).toBeGreaterThan(10)
  })

  it('leaves out sections the dump lacks and says so on stderr', async () => {
    const onlyClusters = JSON.stringify({configs: JSON.parse(text).configs.filter((c: {'@type': string}) => c['@type'].endsWith('ClustersConfigDump'))})
    const result = await runCli(['pc', 'all', '-f', '-'], {input: onlyClusters})
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('stdin: no Bootstrap, Listeners, Routes, Secrets section in this dump; left out\n')
    expect(result.stdout.split('\n\n')).toHaveLength(2)
    expect(result.stdout).toContain('cluster/xds-grpc')
    expect(result.stdout.endsWith('NAME     STATUS     LOCALITY     CLUSTER\n')).toBe(true)
  })

  it('-o json prints the dump as given, ignoring filters', async () => {
    const result = await runCli(['pc', 'a', '-f', fixture, '-o', 'json', '--port', '1'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(text))
  })
})
