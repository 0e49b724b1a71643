// The I/O of describe's ambient view: the namespace's labels, the waypoints (only when some
// istio.io/use-waypoint label concerns the described objects), and for an enrolled pod the ztunnel
// on its node (the DaemonSet's pod, as `ztunnel-config` finds it) with its WDS/WADS in istiod's
// syncz. What cannot be read is a note and a narrower answer, never a failure.
import type {RunContext} from '../context.js'
import {isMeshdbgError, type MeshdbgError} from '../errors.js'
import {getKubeJson} from '../kube/index.js'
import {clockOf} from '../snapshot/replay.js'
import {ztunnelOnNode} from '../ztunnel/target.js'
import {ambientDataplane, type AmbientContext, type ZtunnelLookup} from './describe-ambient.js'
import type {DescribePodInput, ServiceInput} from './describe.js'
import {loadIstiodSyncz} from './istiod.js'
import {mergeSyncStatus} from './sync-status.js'
import {listGateways} from './waypoint-fetch.js'
import {waypointsOf} from './waypoint.js'

const USE_WAYPOINT = 'istio.io/use-waypoint'

/** Expected trouble (missing, forbidden, unreachable) becomes a note; a timeout or a bug stays an error. */
function expected(error: unknown): error is MeshdbgError {
  return isMeshdbgError(error) && error.kind !== 'timeout' && error.kind !== 'internal'
}

async function readNamespace(ctx: RunContext, namespace: string): Promise<AmbientContext['namespace']> {
  try {
    return await getKubeJson<NonNullable<AmbientContext['namespace']>>(ctx, `namespace "${namespace}"`, `/api/v1/namespaces/${encodeURIComponent(namespace)}`)
  } catch (error) {
    if (!expected(error)) throw error
    ctx.note(`${error.message}: ambient enrolment and waypoints are judged without the namespace's labels`)
    return undefined
  }
}

/** The ztunnel's WDS/WADS as the istiods that know it report them; `connected: false` when none does. */
async function ztunnelSync(ctx: RunContext, ztunnel: DescribePodInput, istioNamespace: string): Promise<ZtunnelLookup['sync']> {
  const proxy = `${ztunnel.metadata.name}.${ztunnel.metadata.namespace}`
  try {
    const {sources} = await loadIstiodSyncz(ctx, {istioNamespace, namespace: ztunnel.metadata.namespace})
    const row = mergeSyncStatus(sources, {now: clockOf(ctx)}).find((r) => r.proxy === proxy)
    if (!row) return {connected: false, types: {}}
    return {connected: true, istiod: row.istiod, types: Object.fromEntries(Object.entries(row.ambientTypes ?? {}).map(([type, status]) => [type, status.state]))}
  } catch (error) {
    if (!expected(error)) throw error
    ctx.note(`ztunnel ${proxy}: istiod's sync status could not be read (${error.message}): not checked`)
    return undefined
  }
}

async function findZtunnel(ctx: RunContext, pod: DescribePodInput, istioNamespace: string): Promise<ZtunnelLookup | undefined> {
  const node = pod.spec?.nodeName
  if (!node) return undefined
  let ztunnel: DescribePodInput
  try {
    ztunnel = (await ztunnelOnNode(ctx, node, istioNamespace)).pod as unknown as DescribePodInput
  } catch (error) {
    if (!expected(error)) throw error
    if (error.kind === 'not-found') return {missing: error.message}
    ctx.note(`the ztunnel on node ${node} could not be looked up (${error.message}): not checked`)
    return undefined
  }
  const sync = await ztunnelSync(ctx, ztunnel, istioNamespace)
  return {pod: ztunnel, ...(sync ? {sync} : {})}
}

/**
 * Ambient inputs for describing `pod` (undefined for describe service) and `services` of
 * `namespace`; ztunnels and istiod live in `istioNamespace` (-i).
 */
export async function fetchAmbientContext(ctx: RunContext, request: {namespace: string; pod?: DescribePodInput; services: readonly ServiceInput[]; istioNamespace: string}): Promise<AmbientContext> {
  const namespace = await readNamespace(ctx, request.namespace)
  const ambientPod = request.pod && ambientDataplane(request.pod, namespace?.metadata.labels).dataplane === 'ambient' ? request.pod : undefined
  const labelled = [namespace?.metadata, ambientPod?.metadata, ...request.services.map((s) => s.metadata)].some((m) => m?.labels?.[USE_WAYPOINT] !== undefined)
  const [gateways, ztunnel] = await Promise.all([
    labelled ? listGateways(ctx, request.namespace) : Promise.resolve([]),
    ambientPod ? findZtunnel(ctx, ambientPod, request.istioNamespace) : Promise.resolve(undefined),
  ])
  return {...(namespace ? {namespace} : {}), waypoints: waypointsOf(gateways), ...(ztunnel ? {ztunnel} : {})}
}
