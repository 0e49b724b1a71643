import {describe, expect, it} from 'vitest'
import {parseSyncStatus, rowsWithStates, syncStatusData} from '../../src/lib/istio/sync-status.js'
import {renderSyncStatusTable} from '../../src/lib/render/sync-status-table.js'

const NOW = Date.parse('2026-01-01T12:00:00Z')
const SENT = '2026-01-01T11:59:00Z'
const WDS = 'type.googleapis.com/istio.workload.Address'
const WADS = 'type.googleapis.com/istio.security.Authorization'

// pilot/pkg/xds/debug.go SyncStatus: a ztunnel watches only WDS/WADS, so no <type>_sent fields.
const flat = JSON.stringify([
  {cluster_id: 'Kubernetes', proxy: 'ztunnel-abcde.istio-system', proxy_type: 'ztunnel', istio_version: '1.30.0',
    resources: {[WDS]: {sent: 'n2', acked: 'n1', sentTime: SENT}, [WADS]: {sent: 'a1', acked: 'a1', sentTime: SENT}}},
  {cluster_id: 'Kubernetes', proxy: 'waypoint-x.bookinfo', proxy_type: 'waypoint', istio_version: '1.30.0', cluster_sent: 'c', cluster_acked: 'c'},
])

describe('ambient sync status', () => {
  it('reads a ztunnel\'s WDS/WADS from /debug/syncz and keeps the proxy type', () => {
    const rows = parseSyncStatus(flat, 'syncz.json', 'istiod-1', {now: NOW})
    expect(rows[0].proxyType).toBe('ztunnel')
    expect(rows[0].types.CDS.state).toBe('IGNORED')
    expect(rows[0].ambientTypes?.WDS).toMatchObject({state: 'STALE', display: 'STALE (60s)', typeUrl: WDS})
    expect(rows[0].ambientTypes?.WADS?.state).toBe('SYNCED')
    expect(rows[1].ambientTypes).toBeUndefined()
    expect(rowsWithStates(rows, new Set(['STALE'] as const)).map((r) => r.proxy)).toEqual(['ztunnel-abcde.istio-system'])
    expect(syncStatusData(rows)[0].ambientTypes).toEqual({WDS: {state: 'STALE', typeUrl: WDS, lastUpdated: SENT}, WADS: {state: 'SYNCED', typeUrl: WADS, lastUpdated: SENT}})
  })

  it('a ClientConfig watching WDS is a ztunnel', () => {
    const response = JSON.stringify({resources: [{'@type': 'type.googleapis.com/envoy.service.status.v3.ClientConfig', node: {id: 'ztunnel-abcde.istio-system', metadata: {CLUSTER_ID: 'Kubernetes', ISTIO_VERSION: '1.30.0'}},
      genericXdsConfigs: [{typeUrl: WDS, configStatus: 'SYNCED'}, {typeUrl: WADS, configStatus: 'ERROR', errorState: {details: 'bad policy'}}]}]})
    const [row] = parseSyncStatus(response, 'cc.json', 'istiod-1', {now: NOW})
    expect([row.proxyType, row.ambientTypes?.WDS?.state, row.ambientTypes?.WADS?.state, row.types.LDS.state]).toEqual(['ztunnel', 'SYNCED', 'ERROR', 'IGNORED'])
    expect(renderSyncStatusTable([row], {wide: true}).split('\n')[1]).toMatch(/ERROR +istiod-1 +1\.30\.0 +ztunnel +WADS: bad policy$/)
  })

  it('the table gains WDS and WADS only when a ztunnel is listed; -o wide adds TYPE', () => {
    const rows = parseSyncStatus(flat, 'syncz.json', 'istiod-1', {now: NOW})
    expect(renderSyncStatusTable(rows, {wide: true})).toBe(
      'NAME                           CLUSTER        CDS         LDS          EDS          RDS          ECDS         WDS             WADS             ISTIOD       VERSION     TYPE         NACK\n' +
      'ztunnel-abcde.istio-system     Kubernetes     IGNORED     IGNORED      IGNORED      IGNORED      IGNORED      STALE (60s)     SYNCED (60s)     istiod-1     1.30.0      ztunnel      -\n' +
      'waypoint-x.bookinfo            Kubernetes     SYNCED      NOT SENT     NOT SENT     NOT SENT     NOT SENT     IGNORED         IGNORED          istiod-1     1.30.0      waypoint     -\n')
    expect(renderSyncStatusTable(rows.slice(1)).split('\n')[0]).not.toContain('WDS')
  })
})
