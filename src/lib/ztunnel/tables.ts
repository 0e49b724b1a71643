/**
 * istioctl ztunnel-config's tables (istioctl/pkg/writer/ztunnel/configdump/*.go, newest release):
 * the same filters, sorts (Go's pdqsort through goSortSlice, so ties come out as istioctl prints
 * them), cells and tabwriter padding (1; 5 for certificates). Pure: the clock is a parameter.
 */
import {goSortSlice} from '../render/go-sort.js'
import {tabRow, tabwrite} from '../render/tabwriter.js'
import type {ZtunnelCert, ZtunnelDump, ZtunnelPolicy, ZtunnelService, ZtunnelWorkload, ZtunnelWorkloadState} from './dump.js'

const equalFold = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

export interface WorkloadFilter {
  address?: string
  node?: string
  namespace?: string
  /** A workload pod's name (an application pod given as the target). */
  name?: string
}

/** WorkloadFilter.Verify: every given field must match, ignoring case; --address is any of the IPs. */
export function workloadMatches(filter: WorkloadFilter, workload: ZtunnelWorkload): boolean {
  if (filter.name && !equalFold(workload.name, filter.name)) return false
  if (filter.namespace && !equalFold(workload.namespace, filter.namespace)) return false
  if (filter.address && !workload.workloadIps.some((ip) => equalFold(ip, filter.address!))) return false
  if (filter.node && !equalFold(workload.node, filter.node)) return false
  return true
}

export function selectWorkloads(dump: ZtunnelDump, filter: WorkloadFilter): ZtunnelWorkload[] {
  return dump.workloads.filter((workload) => workloadMatches(filter, workload))
}

export function sortWorkloads(workloads: ZtunnelWorkload[]): ZtunnelWorkload[] {
  return goSortSlice(workloads.slice(), (a, b) => {
    const an = `${a.namespace}.${a.name}`
    const bn = `${b.namespace}.${b.name}`
    if (an !== bn) return an < bn
    return a.node < b.node
  })
}

/** A waypoint `namespace/hostname` or VIP, named after the service that has it ("NA" if none does). */
function waypointName(destination: string | undefined, services: readonly ZtunnelService[]): string {
  if (destination === undefined) return 'None'
  for (const service of services) {
    if (`${service.namespace}/${service.hostname}` === destination) return service.name
    if (service.vips.includes(destination)) return service.name
  }
  return 'NA'
}

export interface WorkloadRow {
  namespace: string
  name: string
  /** Workload IPs, or the hostname of a workload without any. */
  address: string
  node: string
  waypoint: string
  protocol: string
}

export function workloadRows(dump: ZtunnelDump, filter: WorkloadFilter): WorkloadRow[] {
  return sortWorkloads(selectWorkloads(dump, filter)).map((workload) => ({
    namespace: workload.namespace,
    name: workload.name,
    address: workload.workloadIps.join(',') || workload.hostname,
    node: workload.node,
    waypoint: waypointName(workload.waypointDestination, dump.services),
    protocol: workload.protocol,
  }))
}

export function renderWorkloadTable(rows: readonly WorkloadRow[]): string {
  const lines = ['NAMESPACE\tPOD NAME\tADDRESS\tNODE\tWAYPOINT\tPROTOCOL']
  for (const row of rows) lines.push(tabRow([row.namespace, row.name, row.address, row.node, row.waypoint, row.protocol]))
  return tabwrite(lines, {padding: 1})
}

export interface ServiceFilter {
  namespace?: string
}

export function selectServices(dump: ZtunnelDump, filter: ServiceFilter): ZtunnelService[] {
  const selected = dump.services.filter((service) => !filter.namespace || equalFold(service.namespace, filter.namespace))
  return goSortSlice(selected, (a, b) => {
    if (a.namespace !== b.namespace) return a.namespace < b.namespace
    if (a.name !== b.name) return a.name < b.name
    return a.hostname < b.hostname
  })
}

/** Go's strings.Cut(s, "/") second half: "" when there is no slash. */
function afterSlash(address: string): string {
  const at = address.indexOf('/')
  return at < 0 ? '' : address.slice(at + 1)
}

export interface ServiceRow {
  namespace: string
  name: string
  vips: string[]
  waypoint: string
  healthyEndpoints: number
  endpoints: number
}

export function serviceRows(dump: ZtunnelDump, filter: ServiceFilter): ServiceRow[] {
  // slices.GroupUnique: the last workload with a UID wins.
  const byUid = new Map<string, ZtunnelWorkload>()
  for (const workload of dump.workloads) byUid.set(workload.uid, workload)
  return selectServices(dump, filter).map((service) => ({
    namespace: service.namespace,
    name: service.name,
    vips: service.vips.map(afterSlash),
    waypoint: waypointName(service.waypointDestination, dump.services),
    healthyEndpoints: service.endpointWorkloadUids.filter((uid) => byUid.get(uid)?.status === 'Healthy').length,
    endpoints: service.endpointWorkloadUids.length,
  }))
}

export function renderServiceTable(rows: readonly ServiceRow[]): string {
  const lines = ['NAMESPACE\tSERVICE NAME\tSERVICE VIP\tWAYPOINT\tENDPOINTS']
  for (const row of rows) {
    lines.push(tabRow([row.namespace, row.name, row.vips.join(','), row.waypoint, `${row.healthyEndpoints}/${row.endpoints}`]))
  }
  return tabwrite(lines, {padding: 1})
}

export interface PolicyFilter {
  namespace?: string
}

export function selectPolicies(dump: ZtunnelDump, filter: PolicyFilter): ZtunnelPolicy[] {
  const selected = dump.policies.filter((policy) => !filter.namespace || equalFold(policy.namespace, filter.namespace))
  return goSortSlice(selected, (a, b) => (a.namespace !== b.namespace ? a.namespace < b.namespace : a.name < b.name))
}

export interface PolicyRow {
  namespace: string
  name: string
  action: string
  scope: string
}

export function policyRows(dump: ZtunnelDump, filter: PolicyFilter): PolicyRow[] {
  return selectPolicies(dump, filter).map(({namespace, name, action, scope}) => ({namespace, name, action, scope}))
}

export function renderPolicyTable(rows: readonly PolicyRow[]): string {
  const lines = ['NAMESPACE\tPOLICY NAME\tACTION\tSCOPE']
  for (const row of rows) lines.push(tabRow([row.namespace, row.name, row.action, row.scope]))
  return tabwrite(lines, {padding: 1})
}

export interface CertificateRow {
  identity: string
  /** Leaf, Intermediate, Root, or NA for an identity without a certificate yet. */
  type: string
  state: string
  valid: boolean
  /** The serial in lowercase hex as istioctl prints it (`<nil>` when it is not a decimal number), or NA. */
  serialNumber: string
  notAfter: string
  notBefore: string
  /** Milliseconds from `now` to NOT AFTER (negative once expired); absent without a parsable date. */
  timeLeftMs?: number
}

/** Go's time.Parse(time.RFC3339, s) in milliseconds, or undefined where Go would fail. */
export function parseRfc3339(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(text)
  if (!match) return undefined
  const [, year, month, day, hour, minute, second, fraction, zone] = match
  const utc = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second))
  const check = new Date(utc)
  if (check.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined
  const offset = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000
  return utc - offset + (fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0)
}

/** certNotExpired: valid from before now and expiring after now; false when either date is unreadable. */
function certValid(cert: ZtunnelCert, now: number): boolean {
  if (cert.expirationTime === '' && cert.validFrom === '') return false
  const expires = parseRfc3339(cert.expirationTime)
  const from = parseRfc3339(cert.validFrom)
  if (expires === undefined || from === undefined) return false
  return now > from && now < expires
}

/** fmt's %x of a *big.Int set from a decimal string: lowercase hex, or `<nil>` when SetString failed. */
export function serialHex(decimal: string): string {
  if (!/^[+-]?\d+$/.test(decimal)) return '<nil>'
  const value = BigInt(decimal)
  return value < 0n ? `-${(-value).toString(16)}` : value.toString(16)
}

const orNA = (value: string): string => (value === '' ? 'NA' : value)

export function certificateRows(dump: ZtunnelDump, now: number): CertificateRow[] {
  const rows: CertificateRow[] = []
  for (const secret of dump.certificates) {
    const state = secret.state.includes('Unavailable') ? 'Unavailable' : secret.state
    if (secret.certChain.length === 0) {
      rows.push({identity: secret.identity, type: 'NA', state, valid: false, serialNumber: 'NA', notAfter: 'NA', notBefore: 'NA'})
      continue
    }
    const row = (cert: ZtunnelCert, type: string): CertificateRow => {
      const expires = parseRfc3339(cert.expirationTime)
      return {
        identity: secret.identity,
        type,
        state,
        valid: certValid(cert, now),
        serialNumber: serialHex(cert.serialNumber),
        notAfter: orNA(cert.expirationTime),
        notBefore: orNA(cert.validFrom),
        ...(expires === undefined ? {} : {timeLeftMs: expires - now}),
      }
    }
    // Before rootCerts existed (and after ca_cert went), the root was the chain's last entry.
    const legacyFormat = secret.rootCerts.length === 0
    secret.certChain.forEach((cert, i) => {
      rows.push(row(cert, i === 0 ? 'Leaf' : i === secret.certChain.length - 1 && legacyFormat ? 'Root' : 'Intermediate'))
    })
    for (const cert of secret.rootCerts) rows.push(row(cert, 'Root'))
  }
  return rows
}

/** `TIME LEFT` is meshdbg's (-o wide only): the default table stays istioctl's, byte for byte. */
export function renderCertificateTable(rows: readonly CertificateRow[], options: {wide?: boolean} = {}): string {
  const header = ['CERTIFICATE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE']
  const lines = [(options.wide ? [...header, 'TIME LEFT'] : header).join('\t')]
  for (const row of rows) {
    const cells = [row.identity, row.type, row.state, String(row.valid), row.serialNumber, row.notAfter, row.notBefore]
    if (options.wide) cells.push(row.timeLeftMs === undefined ? 'NA' : formatTimeLeft(row.timeLeftMs))
    lines.push(tabRow(cells))
  }
  return tabwrite(lines, {padding: 5})
}

/**
 * Time left as an SRE reads it: the two largest units (`89d4h`, `5h3m`, `42s`), or `expired 2d3h
 * ago` once past.
 */
export function formatTimeLeft(ms: number): string {
  const text = twoUnits(Math.abs(ms))
  return ms < 0 ? `expired ${text} ago` : text
}

function twoUnits(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ]
  let rest = Math.floor(ms / 1000) * 1000
  const parts: string[] = []
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size)
    rest -= count * size
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`)
    if (parts.length === 2) break
  }
  const shown = parts.filter((part, i) => i === 0 || !part.startsWith('0'))
  return shown.length === 0 ? '0s' : shown.join('')
}

export interface ConnectionsFilter {
  /** --workload-namespace, or the target pod's namespace. */
  namespace?: string
  direction?: string
  raw?: boolean
  /** The target pod's name; `name.namespace` is split when no namespace is given (as istioctl). */
  workload?: string
}

function normalizeConnectionsFilter(filter: ConnectionsFilter): ConnectionsFilter {
  if (filter.workload && !filter.namespace) {
    const at = filter.workload.indexOf('.')
    if (at >= 0) return {...filter, workload: filter.workload.slice(0, at), namespace: filter.workload.slice(at + 1)}
  }
  return filter
}

export function selectWorkloadStates(dump: ZtunnelDump, filter: ConnectionsFilter): ZtunnelWorkloadState[] {
  const normalized = normalizeConnectionsFilter(filter)
  const sorted = goSortSlice(dump.workloadStates.slice(), (a, b) => (a.namespace !== b.namespace ? a.namespace < b.namespace : a.name < b.name))
  return sorted.filter(
    (state) =>
      (!normalized.namespace || normalized.namespace === state.namespace) && (!normalized.workload || equalFold(normalized.workload, state.name)),
  )
}

/** net.SplitHostPort: host and port, or undefined where Go returns an error. */
export function splitHostPort(address: string): {host: string; port: string} | undefined {
  if (address.startsWith('[')) {
    const end = address.indexOf(']')
    if (end < 0 || address[end + 1] !== ':') return undefined
    const host = address.slice(1, end)
    const port = address.slice(end + 2)
    if (port.includes(':') || port.includes('[') || port.includes(']') || host.includes('[') || host.includes(']')) return undefined
    return {host, port}
  }
  const at = address.lastIndexOf(':')
  if (at < 0) return undefined
  const host = address.slice(0, at)
  if (host.includes(':') || host.includes('[') || host.includes(']') || address.slice(at + 1).includes(']')) return undefined
  return {host, port: address.slice(at + 1)}
}

const joinHostPort = (host: string, port: string): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)

export interface ConnectionRow {
  /** `name.namespace` of the workload whose ztunnel keeps the connection. */
  workload: string
  direction: 'Inbound' | 'Outbound'
  local: string
  remote: string
  remoteTarget: string
  protocol: string
}

export function connectionRows(dump: ZtunnelDump, filter: ConnectionsFilter): ConnectionRow[] {
  const serviceNames = new Map<string, string>()
  for (const service of dump.services) serviceNames.set((service.vips.length > 0 ? afterSlash(service.vips[0]) : '') || 'None', service.hostname)
  const workloadNames = new Map<string, string>()
  for (const workload of dump.workloads) workloadNames.set(workload.workloadIps[0] || 'None', `${workload.name}.${workload.namespace}`)
  const lookup = (address: string): string => {
    if (filter.raw) return address
    const split = splitHostPort(address)
    const host = split?.host ?? ''
    const port = split?.port ?? ''
    const service = serviceNames.get(host)
    if (service !== undefined) return joinHostPort(service, port)
    const workload = workloadNames.get(host)
    if (workload !== undefined) return joinHostPort(workload, port)
    return address
  }
  const rows: ConnectionRow[] = []
  for (const state of selectWorkloadStates(dump, filter)) {
    const workload = `${state.name}.${state.namespace}`
    if (filter.direction !== 'outbound') {
      for (const c of state.inbound) {
        rows.push({workload, direction: 'Inbound', local: lookup(c.actualDst), remote: lookup(c.src), remoteTarget: c.originalDst, protocol: c.protocol})
      }
    }
    if (filter.direction !== 'inbound') {
      for (const c of state.outbound) {
        rows.push({workload, direction: 'Outbound', local: lookup(c.src), remote: lookup(c.actualDst), remoteTarget: lookup(c.originalDst), protocol: c.protocol})
      }
    }
  }
  return rows
}

export function renderConnectionTable(rows: readonly ConnectionRow[]): string {
  const lines = ['WORKLOAD\tDIRECTION\tLOCAL\tREMOTE\tREMOTE TARGET\tPROTOCOL']
  for (const row of rows) lines.push(tabRow([row.workload, row.direction, row.local, row.remote, row.remoteTarget, row.protocol]))
  return tabwrite(lines, {padding: 1})
}

export interface AllSummary {
  workloads: WorkloadRow[]
  services: ServiceRow[]
  policies: PolicyRow[]
  certificates: CertificateRow[]
  connections: ConnectionRow[]
}

export function allSummary(dump: ZtunnelDump, now: number): AllSummary {
  return {
    workloads: workloadRows(dump, {}),
    services: serviceRows(dump, {}),
    policies: policyRows(dump, {}),
    certificates: certificateRows(dump, now),
    connections: connectionRows(dump, {}),
  }
}

/**
 * PrintFullSummary: each table after a blank line, with `------ X INFO ------` banners on request.
 * `noHeaders` (meshdbg's --no-headers) leaves out every table's header line and the banners, and
 * keeps the blank lines that separate the tables.
 */
export function renderAllSummary(summary: AllSummary, options: {withHeaders?: boolean; noHeaders?: boolean} = {}): string {
  const banner = (title: string): string => (options.withHeaders && !options.noHeaders ? `------ ${title} ------\n\n` : '')
  const rows = (table: string): string => (options.noHeaders ? table.slice(table.indexOf('\n') + 1) : table)
  return [
    `\n${banner('WORKLOAD INFO')}${rows(renderWorkloadTable(summary.workloads))}`,
    `\n${banner('SERVICE INFO')}${rows(renderServiceTable(summary.services))}`,
    `\n${banner('POLICY INFO')}${rows(renderPolicyTable(summary.policies))}`,
    `\n${banner('SECRET INFO')}${rows(renderCertificateTable(summary.certificates))}`,
    `\n${banner('CONNECTIONS INFO')}${rows(renderConnectionTable(summary.connections))}`,
  ].join('')
}

export type {ZtunnelWorkloadState}
