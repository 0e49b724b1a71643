import {MeshdbgError, notFoundError, usageError} from '../errors.js'

/** What a `[<type>/]<name>[.<namespace>]` target argument asks for, before any API call. */
export interface TargetSpec {
  kind: TargetKind
  name: string
  /** From the `.namespace` suffix; it overrides `-n` (as in istioctl). */
  namespace?: string
  /** The argument as the user typed it, for messages. */
  text: string
}

export type TargetKind = 'pod' | 'deployment' | 'service' | 'statefulset' | 'daemonset' | 'replicaset' | 'job'

const KIND_BY_TYPE: Readonly<Record<string, TargetKind>> = {
  po: 'pod',
  pod: 'pod',
  pods: 'pod',
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
  svc: 'service',
  service: 'service',
  services: 'service',
  sts: 'statefulset',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  ds: 'daemonset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  rs: 'replicaset',
  replicaset: 'replicaset',
  replicasets: 'replicaset',
  job: 'job',
  jobs: 'job',
}

/** API groups kubectl accepts after a type (`deployment.apps/x`); they never change the kind here. */
const GROUP_SUFFIX = /\.(apps|batch|core|v1)$/

/** The short type each kind is shown with in messages (`deploy/x`). */
export const SHORT_TYPE: Readonly<Record<TargetKind, string>> = {
  pod: 'pod',
  deployment: 'deploy',
  service: 'svc',
  statefulset: 'sts',
  daemonset: 'ds',
  replicaset: 'rs',
  job: 'job',
}

/**
 * Splits a target the way istioctl does: with a `/` after the first character, only a `.` after the
 * last `/` separates the namespace (so `deployment.apps/x` keeps its dotted type); without one, the
 * last `.` does (so a dotted pod name needs `pod/` or `-n`).
 */
export function parseTarget(text: string): TargetSpec {
  const trimmed = text.trim()
  if (trimmed === '') throw usageError('empty pod/workload name')
  let resource = trimmed
  let namespace: string | undefined
  const slash = trimmed.lastIndexOf('/')
  if (slash > 0) {
    const dot = trimmed.lastIndexOf('.')
    if (dot > slash) {
      resource = trimmed.slice(0, dot)
      namespace = trimmed.slice(dot + 1)
    }
  } else {
    const dot = trimmed.lastIndexOf('.')
    if (dot >= 0) {
      resource = trimmed.slice(0, dot)
      namespace = trimmed.slice(dot + 1)
    }
  }
  if (namespace === '') throw usageError(`invalid target "${text}": empty namespace after "."`)
  let kind: TargetKind = 'pod'
  let name = resource.startsWith('/') ? resource.slice(1) : resource
  const typeSlash = resource.indexOf('/')
  if (typeSlash > 0) {
    const type = resource.slice(0, typeSlash).toLowerCase().replace(GROUP_SUFFIX, '')
    name = resource.slice(typeSlash + 1)
    const known = KIND_BY_TYPE[type]
    if (!known) {
      throw usageError(
        `unsupported target type "${resource.slice(0, typeSlash)}" in "${text}"`,
        'use pod/, deploy/, svc/, sts/, ds/, rs/ or job/, or a plain pod name',
      )
    }
    kind = known
  }
  if (name === '' || name.includes('/')) throw usageError(`invalid target "${text}": expected [<type>/]<name>[.<namespace>]`)
  return {kind, name, namespace, text: trimmed}
}

export function describeTarget(spec: Pick<TargetSpec, 'kind' | 'name'>): string {
  return spec.kind === 'pod' ? `pod/${spec.name}` : `${SHORT_TYPE[spec.kind]}/${spec.name}`
}

// ---------------------------------------------------------------------------------------------
// Label selectors: workloads select with matchLabels AND matchExpressions; both become one string.

export interface LabelSelectorRequirement {
  key: string
  operator: string
  values?: string[]
}

export interface LabelSelectorLike {
  matchLabels?: Record<string, string> | null
  matchExpressions?: LabelSelectorRequirement[] | null
}

/** Renders a LabelSelector in the API's `labelSelector` syntax; empty means "selects everything". */
export function labelSelectorString(selector: LabelSelectorLike): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) parts.push(`${key}=${value}`)
  for (const requirement of selector.matchExpressions ?? []) {
    const values = [...(requirement.values ?? [])].sort()
    switch (requirement.operator) {
      case 'In':
        parts.push(`${requirement.key} in (${values.join(',')})`)
        break
      case 'NotIn':
        parts.push(`${requirement.key} notin (${values.join(',')})`)
        break
      case 'Exists':
        parts.push(requirement.key)
        break
      case 'DoesNotExist':
        parts.push(`!${requirement.key}`)
        break
      default:
        throw usageError(`unsupported label selector operator "${requirement.operator}" on key "${requirement.key}"`)
    }
  }
  return parts.join(',')
}

// ---------------------------------------------------------------------------------------------
// Pod choice and checks. Only the fields used are typed, so the pure code needs no client-node.

export interface PodLike {
  metadata?: {name?: string; namespace?: string; creationTimestamp?: Date | string; annotations?: Record<string, string>; labels?: Record<string, string>}
  spec?: {
    nodeName?: string
    containers?: ContainerLike[]
    initContainers?: Array<ContainerLike & {restartPolicy?: string}>
  }
  status?: {
    phase?: string
    conditions?: Array<{type?: string; status?: string; lastTransitionTime?: Date | string}>
    containerStatuses?: Array<{restartCount?: number}>
    initContainerStatuses?: Array<{restartCount?: number}>
  }
}

export interface ContainerLike {
  name?: string
  command?: string[]
  args?: string[]
}

const PHASE_RANK: Readonly<Record<string, number>> = {Running: 0, Unknown: 1, Pending: 2}

export function isPodReady(pod: PodLike): boolean {
  return (pod.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True')
}

function readySince(pod: PodLike): number | undefined {
  const condition = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'True')
  return timeOf(condition?.lastTransitionTime)
}

function timeOf(value: Date | string | undefined): number | undefined {
  if (value === undefined || value === null) return undefined
  const ms = value instanceof Date ? value.getTime() : Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

function maxRestarts(pod: PodLike): number {
  const counts = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].map((s) => s.restartCount ?? 0)
  return counts.length === 0 ? 0 : Math.max(...counts)
}

/** `a` is earlier than `b`, with a missing time last (kubectl's afterOrZero, inverted). */
function earlierOrPresent(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0
  if (a === undefined) return 1
  if (b === undefined) return -1
  return a - b
}

/**
 * kubectl's "logs" order (podutils.ByLogging), which istioctl uses to pick a workload's pod:
 * scheduled before unscheduled, Running < Unknown < Pending (then other phases: Go ranks
 * Succeeded/Failed with Running by accident, we put them last on purpose), Ready first, ready
 * longer first, more restarts first, older first.
 */
export function compareForLogs(a: PodLike, b: PodLike): number {
  const aNode = a.spec?.nodeName ?? ''
  const bNode = b.spec?.nodeName ?? ''
  if (aNode !== bNode && (aNode === '' || bNode === '')) return aNode === '' ? 1 : -1
  const aPhase = PHASE_RANK[a.status?.phase ?? ''] ?? 3
  const bPhase = PHASE_RANK[b.status?.phase ?? ''] ?? 3
  if (aPhase !== bPhase) return aPhase - bPhase
  const aReady = isPodReady(a)
  const bReady = isPodReady(b)
  if (aReady !== bReady) return aReady ? -1 : 1
  if (aReady && bReady) {
    const byReady = earlierOrPresent(readySince(a), readySince(b))
    if (byReady !== 0) return byReady
  }
  const restarts = maxRestarts(b) - maxRestarts(a)
  if (restarts !== 0) return restarts
  return earlierOrPresent(timeOf(a.metadata?.creationTimestamp), timeOf(b.metadata?.creationTimestamp))
}

/** Sorts a copy (stable: the API's name order breaks ties). */
export function sortForLogs<P extends PodLike>(pods: readonly P[]): P[] {
  return [...pods].sort(compareForLogs)
}

/**
 * A pod is part of the mesh when it has an `istio-proxy` container (a sidecar, or a native
 * sidecar among the init containers) or runs `pilot-agent proxy router` (a gateway).
 */
export function isMeshedPod(pod: PodLike): boolean {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')]
  return containers.some((container) => container.name === 'istio-proxy' || isRouterContainer(container))
}

function isRouterContainer(container: ContainerLike): boolean {
  const words = [...(container.command ?? []), ...(container.args ?? [])]
  const proxy = words.indexOf('proxy')
  return words.some((word) => word === 'pilot-agent' || word.endsWith('/pilot-agent')) && proxy >= 0 && words.slice(proxy + 1).includes('router')
}

export function podLabel(pod: {name: string; namespace: string}): string {
  return `${pod.name}.${pod.namespace}`
}

/** The checks a single-pod proxy command makes on the pod it is about to port-forward to. */
export function assertUsableProxyPod(pod: PodLike, label: string, requireProxy = true): void {
  const phase = pod.status?.phase ?? 'Unknown'
  if (phase !== 'Running') {
    throw notFoundError(`pod ${label} is ${phase}, not Running`, 'wait for it to start, or pick another pod')
  }
  if (requireProxy && !isMeshedPod(pod)) {
    throw new MeshdbgError('not-meshed', `pod ${label} has no istio-proxy container: it is not part of the mesh`, {
      hint: 'enable sidecar injection for its namespace (istio-injection=enabled) and restart it',
    })
  }
}
