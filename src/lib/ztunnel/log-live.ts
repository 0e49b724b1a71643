/**
 * `zc log` on live ztunnels: read (POST /logging without a query, as ztunnel lists its filter
 * only for POST), change, and with --duration restore each pod's previous filter afterwards or on
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT (meshdbg log's interrupt handling). The restore sends the previous
 * filter with `&reset`, so it replaces what this run set, and only where the filter still is what
 * this run left (another run's change since is kept, and named).
 */
import type {RunContext} from '../context.js'
import {isMeshdbgError, MeshdbgError, notFoundError, usageError} from '../errors.js'
import {forEachLimited, waitFor} from '../async.js'
import {RESTORE_TIMEOUT_MS, watchInterrupts} from '../istio/log-levels-live.js'
import {loadLive} from '../kube/load.js'
import type {ResolvedPod} from '../kube/resolve.js'
import {podLabel} from '../kube/target-spec.js'
import {loggingPath, parseCurrentLevel} from './log-level.js'
import {isZtunnelPod, resolveZtunnel, withDefaultNamespace, ZTUNNEL_DAEMONSET} from './target.js'

export interface ZtunnelPodLevel {
  /** `<pod>.<namespace>` */
  pod: string
  result: 'read' | 'changed' | 'failed'
  /** The filter before the change (changes only). */
  before?: string
  /** The filter ztunnel reports now (after the change, when there was one). */
  levels?: string
  error?: string
  restore?: {result: 'restored' | 'left-alone' | 'failed'; levels?: string; error?: string}
}

export interface ZtunnelLogResult {
  pods: ZtunnelPodLevel[]
}

export interface ZtunnelLogRequest {
  target?: string
  node?: string
  istioNamespace: string
  level?: string
  reset?: boolean
  durationMs?: number
  proxyAdminPort?: number
}

async function post(ctx: RunContext, pod: ResolvedPod, path: string, proxyAdminPort: number | undefined): Promise<string> {
  const live = await loadLive()
  const response = await live.fetchAdminFromPod(ctx, pod, path, {method: 'POST', proxyAdminPort, spinner: false})
  const levels = parseCurrentLevel(response.text)
  if (levels === undefined) throw new MeshdbgError('bad-data', `${podLabel(pod)}: /logging did not answer with ztunnel's "current log level is …"`)
  return levels
}

/** The ztunnels: a named one (a ztunnel pod, not an application pod), the one on --node, or all of the DaemonSet. */
async function ztunnelPods(ctx: RunContext, request: ZtunnelLogRequest): Promise<ResolvedPod[]> {
  if (request.target || request.node) {
    const live = await loadLive()
    if (request.target) {
      const resolved = await live.resolveTargetPod(ctx, withDefaultNamespace(ctx, request.target, request.istioNamespace), {requireProxy: false})
      if (!isZtunnelPod(resolved.pod)) throw notFoundError(`pod ${podLabel(resolved)} is not a ztunnel pod`, 'zc log changes ztunnel pods only: name one, use --node, or give no target for all of them')
      return [resolved]
    }
    return [(await resolveZtunnel(ctx, {node: request.node, istioNamespace: request.istioNamespace, singlePod: false})).ztunnel]
  }
  const live = await loadLive()
  const pods = await live.resolveTargetPods(ctx, {target: `daemonset/${ZTUNNEL_DAEMONSET}.${request.istioNamespace}`})
  const running = pods.filter((pod) => pod.pod.status?.phase === 'Running')
  if (running.length === 0) throw notFoundError(`no Running ztunnel pod in namespace "${request.istioNamespace}"`)
  return running
}

const describe = (error: unknown): string => (isMeshdbgError(error) ? error.message : (error as Error).message)

export async function runZtunnelLog(ctx: RunContext, request: ZtunnelLogRequest, onApplied?: (result: ZtunnelLogResult) => void): Promise<ZtunnelLogResult> {
  const change = request.level !== undefined || request.reset
  if (request.durationMs !== undefined && !change) throw usageError('--duration needs --level (or --reset): it restores the levels it changed')
  if (request.level !== undefined && request.reset) throw usageError('--level cannot be combined with --reset')
  const pods = await ztunnelPods(ctx, request)
  const outcomes = pods.map((pod): ZtunnelPodLevel => ({pod: podLabel(pod), result: 'read'}))
  const interruption = request.durationMs === undefined ? undefined : watchInterrupts(ctx)
  try {
    await forEachLimited(pods.map((pod, i) => [pod, outcomes[i]] as const), 16, async ([pod, outcome]) => {
      try {
        if (!change) {
          outcome.levels = await post(ctx, pod, 'logging', request.proxyAdminPort)
          return
        }
        outcome.before = await post(ctx, pod, 'logging', request.proxyAdminPort)
        outcome.levels = await post(ctx, pod, loggingPath({level: request.level, reset: request.reset}), request.proxyAdminPort)
        outcome.result = 'changed'
      } catch (error) {
        outcome.result = 'failed'
        outcome.error = describe(error)
      }
    })
    const result = {pods: outcomes}
    if (!interruption || request.durationMs === undefined) return result
    const changed = pods.filter((_, i) => outcomes[i].result === 'changed')
    if (changed.length === 0) return result
    onApplied?.(result)
    ctx.note(`restoring the previous levels in ${request.durationMs / 1000}s (or at once on Ctrl-C); if meshdbg is killed before then: meshdbg zc log ${changed.length === pods.length && !request.target && !request.node ? '' : `${changed.map(podLabel).join(' ')} `}--reset`)
    await waitFor(request.durationMs, interruption.first)
    const restoreSignal = AbortSignal.any([AbortSignal.timeout(RESTORE_TIMEOUT_MS), interruption.second])
    const restoreCtx: RunContext = {...ctx, signal: restoreSignal, timeoutMs: RESTORE_TIMEOUT_MS}
    await forEachLimited(changed, 16, async (pod) => {
      const outcome = outcomes[pods.indexOf(pod)]
      try {
        const now = await post(restoreCtx, pod, 'logging', request.proxyAdminPort)
        if (now !== outcome.levels) {
          outcome.restore = {result: 'left-alone', levels: now}
          ctx.note(`${outcome.pod}: left alone: its levels changed since this run set them (now ${now})`)
          return
        }
        outcome.restore = {result: 'restored', levels: await post(restoreCtx, pod, loggingPath({level: outcome.before, reset: true}), request.proxyAdminPort)}
      } catch (error) {
        outcome.restore = {result: 'failed', error: describe(error)}
      }
    })
    const restored = outcomes.filter((outcome) => outcome.restore?.result === 'restored').length
    ctx.note(`restored the previous levels on ${restored} of ${changed.length} ztunnel pod(s)`)
    return result
  } finally {
    interruption?.dispose()
  }
}

/** Exit 4 naming the pods that failed (the others' rows are still printed). */
export function ztunnelLogFailure(result: ZtunnelLogResult): MeshdbgError | undefined {
  const failed = result.pods.filter((pod) => pod.result === 'failed' || pod.restore?.result === 'failed')
  if (failed.length === 0) return undefined
  const why = failed.map((pod) => `${pod.pod}: ${pod.error ?? `previous levels NOT restored: ${pod.restore?.error}`}`).join('; ')
  return new MeshdbgError('connection', `${failed.length} of ${result.pods.length} ztunnel pod(s) failed: ${why}`, {result})
}
