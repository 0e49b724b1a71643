import type {RunContext} from '../context.js'
import {loadLive} from './load.js'
import type {ResolvedPod, ResolvePodsRequest, ResolveTargetOptions} from './resolve.js'

export type {ResolvedPod, ResolvePodsRequest, ResolveTargetOptions} from './resolve.js'
export {
  compareForLogs,
  describeTarget,
  isMeshedPod,
  isPodReady,
  labelSelectorString,
  parseTarget,
  sortForLogs,
  type TargetKind,
  type TargetSpec,
} from './target-spec.js'

/**
 * One pod for `[<type>/]<name>[.<namespace>]`: the pod itself, or a workload's (deploy, svc, sts,
 * ds, rs, job) first pod in kubectl's logs order, noted on stderr. It must be Running and have an
 * istio-proxy container (or be a gateway) unless `requireProxy: false`; else exit 3.
 */
export async function resolveTargetPod(ctx: RunContext, target: string, options?: ResolveTargetOptions): Promise<ResolvedPod> {
  return (await loadLive()).resolveTargetPod(ctx, target, options)
}

/** All pods of a workload (any phase, as istioctl log), of a `-l` selector, or of the namespace. */
export async function resolveTargetPods(ctx: RunContext, request: ResolvePodsRequest): Promise<ResolvedPod[]> {
  return (await loadLive()).resolveTargetPods(ctx, request)
}
