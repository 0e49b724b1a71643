// The I/O of `meshdbg waypoint`: Gateway API Gateways (cluster-wide, so a use-waypoint naming a
// waypoint in another namespace is judged correctly even with -n), and the namespaces, Services and
// pods that may carry istio.io/use-waypoint in the scope asked for.
import type {RunContext} from '../context.js'
import {isMeshdbgError} from '../errors.js'
import {getKubeJson, openKube} from '../kube/index.js'
import type {GatewayInput, KubeMeta, WaypointInputs} from './waypoint.js'

interface KubeList<T> {
  items?: T[]
}

// gateway.networking.k8s.io/v1 is what istioctl lists (GatewayV1().Gateways) and what Istio 1.22+ requires.
const GATEWAYS = '/apis/gateway.networking.k8s.io/v1'
const enc = encodeURIComponent

export async function listGateways(ctx: RunContext, namespace: string | undefined): Promise<GatewayInput[]> {
  try {
    return (await getKubeJson<KubeList<GatewayInput>>(ctx, 'Gateways (gateway.networking.k8s.io) in all namespaces', `${GATEWAYS}/gateways`)).items ?? []
  } catch (error) {
    if (!isMeshdbgError(error)) throw error
    if (error.kind === 'not-found') {
      ctx.note('Gateways of gateway.networking.k8s.io/v1 are not served (are the Gateway API CRDs installed?): no waypoints')
      return []
    }
    if (error.kind !== 'forbidden' || namespace === undefined) throw error
  }
  ctx.note(`listing Gateways in all namespaces is forbidden: only namespace ${namespace} was read, so waypoints of other namespaces count as missing`)
  return (await getKubeJson<KubeList<GatewayInput>>(ctx, `Gateways (gateway.networking.k8s.io) in namespace "${namespace}"`, `${GATEWAYS}/namespaces/${enc(namespace)}/gateways`)).items ?? []
}

/** `namespace` undefined: every namespace (-A). */
export async function fetchWaypointInputs(ctx: RunContext, allNamespaces: boolean): Promise<{inputs: WaypointInputs; namespace?: string}> {
  const namespace = allNamespaces ? undefined : (await openKube(ctx)).namespace
  const scoped = (resource: string) => (namespace === undefined ? `/api/v1/${resource}` : `/api/v1/namespaces/${enc(namespace)}/${resource}`)
  const where = namespace === undefined ? 'in all namespaces' : `in namespace "${namespace}"`
  const [gateways, namespaces, services, pods] = await Promise.all([
    listGateways(ctx, namespace),
    namespace === undefined
      ? getKubeJson<KubeList<{metadata: KubeMeta}>>(ctx, 'namespaces', '/api/v1/namespaces').then((l) => l.items ?? [])
      : getKubeJson<{metadata: KubeMeta}>(ctx, `namespace "${namespace}"`, `/api/v1/namespaces/${enc(namespace)}`).then((n) => [n]),
    getKubeJson<KubeList<{metadata: KubeMeta}>>(ctx, `services ${where}`, scoped('services')).then((l) => l.items ?? []),
    getKubeJson<KubeList<{metadata: KubeMeta}>>(ctx, `pods ${where}`, scoped('pods')).then((l) => l.items ?? []),
  ])
  return {inputs: {gateways, namespaces, services, pods}, namespace}
}
