/**
 * Which ztunnel a `ztunnel-config` command reads (istioctl/pkg/ztunnelconfig/ztunnelconfig.go,
 * runConfigDump and PodOnNodeFromDaemonset, 1.30): a ztunnel pod; `--node` (the DaemonSet's pod on
 * that node); an application pod (the ztunnel on its node, the output then narrowed to that pod);
 * by default a pod of `daemonset/ztunnel`. Targets without a namespace are looked up in `-n`, else
 * in the istio namespace, as istioctl does.
 */
import type {V1DaemonSet, V1Pod, V1PodList} from '@kubernetes/client-node'

import type {RunContext} from '../context.js'
import {notFoundError, usageError} from '../errors.js'
import {loadLive} from '../kube/load.js'
import {labelSelectorString, parseTarget, podLabel, sortForLogs} from '../kube/target-spec.js'
import type {ResolvedPod} from '../kube/resolve.js'

export const ZTUNNEL_DAEMONSET = 'ztunnel'

export interface ZtunnelTargetRequest {
  target?: string
  node?: string
  istioNamespace: string
  /** certificate and connections differ per ztunnel: without a target or --node there must be only one. */
  singlePod: boolean
}

export interface ZtunnelTarget {
  ztunnel: ResolvedPod
  /** Set when the target was an application pod: the output is narrowed to it. */
  workload?: {name: string; namespace: string}
}

/** ambientutil.IsZtunnelPod: the `app` label says so; without one, the name does. */
export function isZtunnelPod(pod: V1Pod): boolean {
  const app = pod.metadata?.labels?.app
  if (app !== undefined) return app === 'ztunnel'
  return (pod.metadata?.name ?? '').startsWith('ztunnel')
}

/** At most one of --file, --node and a target (istioctl's validateArgs). */
export function checkZtunnelSource(flags: {file?: string; node?: string; target?: string}): void {
  const given = [flags.file && '--file', flags.node && '--node', flags.target && 'a pod name'].filter(Boolean)
  if (given.length > 1) throw usageError(`give at most one of --file, --node or a pod name (got ${given.join(' and ')})`)
}

const enc = encodeURIComponent

/** The DaemonSet's pod on `node`, in `kubectl logs` order when there are several. */
export async function ztunnelOnNode(ctx: RunContext, node: string, istioNamespace: string): Promise<ResolvedPod> {
  const live = await loadLive()
  const daemonSet = await live.getKubeJson<V1DaemonSet>(
    ctx,
    `daemonset "${ZTUNNEL_DAEMONSET}" in namespace "${istioNamespace}"`,
    `/apis/apps/v1/namespaces/${enc(istioNamespace)}/daemonsets/${ZTUNNEL_DAEMONSET}`,
  )
  const matchLabels = daemonSet.spec?.selector?.matchLabels ?? {}
  // istioctl uses matchLabels only (matchExpressions are ignored there too).
  if (Object.keys(matchLabels).length === 0) throw notFoundError(`daemonset "${ZTUNNEL_DAEMONSET}" in namespace "${istioNamespace}" has no selector`)
  const query = `labelSelector=${enc(labelSelectorString({matchLabels}))}&fieldSelector=${enc(`spec.nodeName=${node}`)}`
  const list = await live.getKubeJson<V1PodList>(ctx, `ztunnel pods on node "${node}"`, `/api/v1/namespaces/${enc(istioNamespace)}/pods?${query}`)
  const pods = list.items ?? []
  if (pods.length === 0) throw notFoundError(`no ztunnel pod on node "${node}" (daemonset "${ZTUNNEL_DAEMONSET}" in namespace "${istioNamespace}")`)
  const pod = sortForLogs(pods)[0]
  const resolved = {name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? istioNamespace, pod}
  if (pod.status?.phase !== 'Running') throw notFoundError(`ztunnel pod ${podLabel(resolved)} on node "${node}" is ${pod.status?.phase ?? 'Unknown'}, not Running`)
  return resolved
}

/** A target without a namespace is looked up in -n, else in the istio namespace (not the context's). */
export function withDefaultNamespace(ctx: RunContext, target: string, istioNamespace: string): string {
  if (parseTarget(target).namespace !== undefined || ctx.namespace !== undefined) return target
  return `${target}.${istioNamespace}`
}

export async function resolveZtunnel(ctx: RunContext, request: ZtunnelTargetRequest): Promise<ZtunnelTarget> {
  const live = await loadLive()
  if (request.node) return {ztunnel: await ztunnelOnNode(ctx, request.node, request.istioNamespace)}
  if (!request.target) {
    const defaultTarget = `daemonset/${ZTUNNEL_DAEMONSET}.${request.istioNamespace}`
    if (request.singlePod) {
      const pods = await live.resolveTargetPods(ctx, {target: defaultTarget})
      if (pods.length !== 1) {
        throw usageError(`${pods.length} ztunnel pods run (one per node) and this view differs between them: give a ztunnel pod name or --node`)
      }
    }
    return {ztunnel: await live.resolveTargetPod(ctx, defaultTarget, {requireProxy: false})}
  }
  const resolved = await live.resolveTargetPod(ctx, withDefaultNamespace(ctx, request.target, request.istioNamespace), {requireProxy: false})
  if (isZtunnelPod(resolved.pod)) return {ztunnel: resolved}
  const node = resolved.pod.spec?.nodeName
  if (!node) throw notFoundError(`pod ${podLabel(resolved)} is not scheduled to a node`)
  const ztunnel = await ztunnelOnNode(ctx, node, request.istioNamespace)
  ctx.note(`${podLabel(resolved)} runs on node ${node}: reading ztunnel ${podLabel(ztunnel)}, narrowed to that pod`)
  return {ztunnel, workload: {name: resolved.name, namespace: resolved.namespace}}
}
