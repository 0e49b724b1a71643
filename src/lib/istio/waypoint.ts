// `meshdbg waypoint list|status`: waypoints are Gateway API Gateways of class istio-waypoint
// (istioctl/pkg/waypoint/waypoint.go, constants.WaypointGatewayClassName). Pure analysis: which
// namespaces, Services and pods name each waypoint with istio.io/use-waypoint, and the enrolments
// whose traffic silently bypasses a waypoint (missing, not programmed, wrong waypoint-for).
import {escapeTerminal} from '../render/escape.js'
import {tabRow, tabwrite} from '../render/tabwriter.js'

export const WAYPOINT_CLASS = 'istio-waypoint'
const USE_WAYPOINT = 'istio.io/use-waypoint'
const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace'
const WAYPOINT_FOR = 'istio.io/waypoint-for'

export interface KubeMeta {
  name: string
  namespace?: string
  labels?: Record<string, string>
}

export interface GatewayCondition {
  type: string
  status: string
  reason?: string
  message?: string
}

export interface GatewayInput {
  metadata: KubeMeta
  spec?: {gatewayClassName?: string}
  status?: {conditions?: GatewayCondition[]}
}

export interface WaypointInputs {
  gateways: GatewayInput[]
  namespaces: Array<{metadata: KubeMeta}>
  services: Array<{metadata: KubeMeta}>
  pods: Array<{metadata: KubeMeta}>
}

export type EnrolmentKind = 'namespace' | 'service' | 'pod'

export interface WaypointUser {
  kind: EnrolmentKind
  /** namespace/name; the namespace's name for a namespace. */
  name: string
}

export interface Waypoint {
  namespace: string
  name: string
  /** istio.io/rev, "default" without it (as istioctl prints). */
  revision: string
  /** istio.io/waypoint-for as istioctl prints it ("none" when unset). */
  trafficType: string
  /** The traffic Istio sends through it: the label, else Istio's default `service`. */
  effectiveTrafficType: string
  /** Status of the Programmed condition ("False" when absent, as istioctl). */
  programmed: string
  conditions: GatewayCondition[]
  usedBy: WaypointUser[]
}

export type WaypointWarningId = 'waypoint-missing' | 'waypoint-not-programmed' | 'waypoint-for-mismatch'

export interface WaypointWarning {
  id: WaypointWarningId
  user: WaypointUser
  /** namespace/name of the waypoint the label names. */
  waypoint: string
  message: string
}

export interface WaypointReport {
  waypoints: Waypoint[]
  warnings: WaypointWarning[]
}

const key = (ns: string, name: string) => `${ns}/${name}`

/**
 * Which enrolment kinds a waypoint-for value serves: `service` (Istio's default), `workload`, `all`
 * or `none` (label istio.io/waypoint-for, api/label/labels.gen.go).
 */
function covers(trafficType: string, kind: EnrolmentKind): boolean {
  if (trafficType === 'all') return true
  if (trafficType === 'none') return false
  // A namespace's label applies to both its Services and its pods; either kind of traffic is served.
  if (kind === 'namespace') return trafficType === 'service' || trafficType === 'workload'
  return kind === 'service' ? trafficType === 'service' : trafficType === 'workload'
}

function sortByName<T extends {metadata: KubeMeta}>(items: T[]): T[] {
  return [...items].sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name))
}

/**
 * `input.gateways` may span more namespaces than the enrolments (use-waypoint-namespace can point
 * elsewhere); only waypoints of `namespace` (all when undefined) are reported.
 */
export function analyzeWaypoints(input: WaypointInputs, namespace?: string): WaypointReport {
  const waypoints: Waypoint[] = sortByName(input.gateways.filter((g) => g.spec?.gatewayClassName === WAYPOINT_CLASS)).map((g) => {
    const labels = g.metadata.labels ?? {}
    const conditions = g.status?.conditions ?? []
    return {
      namespace: g.metadata.namespace ?? '',
      name: g.metadata.name,
      revision: labels['istio.io/rev'] || 'default',
      trafficType: labels[WAYPOINT_FOR] || 'none',
      effectiveTrafficType: labels[WAYPOINT_FOR] || 'service',
      programmed: conditions.find((c) => c.type === 'Programmed')?.status ?? 'False',
      conditions,
      usedBy: [],
    }
  })
  const byKey = new Map(waypoints.map((w) => [key(w.namespace, w.name), w]))
  const warnings: WaypointWarning[] = []
  const enrol = (kind: EnrolmentKind, meta: KubeMeta) => {
    const labels = meta.labels ?? {}
    const wanted = labels[USE_WAYPOINT]
    // "none" opts a Service or pod out of its namespace's waypoint (Istio's ambient docs).
    if (!wanted || wanted === 'none') return
    const ownNamespace = kind === 'namespace' ? meta.name : meta.namespace ?? ''
    const target = key(labels[USE_WAYPOINT_NAMESPACE] || ownNamespace, wanted)
    const user: WaypointUser = {kind, name: kind === 'namespace' ? meta.name : key(ownNamespace, meta.name)}
    const waypoint = byKey.get(target)
    const bypass = 'its traffic bypasses the waypoint without any error'
    if (!waypoint) {
      warnings.push({id: 'waypoint-missing', user, waypoint: target, message: `${kind} ${user.name} uses waypoint ${target}, which does not exist: ${bypass}`})
      return
    }
    waypoint.usedBy.push(user)
    if (waypoint.programmed !== 'True') {
      const reason = waypoint.conditions.find((c) => c.type === 'Programmed')?.reason
      warnings.push({id: 'waypoint-not-programmed', user, waypoint: target, message: `${kind} ${user.name} uses waypoint ${target}, which is not programmed${reason ? ` (${reason})` : ''}: ${bypass}`})
    } else if (!covers(waypoint.effectiveTrafficType, kind)) {
      warnings.push({id: 'waypoint-for-mismatch', user, waypoint: target,
        message: `${kind} ${user.name} uses waypoint ${target}, whose ${WAYPOINT_FOR} is ${waypoint.effectiveTrafficType}: ${kind} traffic bypasses it`})
    }
  }
  for (const ns of sortByName(input.namespaces)) enrol('namespace', ns.metadata)
  for (const svc of sortByName(input.services)) enrol('service', svc.metadata)
  for (const pod of sortByName(input.pods)) enrol('pod', pod.metadata)
  return {waypoints: namespace === undefined ? waypoints : waypoints.filter((w) => w.namespace === namespace), warnings}
}

const ISTIOCTL_TABLE = {padding: 5, minwidth: 0}

/** istioctl waypoint list's table (minwidth 0, tab 8, padding 5); -o wide adds USED BY. */
export function renderWaypointList(report: WaypointReport, options: {allNamespaces: boolean; wide: boolean}): string {
  if (report.waypoints.length === 0) return 'No waypoints found.\n'
  const head = [...(options.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'REVISION', 'TRAFFIC TYPE', 'PROGRAMMED', ...(options.wide ? ['USED BY'] : [])]
  const rows = report.waypoints.map((w) => tabRow([...(options.allNamespaces ? [w.namespace] : []), w.name, w.revision, w.trafficType, w.programmed,
    ...(options.wide ? [w.usedBy.map((u) => `${u.kind}/${u.name}`).join(',') || '<none>'] : [])]))
  return tabwrite([head.join('\t'), ...rows], ISTIOCTL_TABLE)
}

/** istioctl waypoint status's table: one row per waypoint with its Programmed=True condition, else its last one (as istioctl's loop leaves it). */
export function renderWaypointStatus(report: WaypointReport, options: {allNamespaces: boolean}): string {
  if (report.waypoints.length === 0) return 'No waypoints found.\n'
  const head = [...(options.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'STATUS', 'TYPE', 'REASON', 'MESSAGE']
  const rows = report.waypoints.map((w) => {
    const c = w.conditions.find((x) => x.type === 'Programmed' && x.status === 'True') ?? w.conditions.at(-1)
    return tabRow([...(options.allNamespaces ? [w.namespace] : []), w.name, c?.status ?? '', c?.type ?? '', c?.reason ?? '', c?.message ?? ''])
  })
  return tabwrite([head.join('\t'), ...rows], ISTIOCTL_TABLE)
}

/** The warnings, one line each, printed under the table (names come from the cluster: escaped). */
export function renderWaypointWarnings(report: WaypointReport): string {
  return report.warnings.map((w) => `Warning [${w.id}]: ${escapeTerminal(w.message)}\n`).join('')
}
