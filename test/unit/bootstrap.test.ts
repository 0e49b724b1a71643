import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {bootstrapSection, summarizeBootstrap} from '../../src/lib/envoy/bootstrap.js'
import {parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {renderBootstrapSummary} from '../../src/lib/render/bootstrap-summary.js'
import {runCli} from '../helpers/cli.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'bootstrap')
const fixturePath = (name: string) => join(fixtures, name)
const read = (name: string) => readFileSync(fixturePath(name), 'utf8')
const summaryOf = (name: string) => summarizeBootstrap(bootstrapSection(parseConfigDump(read(name), name)))

describe('bootstrap version summary', () => {
  it('builds the Envoy version with -build.label and /revision.status/build.type/ssl.version; trims the proxy SHA after the first colon', () => {
    expect(summaryOf('dump.json')).toEqual({
      istioVersion: '1.27.1',
      istioProxyVersion: '0123456789abcdef:extra',
      envoyVersion: '1.35.2-dev/Modified/RELEASE/BoringSSL',
    })
    expect(renderBootstrapSummary(summaryOf('dump.json'))).toBe(
      'Istio Version:       1.27.1\nIstio Proxy Version: 0123456789abcdef:extra\nEnvoy Version:       1.35.2-dev/Modified/RELEASE/BoringSSL\n',
    )
  })

  it('reads camelCase, defaults absent version numbers to 0, keeps a colon-less SHA whole, keeps the fixed suffix order', () => {
    expect(summaryOf('camel.json')).toEqual({istioVersion: '1.20.0', istioProxyVersion: 'fedcba9876543210', envoyVersion: '1.28.0/DEBUG/BoringSSL-FIPS'})
  })

  it('leaves out empty Istio lines and always prints the Envoy line (0.0.0 without user_agent_build_version)', () => {
    expect(renderBootstrapSummary(summaryOf('minimal.json'))).toBe('Envoy Version: 0.0.0\n')
  })

  it('rejects a dump without a BootstrapConfigDump', () => {
    const dump = parseConfigDump('{"configs": []}', 'f')
    expect(() => bootstrapSection(dump)).toThrow('f: config dump has no configuration type type.googleapis.com/envoy.admin.v3.BootstrapConfigDump')
  })
})

describe('meshdbg proxy-config bootstrap', () => {
  it('defaults to the section as 2-space JSON, as the input has it', async () => {
    const result = await runCli(['proxy-config', 'bootstrap', '-f', fixturePath('minimal.json')])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      '{\n  "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",\n  "bootstrap": {\n    "node": {\n      "id": "router~x"\n    }\n  }\n}\n',
    )
  })

  it('prints the short summary from stdin through the b alias', async () => {
    const result = await runCli(['pc', 'b', '-f', '-', '-o', 'short'], {input: read('camel.json')})
    expect(result.stderr).toBe('')
    expect(result.stdout).toBe('Istio Version:       1.20.0\nIstio Proxy Version: fedcba9876543210\nEnvoy Version:       1.28.0/DEBUG/BoringSSL-FIPS\n')
  })

  it('prints YAML with camelCase keys kept', async () => {
    const result = await runCli(['pc', 'bootstrap', '-f', fixturePath('camel.json'), '-o', 'yaml'])
    expect(result.stdout).toContain('lastUpdated: "2026-11-30T10:00:00Z"\n')
    expect(result.stdout).toContain('  node:\n    metadata:\n      ISTIO_VERSION: 1.20.0\n')
  })

  it('returns the summary with --json', async () => {
    const result = await runCli(['pc', 'bootstrap', '-f', fixturePath('minimal.json'), '--json'])
    expect(JSON.parse(result.stdout).result).toEqual({summary: {istioVersion: '', istioProxyVersion: '', envoyVersion: '0.0.0'}})
  })

  it.each([
    ['no bootstrap section', '{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"}]}', /^Error: stdin: config dump has no configuration type type\.googleapis\.com\/envoy\.admin\.v3\.BootstrapConfigDump\n$/],
    ['malformed JSON', '{"configs"', /^Error: stdin: not valid JSON/],
    ['wrong shape', '[1, 2]', /^Error: stdin: got a JSON list/],
  ])('exits 6 with one line for %s', async (_what, input, message) => {
    const result = await runCli(['pc', 'b', '-f', '-'], {input})
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
  })

  it('rejects an unknown -o value as a usage error', async () => {
    const result = await runCli(['pc', 'b', '-f', fixturePath('minimal.json'), '-o', 'wide'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: output format "wide" not supported (use short, json, yaml)\n')
  })
})
