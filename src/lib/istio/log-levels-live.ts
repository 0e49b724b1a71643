import {forEachLimited, waitFor} from '../async.js'
import type {RunContext} from '../context.js'
import {formatDuration} from '../duration.js'
import {isMeshdbgError, MeshdbgError, usageError} from '../errors.js'
import {
  type ActiveLoggers,
  diffLevels,
  type LeftAlone,
  type LevelChange,
  type LevelSpec,
  levelsAfter,
  parseActiveLoggers,
  parseLevelSpec,
  planLevelChanges,
  planOwnRestore,
  type PlannedRequest,
  type ResetLevel,
  resetSpecFor,
  validateLevelSpec,
} from '../envoy/log-levels.js'
import {type AdminPortChoice, adminPortOf} from '../kube/admin-port.js'
import {fetchAdminFromPod, parseTarget, resolveTargetPod, resolveTargetPods, type ResolvedPod} from '../kube/index.js'
import {shellQuote} from '../render/shell-quote.js'

/**
 * Envoy logger levels on live proxies (meshdbg log): read them with `POST /logging` (GET is 405 on
 * modern Envoy), change them with `POST /logging?level=L` / `?<logger>=L`, on one pod, a workload's
 * pods, a selector's or a whole namespace's, with bounded concurrency; optionally restore them
 * after a while (--duration), also when interrupted.
 */

/** Above this many pods, a namespace-wide or selector change needs --yes. */
export const CONFIRM_ABOVE_PODS = 20
/** Restoring after --duration gets its own deadline: the command's --timeout has long passed. */
export const RESTORE_TIMEOUT_MS = 10_000

export type PodOutcome = 'read' | 'changed' | 'unchanged' | 'failed' | 'skipped'

export interface PodLogLevels {
  pod: string
  namespace: string
  adminPort: number
  result: PodOutcome
  /** Why the pod failed or was skipped. */
  error?: string
  /** Level per logger as the proxy last reported it. */
  levels?: Record<string, string>
  /** What this command changed (set/reset). */
  changes?: LevelChange[]
  /** --reset: the level the pod returns to and where it came from. */
  reset?: ResetLevel & {components?: string}
  /**
   * --duration: how the previous levels were put back. Only loggers this run changed, and only
   * where they still hold the level it set: the others (changed since by someone else, e.g. an
   * overlapping run) are in `leftAlone`.
   */
  restore?: {result: 'restored' | 'unchanged' | 'failed'; error?: string; changes?: LevelChange[]; leftAlone?: LeftAlone[]}
}

export interface LogLevelsResult {
  mode: 'read' | 'set' | 'reset'
  /** The --level spec as given. */
  level?: string
  pods: PodLogLevels[]
  failed: number
  duration?: {ms: number; until: string; ended: 'elapsed' | 'interrupted'}
}

export interface LogLevelsRequest {
  target?: string
  selector?: string
  level?: string
  reset?: boolean
  yes?: boolean
  concurrency: number
  proxyAdminPort?: number
  durationMs?: number
}

export interface LogLevelsHooks {
  /** Called once the levels are set (before a --duration wait), e.g. to print the table. */
  applied?(result: LogLevelsResult): void
}

interface ProxyPod {
  name: string
  namespace: string
  adminPort: number
  adminPortChoice: AdminPortChoice
  pod: ResolvedPod['pod']
}

/** Runs `meshdbg log`. Per-pod failures are in the result; the caller decides the exit code. */
export async function runLogLevels(ctx: RunContext, request: LogLevelsRequest, hooks: LogLevelsHooks = {}): Promise<LogLevelsResult> {
  if (request.level !== undefined && request.reset) throw usageError('--level cannot be combined with --reset')
  const spec = request.level === undefined ? undefined : parseLevelSpec(request.level)
  const mode: LogLevelsResult['mode'] = request.reset ? 'reset' : spec ? 'set' : 'read'
  if (request.durationMs !== undefined && mode === 'read') throw usageError('--duration needs --level (or --reset): it restores the levels it changed')
  if (request.durationMs !== undefined && request.durationMs <= 0) throw usageError('--duration must be longer than 0s')
  if (!Number.isInteger(request.concurrency) || request.concurrency < 1) throw usageError('--concurrency must be at least 1')

  const {pods, skipped, broad} = await resolveProxies(ctx, request)
  if (broad && mode !== 'read') {
    ctx.note(`${pods.length} meshed pod${pods.length === 1 ? '' : 's'} to change${skipped.length > 0 ? ` (${skipped.length} not running, skipped)` : ''}`)
    if (pods.length > CONFIRM_ABOVE_PODS && !request.yes) {
      throw usageError(`this would change the log levels of ${pods.length} pods: add --yes to confirm (or narrow it with a pod, a workload or -l)`)
    }
  }

  const result: LogLevelsResult = {mode, ...(request.level === undefined ? {} : {level: request.level}), pods: [], failed: 0}
  const outcomes = new Map<ProxyPod, PodLogLevels>()
  const before = new Map<ProxyPod, ActiveLoggers>()
  // What this run changes (or set out to change, for a pod that failed half-way): the restore
  // touches these loggers only.
  const intended = new Map<ProxyPod, LevelChange[]>()
  const base = (pod: ProxyPod): PodLogLevels => ({pod: pod.name, namespace: pod.namespace, adminPort: pod.adminPort, result: 'failed'})

  const interruption = request.durationMs === undefined ? undefined : watchInterrupts(ctx)
  try {
    const applyCtx = interruption ? withSignal(ctx, AbortSignal.any([ctx.signal, interruption.first])) : ctx
    // The first proxy's own list decides which logger names are valid, before anything changes.
    const [first, ...rest] = pods
    let firstLevels: ActiveLoggers
    try {
      firstLevels = await readLevels(applyCtx, first)
      before.set(first, firstLevels)
    } catch (error) {
      if (pods.length === 1) throw error
      // The first pod is tried again with the others (and fails with its own reason).
      firstLevels = await firstReadable(applyCtx, rest, outcomes, before, base)
    }
    if (spec) validateLevelSpec(spec, firstLevels)

    await forEachLimited(pods, request.concurrency, async (pod) => {
      if (outcomes.has(pod)) return
      const outcome = base(pod)
      outcomes.set(pod, outcome)
      try {
        const current = before.get(pod) ?? (await readLevels(applyCtx, pod))
        before.set(pod, current)
        if (mode === 'read') {
          Object.assign(outcome, {result: 'read', levels: Object.fromEntries(current)})
          return
        }
        let podSpec: LevelSpec
        if (request.reset) {
          const reset = resetSpecFor(pod.pod, current.keys())
          if (reset.ignored) ctx.note(`Warning: pod ${label(pod)}: ${reset.ignored}`)
          outcome.reset = {...reset.reset, ...(reset.components ? {components: reset.components} : {})}
          podSpec = reset.spec
        } else {
          podSpec = spec!
          const unknown = podSpec.loggers.filter((logger) => !current.has(logger.name)).map((logger) => logger.name)
          if (unknown.length > 0) throw new MeshdbgError('bad-data', `this proxy has no logger ${unknown.join(', ')} (a different Envoy version?); nothing changed on it`)
        }
        intended.set(pod, diffLevels(current, levelsAfter(podSpec, current)))
        const after = await postAll(applyCtx, pod, planLevelChanges(podSpec, current), current)
        const changes = diffLevels(current, after)
        intended.set(pod, changes)
        Object.assign(outcome, {result: changes.length > 0 ? 'changed' : 'unchanged', levels: Object.fromEntries(after), changes})
      } catch (error) {
        // One pod and nothing to restore: its own error (and exit code) says it best.
        if (pods.length === 1 && !interruption) throw error
        outcome.result = 'failed'
        outcome.error = describe(error, interruption?.first)
      }
    })
    for (const pod of skipped) result.pods.push({pod: pod.name, namespace: pod.namespace, adminPort: pod.adminPort, result: 'skipped', error: `pod is ${pod.pod.status?.phase ?? 'Unknown'}, not Running`})
    result.pods.unshift(...pods.map((pod) => outcomes.get(pod) ?? {...base(pod), error: 'not reached'}))
    result.pods.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod))
    result.failed = result.pods.filter((pod) => pod.result === 'failed').length
    if (!interruption) return result

    // --duration: hold the new levels, then put the previous ones back, whatever happens.
    const started = Date.now()
    const until = new Date(started + request.durationMs!)
    // Restore every pod this run may have changed: changed ones, and failed ones that were read
    // (a change may have stopped half-way). Unchanged pods already have their previous levels.
    const touched = pods.filter((pod) => before.has(pod) && ['changed', 'failed'].includes(outcomes.get(pod)?.result ?? ''))
    const changed = result.pods.filter((pod) => pod.result === 'changed').length
    if (!interruption.first.aborted && changed > 0) {
      hooks.applied?.(result)
      ctx.note(`levels set on ${plural(changed, 'pod')}; restoring the previous levels at ${until.toISOString().replace(/\.\d+Z$/, 'Z')} (in ${formatDuration(request.durationMs!)}), or on Ctrl-C`)
      ctx.note(`if meshdbg is killed (SIGKILL) or crashes before then, return them to their start-up levels with: ${resetCommand(ctx, request, pods)}`)
      await waitFor(request.durationMs!, interruption.first)
    } else if (!interruption.first.aborted) {
      ctx.note('no levels changed: nothing to hold')
    }
    const interrupted = interruption.first.aborted
    result.duration = {ms: request.durationMs!, until: until.toISOString(), ended: interrupted ? 'interrupted' : 'elapsed'}
    if (touched.length === 0) return result
    ctx.note(`${interrupted ? `${String(interruption.first.reason)}: ` : ''}restoring the previous levels on ${plural(touched.length, 'pod')}...`)
    const restoreSignal = AbortSignal.any([AbortSignal.timeout(RESTORE_TIMEOUT_MS), interruption.second])
    const restoreCtx = withSignal(ctx, restoreSignal, RESTORE_TIMEOUT_MS)
    await forEachLimited(touched, request.concurrency, async (pod) => {
      const outcome = outcomes.get(pod)!
      try {
        const {changes, leftAlone} = await restorePod(restoreCtx, pod, before.get(pod)!, intended.get(pod) ?? [])
        outcome.restore = {result: changes.length > 0 ? 'restored' : 'unchanged', changes, ...(leftAlone.length > 0 ? {leftAlone} : {})}
        if (leftAlone.length > 0) {
          const which = leftAlone.map((item) => `${item.logger} at ${item.now} (this run set ${item.set})`).join(', ')
          ctx.note(`pod ${label(pod)}: left ${which}: changed by someone else since`)
        }
      } catch (error) {
        outcome.restore = {result: 'failed', error: describe(error, interruption.second)}
      }
    })
    const notRestored = touched.filter((pod) => outcomes.get(pod)!.restore?.result === 'failed')
    const leftAlonePods = touched.filter((pod) => (outcomes.get(pod)!.restore?.leftAlone?.length ?? 0) > 0)
    result.failed = result.pods.filter((pod) => pod.result === 'failed' || pod.restore?.result === 'failed').length
    if (notRestored.length === 0) {
      ctx.note(
        leftAlonePods.length === 0
          ? `restored the previous levels on ${plural(touched.length, 'pod')}`
          : `restored the previous levels on ${plural(touched.length, 'pod')}, except loggers changed by someone else since on ${plural(leftAlonePods.length, 'pod')} (see above)`,
      )
    }
    return result
  } finally {
    interruption?.dispose()
  }
}

/** One line naming every failed pod and why (for the exit-4 error). */
export function failureMessage(result: LogLevelsResult): string | undefined {
  const failed = result.pods.filter((pod) => pod.result === 'failed' || pod.restore?.result === 'failed')
  if (failed.length === 0) return undefined
  const reasons = failed.map((pod) => {
    const why = pod.result === 'failed' ? pod.error : `previous levels NOT restored: ${pod.restore!.error}`
    return `${pod.pod}.${pod.namespace} (${why})`
  })
  const total = result.pods.filter((pod) => pod.result !== 'skipped').length
  return `${failed.length} of ${total} pod${total === 1 ? '' : 's'} failed: ${reasons.join('; ')}`
}

async function resolveProxies(ctx: RunContext, request: LogLevelsRequest): Promise<{pods: ProxyPod[]; skipped: ProxyPod[]; broad: boolean}> {
  let resolved: ResolvedPod[]
  const broad = !request.target
  if (request.target && request.selector) throw usageError('give either a pod/workload or --selector, not both')
  if (request.target && parseTarget(request.target).kind === 'pod') {
    resolved = [await resolveTargetPod(ctx, request.target)]
  } else {
    resolved = await resolveTargetPods(ctx, {target: request.target, selector: request.selector, namespaceWide: broad, meshedOnly: true})
  }
  const toProxy = (pod: ResolvedPod): ProxyPod => {
    const choice = adminPortOf(ctx, pod, request.proxyAdminPort)
    return {name: pod.name, namespace: pod.namespace, adminPort: choice.port, adminPortChoice: choice, pod: pod.pod}
  }
  const all = resolved.map(toProxy).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
  const pods = all.filter((pod) => (pod.pod.status?.phase ?? 'Running') === 'Running')
  const skipped = all.filter((pod) => !pods.includes(pod))
  if (pods.length === 0) {
    throw new MeshdbgError('not-found', `none of the ${all.length} matching meshed pod${all.length === 1 ? ' is' : 's are'} Running (${skipped.map((pod) => `${label(pod)}: ${pod.pod.status?.phase ?? 'Unknown'}`).join(', ')})`)
  }
  return {pods, skipped, broad}
}

async function readLevels(ctx: RunContext, pod: ProxyPod): Promise<ActiveLoggers> {
  return parseActiveLoggers((await adminPost(ctx, pod, 'logging')).text)
}

async function postAll(ctx: RunContext, pod: ProxyPod, plan: readonly PlannedRequest[], current: ActiveLoggers): Promise<ActiveLoggers> {
  let after = current
  for (const step of plan) {
    if (step.query === 'logging') continue
    after = parseActiveLoggers((await adminPost(ctx, pod, step.query)).text)
  }
  return after
}

async function restorePod(ctx: RunContext, pod: ProxyPod, before: ActiveLoggers, changes: readonly LevelChange[]): Promise<{changes: LevelChange[]; leftAlone: LeftAlone[]}> {
  // A keep-alive connection idle for the whole --duration may be gone: one retry on a lost connection.
  for (let attempt = 1; ; attempt++) {
    try {
      const current = await readLevels(ctx, pod)
      const {plan, leftAlone} = planOwnRestore(before, changes, current)
      const after = await postAll(ctx, pod, plan, current)
      return {changes: diffLevels(current, after), leftAlone}
    } catch (error) {
      if (attempt >= 2 || !isMeshdbgError(error) || error.kind !== 'connection' || ctx.signal.aborted) throw error
    }
  }
}

function adminPost(ctx: RunContext, pod: ProxyPod, query: string) {
  return fetchAdminFromPod(ctx, pod, query, {adminPort: pod.adminPortChoice, method: 'POST', spinner: false})
}

/** When the first pod cannot be read, the next readable one supplies the logger list. */
async function firstReadable(ctx: RunContext, rest: ProxyPod[], outcomes: Map<ProxyPod, PodLogLevels>, before: Map<ProxyPod, ActiveLoggers>, base: (pod: ProxyPod) => PodLogLevels): Promise<ActiveLoggers> {
  let lastError: unknown
  for (const pod of rest) {
    try {
      const levels = await readLevels(ctx, pod)
      before.set(pod, levels)
      return levels
    } catch (error) {
      lastError = error
      outcomes.set(pod, {...base(pod), error: describe(error)})
    }
  }
  throw lastError
}

function describe(error: unknown, interrupt?: AbortSignal): string {
  if (interrupt?.aborted) return `interrupted (${String(interrupt.reason)})`
  if (isMeshdbgError(error)) return error.hint ? `${error.message}; ${error.hint}` : error.message
  return (error as Error)?.message ?? String(error)
}

/** What to run when this process dies before it could restore: --reset on the same pods. */
function resetCommand(ctx: RunContext, request: LogLevelsRequest, pods: readonly ProxyPod[]): string {
  const words = ['meshdbg', 'log']
  if (request.target) words.push(request.target)
  if (request.selector !== undefined) words.push('-l', request.selector)
  const namespaces = [...new Set(pods.map((pod) => pod.namespace))]
  if (namespaces.length === 1) words.push('-n', namespaces[0])
  if (ctx.context) words.push('--context', ctx.context)
  if (ctx.kubeconfig) words.push('--kubeconfig', ctx.kubeconfig)
  if (request.proxyAdminPort !== undefined) words.push('--proxy-admin-port', String(request.proxyAdminPort))
  words.push('--reset')
  if (!request.target && pods.length > CONFIRM_ABOVE_PODS) words.push('--yes')
  return words.map((word, index) => (index < 2 ? word : shellQuote(word))).join(' ')
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

function label(pod: {name: string; namespace: string}): string {
  return `${pod.name}.${pod.namespace}`
}

function withSignal(ctx: RunContext, signal: AbortSignal, timeoutMs = ctx.timeoutMs): RunContext {
  return {...ctx, signal, timeoutMs}
}


/**
 * Signal handlers for a --duration run only: the first SIGINT, SIGTERM, SIGHUP (terminal closed,
 * SSH dropped) or SIGQUIT ends the wait (and any change in flight) so the previous levels are
 * restored; a second one gives up the restore. Until then a vanished terminal or reader must not
 * end the process: output errors (EIO, EPIPE) are ignored rather than thrown.
 */
export function watchInterrupts(ctx: RunContext): {first: AbortSignal; second: AbortSignal; dispose(): void} {
  const first = new AbortController()
  const second = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (!first.signal.aborted) first.abort(signal)
    else if (!second.signal.aborted) {
      ctx.note(`${signal} again: giving up restoring; some proxies may keep the changed levels`)
      second.abort(signal)
    }
  }
  const ignoreOutputError = () => {}
  for (const signal of INTERRUPTS) process.on(signal, onSignal)
  process.stderr.on('error', ignoreOutputError)
  // The command exits on EPIPE from stdout (`| head` went away): before the restore that would
  // leave the proxies at the changed levels, so stdout's error handlers wait until it is done.
  const stdoutHandlers = process.stdout.listeners('error') as Array<(error: Error) => void>
  process.stdout.removeAllListeners('error')
  process.stdout.on('error', ignoreOutputError)
  return {
    first: first.signal,
    second: second.signal,
    dispose: () => {
      for (const signal of INTERRUPTS) process.off(signal, onSignal)
      process.stderr.off('error', ignoreOutputError)
      process.stdout.off('error', ignoreOutputError)
      for (const handler of stdoutHandlers) process.stdout.on('error', handler)
    },
  }
}

const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']
