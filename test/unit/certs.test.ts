import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {
  certificateCache,
  certsEndpointRows,
  compareRoots,
  formatTimeLeft,
  meshRoots,
  parseWindow,
  pemCertificates,
  problemRows,
  secretCertificateRows,
  workloadCertificate,
} from '../../src/lib/envoy/certs.js'
import {parseConfigDump, requireSection} from '../../src/lib/envoy/configdump.js'
import {renderCertificateTable} from '../../src/lib/render/certs-table.js'
import {projectRoot} from '../helpers/cli.js'

const fixtures = join(projectRoot, 'test', 'fixtures', 'certs')
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8')
// The reference instant of test/fixtures/certs/gen.mjs.
const AT = new Date('2026-06-01T00:00:00Z')
const rowsOf = (name: string, warnWithinSeconds?: number) =>
  secretCertificateRows(requireSection(parseConfigDump(read(name), name), 'Secrets'), {now: AT, warnWithinSeconds})

describe('the certificate generator', () => {
  it('writes exactly the committed fixtures (fixed serials, dates and seeds)', () => {
    const out = mkdtempSync(join(tmpdir(), 'certs-gen-'))
    try {
      const run = spawnSync(process.execPath, [join(fixtures, 'gen.mjs'), out], {encoding: 'utf8'})
      expect(run.stderr).toBe('')
      const written = readdirSync(out).sort()
      expect(written).toEqual(readdirSync(fixtures).filter((file) => file !== 'gen.mjs').sort())
      for (const file of written) expect(readFileSync(join(out, file), 'utf8'), file).toBe(read(file))
    } finally {
      rmSync(out, {recursive: true, force: true})
    }
  })
})

describe.skipIf(!existsSync('/usr/bin/openssl'))('the certificates, checked by openssl', () => {
  it('verify as a chain at the reference instant (leaf, intermediate, root A), and the leaf alone fails', () => {
    const verify = (...args: string[]) => spawnSync('/usr/bin/openssl', ['verify', '-attime', String(AT.getTime() / 1000), '-CAfile', join(fixtures, 'root-a.pem'), ...args], {encoding: 'utf8'})
    expect(verify('-untrusted', join(fixtures, 'intermediate.pem'), join(fixtures, 'leaf-webapp.pem')).stdout).toBe(`${join(fixtures, 'leaf-webapp.pem')}: OK\n`)
    expect(verify(join(fixtures, 'leaf-webapp.pem')).status).not.toBe(0)
  })
})

describe('time left and windows', () => {
  it('prints days from two days on, then hours, minutes, seconds; negative is expired', () => {
    expect(formatTimeLeft(3288 * 86_400 + 5)).toBe('3288d')
    expect(formatTimeLeft(2 * 86_400)).toBe('2d')
    expect(formatTimeLeft(2 * 86_400 - 1)).toBe('47h')
    expect(formatTimeLeft(23 * 3600 + 3599)).toBe('23h')
    expect(formatTimeLeft(59 * 60 + 59)).toBe('59m')
    expect(formatTimeLeft(12)).toBe('12s')
    expect(formatTimeLeft(-5 * 86_400)).toBe('expired 5d ago')
  })

  it('parses --warn-within windows with days', () => {
    expect(parseWindow('24h')).toBe(86_400)
    expect(parseWindow('7d')).toBe(7 * 86_400)
    expect(parseWindow('1d12h')).toBe(36 * 3600)
    expect(parseWindow('90m')).toBe(5400)
    expect(parseWindow('')).toBeUndefined()
    expect(parseWindow('24')).toBeUndefined()
    expect(parseWindow('1w')).toBeUndefined()
  })
})

describe('certificates of SDS secrets', () => {
  it('lists the chain in order with roles, identities and the time left (golden)', () => {
    const rows = rowsOf('webapp.secrets.json')
    expect(renderCertificateTable(rows)).toBe(
      'RESOURCE   CHAIN   ROLE           IDENTITY                                            SERIAL NUMBER                      NOT AFTER              TIME LEFT   STATE\n' +
        'default    1/3     leaf           spiffe://cluster.local/ns/istioinaction/sa/webapp   00000000000000000000000000000a03   2026-06-02T12:00:00Z   36h         VALID\n' +
        'default    2/3     intermediate   meshdbg test intermediate                           00000000000000000000000000000a02   2031-01-01T00:00:00Z   1675d       VALID\n' +
        'default    3/3     root           meshdbg test root A                                 00000000000000000000000000000a01   2036-01-01T00:00:00Z   3501d       VALID\n' +
        'ROOTCA     1/1     root           meshdbg test root A                                 00000000000000000000000000000a01   2036-01-01T00:00:00Z   3501d       VALID\n',
    )
    expect(rows.slice(0, 2).map((row) => row.signedByNext)).toEqual([true, true])
    expect(rows[0]).toMatchObject({issuer: 'O=cluster.local, CN=meshdbg test intermediate', subject: '', secondsLeft: 36 * 3600})
    expect(workloadCertificate(rows)?.serialNumber).toBe('00000000000000000000000000000a03')
  })

  it('flags a chain whose certificates are out of order', () => {
    const chain = read('leaf-webapp.pem') + read('root-a.pem') + read('intermediate.pem')
    const dump = {configs: [{'@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump', dynamic_active_secrets: [{name: 'default', secret: {name: 'default', tls_certificate: {certificate_chain: {inline_bytes: Buffer.from(chain).toString('base64')}}}}]}]}
    const rows = secretCertificateRows(requireSection(parseConfigDump(JSON.stringify(dump), 'x'), 'Secrets'), {now: AT})
    expect(rows.map((row) => [row.role, row.signedByNext])).toEqual([['leaf', false], ['root', false], ['intermediate', undefined]])
    expect(renderCertificateTable(rows)).toContain('1/3 (not signed by next)')
  })

  it('rows read through a run\'s certificate cache equal fresh ones, each distinct certificate parsed once', () => {
    const cache = certificateCache()
    const sections = ['catalog.secrets.json', 'sleep.secrets.json', 'catalog.secrets.json'].map((name) => requireSection(parseConfigDump(read(name), name), 'Secrets'))
    for (const [at, warn] of [[AT, 86_400], [new Date('2026-05-20T00:00:00Z'), undefined]] as const) {
      for (const secrets of sections) expect(secretCertificateRows(secrets, {now: at, warnWithinSeconds: warn}, cache)).toEqual(secretCertificateRows(secrets, {now: at, warnWithinSeconds: warn}))
    }
    const distinct = new Set(sections.flatMap((secrets) => secretCertificateRows(secrets, {now: AT}).map((row) => row.sha256)))
    expect(cache.size).toBe(distinct.size)
    expect(cache.size).toBeLessThan(sections.flatMap((secrets) => secretCertificateRows(secrets, {now: AT})).length)
  })

  it('judges the clock and the window: expiring within 24h, expired, not yet valid', () => {
    const catalog = rowsOf('catalog.secrets.json', 86_400)
    expect(catalog.map((row) => [row.role, row.timeLeft, row.state])).toEqual([['leaf', '4h', 'EXPIRING'], ['root', '3501d', 'VALID'], ['root', '3561d', 'VALID']])
    expect(rowsOf('catalog.secrets.json')[0].state).toBe('VALID')
    expect(problemRows(catalog)).toHaveLength(1)
    const sleep = rowsOf('sleep.secrets.json')
    expect(sleep[0]).toMatchObject({state: 'EXPIRED', timeLeft: 'expired 10d ago', identity: 'spiffe://cluster.local/ns/default/sa/sleep'})
    const early = secretCertificateRows(requireSection(parseConfigDump(read('sleep.secrets.json'), 's'), 'Secrets'), {now: new Date('2026-05-20T00:00:00Z')})
    expect(early[0].state).toBe('NOT YET VALID')
  })

  it('prints terminal controls in names from the dump as visible escapes', () => {
    const hostile = {configs: [{'@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump', dynamic_active_secrets: [{name: 'kubernetes://\u001B]52;c;eA==\u0007x\u202E', secret: {validation_context: {trusted_ca: {inline_bytes: Buffer.from(read('root-a.pem')).toString('base64')}}}}]}]}
    const table = renderCertificateTable(secretCertificateRows(requireSection(parseConfigDump(JSON.stringify(hostile), 'x'), 'Secrets'), {now: AT}))
    expect(table).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F\u202E]/)
    expect(table).toContain('kubernetes://\\x1b]52;c;eA==\\x07x\\u202e')
  })

  it('never returns key material', () => {
    expect(JSON.stringify(rowsOf('webapp.secrets.json'))).not.toMatch(/W3JlZGFjdGVkXQ|private/i)
  })

  it('reads every PEM certificate block and skips other blocks', () => {
    const text = read('root-a.pem') + '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' + read('root-b.pem')
    expect(pemCertificates(text)).toHaveLength(2)
  })
})

describe('Envoy /certs', () => {
  it('gives one row per distinct certificate across TLS contexts', () => {
    const rows = certsEndpointRows(JSON.parse(read('webapp.certs.json')), {now: AT})
    expect(rows.map((row) => [row.resource, row.role, row.identity, row.serialNumber.slice(-4), row.timeLeft, row.status])).toEqual([
      ['<inline>', 'leaf', 'spiffe://cluster.local/ns/istioinaction/sa/webapp', '0a03', '36h', 'LOADED'],
      ['<inline>', 'ca', '', '0a01', '3501d', 'LOADED'],
    ])
  })

  it('leaves out certificates an SDS secret already lists', () => {
    expect(certsEndpointRows(JSON.parse(read('webapp.certs.json')), {now: AT}, rowsOf('webapp.secrets.json'))).toEqual([])
  })
})

describe('comparing roots', () => {
  const roots = (name: string) => meshRoots(rowsOf(name))!

  it('compares decoded certificates: same set, a rotation in progress, disjoint', () => {
    expect(compareRoots(roots('webapp.secrets.json'), roots('webapp.secrets.json'))).toMatchObject({identical: true, onlyFirst: [], onlySecond: []})
    const rotating = compareRoots(roots('webapp.secrets.json'), roots('catalog.secrets.json'))
    expect(rotating.identical).toBe(false)
    expect(rotating.shared.map((root) => root.subject)).toEqual(['O=cluster.local, CN=meshdbg test root A'])
    expect(rotating.onlySecond.map((root) => root.subject)).toEqual(['O=cluster.local, CN=meshdbg test root B'])
    const disjoint = compareRoots(roots('webapp.secrets.json'), roots('sleep.secrets.json'))
    expect([disjoint.shared.length, disjoint.onlyFirst.length, disjoint.onlySecond.length]).toEqual([0, 1, 1])
  })

  it('ignores PEM formatting and order: the same roots re-wrapped compare identical', () => {
    const rewrapped = (read('root-b.pem') + read('root-a.pem')).replace(/\n(?!-)/g, '\r\n')
    const dump = {configs: [{'@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump', dynamic_active_secrets: [{name: 'ROOTCA', secret: {name: 'ROOTCA', validation_context: {trusted_ca: {inline_bytes: Buffer.from(rewrapped).toString('base64')}}}}]}]}
    const other = meshRoots(secretCertificateRows(requireSection(parseConfigDump(JSON.stringify(dump), 'x'), 'Secrets'), {now: AT}))!
    expect(compareRoots(roots('catalog.secrets.json'), other).identical).toBe(true)
  })

  it('has no roots without a ROOTCA secret', () => {
    expect(meshRoots(rowsOf('webapp.secrets.json').filter((row) => row.resource !== 'ROOTCA'))).toBeUndefined()
  })
})
