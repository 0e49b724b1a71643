import type {RunContext} from '../context.js'
import {parseDuration} from '../duration.js'
import {MeshdbgError} from '../errors.js'
import {type AccessLogEntry, splitLines} from '../envoy/access-log.js'

export interface LogSourceFlags {
  /** A pod or workload; or, without it, `selector`. */
  target?: string
  /** A label selector in the namespace (kubectl logs -l). */
  selector?: string
  since?: string
  follow: boolean
  container?: string
  tail?: number
  /** At most this many pod log streams at once (kubectl's --max-log-requests); the rest are skipped. */
  maxLogRequests?: number
}

/** kubectl's default for --max-log-requests. */
export const DEFAULT_MAX_LOG_REQUESTS = 5

/** A live log: its lines (each `[pod/<name>/<container>] <kubelet timestamp> <line>`) and its pods. */
export interface LogSource {
  lines: AsyncIterable<string>
  pods: string[]
}

const DEFAULT_CONTAINER = 'istio-proxy'

/**
 * The live source: the proxy container's log of a pod, or of every running pod of a workload
 * (merged: by time without --follow, as lines arrive with it), through the Kubernetes log API.
 * Lines carry kubectl's --prefix and --timestamps decorations, which the parser understands, so
 * every entry knows its pod. Without --follow the command's deadline bounds the read; with it,
 * Ctrl-C (SIGINT) or SIGTERM ends the streams and the command finishes normally.
 */
export async function openLogSource(ctx: RunContext, flags: LogSourceFlags): Promise<LogSource> {
  const [{resolveTargetPods, parseTarget, sortForLogs}, {openPodLog}] = await Promise.all([import('../kube/target.js'), import('../kube/pod-logs.js')])
  const maxLogRequests = flags.maxLogRequests ?? DEFAULT_MAX_LOG_REQUESTS
  if (!Number.isInteger(maxLogRequests) || maxLogRequests < 1) throw new MeshdbgError('usage', '--max-log-requests must be at least 1')
  const container = flags.container ?? DEFAULT_CONTAINER
  const single = flags.target !== undefined && parseTarget(flags.target).kind === 'pod'
  const resolved = await resolveTargetPods(ctx, {target: flags.target, selector: flags.selector})
  const described = flags.target ?? `selector "${flags.selector}"`
  const withContainer = resolved.filter(({pod}) => [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === container))
  if (withContainer.length === 0) {
    const first = resolved[0]
    const names = [...(first.pod.spec?.containers ?? [])].map((c) => c.name).join(', ')
    throw new MeshdbgError('not-found', `${single ? `pod ${first.name}.${first.namespace} has no container` : `no pod of ${described} has a container`} "${container}"${names ? ` (containers: ${names})` : ''}`, {
      hint: container === DEFAULT_CONTAINER ? 'is it part of the mesh? For a gateway or another proxy container, pass -c' : undefined,
    })
  }
  const runningAll = withContainer.filter(({pod}) => (pod.status?.phase ?? 'Running') === 'Running')
  const notRunning = withContainer.filter((pod) => !runningAll.includes(pod))
  // One stream per pod, all open at once: capped like kubectl logs, the best pods (kubectl's logs
  // order: ready longest first) kept, in name order for the output.
  const kept = new Set(sortForLogs(runningAll.map(({pod}) => pod)).slice(0, maxLogRequests))
  const running = runningAll.filter(({pod}) => kept.has(pod))
  const overCap = runningAll.filter(({pod}) => !kept.has(pod))
  if (running.length === 0) {
    const phases = notRunning.map(({name, pod}) => `${name}: ${pod.status?.phase ?? 'Unknown'}`).join(', ')
    throw new MeshdbgError('not-found', single ? `pod ${notRunning[0].name}.${notRunning[0].namespace} is ${notRunning[0].pod.status?.phase ?? 'Unknown'}, not Running` : `no pod of ${described} is Running (${phases})`)
  }
  if (notRunning.length > 0) ctx.note(`skipping ${notRunning.length} pod${notRunning.length === 1 ? '' : 's'} that ${notRunning.length === 1 ? 'is' : 'are'} not Running: ${notRunning.map(({name}) => name).join(', ')}`)
  const skippedForContainer = resolved.length - withContainer.length
  if (skippedForContainer > 0) ctx.note(`skipping ${skippedForContainer} pod${skippedForContainer === 1 ? '' : 's'} without a "${container}" container`)
  if (overCap.length > 0) {
    ctx.note(`reading ${running.length} of ${runningAll.length} pods' logs (--max-log-requests ${maxLogRequests}); skipped ${overCap.length}: ${overCap.map(({name}) => name).join(', ')}`)
  }

  const stop = new AbortController()
  ctx.scope.defer(() => stop.abort())
  if (flags.follow) {
    const onSignal = () => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    ctx.scope.defer(() => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    })
  }
  const sinceSeconds = flags.since === undefined ? undefined : parseDuration(flags.since, 'since') / 1000
  const streams = await Promise.all(running.map((pod) =>
    openPodLog(ctx, pod, {container, follow: flags.follow, sinceSeconds, tailLines: flags.tail, timestamps: true, stop: stop.signal}),
  ))
  const prefixed = streams.map((stream) => prefixLines(splitLines(stream), `[pod/${stream.pod.name}/${container}] `))
  const lines = prefixed.length === 1 ? prefixed[0] : flags.follow ? mergeAsArriving(prefixed) : mergeByTime(prefixed)
  return {lines, pods: running.map(({name}) => name)}
}

async function* prefixLines(lines: AsyncIterable<string>, prefix: string): AsyncGenerator<string> {
  for await (const line of lines) yield prefix + line
}

/** The kubelet timestamp after the prefix; lines without one sort with the line before them. */
function kubeletTime(line: string): number | undefined {
  const match = /^\[[^\]]*\] (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) /.exec(line)
  if (!match) return undefined
  const ms = Date.parse(`${match[1]}${match[2] ? match[2].slice(0, 4) : ''}${match[3]}`)
  return Number.isNaN(ms) ? undefined : ms
}

/** Reads every pod's (finished) log concurrently, then yields all lines in kubelet-time order. */
async function* mergeByTime(sources: Array<AsyncIterable<string>>): AsyncGenerator<string> {
  const all = await Promise.all(sources.map(async (source) => {
    const lines: Array<{line: string; time: number}> = []
    let last = 0
    for await (const line of source) {
      last = kubeletTime(line) ?? last
      lines.push({line, time: last})
    }
    return lines
  }))
  const merged = all.flatMap((lines, pod) => lines.map((item, index) => ({...item, pod, index})))
  merged.sort((a, b) => a.time - b.time || a.pod - b.pod || a.index - b.index)
  for (const item of merged) yield item.line
}

/** Yields lines from every source as they arrive; ends when all sources end. */
async function* mergeAsArriving(sources: Array<AsyncIterable<string>>): AsyncGenerator<string> {
  const queue: string[] = []
  let wake: (() => void) | undefined
  let open = sources.length
  let failure: unknown
  const notify = () => {
    wake?.()
    wake = undefined
  }
  for (const source of sources) {
    void (async () => {
      try {
        for await (const line of source) {
          queue.push(line)
          notify()
        }
      } catch (error) {
        failure ??= error
      } finally {
        open--
        notify()
      }
    })()
  }
  for (;;) {
    while (queue.length > 0) yield queue.shift()!
    if (failure) throw failure
    if (open === 0) return
    await new Promise<void>((resolve) => (wake = resolve))
  }
}

/** The pod name from the `[pod/<name>/<container>]` prefix the live source adds. */
export function podOf(entry: AccessLogEntry): string | undefined {
  const match = /^pod\/([^/]+)\//.exec(entry.source ?? '')
  return match?.[1]
}
