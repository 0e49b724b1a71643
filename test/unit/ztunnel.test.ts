import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {MeshdbgError} from '../../src/lib/errors.js'
import {certificateProblems, parseWarnWithin} from '../../src/lib/ztunnel/certs.js'
import {goField, parseZtunnelDump} from '../../src/lib/ztunnel/dump.js'
import {
  allSummary,
  certificateRows,
  connectionRows,
  formatTimeLeft,
  parseRfc3339,
  renderAllSummary,
  renderCertificateTable,
  renderConnectionTable,
  renderWorkloadTable,
  serialHex,
  serviceRows,
  splitHostPort,
  workloadRows,
} from '../../src/lib/ztunnel/tables.js'

const fixtures = join(__dirname, '..', 'fixtures', 'ztunnel')
const load = (name: string) => parseZtunnelDump({text: readFileSync(join(fixtures, name), 'utf8'), origin: name})
// Inside the leaf's one-day validity (2026-06-01..02), so VALID CERT is true for every cert.
const NOW = Date.UTC(2026, 5, 1, 12)

describe('ztunnel dump shapes', () => {
  it('reads the same mesh from the 1.21 stores, the 1.22 maps and the 1.30 sorted lists', () => {
    const shapes = ['dump-1.21.json', 'dump-1.22.json', 'dump-1.30.json'].map(load)
    const workloads = shapes.map((dump) => renderWorkloadTable(workloadRows(dump, {})))
    expect(workloads[0]).toBe(workloads[2])
    expect(workloads[1]).toBe(workloads[2])
    const services = shapes.map((dump) => serviceRows(dump, {}))
    expect(services[0]).toEqual(services[2])
    expect(services[1]).toEqual(services[2])
    // ca_cert (1.21), the chain's last entry (1.22..1.25) and rootCerts (1.26) are all the Root row.
    const certs = shapes.map((dump) => renderCertificateTable(certificateRows(dump, NOW)))
    expect(certs[0]).toBe(certs[2])
    expect(certs[1]).toBe(certs[2])
  })

  it('renders every table of the 1.30 shape as istioctl 1.30 does', () => {
    const text = renderAllSummary(allSummary(load('dump-1.30.json'), NOW), {withHeaders: true})
    expect(text).toBe(readFileSync(join(fixtures, 'all-with-headers.txt'), 'utf8'))
  })

  it('matches keys as Go does: any case, the last matching key winning', () => {
    expect(goField({workloadState: 1, workloadstate: 2}, 'workloadState')).toBe(2)
    expect(goField({WORKLOADS: [1]}, 'workloads')).toEqual([1])
    const dump = parseZtunnelDump({text: JSON.stringify({Workloads: [{Name: 'a', NameSpace: 'ns', workloadips: ['10.0.0.1'], status: null}], workloadstate: {}}), origin: 'x'})
    expect(dump.workloads[0]).toMatchObject({name: 'a', namespace: 'ns', workloadIps: ['10.0.0.1'], status: ''})
  })

  it('rejects what is not a ztunnel dump with exit 6 and says why', () => {
    const parse = (text: string) => () => parseZtunnelDump({text, origin: 'f.json'})
    expect(parse('{"configs": []}')).toThrowError(/Envoy config dump, not ztunnel's/)
    expect(parse('[1]')).toThrowError(/the document is a list/)
    expect(parse('{"workloads": 3}')).toThrowError(/workloads is a number, expected a list or a map/)
    expect(parse('{"workloads": [{"name": 7}]}')).toThrowError(/workloads\[0\]\.name is a number/)
    try {
      parse('{')()
    } catch (error) {
      expect((error as MeshdbgError).exitCode).toBe(6)
    }
  })
})

describe('ztunnel tables', () => {
  it('narrows workloads to an application pod, and filters address and node ignoring case', () => {
    const dump = load('dump-1.30.json')
    expect(workloadRows(dump, {name: 'API-5C4D7B8F9-FGHIJ', namespace: 'shop'}).map((row) => row.name)).toEqual(['api-5c4d7b8f9-fghij'])
    expect(workloadRows(dump, {node: 'NODE-B'}).map((row) => row.name)).toEqual(['api-5c4d7b8f9-fghij', 'shop-waypoint-6f7c9d8b4-pqrst'])
    expect(workloadRows(dump, {address: '10.244.1.14'}).map((row) => row.name)).toEqual(['old-6b8d9c7f5-uvwxy'])
  })

  it('connections: direction, raw addresses and a name.namespace workload', () => {
    const dump = load('dump-1.30.json')
    const outbound = renderConnectionTable(connectionRows(dump, {direction: 'outbound', raw: true, workload: 'web-7d9f8c6b5-abcde.shop'}))
    expect(outbound).toBe(
      [
        'WORKLOAD                 DIRECTION LOCAL             REMOTE            REMOTE TARGET    PROTOCOL',
        'web-7d9f8c6b5-abcde.shop Outbound  10.244.1.10:52000 10.244.2.11:15008 10.96.0.11:9080  HBONE',
        'web-7d9f8c6b5-abcde.shop Outbound  10.244.1.10:52002 203.0.113.9:5432  203.0.113.9:5432 TCP',
        '',
      ].join('\n'),
    )
  })

  it('prints serials as Go prints a *big.Int, and dates as Go parses RFC 3339', () => {
    expect(serialHex('305554775863395697262503895661564044819')).toBe('e5dfb59150b2ba7f108d93dcec5aa613')
    expect(serialHex('-255')).toBe('-ff')
    expect(serialHex('')).toBe('<nil>')
    expect(serialHex('0x10')).toBe('<nil>')
    expect(parseRfc3339('2026-06-01T02:00:00+02:00')).toBe(Date.UTC(2026, 5, 1))
    expect(parseRfc3339('2026-02-30T00:00:00Z')).toBeUndefined()
    expect(parseRfc3339('2026-06-01 00:00:00Z')).toBeUndefined()
  })

  it('splits host and port as net.SplitHostPort', () => {
    expect(splitHostPort('10.0.0.1:80')).toEqual({host: '10.0.0.1', port: '80'})
    expect(splitHostPort('[fd00::1]:80')).toEqual({host: 'fd00::1', port: '80'})
    expect(splitHostPort('fd00::1')).toBeUndefined()
    expect(splitHostPort('web.shop.svc.cluster.local')).toBeUndefined()
  })
})

describe('certificate time left', () => {
  it('formats the two largest units, and how long ago it expired', () => {
    expect(formatTimeLeft(89 * 86_400_000 + 4 * 3_600_000 + 59_000)).toBe('89d4h')
    expect(formatTimeLeft(5 * 3_600_000 + 3 * 60_000 + 7_000)).toBe('5h3m')
    expect(formatTimeLeft(2 * 86_400_000 + 30_000)).toBe('2d')
    expect(formatTimeLeft(42_500)).toBe('42s')
    expect(formatTimeLeft(-(2 * 86_400_000 + 3 * 3_600_000))).toBe('expired 2d3h ago')
  })

  it('--warn-within takes days and Go durations, and flags expiring, invalid and missing certificates', () => {
    expect(parseWarnWithin('7d')).toBe(7 * 86_400_000)
    expect(parseWarnWithin('1d12h')).toBe(36 * 3_600_000)
    expect(parseWarnWithin('90m')).toBe(90 * 60_000)
    expect(() => parseWarnWithin('soon')).toThrowError(/invalid --warn-within "soon"/)
    const rows = certificateRows(load('dump-1.30.json'), NOW)
    // The leaf has 12h left: within 1d, not within 6h; the identity without a certificate always counts.
    expect(certificateProblems(rows, 86_400_000).map((row) => `${row.type} ${row.identity}`)).toEqual([
      'Leaf spiffe://cluster.local/ns/shop/sa/web',
      'NA spiffe://cluster.local/ns/shop/sa/api',
    ])
    expect(certificateProblems(rows, 6 * 3_600_000).map((row) => row.type)).toEqual(['NA'])
  })
})

describe('zc all --no-headers', () => {
  it('leaves out each table\'s header and the banners, keeping the blank lines between tables', () => {
    const summary = allSummary(load('dump-1.30.json'), NOW)
    const text = renderAllSummary(summary, {withHeaders: true, noHeaders: true})
    expect(text).not.toMatch(/NAMESPACE|CERTIFICATE NAME|WORKLOAD +DIRECTION|------/)
    expect(text.split('\n\n')).toHaveLength(5)
    expect(text.startsWith('\nlegacy    external-db')).toBe(true)
  })
})
