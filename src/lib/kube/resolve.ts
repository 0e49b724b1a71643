import type {V1LabelSelector, V1Pod, V1PodList, V1Service} from '@kubernetes/client-node'

import type {RunContext} from '../context.js'
import {MeshdbgError, notFoundError, usageError} from '../errors.js'
import {callApi, openKube, type KubeSession} from './session.js'
import {
  assertUsableProxyPod,
  describeTarget,
  isMeshedPod,
  labelSelectorString,
  parseTarget,
  podLabel,
  sortForLogs,
  type TargetSpec,
} from './target-spec.js'

export interface ResolvedPod {
  name: string
  namespace: string
  pod: V1Pod
}

export interface ResolveTargetOptions {
  /** Fail (exit 3) unless the pod has an istio-proxy container or is a gateway (default true). */
  requireProxy?: boolean
}

export interface ResolvePodsRequest {
  target?: string
  /** A `-l/--selector` label selector. */
  selector?: string
  /** Every pod of the namespace (when neither target nor selector is given). */
  namespaceWide?: boolean
  /** Keep only pods with an istio-proxy container (or gateways). */
  meshedOnly?: boolean
}

/**
 * One pod for a single-proxy command: a pod as named, or a workload's best pod in kubectl's logs
 * order (the pick is noted on stderr). The pod must be Running and, unless told otherwise, meshed.
 */
export async function resolveTargetPod(ctx: RunContext, target: string, options: ResolveTargetOptions = {}): Promise<ResolvedPod> {
  const session = openKube(ctx)
  const spec = parseTarget(target)
  const namespace = spec.namespace ?? session.namespace
  let pod: V1Pod
  if (spec.kind === 'pod') {
    pod = await readPod(ctx, session, spec.name, namespace)
  } else {
    const pods = await workloadPods(ctx, session, spec, namespace)
    if (pods.length === 0) throw notFoundError(`no pods match "${describeTarget(spec)}" in namespace "${namespace}"`)
    pod = sortForLogs(pods)[0]
    const others = pods.length - 1
    ctx.note(`${describeTarget(spec)}: using pod ${podLabel({name: pod.metadata!.name!, namespace})}${others > 0 ? ` (and ${others} more; pass pod/<name> to pick one)` : ''}`)
  }
  const resolved = {name: pod.metadata?.name ?? spec.name, namespace: pod.metadata?.namespace ?? namespace, pod}
  assertUsableProxyPod(pod, podLabel(resolved), options.requireProxy !== false)
  return resolved
}

/**
 * Several pods, for commands that act on all of them (istioctl's log and envoy-stats): every pod
 * of a workload (any phase), the pods matching a selector, or a whole namespace.
 */
export async function resolveTargetPods(ctx: RunContext, request: ResolvePodsRequest): Promise<ResolvedPod[]> {
  const session = openKube(ctx)
  if (request.target && request.selector) throw usageError('give either a pod/workload or --selector, not both')
  let pods: V1Pod[]
  let namespace = session.namespace
  let described: string
  if (request.target) {
    const spec = parseTarget(request.target)
    namespace = spec.namespace ?? session.namespace
    described = `"${describeTarget(spec)}"`
    pods = spec.kind === 'pod' ? [await readPod(ctx, session, spec.name, namespace)] : await workloadPods(ctx, session, spec, namespace)
  } else if (request.selector !== undefined) {
    described = `selector "${request.selector}"`
    pods = await listPods(ctx, session, namespace, request.selector)
  } else if (request.namespaceWide) {
    described = 'any pod'
    pods = await listPods(ctx, session, namespace, undefined)
  } else {
    throw usageError('give a pod/workload, --selector, or ask for the whole namespace')
  }
  if (request.meshedOnly) pods = pods.filter((pod) => isMeshedPod(pod))
  if (pods.length === 0) {
    throw notFoundError(`no ${request.meshedOnly ? 'meshed ' : ''}pods match ${described} in namespace "${namespace}"`)
  }
  return pods.map((pod) => ({name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? namespace, pod}))
}

// Plain GETs rather than client-node's generated clients: those cost ~60 ms of load time per
// command, and these four shapes are all target resolution needs.
const enc = encodeURIComponent

async function readPod(ctx: RunContext, session: KubeSession, name: string, namespace: string): Promise<V1Pod> {
  return callApi(ctx, session, `pod "${name}" in namespace "${namespace}"`, () =>
    session.getJson<V1Pod>(`/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`),
  )
}

async function listPods(ctx: RunContext, session: KubeSession, namespace: string, labelSelector: string | undefined): Promise<V1Pod[]> {
  const query = labelSelector ? `?labelSelector=${enc(labelSelector)}` : ''
  const list = await callApi(ctx, session, `pods in namespace "${namespace}"`, () =>
    session.getJson<V1PodList>(`/api/v1/namespaces/${enc(namespace)}/pods${query}`),
  )
  return list.items ?? []
}

const WORKLOAD_PATHS: Readonly<Record<Exclude<TargetSpec['kind'], 'pod' | 'service'>, string>> = {
  deployment: '/apis/apps/v1/namespaces/NS/deployments/',
  statefulset: '/apis/apps/v1/namespaces/NS/statefulsets/',
  daemonset: '/apis/apps/v1/namespaces/NS/daemonsets/',
  replicaset: '/apis/apps/v1/namespaces/NS/replicasets/',
  job: '/apis/batch/v1/namespaces/NS/jobs/',
}

async function workloadPods(ctx: RunContext, session: KubeSession, spec: TargetSpec, namespace: string): Promise<V1Pod[]> {
  const selector = await workloadSelector(ctx, session, spec, namespace)
  return listPods(ctx, session, namespace, selector)
}

/** The label selector of a workload or service, as the API's labelSelector string. */
async function workloadSelector(ctx: RunContext, session: KubeSession, spec: TargetSpec, namespace: string): Promise<string> {
  const what = `${spec.kind} "${spec.name}" in namespace "${namespace}"`
  if (spec.kind === 'pod') throw new MeshdbgError('internal', 'a pod has no selector')
  if (spec.kind === 'service') {
    const service = await callApi(ctx, session, what, () => session.getJson<V1Service>(`/api/v1/namespaces/${enc(namespace)}/services/${enc(spec.name)}`))
    const labels = service.spec?.selector ?? {}
    if (Object.keys(labels).length === 0) {
      throw notFoundError(`service "${spec.name}" in namespace "${namespace}" has no selector: it does not refer to pods`)
    }
    return labelSelectorString({matchLabels: labels})
  }
  const path = WORKLOAD_PATHS[spec.kind].replace('NS', enc(namespace)) + enc(spec.name)
  const workload = await callApi(ctx, session, what, () => session.getJson<{spec?: {selector?: V1LabelSelector}}>(path))
  const selector = workload.spec?.selector
  const text = selector ? labelSelectorString(selector) : ''
  // An empty selector would match every pod of the namespace: never what the user meant.
  if (text === '') throw notFoundError(`${what} has an empty selector: it does not refer to pods`)
  return text
}
