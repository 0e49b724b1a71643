import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'
import {parse as parseYaml} from 'yaml'

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
    expect(sections.endpoints.every((e) => e.addresses.some((address) => address.endsWith(':9080')))).toBe(true)
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

  it('-o json without filters prints the dump as given, byte for byte (as istioctl)', async () => {
    const result = await runCli(['pc', 'a', '-f', fixture, '-o', 'json'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(text.endsWith('\n') ? text : text + '\n')
  })

  it('-o json|yaml with filters narrow each section as its table does and keep the others whole', async () => {
    const dump = JSON.parse(text)
    const listsOf = (out: {configs: Array<Record<string, unknown>>}, suffix: string) => out.configs.find((c) => String(c['@type']).endsWith(suffix))!
    for (const format of ['json', 'yaml']) {
      const result = await runCli(['pc', 'a', '-f', fixture, '-o', format, '--port', '9080', '--name', '9080'])
      expect(result.code).toBe(0)
      const out = format === 'json' ? JSON.parse(result.stdout) : parseYaml(result.stdout)
      expect(out.configs.map((c: {'@type': string}) => c['@type'])).toEqual(dump.configs.map((c: {'@type': string}) => c['@type']))
      const clusters = listsOf(out, 'ClustersConfigDump') as {dynamic_active_clusters: Array<{cluster: {name: string}}>; static_clusters: unknown[]}
      // Dump order (Envoy's), not table order.
      expect(clusters.dynamic_active_clusters.map((entry) => entry.cluster.name).sort()).toEqual([
        'outbound|9080|v1|reviews.shop.svc.cluster.local',
        'outbound|9080|v2|reviews.shop.svc.cluster.local',
        'outbound|9080||reviews.shop.svc.cluster.local',
      ])
      expect(clusters.static_clusters).toEqual([])
      const routes = listsOf(out, 'RoutesConfigDump') as {dynamic_route_configs: Array<{route_config: {name: string}}>; static_route_configs: unknown[]}
      expect([...routes.dynamic_route_configs, ...(routes.static_route_configs as typeof routes.dynamic_route_configs)].map((entry) => entry.route_config.name)).toEqual(['9080'])
      const endpoints = JSON.stringify(listsOf(out, 'EndpointsConfigDump'))
      expect(endpoints).toContain('"port_value":9080')
      expect(endpoints).not.toMatch(/"port_value":(?!9080\b)\d+/)
      // No filter applies to bootstrap and secrets: whole.
      expect(listsOf(out, 'SecretsConfigDump')).toEqual(listsOf(dump, 'SecretsConfigDump'))
      expect(listsOf(out, 'BootstrapConfigDump')).toEqual(listsOf(dump, 'BootstrapConfigDump'))
    }
  })

  it('--no-headers prints the tables\' rows only', async () => {
    const result = await runCli(['pc', 'a', '-f', fixture, '--no-headers'])
    expect(result.code).toBe(0)
    expect(result.stdout).not.toMatch(/^(NAME|RESOURCE|Istio Version)/m)
    expect(result.stdout).toContain('cluster/outbound|9080|v1|reviews.shop.svc.cluster.local')
  })
})
