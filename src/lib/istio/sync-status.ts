import {byteCompare} from '../compare.js'
import {badDataError} from '../errors.js'
import {parseJsonText} from '../envoy/configdump.js'
import {arrayField, enumField, field, stringField, type Json} from '../envoy/fields.js'

/**
 * istiod's xDS sync status, read from either shape it comes in:
 * - the flat `/debug/syncz` list (`proxy`, `cluster_id`, `<type>_sent`/`<type>_acked` nonces and,
 *   from 1.24, a `resources` map per type URL with `sentTime` and `lastError`);
 * - ClientConfig objects (`node`, `genericXdsConfigs[]` or the legacy `xdsConfig[]`), either inside
 *   a DiscoveryResponse (`resources[]`, `controlPlane.identifier`) or as a bare list/object.
 * Pure: the caller supplies the bytes, the istiod name to fall back on and the clock.
 */

export const SYNC_TYPES = ['CDS', 'LDS', 'EDS', 'RDS', 'ECDS'] as const
export type SyncType = (typeof SYNC_TYPES)[number]

export const SYNC_TYPE_URLS: Readonly<Record<SyncType, string>> = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  ECDS: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
}

/**
 * What a ztunnel watches instead of Envoy's types: WDS (workloads and services) and WADS
 * (authorization policies), pilot/pkg/xds/v3/model.go AddressType and WorkloadAuthorizationType.
 */
export const AMBIENT_SYNC_TYPES = ['WDS', 'WADS'] as const
export type AmbientSyncType = (typeof AMBIENT_SYNC_TYPES)[number]
export const AMBIENT_TYPE_URLS: Readonly<Record<AmbientSyncType, string>> = {
  WDS: 'type.googleapis.com/istio.workload.Address',
  WADS: 'type.googleapis.com/istio.security.Authorization',
}

/** The prefix of the flat form's `<prefix>_sent` / `<prefix>_acked` fields. */
const FLAT_PREFIX: Readonly<Record<SyncType, string>> = {
  CDS: 'cluster',
  LDS: 'listener',
  EDS: 'endpoint',
  RDS: 'route',
  ECDS: 'extensionconfig',
}

/** The legacy ClientConfig `xdsConfig[]` entries name their type by which field is set. */
const LEGACY_CONFIG_FIELD: ReadonlyArray<[string, SyncType]> = [
  ['listener_config', 'LDS'],
  ['cluster_config', 'CDS'],
  ['route_config', 'RDS'],
  ['endpoint_config', 'EDS'],
]

export type SyncState = 'SYNCED' | 'NOT SENT' | 'STALE' | 'STALE (Never Acknowledged)' | 'ERROR' | 'IGNORED'

/** envoy.service.status.v3.ConfigStatus, in number order (absent = UNKNOWN). */
const CONFIG_STATUS = ['UNKNOWN', 'SYNCED', 'NOT_SENT', 'STALE', 'ERROR'] as const

export interface SyncTypeStatus {
  state: SyncState
  /** What the table shows: the state plus ` (<age>)` when the data carries a send time. */
  display: string
  typeUrl: string
  /** RFC 3339 time istiod last sent this type, when the data says. */
  lastUpdated?: string
  /** The NACK message, for ERROR. */
  error?: string
  /**
   * Whether the proxy subscribes to (watches) this type, when istiod says: from the syncz
   * `resources` map (1.23+, one entry per watched type) or from `/debug/adsz` `watches` (older
   * istiods, asked only for --fail-on not-sent). Absent: unknown.
   */
  subscribed?: boolean
}

export interface SyncStatusRow {
  /** The kubeconfig context the row came from, when several clusters were asked (--context repeated, --all-contexts). */
  context?: string
  /** The proxy ID, `<pod>.<namespace>` for Kubernetes workloads. */
  proxy: string
  /** From NAMESPACE metadata, else the part after the last '.' of the proxy ID. */
  namespace?: string
  clusterId: string
  proxyType?: string
  istiod: string
  version: string
  types: Record<SyncType, SyncTypeStatus>
  /** A ztunnel's WDS and WADS (only the types istiod reports for this proxy). */
  ambientTypes?: Partial<Record<AmbientSyncType, SyncTypeStatus>>
}

export interface SyncSource {
  /** The istiod this response came from, used when the response does not name its control plane. */
  istiod: string
  text: string
  /** Where the text came from, for error messages (default: the istiod name). */
  origin?: string
}

export interface SyncParseOptions {
  /** Milliseconds since the epoch, for ages. */
  now: number
}

/** k8s `duration.HumanDuration`, which istioctl uses for the `(age)` suffix. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.trunc(ms / 60_000)
  if (minutes < 10) {
    const s = seconds % 60
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`
  }
  if (minutes < 180) return `${minutes}m`
  const hours = Math.trunc(ms / 3_600_000)
  if (hours < 8) {
    const m = minutes % 60
    return m === 0 ? `${hours}h` : `${hours}h${m}m`
  }
  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) {
    const h = hours % 24
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24) % 365
    const years = Math.trunc(hours / 24 / 365)
    return days === 0 ? `${years}y` : `${years}y${days}d`
  }
  return `${Math.trunc(hours / 24 / 365)}y`
}

/** A usable send time: present, parsable, and not Go's zero time (`sentTime` of a type never sent). */
function sendTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || value.startsWith('0001-01-01')) return undefined
  return Number.isNaN(Date.parse(value)) ? undefined : value
}

function typeStatus(type: SyncType | AmbientSyncType, state: SyncState, options: SyncParseOptions, lastUpdated?: string, error?: string): SyncTypeStatus {
  const withAge = lastUpdated !== undefined && state !== 'NOT SENT' && state !== 'IGNORED'
  const status: SyncTypeStatus = {
    state,
    display: withAge ? `${state} (${humanDuration(options.now - Date.parse(lastUpdated))})` : state,
    typeUrl: type === 'WDS' || type === 'WADS' ? AMBIENT_TYPE_URLS[type] : SYNC_TYPE_URLS[type],
  }
  if (lastUpdated !== undefined) status.lastUpdated = lastUpdated
  if (error) status.error = error
  return status
}

/** Status from a pair of nonces (the flat form), as istioctl computed it before 1.22. */
function nonceState(sent: string, acked: string, ztunnel: boolean): SyncState {
  if (sent === '') return ztunnel ? 'IGNORED' : 'NOT SENT'
  if (sent === acked) return 'SYNCED'
  if (acked === '') return 'STALE (Never Acknowledged)'
  return 'STALE'
}

function namespaceOf(proxy: string, metadataNamespace: string): string | undefined {
  if (metadataNamespace !== '') return metadataNamespace
  const dot = proxy.lastIndexOf('.')
  return dot > 0 && dot < proxy.length - 1 ? proxy.slice(dot + 1) : undefined
}

function isObject(value: Json): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function flatRow(entry: Json, istiod: string, options: SyncParseOptions): SyncStatusRow {
  const proxy = stringField(entry, 'proxy')
  const proxyType = stringField(entry, 'proxy_type')
  const ztunnel = proxyType === 'ztunnel'
  const hasResourceMap = isObject(entry.resources)
  const resources = hasResourceMap ? entry.resources : {}
  const types = {} as Record<SyncType, SyncTypeStatus>
  for (const type of SYNC_TYPES) {
    const resource = resources[SYNC_TYPE_URLS[type]]
    if (isObject(resource)) {
      // The 1.23+ map: nonces plus send time and the last NACK.
      const sent = stringField(resource, 'sent')
      const lastError = stringField(resource, 'last_error')
      const state: SyncState = lastError !== '' ? 'ERROR' : nonceState(sent, stringField(resource, 'acked'), ztunnel)
      types[type] = {...typeStatus(type, state, options, sendTime(field(resource, 'sent_time')), lastError), subscribed: true}
    } else if (hasResourceMap) {
      // pilot/pkg/xds/debug.go Syncz fills the map from the proxy's WatchedResources, one entry per
      // subscribed type (sent or not): a type missing from it is one the proxy never asked for
      // (ECDS on a proxy without extension filters), which istioctl's ClientConfig path prints as IGNORED.
      types[type] = {...typeStatus(type, 'IGNORED', options), subscribed: false}
    } else {
      const prefix = FLAT_PREFIX[type]
      const state = nonceState(stringField(entry, `${prefix}_sent`), stringField(entry, `${prefix}_acked`), ztunnel)
      types[type] = typeStatus(type, state, options)
    }
  }
  const ambientTypes: Partial<Record<AmbientSyncType, SyncTypeStatus>> = {}
  for (const type of AMBIENT_SYNC_TYPES) {
    const resource = resources[AMBIENT_TYPE_URLS[type]]
    if (!isObject(resource)) continue
    const lastError = stringField(resource, 'last_error')
    const state: SyncState = lastError !== '' ? 'ERROR' : nonceState(stringField(resource, 'sent'), stringField(resource, 'acked'), false)
    ambientTypes[type] = typeStatus(type, state, options, sendTime(field(resource, 'sent_time')), lastError)
  }
  const istioVersion = stringField(entry, 'istio_version')
  const namespace = namespaceOf(proxy, '')
  const row: SyncStatusRow = {
    proxy,
    ...(namespace === undefined ? {} : {namespace}),
    clusterId: stringField(entry, 'cluster_id'),
    istiod,
    // istioctl's fallback for istiods (1.1) that did not report the Istio version.
    version: istioVersion !== '' ? istioVersion : `${stringField(entry, 'proxy_version')}*`,
    ...(proxyType === '' ? {} : {proxyType}),
    types,
    ...(Object.keys(ambientTypes).length > 0 ? {ambientTypes} : {}),
  }
  return row
}

function clientConfigState(status: string): SyncState {
  switch (status) {
    case 'SYNCED':
      return 'SYNCED'
    case 'NOT_SENT':
      return 'NOT SENT'
    case 'STALE':
      return 'STALE'
    case 'ERROR':
      return 'ERROR'
    default:
      return 'IGNORED'
  }
}

/**
 * One ClientConfig's row. `istiodVersion` is the answering istiod's own version: the VERSION when
 * the proxy's metadata carries no ISTIO_VERSION (istiod 1.14 to 1.18 send only CLUSTER_ID), which
 * is what istioctl up to 1.18 printed for every row.
 */
function clientConfigRow(config: Json, istiod: string, options: SyncParseOptions, istiodVersion = ''): SyncStatusRow {
  const node = field(config, 'node')
  const metadata = isObject(field(node, 'metadata')) ? field(node, 'metadata') : {}
  const proxy = stringField(node, 'id')
  const types = {} as Record<SyncType, SyncTypeStatus>
  const ambientTypes: Partial<Record<AmbientSyncType, SyncTypeStatus>> = {}
  const byUrl = new Map<string, SyncType | AmbientSyncType>([...SYNC_TYPES.map((type) => [SYNC_TYPE_URLS[type], type] as const), ...AMBIENT_SYNC_TYPES.map((type) => [AMBIENT_TYPE_URLS[type], type] as const)])
  for (const generic of arrayField(config, 'generic_xds_configs')) {
    const type = byUrl.get(stringField(generic, 'type_url'))
    if (type === undefined) continue
    const state = clientConfigState(enumField(generic, 'config_status', CONFIG_STATUS))
    const details = stringField(field(generic, 'error_state'), 'details')
    const status = typeStatus(type, state, options, sendTime(field(generic, 'last_updated')), state === 'ERROR' ? details : '')
    if (type === 'WDS' || type === 'WADS') ambientTypes[type] = status
    else types[type] = status
  }
  for (const legacy of arrayField(config, 'xds_config')) {
    const found = LEGACY_CONFIG_FIELD.find(([name]) => field(legacy, name) !== undefined)
    if (found === undefined || types[found[1]] !== undefined) continue
    types[found[1]] = typeStatus(found[1], clientConfigState(enumField(legacy, 'status', CONFIG_STATUS)), options)
  }
  // A type the control plane does not report is one the proxy does not watch.
  for (const type of SYNC_TYPES) types[type] ??= typeStatus(type, 'IGNORED', options)
  const namespace = namespaceOf(proxy, stringField(metadata, 'NAMESPACE'))
  const row: SyncStatusRow = {
    proxy,
    ...(namespace === undefined ? {} : {namespace}),
    clusterId: stringField(metadata, 'CLUSTER_ID'),
    istiod,
    version: stringField(metadata, 'ISTIO_VERSION') || istiodVersion,
    // The ClientConfig carries no node type; only a ztunnel watches WDS.
    ...(ambientTypes.WDS ? {proxyType: 'ztunnel'} : {}),
    types,
    ...(Object.keys(ambientTypes).length > 0 ? {ambientTypes} : {}),
  }
  return row
}

const EXPECTED = 'istiod sync status: a /debug/syncz list or a ClientConfig discovery response'

function isClientConfig(value: Json): boolean {
  if (!isObject(value)) return false
  const type = value['@type']
  if (typeof type === 'string') return type.endsWith('envoy.service.status.v3.ClientConfig')
  return field(value, 'node') !== undefined || field(value, 'generic_xds_configs') !== undefined || field(value, 'xds_config') !== undefined
}

function isFlatEntry(value: Json): boolean {
  return isObject(value) && typeof value.proxy === 'string'
}

/** `controlPlane.identifier` (a JSON string, istiod's `{"Component","ID","Info":{"version"}}`), parsed. */
function controlPlaneIdentifier(response: Json): Json {
  const identifier = field(field(response, 'control_plane'), 'identifier')
  if (typeof identifier !== 'string' || identifier === '') return undefined
  try {
    return JSON.parse(identifier) as Json
  } catch {
    return undefined
  }
}

const nonEmptyString = (value: Json): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)

/** The `ID` inside `controlPlane.identifier`, when there is a usable one. */
export function controlPlaneId(response: Json): string | undefined {
  return nonEmptyString(field(controlPlaneIdentifier(response), 'ID'))
}

/** The istiod's `Info.version` inside `controlPlane.identifier`, when there is one. */
export function controlPlaneVersion(response: Json): string | undefined {
  return nonEmptyString(field(field(controlPlaneIdentifier(response), 'Info'), 'version'))
}

/** Parses one istiod's response (either shape) into rows; `origin` names it in errors. */
export function parseSyncStatus(text: string, origin: string, istiod: string, options: SyncParseOptions): SyncStatusRow[] {
  const raw = parseJsonText(text, origin, EXPECTED)
  const describe = (value: Json): string => (Array.isArray(value) ? 'a JSON list' : value === null ? 'null' : `a JSON ${typeof value}`)
  if (Array.isArray(raw)) {
    return raw.map((entry, index) => {
      if (isFlatEntry(entry)) return flatRow(entry, istiod, options)
      if (isClientConfig(entry)) return clientConfigRow(entry, istiod, options)
      throw badDataError(`${origin}: element ${index} is neither a syncz entry (with "proxy") nor a ClientConfig (with "node"); expected ${EXPECTED}`)
    })
  }
  if (!isObject(raw)) throw badDataError(`${origin}: got ${describe(raw)}; expected ${EXPECTED}`)
  if (isClientConfig(raw)) return [clientConfigRow(raw, istiod, options)]
  const resources = field(raw, 'resources')
  if (!Array.isArray(resources)) throw badDataError(`${origin}: got an object without "resources"; expected ${EXPECTED}`)
  const name = controlPlaneId(raw) ?? istiod
  const istiodVersion = controlPlaneVersion(raw) ?? ''
  return resources.map((resource, index) => {
    if (!isClientConfig(resource)) throw badDataError(`${origin}: resources[${index}] is not a ClientConfig; expected ${EXPECTED}`)
    return clientConfigRow(resource, name, options, istiodVersion)
  })
}


/** Stable order with full tie-breaks (istioctl's sort.Slice leaves ties in random order). */
export function compareSyncRows(a: SyncStatusRow, b: SyncStatusRow): number {
  return (
    byteCompare(a.proxy, b.proxy) ||
    byteCompare(a.clusterId, b.clusterId) ||
    byteCompare(a.istiod, b.istiod) ||
    byteCompare(a.version, b.version) ||
    byteCompare(SYNC_TYPES.map((t) => a.types[t].display).join('\t'), SYNC_TYPES.map((t) => b.types[t].display).join('\t'))
  )
}

export interface MergeOptions extends SyncParseOptions {
  /** `-n`: keep only proxies in this namespace (undefined: all). */
  namespace?: string
}

/** Parses every istiod's response, merges the rows, filters by namespace and sorts by proxy. */
export function mergeSyncStatus(sources: readonly SyncSource[], options: MergeOptions): SyncStatusRow[] {
  const rows = sources.flatMap((source) => parseSyncStatus(source.text, source.origin ?? source.istiod, source.istiod, options))
  const kept = options.namespace === undefined ? rows : rows.filter((row) => row.namespace === options.namespace)
  return kept.sort(compareSyncRows)
}

/** The `--fail-on` classes, and the states each one catches. */
export const FAIL_ON_CLASSES: Readonly<Record<string, readonly SyncState[]>> = {
  stale: ['STALE', 'STALE (Never Acknowledged)'],
  error: ['ERROR'],
  'not-sent': ['NOT SENT'],
}

/** Parses `--fail-on stale,error`; unknown classes are a usage error for the caller to raise. */
export function parseFailOn(value: string): {states: Set<SyncState>; unknown: string[]} {
  const states = new Set<SyncState>()
  const unknown: string[] = []
  for (const item of value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    const classStates = FAIL_ON_CLASSES[item]
    if (classStates === undefined) unknown.push(item)
    else for (const state of classStates) states.add(state)
  }
  return {states, unknown}
}

/**
 * Whether a type's state trips `--fail-on`: NOT SENT of a type the proxy does not subscribe to is
 * normal (Envoy asks for ECDS only when a listener references an extension config), so it never does.
 */
export function tripsFailOn(status: SyncTypeStatus, states: ReadonlySet<SyncState>): boolean {
  return states.has(status.state) && !(status.state === 'NOT SENT' && status.subscribed === false)
}

/** Rows with at least one type that trips `--fail-on` with `states`. */
export function rowsWithStates(rows: readonly SyncStatusRow[], states: ReadonlySet<SyncState>): SyncStatusRow[] {
  return rows.filter((row) => SYNC_TYPES.some((type) => tripsFailOn(row.types[type], states)) || Object.values(row.ambientTypes ?? {}).some((status) => tripsFailOn(status, states)))
}

/** NOT SENT types whose subscription istiod's syncz did not say (istiods before 1.23). */
export function unknownSubscriptions(rows: readonly SyncStatusRow[]): SyncStatusRow[] {
  return rows.filter((row) => SYNC_TYPES.some((type) => row.types[type].state === 'NOT SENT' && row.types[type].subscribed === undefined))
}

/**
 * istiod's `/debug/adsz` (pilot/pkg/xds/debug.go adsz, every version): per connected proxy, the
 * type URLs it watches. Connection IDs are `<proxy ID>-<counter>`; a proxy with two connections
 * (a reconnect in flight) gets the union.
 */
export function parseAdszWatches(text: string, origin: string): Map<string, Set<string>> {
  const raw = parseJsonText(text, origin, 'istiod /debug/adsz (an object with "clients")')
  const watches = new Map<string, Set<string>>()
  for (const client of arrayField(raw, 'clients')) {
    const proxy = stringField(client, 'connection_id').replace(/-\d+$/, '')
    const watched = field(client, 'watches')
    if (proxy === '' || !isObject(watched)) continue
    const set = watches.get(proxy) ?? new Set<string>()
    for (const url of Object.keys(watched)) set.add(url)
    watches.set(proxy, set)
  }
  return watches
}

/**
 * Marks each type of the rows of `istiod` as subscribed or not from that istiod's adsz watches.
 * Only rows whose syncz left it unknown change; a proxy adsz does not list stays unknown.
 */
export function withSubscriptions(rows: readonly SyncStatusRow[], istiod: string, watches: ReadonlyMap<string, ReadonlySet<string>>): SyncStatusRow[] {
  return rows.map((row) => {
    const watched = row.istiod === istiod ? watches.get(row.proxy) : undefined
    if (watched === undefined) return row
    const types = {...row.types}
    for (const type of SYNC_TYPES) {
      if (types[type].subscribed === undefined) types[type] = {...types[type], subscribed: watched.has(SYNC_TYPE_URLS[type])}
    }
    return {...row, types}
  })
}

/** `istiod-7f9c.json` -> `istiod-7f9c`: the ISTIOD name for a file that does not carry one. */
export function istiodNameFromFile(file: string): string {
  const base = file.replace(/\\/g, '/').split('/').pop() ?? file
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(0, dot) : base
}

/** A row as scripts read it (--json, -o json/yaml): the table cell (`display`, with its age text) left out; `lastUpdated` carries the time. */
export type SyncStatusData = Omit<SyncStatusRow, 'types' | 'ambientTypes'> & {types: Record<SyncType, Omit<SyncTypeStatus, 'display'>>; ambientTypes?: Partial<Record<AmbientSyncType, Omit<SyncTypeStatus, 'display'>>>}

export function syncStatusData(rows: readonly SyncStatusRow[]): SyncStatusData[] {
  return rows.map((row) => ({
    ...row,
    types: Object.fromEntries(SYNC_TYPES.map((type) => {
      const {display: _display, ...data} = row.types[type]
      return [type, data]
    })) as SyncStatusData['types'],
    ...(row.ambientTypes ? {ambientTypes: Object.fromEntries(Object.entries(row.ambientTypes).map(([type, {display: _display, ...data}]) => [type, data]))} : {}),
  }))
}

/**
 * What changed between two polls of the table, one line per proxy (`--watch` without a TTY):
 * `<proxy> CDS STALE -> SYNCED, LDS ...`, a proxy that appeared with its states, one that is gone,
 * one that moved to another istiod. States are compared, not the table cells, whose ages tick.
 * Rows are keyed by context and proxy; lines come in the order of `next`, then the gone ones.
 */
export function syncChanges(previous: readonly SyncStatusRow[], next: readonly SyncStatusRow[]): string[] {
  const key = (row: SyncStatusRow) => `${row.context ?? ''}\u0000${row.proxy}`
  const label = (row: SyncStatusRow) => (row.context === undefined ? row.proxy : `${row.context} ${row.proxy}`)
  const before = new Map(previous.map((row) => [key(row), row]))
  const lines: string[] = []
  for (const row of next) {
    const old = before.get(key(row))
    before.delete(key(row))
    if (old === undefined) {
      lines.push(`${label(row)} new: ${SYNC_TYPES.map((type) => `${type} ${row.types[type].state}`).join(', ')}`)
      continue
    }
    const changes = SYNC_TYPES.filter((type) => old.types[type].state !== row.types[type].state).map((type) => `${type} ${old.types[type].state} -> ${row.types[type].state}`)
    if (old.istiod !== row.istiod) changes.push(`ISTIOD ${old.istiod} -> ${row.istiod}`)
    if (changes.length > 0) lines.push(`${label(row)} ${changes.join(', ')}`)
  }
  for (const row of before.values()) lines.push(`${label(row)} gone`)
  return lines
}
