// `meshdbg waypoint list|status`: waypoints are Gateway API Gateways of class istio-waypoint
// (istioctl/pkg/waypoint/waypoint.go, constants.WaypointGatewayClassName). Pure analysis: which
// namespaces, Services and pods name each waypoint with istio.io/use-waypoint, and the enrolments
// whose traffic silently bypasses a waypoint (missing, not programmed, not admitting the namespace,
// wrong waypoint-for); and,
// for `describe`, resolveWaypoint: the one waypoint Istio picks for a given Service or pod.
import {labelSelectorString, type LabelSelectorLike} from '../kube/target-spec.js'
import {escapeTerminal} from '../render/escape.js'
import {tabRow, tabwrite} from '../render/tabwriter.js'
import {matchesLabelSelector, parseLabelSelector} from '../snapshot/selectors.js'

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

export interface GatewayListenerInput {
  port?: number
  protocol?: string
  allowedRoutes?: {namespaces?: {from?: string; selector?: LabelSelectorLike}}
}

export interface GatewayInput {
  metadata: KubeMeta
  spec?: {gatewayClassName?: string; listeners?: GatewayListenerInput[]}
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
  /** Which namespaces may use it: its HBONE listener's (port 15008) allowedRoutes.namespaces, `Same` by default. */
  allowedNamespaces: {from: string; selector?: LabelSelectorLike}
}

export type WaypointWarningId = 'waypoint-missing' | 'waypoint-not-programmed' | 'waypoint-for-mismatch' | 'waypoint-attachment-denied'

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

/** The Gateways of class istio-waypoint as waypoints (no users yet), by namespace then name. */
export function waypointsOf(gateways: readonly GatewayInput[]): Waypoint[] {
  return sortByName(gateways.filter((g) => g.spec?.gatewayClassName === WAYPOINT_CLASS)).map((g) => {
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
      allowedNamespaces: allowedNamespaces(g),
    }
  })
}

/**
 * pilot's makeAllowedRoutes / makeWaypointSelector: the HBONE listener on 15008 decides (Gateway
 * API's default `from: Same`); without one, Same. (A waypoint-inbound-binding annotation, which
 * picks another listener, is not read.)
 */
function allowedNamespaces(gateway: GatewayInput): Waypoint['allowedNamespaces'] {
  const hbone = gateway.spec?.listeners?.find((l) => l.protocol === 'HBONE' && l.port === 15008)
  const namespaces = hbone?.allowedRoutes?.namespaces
  return {from: namespaces?.from ?? 'Same', ...(namespaces?.selector ? {selector: namespaces.selector} : {})}
}

/** Waypoint.AllowsAttachmentFromNamespace: may objects of `namespace` (its labels, when known) use the waypoint? */
function allowsAttachment(waypoint: Waypoint, namespace: string, labels: Record<string, string> | undefined): boolean {
  const {from, selector} = waypoint.allowedNamespaces
  if (from === 'All') return true
  if (from !== 'Selector') return waypoint.namespace === namespace
  try {
    const requirements = parseLabelSelector(labelSelectorString(selector ?? {}))
    return requirements !== undefined && matchesLabelSelector(labels ?? {}, requirements)
  } catch {
    // An operator Kubernetes does not know makes the selector invalid: Istio then matches nothing.
    return false
  }
}

const BYPASS = 'its traffic bypasses the waypoint without any error'

/** Why `kind userName`'s use-waypoint naming `target` does not take effect: missing or not programmed. */
function unusable(kind: EnrolmentKind, userName: string, target: string, waypoint: Waypoint | undefined): {id: WaypointWarningId; message: string} | undefined {
  if (!waypoint) return {id: 'waypoint-missing', message: `${kind} ${userName} uses waypoint ${target}, which does not exist: ${BYPASS}`}
  if (waypoint.programmed === 'True') return undefined
  const reason = waypoint.conditions.find((c) => c.type === 'Programmed')?.reason
  return {id: 'waypoint-not-programmed', message: `${kind} ${userName} uses waypoint ${target}, which is not programmed${reason ? ` (${reason})` : ''}: ${BYPASS}`}
}

/**
 * Why a usable waypoint refuses `kind userName` of namespace `own` (its namespace's labels, when
 * known): the HBONE listener's allowedRoutes does not admit that namespace. Without the labels a
 * Selector cannot be judged, so nothing is reported.
 */
function attachmentDenied(kind: EnrolmentKind, userName: string, target: string, waypoint: Waypoint, own: string, labels: Record<string, string> | undefined): {id: WaypointWarningId; message: string} | undefined {
  const {from} = waypoint.allowedNamespaces
  if (from === 'Selector' && labels === undefined) return undefined
  if (allowsAttachment(waypoint, own, labels)) return undefined
  return {id: 'waypoint-attachment-denied',
    message: `${kind} ${userName} uses waypoint ${target}, whose HBONE listener does not admit namespace ${own} (allowedRoutes.namespaces.from: ${from}): ${BYPASS}`}
}

/**
 * `input.gateways` may span more namespaces than the enrolments (use-waypoint-namespace can point
 * elsewhere); only waypoints of `namespace` (all when undefined) are reported.
 */
export function analyzeWaypoints(input: WaypointInputs, namespace?: string): WaypointReport {
  const waypoints = waypointsOf(input.gateways)
  const byKey = new Map(waypoints.map((w) => [key(w.namespace, w.name), w]))
  const namespaceLabels = new Map(input.namespaces.map((n) => [n.metadata.name, n.metadata.labels ?? {}]))
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
    if (waypoint) waypoint.usedBy.push(user)
    const problem = unusable(kind, user.name, target, waypoint) ?? attachmentDenied(kind, user.name, target, waypoint!, ownNamespace, namespaceLabels.get(ownNamespace))
    if (problem) {
      warnings.push({...problem, user, waypoint: target})
    } else if (!covers(waypoint!.effectiveTrafficType, kind)) {
      warnings.push({id: 'waypoint-for-mismatch', user, waypoint: target,
        message: `${kind} ${user.name} uses waypoint ${target}, whose ${WAYPOINT_FOR} is ${waypoint!.effectiveTrafficType}: ${kind} traffic bypasses it`})
    }
  }
  for (const ns of sortByName(input.namespaces)) enrol('namespace', ns.metadata)
  for (const svc of sortByName(input.services)) enrol('service', svc.metadata)
  for (const pod of sortByName(input.pods)) enrol('pod', pod.metadata)
  return {waypoints: namespace === undefined ? waypoints : waypoints.filter((w) => w.namespace === namespace), warnings}
}

/** The waypoint one Service's or pod's traffic goes through, and where that was decided. */
export interface WaypointBinding {
  /** `namespace/name` of the waypoint the traffic goes through; absent: none. */
  waypoint?: string
  /** Where the deciding istio.io/use-waypoint label is: on the object itself or on its namespace; absent: no label anywhere. */
  labelOn?: EnrolmentKind
  /** The waypoint the label names (`namespace/name`), or `none` for an opt-out. */
  wanted?: string
  /** Why the named waypoint carries none of this traffic although that is not an error (a namespace's waypoint that serves only the other kind). */
  note?: string
  /** Why the named waypoint should carry this traffic but does not: the warning's id and message. */
  problem?: {id: WaypointWarningId; message: string}
}

/** Services managed as waypoints or east-west gateways never get a waypoint (pilot's fetchWaypointForService). */
const NO_WAYPOINT_MANAGERS = new Set(['istio.io-mesh-controller', 'istio.io-eastwest-controller'])

/**
 * Istio's choice of waypoint for a pod's own (workload) traffic or for a Service's
 * (pilot/pkg/serviceregistry/ambient/waypoints.go fetchWaypointForTarget, fetchWaypointForService,
 * fetchWaypointForWorkload): the object's istio.io/use-waypoint wins, `none` opting out; only
 * without it does the namespace's apply. A named waypoint that is missing or not programmed does
 * not fall back to the namespace's: the traffic goes direct. The waypoint's waypoint-for must
 * cover the kind (service: service|all; workload: workload|all), except that a workload
 * inheriting a service waypoint from its namespace is simply not captured (no error in Istio).
 * The waypoint's HBONE listener must admit the object's namespace (allowedRoutes).
 */
export function resolveWaypoint(kind: 'service' | 'pod', meta: KubeMeta, namespace: KubeMeta | undefined, waypoints: readonly Waypoint[]): WaypointBinding {
  if (kind === 'service' && NO_WAYPOINT_MANAGERS.has(meta.labels?.['gateway.istio.io/managed'] ?? '')) return {}
  const own = meta.namespace ?? ''
  const labelled: Array<[EnrolmentKind, KubeMeta]> = [[kind, meta], ['namespace', namespace ?? {name: own}]]
  const found = labelled.find(([, m]) => m.labels?.[USE_WAYPOINT] !== undefined)
  if (!found) return {}
  const [labelOn, holder] = found
  const wanted = holder.labels![USE_WAYPOINT]
  if (wanted === 'none') return labelOn === 'namespace' ? {} : {labelOn, wanted}
  // use-waypoint-namespace is read from the object holding use-waypoint; the default is the object's own namespace.
  const target = key(holder.labels![USE_WAYPOINT_NAMESPACE] || own, wanted)
  const userName = labelOn === 'namespace' ? own : key(own, meta.name)
  const waypoint = waypoints.find((w) => key(w.namespace, w.name) === target)
  const problem = unusable(labelOn, userName, target, waypoint) ?? attachmentDenied(labelOn, userName, target, waypoint!, own, namespace?.labels ?? {})
  if (problem) return {labelOn, wanted: target, problem}
  const type = waypoint!.effectiveTrafficType
  const traffic = kind === 'service' ? 'service' : 'workload'
  if (type === traffic || type === 'all') return {labelOn, wanted: target, waypoint: target}
  if (kind === 'pod' && labelOn === 'namespace') return {labelOn, wanted: target, note: `waypoint ${target} has ${WAYPOINT_FOR}=${type}: it carries no workload traffic`}
  return {labelOn, wanted: target, problem: {id: 'waypoint-for-mismatch', message: `${labelOn} ${userName} uses waypoint ${target}, whose ${WAYPOINT_FOR} is ${type}: ${traffic} traffic bypasses it`}}
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
