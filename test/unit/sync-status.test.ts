import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {
  controlPlaneId,
  humanDuration,
  istiodNameFromFile,
  mergeSyncStatus,
  parseFailOn,
  parseSyncStatus,
  rowsWithStates,
  SYNC_TYPES,
  type SyncStatusRow,
} from '../../src/lib/istio/sync-status.js'
import {renderSyncStatusTable} from '../../src/lib/render/sync-status-table.js'
import {projectRoot} from '../helpers/cli.js'

const fixture = (name: string) => readFileSync(join(projectRoot, 'test', 'fixtures', 'syncz', name), 'utf8')
// Two hours after the newest send time in the fixtures: ages are fixed.
const NOW = Date.parse('2026-01-10T12:00:00Z')
const parse = (name: string, istiod = 'from-file') => parseSyncStatus(fixture(name), name, istiod, {now: NOW})
const displays = (row: SyncStatusRow) => SYNC_TYPES.map((type) => row.types[type].display)
const byProxy = (rows: SyncStatusRow[], prefix: string) => rows.find((row) => row.proxy.startsWith(prefix))!

describe('humanDuration (k8s HumanDuration)', () => {
  it.each([
    [-2500, '<invalid>'],
    [-1500, '0s'],
    [0, '0s'],
    [4_900, '4s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [125_000, '2m5s'],
    [9 * 60_000 + 59_000, '9m59s'],
    [10 * 60_000 + 30_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000, '3h'],
    [3 * 3_600_000 + 5 * 60_000, '3h5m'],
    [8 * 3_600_000 + 5 * 60_000, '8h'],
    [47 * 3_600_000, '47h'],
    [48 * 3_600_000, '2d'],
    [50 * 3_600_000, '2d2h'],
    [8 * 86_400_000 + 3_600_000, '8d'],
    [729 * 86_400_000, '729d'],
    [730 * 86_400_000, '2y'],
    [735 * 86_400_000, '2y5d'],
    [9 * 365 * 86_400_000, '9y'],
  ])('%d ms -> %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text)
  })
})

describe('parseSyncStatus: flat /debug/syncz list', () => {
  const rows = parse('flat-statuses.json')

  it('derives every status from the nonces', () => {
    expect(displays(byProxy(rows, 'reviews'))).toEqual(['SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'NOT SENT'])
    // cluster sent != acked; listener sent, never acked.
    expect(displays(byProxy(rows, 'productpage'))).toEqual(['STALE', 'STALE (Never Acknowledged)', 'SYNCED', 'SYNCED', 'SYNCED'])
  })

  it('shows a type never sent to a ztunnel as IGNORED, and NOT SENT for others', () => {
    expect(displays(byProxy(rows, 'ztunnel'))).toEqual(['IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED'])
    expect(byProxy(rows, 'istio-ingressgateway').types.RDS.state).toBe('NOT SENT')
  })

  it('falls back to <proxy_version>* when istiod did not report the Istio version', () => {
    expect(byProxy(rows, 'istio-ingressgateway').version).toBe('1.1.0*')
    expect(byProxy(rows, 'reviews').version).toBe('1.19.3')
  })

  it('takes cluster, proxy type and namespace (from <pod>.<ns>) from the entry, and the istiod from the caller', () => {
    const row = byProxy(rows, 'reviews')
    expect(row).toMatchObject({clusterId: 'Kubernetes', proxyType: 'sidecar', namespace: 'bookinfo', istiod: 'from-file'})
  })

  it('has no ages: the legacy nonce fields carry no times', () => {
    expect(rows.every((row) => SYNC_TYPES.every((type) => row.types[type].lastUpdated === undefined))).toBe(true)
  })
})

describe('parseSyncStatus: flat list with the resources map (1.24+)', () => {
  const [row] = parse('flat-resources.json')

  it('prefers the map, reports a NACK as ERROR with its message, and adds ages from sentTime', () => {
    expect(displays(row)).toEqual(['SYNCED (4s)', 'ERROR (4m59s)', 'SYNCED (2d)', 'SYNCED (150m)', 'NOT SENT'])
    expect(row.types.LDS.error).toBe('Error adding/updating listener(s) virtualInbound: duplicate filter chain match')
  })

  it('treats Go\'s zero sentTime as never sent (no age)', () => {
    expect(row.types.ECDS).toMatchObject({state: 'NOT SENT', display: 'NOT SENT'})
    expect(row.types.ECDS.lastUpdated).toBeUndefined()
  })

  it('uses a later now for later ages (the clock is a parameter)', () => {
    const later = parseSyncStatus(fixture('flat-resources.json'), 'x', 'x', {now: NOW + 3_600_000})
    expect(later[0].types.CDS.display).toBe('SYNCED (60m)')
  })
})

describe('parseSyncStatus: ClientConfig discovery response', () => {
  const rows = parse('istiod-a.json')

  it('names the istiod by the control-plane ID, not the file', () => {
    expect(rows.map((row) => row.istiod)).toEqual(['istiod-a-6b7c8d9f-k2j4h', 'istiod-a-6b7c8d9f-k2j4h'])
  })

  it('maps configStatus with ages, NOT_SENT without age, absent and UNKNOWN types as IGNORED', () => {
    expect(displays(byProxy(rows, 'web'))).toEqual(['SYNCED (4s)', 'ERROR (60m)', 'STALE (2m30s)', 'NOT SENT', 'IGNORED'])
    expect(displays(byProxy(rows, 'api'))).toEqual(['SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'IGNORED'])
  })

  it('keeps the NACK details of an ERROR', () => {
    expect(byProxy(rows, 'web').types.LDS.error).toBe('Proto constraint validation failed')
  })

  it('reads cluster, version and namespace from node metadata', () => {
    expect(byProxy(rows, 'api')).toMatchObject({clusterId: 'Kubernetes', version: '1.25.2', namespace: 'payments'})
  })
})

describe('parseSyncStatus: bare ClientConfig list (pilot-agent :15004)', () => {
  const rows = parse('agent-clientconfigs.json', 'agent')

  it('maps the legacy xdsConfig entries by which config field is set', () => {
    expect(displays(byProxy(rows, 'legacy-app'))).toEqual(['SYNCED', 'SYNCED', 'NOT SENT', 'STALE', 'IGNORED'])
  })

  it('reads snake_case field names and shows UNKNOWN (ztunnel) as IGNORED', () => {
    expect(displays(byProxy(rows, 'ztunnel'))).toEqual(['IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED'])
    expect(byProxy(rows, 'ztunnel').namespace).toBe('istio-system')
  })

  it('uses the caller\'s istiod name when the response names none', () => {
    expect(rows.every((row) => row.istiod === 'agent')).toBe(true)
  })
})

describe('parseSyncStatus: unusable input', () => {
  it.each([
    ['truncated JSON', fixture('truncated.json'), /not valid JSON \(truncated\?\)/],
    ['an HTML page', '<html><body>404</body></html>', /HTML page/],
    ['a string', '"syncz"', /got a JSON string/],
    ['an object without resources', '{"kind":"Pod"}', /without "resources"/],
    ['a list of something else', '[{"name":"x"}]', /element 0 is neither/],
  ])('rejects %s as bad data (exit 6)', (_, text, message) => {
    let error: unknown
    try {
      parseSyncStatus(text, 'in.json', 'x', {now: NOW})
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({kind: 'bad-data', exitCode: 6})
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).toMatch(/^in\.json: /)
  })

  it('accepts an empty list (no proxies)', () => {
    expect(parseSyncStatus('[]', 'x', 'x', {now: NOW})).toEqual([])
  })
})

describe('mergeSyncStatus', () => {
  const sources = [
    {istiod: 'istiod-a', text: fixture('istiod-a.json')},
    {istiod: 'istiod-b', text: fixture('istiod-b.json')},
  ]

  it('merges several istiods and sorts by proxy', () => {
    const rows = mergeSyncStatus(sources, {now: NOW})
    expect(rows.map((row) => `${row.proxy} ${row.istiod}`)).toEqual([
      'api-5f6g7h8j9-aa1bb.payments istiod-a-6b7c8d9f-k2j4h',
      'cart-6d5c4b3a2-pp0oo.shop istiod-b',
      'web-7c8d9f6b5-zz9yx.shop istiod-a-6b7c8d9f-k2j4h',
    ])
  })

  it('breaks ties on the same proxy by cluster, then istiod', () => {
    const twice = [
      {istiod: 'istiod-z', text: fixture('istiod-b.json')},
      {istiod: 'istiod-m', text: fixture('istiod-b.json')},
    ]
    expect(mergeSyncStatus(twice, {now: NOW}).map((row) => row.istiod)).toEqual(['istiod-m', 'istiod-z'])
  })

  it('filters by the proxy\'s namespace (metadata NAMESPACE or <pod>.<ns>)', () => {
    expect(mergeSyncStatus(sources, {now: NOW, namespace: 'shop'}).map((row) => row.proxy)).toEqual([
      'cart-6d5c4b3a2-pp0oo.shop',
      'web-7c8d9f6b5-zz9yx.shop',
    ])
    expect(mergeSyncStatus(sources, {now: NOW, namespace: 'nowhere'})).toEqual([])
  })

  it('names the failing file in errors', () => {
    expect(() => mergeSyncStatus([{istiod: 'bad', text: '{', origin: 'bad.json'}], {now: NOW})).toThrow(/^bad\.json: /)
  })
})

describe('VERSION when the ClientConfig carries no ISTIO_VERSION (istiod 1.14 to 1.18)', () => {
  const response = (metadata: Record<string, string>) =>
    JSON.stringify({
      versionInfo: '1.1',
      resources: [
        {
          '@type': 'type.googleapis.com/envoy.service.status.v3.ClientConfig',
          node: {id: 'proxy1.ns', metadata},
          genericXdsConfigs: [{typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', configStatus: 'SYNCED'}],
        },
      ],
      controlPlane: {identifier: JSON.stringify({Component: 'istiod', ID: 'istiod-1', Info: {version: '1.17.2'}})},
    })

  it("falls back to the istiod's Info.version from controlPlane.identifier, as istioctl up to 1.18", () => {
    const [row] = parseSyncStatus(response({CLUSTER_ID: 'Kubernetes'}), 'f', 'f', {now: NOW})
    expect(row).toMatchObject({proxy: 'proxy1.ns', clusterId: 'Kubernetes', istiod: 'istiod-1', version: '1.17.2'})
  })

  it("keeps the proxy's own ISTIO_VERSION when there is one", () => {
    const [row] = parseSyncStatus(response({CLUSTER_ID: 'Kubernetes', ISTIO_VERSION: '1.20.1'}), 'f', 'f', {now: NOW})
    expect(row.version).toBe('1.20.1')
  })
})

describe('controlPlaneId, istiodNameFromFile', () => {
  it('reads the ID from the identifier JSON string, and nothing from a malformed one', () => {
    expect(controlPlaneId({controlPlane: {identifier: '{"Component":"istiod","ID":"istiod-1"}'}})).toBe('istiod-1')
    expect(controlPlaneId({control_plane: {identifier: '{"ID":"istiod-2"}'}})).toBe('istiod-2')
    expect(controlPlaneId({controlPlane: {identifier: 'not json'}})).toBeUndefined()
    expect(controlPlaneId({})).toBeUndefined()
  })

  it('drops the directory and the last extension', () => {
    expect(istiodNameFromFile('dumps/istiod-7f9c.json')).toBe('istiod-7f9c')
    expect(istiodNameFromFile('istiod.v2.json')).toBe('istiod.v2')
    expect(istiodNameFromFile('istiod')).toBe('istiod')
  })
})

describe('--fail-on', () => {
  const rows = parse('flat-statuses.json')

  it('maps classes to states and reports unknown ones', () => {
    const parsed = parseFailOn('stale, error,bogus')
    expect([...parsed.states].sort()).toEqual(['ERROR', 'STALE', 'STALE (Never Acknowledged)'])
    expect(parsed.unknown).toEqual(['bogus'])
  })

  it('finds the rows with a listed status', () => {
    expect(rowsWithStates(rows, parseFailOn('stale').states).map((row) => row.proxy)).toEqual(['productpage-v1-6c9f8d7b5-q7w4e.bookinfo'])
    expect(rowsWithStates(rows, parseFailOn('error').states)).toEqual([])
    expect(rowsWithStates(rows, parseFailOn('not-sent').states)).toHaveLength(2)
  })
})

describe('renderSyncStatusTable', () => {
  const rows = mergeSyncStatus([{istiod: 'istiod-b', text: fixture('istiod-b.json')}], {now: NOW})

  it('lays out the 9-column table with padding 5', () => {
    expect(renderSyncStatusTable(rows)).toBe(
      'NAME                          CLUSTER        CDS        LDS        EDS        RDS        ECDS         ISTIOD       VERSION\n' +
        'cart-6d5c4b3a2-pp0oo.shop     Kubernetes     SYNCED     SYNCED     SYNCED     SYNCED     NOT SENT     istiod-b     1.25.2\n',
    )
  })

  it('prints only the header for no proxies', () => {
    expect(renderSyncStatusTable([])).toBe('NAME     CLUSTER     CDS     LDS     EDS     RDS     ECDS     ISTIOD     VERSION\n')
  })

  it('colours statuses only when asked, without moving columns', () => {
    const plain = renderSyncStatusTable(rows)
    const coloured = renderSyncStatusTable(rows, {color: true})
    expect(plain).not.toContain('\u001B[')
    expect(coloured).toContain('\u001B[32mSYNCED\u001B[0m')
    expect(coloured).toContain('\u001B[2mNOT SENT\u001B[0m')
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001B\[\d+m/g, '')).toBe(plain)
  })
})
