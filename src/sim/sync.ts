// istiod's view of its connected proxies: nonces per xDS type, derived from the model.
import {createHash} from 'node:crypto'
import type {Scenario, SimPod, SyncState, XdsType} from './model.js'

export const TYPE_URLS: Record<XdsType, string> = {
  cds: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  lds: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  rds: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  eds: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  ecds: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
}
/** What ztunnel watches (pilot/pkg/xds/v3/model.go AddressType, WorkloadAuthorizationType). */
export const AMBIENT_TYPE_URLS = {
  wds: 'type.googleapis.com/istio.workload.Address',
  wads: 'type.googleapis.com/istio.security.Authorization',
} as const
export type AmbientXdsType = keyof typeof AMBIENT_TYPE_URLS
const FLAT: Record<XdsType, string> = {cds: 'cluster', lds: 'listener', rds: 'route', eds: 'endpoint', ecds: 'extensionconfig'}

/** A proxy as istiod knows it (a pod of this cluster, or a remote one without a pod here). */
export interface ConnectedProxy {
  id: string // <pod>.<namespace>
  clusterId: string
  /** model.NodeType (pilot/pkg/model/context.go): from the first argument after `proxy`. */
  type: 'sidecar' | 'router' | 'waypoint' | 'ztunnel'
  istioVersion: string
  istiod: string
  sync: Partial<Record<XdsType, SyncState>>
  syncError?: string
  pod?: SimPod
  ip: string
  connectedAt: string
  /** A live mesh's real nonces and send times per type (src/sim/xds.ts); scripted from `sync` otherwise. */
  live?: Partial<Record<XdsType, {sent?: string; acked?: string; error?: string; sentAt: string}>>
  /** A ztunnel's WDS and WADS; it watches no Envoy type. */
  ambient?: Record<AmbientXdsType, SyncState>
}

export function nonce(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export function connectedProxies(scenario: Scenario, istiod?: string): ConnectedProxy[] {
  const fromPods: ConnectedProxy[] = scenario.pods.filter((p) => p.proxy?.istiod && p.phase === 'Running').flatMap((p): ConnectedProxy[] => {
    const type = p.containers.find((c) => c.name === 'istio-proxy')?.args?.[1] === 'waypoint' ? 'waypoint' as const : p.proxy!.kind
    const base = {id: `${p.name}.${p.namespace}`, clusterId: scenario.clusterId, type, istioVersion: p.proxy!.istioVersion, istiod: p.proxy!.istiod!, pod: p, ip: p.ip}
    if (!scenario.xds) {
      return [{...base, sync: p.proxy!.sync ?? {cds: 'SYNCED', lds: 'SYNCED', eds: 'SYNCED', rds: 'SYNCED'}, syncError: p.proxy!.syncError, connectedAt: scenario.now}]
    }
    const live = scenario.xds.status(p)
    if (!live) return []
    // pilot/pkg/xds/statusgen.go debugSyncStatus: ERROR for a NACK arrived after 1.20 (1.24 has it); before, STALE.
    const istiodVersion = scenario.pods.find((x) => x.name === p.proxy!.istiod)?.istiod?.version ?? '1.24.0'
    const nackIsError = minorOf(istiodVersion) >= 24
    const sync: Partial<Record<XdsType, SyncState>> = {ecds: 'NOT_SENT'}
    for (const [type, s] of Object.entries(live) as Array<[XdsType, NonNullable<typeof live[XdsType]>]>) {
      sync[type] = !s.sent ? 'NOT_SENT' : s.acked === s.sent ? 'SYNCED' : s.error && nackIsError ? 'ERROR' : s.acked ? 'STALE' : 'STALE_NEVER_ACKED'
    }
    const first = Object.values(live).map((s) => s!.sentAt).sort()[0] ?? new Date().toISOString()
    return [{...base, sync, live, connectedAt: first}]
  })
  // ztunnels connect to istiod too (pilot/pkg/xds/debug.go reports them with proxy_type ztunnel).
  const firstIstiod = scenario.pods.filter((p) => p.istiod).map((p) => p.name).sort()[0]
  const ztunnels: ConnectedProxy[] = scenario.pods.filter((p) => p.ztunnel && p.phase === 'Running' && firstIstiod).map((p) => ({
    id: `${p.name}.${p.namespace}`, clusterId: scenario.clusterId, type: 'ztunnel', istioVersion: p.ztunnel!.version, istiod: firstIstiod, pod: p, ip: p.ip,
    sync: {}, connectedAt: scenario.now,
    ambient: {wds: scenario.ambient?.staleZtunnels.includes(p.nodeName ?? '') ? 'STALE' : 'SYNCED', wads: 'SYNCED'},
  }))
  const all = [...fromPods, ...ztunnels, ...(scenario.remoteProxies ?? [])]
  return (istiod ? all.filter((p) => p.istiod === istiod) : all).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

export interface TypeStatus {sent?: string; acked?: string; error?: string; state: SyncState}

export function typeStatus(proxy: ConnectedProxy, type: XdsType): TypeStatus | undefined {
  const state = proxy.sync[type]
  if (state === undefined) return undefined
  const live = proxy.live?.[type]
  if (live) return {sent: live.sent, acked: live.acked, error: live.error, state}
  if (proxy.live) return {state}
  const current = nonce(`${proxy.id}/${type}/2`)
  const previous = nonce(`${proxy.id}/${type}/1`)
  switch (state) {
    case 'SYNCED': return {sent: current, acked: current, state}
    case 'NOT_SENT': return {state}
    case 'STALE': return {sent: current, acked: previous, state}
    case 'STALE_NEVER_ACKED': return {sent: current, state}
    case 'ERROR': return {sent: current, acked: current, error: proxy.syncError ?? 'NACK', state}
  }
}

function ambientStatus(proxy: ConnectedProxy, type: AmbientXdsType, state: SyncState): TypeStatus {
  const current = nonce(`${proxy.id}/${type}/2`)
  return state === 'STALE' ? {sent: current, acked: nonce(`${proxy.id}/${type}/1`), state} : {sent: current, acked: current, state}
}

function minorOf(version: string): number {
  const [major, minor] = version.split('.').map(Number)
  return major > 1 ? 99 : minor
}

/**
 * One row of istiod's `/debug/syncz` flat list (pilot/pkg/xds/debug.go SyncStatus, Go json tags,
 * omitempty). A live mesh answers as its istiod's version would: `proxy_type` from 1.18 and
 * `resources` (sentTime, lastError) from 1.24; before 1.24 a NACK only shows as an unacknowledged
 * nonce. A mesh without pushes (the scale scenario) keeps every field, for the views built on it.
 */
export function syncRow(proxy: ConnectedProxy, now: string, istiodVersion = '1.24.0'): Record<string, unknown> {
  const minor = proxy.live ? minorOf(istiodVersion) : 99
  const row: Record<string, unknown> = {cluster_id: proxy.clusterId, proxy: proxy.id, ...(minor >= 18 ? {proxy_type: proxy.type} : {}), istio_version: proxy.istioVersion}
  const resources: Record<string, unknown> = {}
  for (const type of ['cds', 'lds', 'rds', 'eds', 'ecds'] as XdsType[]) {
    const s = typeStatus(proxy, type)
    if (!s) continue
    if (s.sent) row[`${FLAT[type]}_sent`] = s.sent
    if (s.acked) row[`${FLAT[type]}_acked`] = s.acked
    // pilot/pkg/xds/debug.go Syncz: one entry per watched type, sent or not (a never-sent type has
    // Go's zero sentTime). A live proxy watches the types it subscribed to; a scripted one those with a state.
    if (proxy.live && !proxy.live[type]) continue
    resources[TYPE_URLS[type]] = {...(s.sent ? {sent: s.sent} : {}), ...(s.acked ? {acked: s.acked} : {}), sentTime: s.sent || s.error ? (proxy.live?.[type]?.sentAt ?? now) : '0001-01-01T00:00:00Z', ...(s.error ? {lastError: s.error} : {})}
  }
  for (const [type, state] of Object.entries(proxy.ambient ?? {}) as Array<[AmbientXdsType, SyncState]>) {
    const s = ambientStatus(proxy, type, state)
    resources[AMBIENT_TYPE_URLS[type]] = {sent: s.sent, ...(s.acked ? {acked: s.acked} : {}), sentTime: now}
  }
  if (minor >= 24) row.resources = resources
  return row
}

/** The ClientConfig (envoy.service.status.v3) istiod builds for `istio.io/debug/syncz` over xDS. */
export function clientConfig(proxy: ConnectedProxy, now: string): Record<string, unknown> {
  const generic: Array<Record<string, unknown>> = []
  for (const type of (proxy.type === 'ztunnel' ? [] : ['cds', 'lds', 'rds', 'eds', 'ecds']) as XdsType[]) {
    const s = typeStatus(proxy, type)
    const status = !s ? 'NOT_SENT' : s.state === 'STALE_NEVER_ACKED' ? 'STALE' : s.state
    generic.push({typeUrl: TYPE_URLS[type], configStatus: status, ...(s?.error ? {errorState: {lastUpdateAttempt: now, details: s.error}} : {})})
  }
  for (const [type, state] of Object.entries(proxy.ambient ?? {}) as Array<[AmbientXdsType, SyncState]>) {
    generic.push({typeUrl: AMBIENT_TYPE_URLS[type], configStatus: ambientStatus(proxy, type, state).state})
  }
  const namespace = proxy.id.slice(proxy.id.lastIndexOf('.') + 1)
  return {'@type': 'type.googleapis.com/envoy.service.status.v3.ClientConfig', node: {id: proxy.id, metadata: {CLUSTER_ID: proxy.clusterId, NAMESPACE: namespace, ISTIO_VERSION: proxy.istioVersion}}, genericXdsConfigs: generic}
}
