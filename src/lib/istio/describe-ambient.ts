// `describe pod` / `describe service` in ambient mode: whether the pod is enrolled (captured by the
// ztunnel on its node), which ztunnel that is and whether istiod keeps it in sync, and the waypoint
// its workload traffic and each of its Services' traffic goes through. Pure: the namespace, the
// waypoints and the ztunnel lookup come from describe-fetch.ts; waypoint choice is waypoint.ts's
// resolveWaypoint (shared with `meshdbg waypoint`).
import {isMeshedPod} from '../kube/target-spec.js'
import type {DescribePodInput, DescribeWarningId, ServiceInput} from './describe.js'
import type {AmbientSyncType, SyncState} from './sync-status.js'
import {resolveWaypoint, type Waypoint, type WaypointBinding} from './waypoint.js'

const DATAPLANE_MODE = 'istio.io/dataplane-mode'
/** Set by Istio CNI once it has redirected the pod's traffic (pkg/config/constants AmbientRedirectionEnabled/Pending). */
const REDIRECTION = 'ambient.istio.io/redirection'
const SIDECAR_STATUS = 'sidecar.istio.io/status'

/** What describe-fetch found about the pod's node's ztunnel. */
export interface ZtunnelLookup {
  /** The ztunnel DaemonSet's pod on the node (kubectl's logs order when several). */
  pod?: DescribePodInput
  /** Why there is none (no DaemonSet, no pod on the node, not Running): the message of the lookup. */
  missing?: string
  /** The ztunnel's WDS/WADS in istiod's syncz; `connected: false` when no istiod lists it. */
  sync?: {connected: boolean; istiod?: string; types: Partial<Record<AmbientSyncType, SyncState>>}
}

/** The ambient inputs of `describe` (absent: nothing ambient is judged beyond the pod's own labels). */
export interface AmbientContext {
  /** The described namespace (its labels decide enrolment and the default waypoint); undefined when it could not be read. */
  namespace?: {metadata: {name: string; labels?: Record<string, string>}}
  /** Waypoints of the cluster, read only when some istio.io/use-waypoint label concerns the object. */
  waypoints: Waypoint[]
  /** Only for an enrolled pod. */
  ztunnel?: ZtunnelLookup
}

export type Dataplane = 'sidecar' | 'ambient' | 'none'

export interface DescribedZtunnel {
  /** `name.namespace` of the ztunnel pod. */
  pod: string
  node: string
  ready: boolean
  phase: string
  /** WDS (istio.workload.Address) and WADS (istio.security.Authorization) as istiod's syncz reports them; absent: not asked or not answered. */
  sync?: {connected: boolean; istiod?: string; types: Partial<Record<AmbientSyncType, SyncState>>}
}

export interface DescribedAmbient {
  /** How the pod's traffic is captured: its own sidecar, the node's ztunnel, or not at all. */
  dataplane: Dataplane
  /** The rule that decided, in words (`namespace bookinfo has istio.io/dataplane-mode=ambient`). */
  reason: string
  /** The node the pod runs on (whose ztunnel captures it). */
  node?: string
  /** ambient.istio.io/redirection as Istio CNI set it: `enabled` (captured), `pending` (redirected, no ztunnel accepted it yet); absent: not captured. */
  redirection?: string
  /** For an enrolled pod: the ztunnel on its node, when there is one. */
  ztunnel?: DescribedZtunnel
  /** For an enrolled pod: the waypoint of traffic addressed to the pod itself (not through a Service). */
  workloadWaypoint?: WaypointBinding
}

export interface AmbientFinding {
  id: DescribeWarningId
  subject: string
  message: string
}

const kname = (meta: {name: string; namespace?: string}) => `${meta.name}.${meta.namespace ?? ''}`

/**
 * Istio CNI's enrolment rule (cni/pkg/util/enablement_selector.go Matches with the istio-cni
 * chart's default ambient.enablementSelectors): never a host-network pod nor one with a sidecar
 * (`sidecar.istio.io/status`, or an istio-proxy container here); else the pod's own
 * `istio.io/dataplane-mode=ambient`, or its namespace's unless the pod says `none`.
 */
export function ambientDataplane(pod: DescribePodInput, namespaceLabels: Record<string, string> | undefined): {dataplane: Dataplane; reason: string} {
  const ns = pod.metadata.namespace
  if (isMeshedPod(pod) || pod.metadata.annotations?.[SIDECAR_STATUS] !== undefined) return {dataplane: 'sidecar', reason: 'the pod runs an Istio proxy of its own (sidecar, gateway or waypoint): ztunnel never captures it'}
  if (pod.spec?.hostNetwork) return {dataplane: 'none', reason: 'a host-network pod cannot be captured by ztunnel'}
  const podMode = pod.metadata.labels?.[DATAPLANE_MODE]
  if (podMode === 'ambient') return {dataplane: 'ambient', reason: `the pod has ${DATAPLANE_MODE}=ambient`}
  if (podMode === 'none') return {dataplane: 'none', reason: `the pod opts out with ${DATAPLANE_MODE}=none`}
  if (namespaceLabels?.[DATAPLANE_MODE] === 'ambient') return {dataplane: 'ambient', reason: `namespace ${ns} has ${DATAPLANE_MODE}=ambient`}
  const unknown = namespaceLabels === undefined ? ` (namespace ${ns}'s labels could not be read)` : ''
  return {dataplane: 'none', reason: `neither the pod nor namespace ${ns} has ${DATAPLANE_MODE}=ambient${unknown}`}
}

/** A Service's waypoint (only with ambient inputs, and only when a use-waypoint label concerns it). */
export function serviceWaypoint(svc: ServiceInput, ambient: AmbientContext | undefined): WaypointBinding | undefined {
  if (!ambient) return undefined
  const binding = resolveWaypoint('service', svc.metadata, ambient.namespace?.metadata, ambient.waypoints)
  return binding.labelOn ? binding : undefined
}

const SYNCED: ReadonlySet<SyncState> = new Set(['SYNCED', 'IGNORED', 'NOT SENT'])

function describeZtunnel(lookup: ZtunnelLookup | undefined, node: string | undefined, podName: string, findings: AmbientFinding[]): DescribedZtunnel | undefined {
  const subject = `Pod ${podName}`
  if (!node) {
    findings.push({id: 'ztunnel-missing', subject, message: `Pod ${podName} is not scheduled to a node: no ztunnel captures it yet`})
    return undefined
  }
  if (!lookup) return undefined
  const pod = lookup.pod
  if (!pod) {
    findings.push({id: 'ztunnel-missing', subject, message: `No ztunnel on node ${node} (${lookup.missing ?? 'not found'}): the pod's connections, in and out, fail until one runs`})
    return undefined
  }
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True'
  const phase = pod.status?.phase ?? 'Unknown'
  const ztunnel = kname(pod.metadata)
  if (!ready) findings.push({id: 'ztunnel-not-ready', subject, message: `ztunnel ${ztunnel} on node ${node} is not Ready (phase ${phase}): the pod's connections, in and out, may fail`})
  const sync = lookup.sync
  if (sync && !sync.connected) {
    findings.push({id: 'ztunnel-not-synced', subject, message: `ztunnel ${ztunnel} is not connected to any istiod: it does not learn new workloads, services or policies`})
  } else if (sync) {
    const behind = Object.entries(sync.types).filter(([, state]) => !SYNCED.has(state))
    if (behind.length > 0) {
      findings.push({id: 'ztunnel-not-synced', subject,
        message: `ztunnel ${ztunnel} has not applied istiod's last push (${behind.map(([type, state]) => `${type} ${state}`).join(', ')}): it may route with an old view of workloads or policies (check meshdbg sync-status ${ztunnel})`})
    }
  }
  return {pod: ztunnel, node, ready, phase, ...(sync ? {sync} : {})}
}

/** The pod's dataplane, its ztunnel and workload waypoint, and the findings about them. */
export function describeAmbient(pod: DescribePodInput, ambient: AmbientContext | undefined): {ambient: DescribedAmbient; findings: AmbientFinding[]} {
  const podName = kname(pod.metadata)
  const {dataplane, reason} = ambientDataplane(pod, ambient?.namespace?.metadata.labels)
  const node = pod.spec?.nodeName
  const findings: AmbientFinding[] = []
  const redirection = pod.metadata.annotations?.[REDIRECTION]
  const base = {dataplane, reason, ...(node ? {node} : {}), ...(redirection ? {redirection} : {})}
  if (dataplane !== 'ambient') return {ambient: base, findings}
  const ztunnel = describeZtunnel(ambient?.ztunnel, node, podName, findings)
  // A pod still starting is not captured yet; a Running one should be.
  if (pod.status?.phase === 'Running' && redirection !== 'enabled') {
    findings.push({id: 'ambient-not-captured', subject: `Pod ${podName}`, message: redirection === 'pending'
      ? `Istio CNI redirected the pod's traffic but no ztunnel has accepted it yet (${REDIRECTION}=pending): it sends and receives nothing until one does`
      : `The pod's labels enrol it in ambient but Istio CNI has not captured it (no ${REDIRECTION}=enabled): its traffic bypasses ztunnel (is istio-cni running on node ${node ?? '?'}?)`})
  }
  const binding = ambient ? resolveWaypoint('pod', pod.metadata, ambient.namespace?.metadata, ambient.waypoints) : undefined
  if (binding?.problem) findings.push({id: binding.problem.id, subject: `Pod ${podName}`, message: binding.problem.message})
  return {
    ambient: {...base, ...(ztunnel ? {ztunnel} : {}), ...(binding?.labelOn ? {workloadWaypoint: binding} : {})},
    findings,
  }
}
