import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {certificateFacts, collectSecretRows, firstPemBlock, formatSerial, secretsSection, showTrustDomain} from '../../src/lib/envoy/secrets.js'
import {renderSecretTable} from '../../src/lib/render/secret-table.js'
import {runCli} from '../helpers/cli.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'secrets')
const fixturePath = (name: string) => join(fixtures, name)
const read = (name: string) => readFileSync(fixturePath(name), 'utf8')
const sectionOf = (name: string) => secretsSection(parseConfigDump(read(name), name))
// The fixture certificates were issued on 2026-11-30 for 100 years; the expired one covers 2020-01-01 only.
const NOW = new Date('2030-06-01T00:00:00Z')

describe('certificate facts', () => {
  it('reads type, serial, dates and validity of the first PEM block', () => {
    expect(certificateFacts(read('leaf-spiffe.pem') + read('root-ca.pem'), NOW)).toEqual({
      type: 'Cert Chain',
      valid: true,
      serialNumber: '1f2e3d4c5b6a79880011223344556677',
      notAfter: '2126-11-06T15:01:51Z',
      notBefore: '2026-11-30T15:01:51Z',
      sanTrustDomain: 'test.local',
    })
    expect(certificateFacts(read('root-ca.pem'), NOW)).toMatchObject({type: 'CA', serialNumber: '0000000000000000000000000000000a', sanTrustDomain: ''})
  })

  it('judges validity by the clock: strictly inside notBefore..notAfter', () => {
    const expired = read('expired.pem')
    expect(certificateFacts(expired, NOW)).toMatchObject({valid: false, notBefore: '2020-01-01T00:00:00Z', notAfter: '2020-01-02T00:00:00Z', type: 'Cert Chain'})
    expect(certificateFacts(expired, new Date('2020-01-01T12:00:00Z')).valid).toBe(true)
    expect(certificateFacts(expired, new Date('2020-01-01T00:00:00Z')).valid).toBe(false)
    expect(certificateFacts(read('root-ca.pem'), new Date('2026-01-01T00:00:00Z')).valid).toBe(false)
  })

  it('pads serials to 32 lowercase hex digits and keeps longer ones whole', () => {
    expect(formatSerial('0A')).toBe('0000000000000000000000000000000a')
    expect(formatSerial('00FF')).toBe('000000000000000000000000000000ff')
    expect(formatSerial('529CBBAF623611D057B517D4FFE341E4E8035037')).toBe('529cbbaf623611d057b517d4ffe341e4e8035037')
    expect(certificateFacts(read('other-root-ca.pem'), NOW).serialNumber).toBe('529cbbaf623611d057b517d4ffe341e4e8035037')
  })

  it('gives empty facts for no data, non-PEM data, or a first block that is not a certificate', () => {
    const empty = {type: '', valid: false, serialNumber: '', notAfter: '', notBefore: '', sanTrustDomain: ''}
    expect(certificateFacts('', NOW)).toEqual(empty)
    expect(certificateFacts('not a certificate', NOW)).toEqual(empty)
    expect(certificateFacts('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n' + read('root-ca.pem'), NOW)).toEqual(empty)
    expect(firstPemBlock('junk')).toBeUndefined()
  })
})

describe('secret rows', () => {
  it('lists warming secrets first, then active ones in dump order, with empty cells when there is no certificate', () => {
    const rows = collectSecretRows(sectionOf('dump.json'), NOW)
    expect(rows.map((row) => `${row.status} ${row.name} ${row.type || '-'} ${row.valid}`)).toEqual([
      'WARMING file-cert:/etc/certs/cert-chain.pem~/etc/certs/key.pem - false',
      'ACTIVE default Cert Chain true',
      'ACTIVE ROOTCA CA true',
      'ACTIVE expired Cert Chain false',
      'ACTIVE garbage - false',
      'ACTIVE key-first - false',
    ])
  })

  it('renders the golden table without TRUST DOMAIN when some row has none', () => {
    const rows = collectSecretRows(sectionOf('dump.json'), NOW)
    expect(showTrustDomain(rows)).toBe(false)
    expect(renderSecretTable(rows)).toBe(read('dump.golden.txt'))
  })

  it('gives one row per SPIFFE trust domain (camelCase input) and the TRUST DOMAIN column when every row has one', () => {
    const rows = collectSecretRows(sectionOf('spiffe.json'), NOW)
    expect(rows.map((row) => [row.name, row.trustDomain, row.serialNumber])).toEqual([
      ['default', 'test.local', '1f2e3d4c5b6a79880011223344556677'],
      ['ROOTCA', 'test.local', '0000000000000000000000000000000a'],
      ['ROOTCA', 'other.local', '529cbbaf623611d057b517d4ffe341e4e8035037'],
    ])
    expect(renderSecretTable(rows)).toBe(read('spiffe.golden.txt'))
  })

  it('keeps a SPIFFE validator without trust domains as one empty row', () => {
    const section = {
      dynamic_active_secrets: [
        {name: 'ROOTCA', secret: {validation_context: {custom_validator_config: {typed_config: {'@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig'}}}}},
      ],
    }
    expect(collectSecretRows(section, NOW)).toEqual([{name: 'ROOTCA', status: 'ACTIVE', type: '', valid: false, serialNumber: '', notAfter: '', notBefore: '', trustDomain: ''}])
  })

  it('prefixes RESOURCE NAME with secret/ for proxy-config all, and prints the header only for no rows', () => {
    const rows = collectSecretRows(sectionOf('dump.json'), NOW).filter((row) => row.name === 'ROOTCA')
    expect(renderSecretTable(rows, {withName: true})).toBe(
      'RESOURCE NAME     TYPE     STATUS     VALID CERT     SERIAL NUMBER                        NOT AFTER                NOT BEFORE\n' +
        'secret/ROOTCA     CA       ACTIVE     true           0000000000000000000000000000000a     2126-11-06T15:01:51Z     2026-11-30T15:01:51Z\n',
    )
    expect(renderSecretTable([])).toBe('RESOURCE NAME     TYPE     STATUS     VALID CERT     SERIAL NUMBER     NOT AFTER     NOT BEFORE\n')
  })
})

describe('meshdbg proxy-config secret', () => {
  it('reads the dump from stdin through the s alias (the fixture certificates are valid until 2126)', async () => {
    const result = await runCli(['pc', 's', '-f', '-'], {input: read('dump.json')})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(read('dump.golden.txt'))
  })

  it('prints the header only, exits 0, and says why on stderr when there are no secrets', async () => {
    const result = await runCli(['proxy-config', 'secrets', '-f', fixturePath('empty.json')])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('RESOURCE NAME     TYPE     STATUS     VALID CERT     SERIAL NUMBER     NOT AFTER     NOT BEFORE\n')
    expect(result.stderr).toBe('No active or warming secrets found.\n')
  })

  it('prints the SecretsConfigDump section as the input has it for -o json', async () => {
    const result = await runCli(['pc', 'secret', '-f', fixturePath('spiffe.json'), '-o', 'json'])
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(read('spiffe.json')).configs[0])
    expect(result.stdout.startsWith('{\n  "@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",\n  "dynamicActiveSecrets": [\n')).toBe(true)
  })

  it('returns typed rows with --json', async () => {
    const result = await runCli(['pc', 'secret', '-f', fixturePath('spiffe.json'), '--json'])
    expect(JSON.parse(result.stdout).result.secrets[2]).toEqual({
      name: 'ROOTCA',
      status: 'ACTIVE',
      type: 'CA',
      valid: true,
      serialNumber: '529cbbaf623611d057b517d4ffe341e4e8035037',
      notAfter: '2126-11-06T15:01:51Z',
      notBefore: '2026-11-30T15:01:51Z',
      trustDomain: 'other.local',
    })
  })

  it.each([
    ['no secrets section', '{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"}]}', /^Error: stdin: config dump has no configuration type type\.googleapis\.com\/envoy\.admin\.v3\.SecretsConfigDump\n$/],
    ['malformed JSON', '{"configs": [{"@type": ', /^Error: stdin: not valid JSON \(truncated\?\)/],
    ['wrong shape', 'null', /^Error: stdin: got null/],
  ])('exits 6 with one line for %s', async (_what, input, message) => {
    const result = await runCli(['pc', 'secret', '-f', '-'], {input})
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
  })
})
