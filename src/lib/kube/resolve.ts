import type {V1LabelSelector, V1Pod} from '@kubernetes/client-node'

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

async function readPod(ctx: RunContext, session: KubeSession, name: string, namespace: string): Promise<V1Pod> {
  return callApi(ctx, session, `pod "${name}" in namespace "${namespace}"`, () =>
    session.core().readNamespacedPod({name, namespace}, session.callOptions()),
  )
}

async function listPods(ctx: RunContext, session: KubeSession, namespace: string, labelSelector: string | undefined): Promise<V1Pod[]> {
  const list = await callApi(ctx, session, `pods in namespace "${namespace}"`, () =>
    session.core().listNamespacedPod({namespace, labelSelector: labelSelector || undefined}, session.callOptions()),
  )
  return list.items ?? []
}

async function workloadPods(ctx: RunContext, session: KubeSession, spec: TargetSpec, namespace: string): Promise<V1Pod[]> {
  const selector = await workloadSelector(ctx, session, spec, namespace)
  return listPods(ctx, session, namespace, selector)
}

/** The label selector of a workload or service, as the API's labelSelector string. */
async function workloadSelector(ctx: RunContext, session: KubeSession, spec: TargetSpec, namespace: string): Promise<string> {
  const what = `${spec.kind} "${spec.name}" in namespace "${namespace}"`
  const request = {name: spec.name, namespace}
  const options = session.callOptions()
  let selector: V1LabelSelector | undefined
  switch (spec.kind) {
    case 'service': {
      const service = await callApi(ctx, session, what, () => session.core().readNamespacedService(request, options))
      const labels = service.spec?.selector ?? {}
      if (Object.keys(labels).length === 0) {
        throw notFoundError(`service "${spec.name}" in namespace "${namespace}" has no selector: it does not refer to pods`)
      }
      return labelSelectorString({matchLabels: labels})
    }
    case 'deployment':
      selector = (await callApi(ctx, session, what, () => session.apps().readNamespacedDeployment(request, options))).spec?.selector
      break
    case 'statefulset':
      selector = (await callApi(ctx, session, what, () => session.apps().readNamespacedStatefulSet(request, options))).spec?.selector
      break
    case 'daemonset':
      selector = (await callApi(ctx, session, what, () => session.apps().readNamespacedDaemonSet(request, options))).spec?.selector
      break
    case 'replicaset':
      selector = (await callApi(ctx, session, what, () => session.apps().readNamespacedReplicaSet(request, options))).spec?.selector
      break
    case 'job':
      selector = (await callApi(ctx, session, what, () => session.batch().readNamespacedJob(request, options))).spec?.selector
      break
    default:
      throw new MeshdbgError('internal', `no selector lookup for ${spec.kind}`)
  }
  const text = selector ? labelSelectorString(selector) : ''
  // An empty selector would match every pod of the namespace: never what the user meant.
  if (text === '') throw notFoundError(`${what} has an empty selector: it does not refer to pods`)
  return text
}
