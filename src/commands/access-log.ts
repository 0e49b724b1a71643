import {open, stat} from 'node:fs/promises'

import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import type {RunContext} from '../lib/context.js'
import {parseDuration} from '../lib/duration.js'
import {badDataError, MeshdbgError, usageError} from '../lib/errors.js'
import {
  type AccessLogEntry,
  type AccessLogSummary,
  accessLogEntries,
  buildEntryFilter,
  newParseStats,
  splitLines,
  summarizeEntries,
} from '../lib/envoy/access-log.js'
import {targetArg} from '../lib/flags.js'
import {explainEntry, type Explanation} from '../lib/istio/explain.js'
import {
  ACCESS_LOG_HEADER,
  accessLogRowCells,
  renderAccessLogStreamHeader,
  renderAccessLogStreamRow,
  renderAccessLogTable,
  renderExplanation,
  renderGroupedExplanations,
  renderNdjson,
  renderSummary,
} from '../lib/render/access-log-table.js'
import {tabwrite} from '../lib/render/tabwriter.js'

export interface LogSourceFlags {
  target: string
  since?: string
  follow: boolean
  container?: string
  tail?: number
}

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
  const [{resolveTargetPods, parseTarget}, {openPodLog}] = await Promise.all([import('../lib/kube/index.js'), import('../lib/kube/pod-logs.js')])
  const container = flags.container ?? DEFAULT_CONTAINER
  const single = parseTarget(flags.target).kind === 'pod'
  const resolved = await resolveTargetPods(ctx, {target: flags.target})
  const withContainer = resolved.filter(({pod}) => [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === container))
  if (withContainer.length === 0) {
    const first = resolved[0]
    const names = [...(first.pod.spec?.containers ?? [])].map((c) => c.name).join(', ')
    throw new MeshdbgError('not-found', `${single ? `pod ${first.name}.${first.namespace} has no container` : `no pod of ${flags.target} has a container`} "${container}"${names ? ` (containers: ${names})` : ''}`, {
      hint: container === DEFAULT_CONTAINER ? 'is it part of the mesh? For a gateway or another proxy container, pass -c' : undefined,
    })
  }
  const running = withContainer.filter(({pod}) => (pod.status?.phase ?? 'Running') === 'Running')
  const notRunning = withContainer.filter((pod) => !running.includes(pod))
  if (running.length === 0) {
    const phases = notRunning.map(({name, pod}) => `${name}: ${pod.status?.phase ?? 'Unknown'}`).join(', ')
    throw new MeshdbgError('not-found', single ? `pod ${notRunning[0].name}.${notRunning[0].namespace} is ${notRunning[0].pod.status?.phase ?? 'Unknown'}, not Running` : `no pod of ${flags.target} is Running (${phases})`)
  }
  if (notRunning.length > 0) ctx.note(`skipping ${notRunning.length} pod${notRunning.length === 1 ? '' : 's'} that ${notRunning.length === 1 ? 'is' : 'are'} not Running: ${notRunning.map(({name}) => name).join(', ')}`)
  const skippedForContainer = resolved.length - withContainer.length
  if (skippedForContainer > 0) ctx.note(`skipping ${skippedForContainer} pod${skippedForContainer === 1 ? '' : 's'} without a "${container}" container`)

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

export interface AccessLogResult {
  entries: Array<AccessLogEntry & {explanation?: Explanation}>
  /** Lines that were not access-log entries. */
  skipped: number
  summary?: AccessLogSummary
}

export default class AccessLog extends MeshdbgCommand<typeof AccessLog> {
  static override summary = 'Read Envoy access logs as a table, filtered, summarised per upstream host, or explained.'
  static override description = `Live: give a pod or workload (pod, pod.namespace, deploy/x, svc/x, sts/x...) and the proxy container's log (-c, default istio-proxy) is read through the Kubernetes log API, like kubectl logs: --since 10m and --tail N limit it (per pod), --follow keeps reading until Ctrl-C. A workload means all its running pods, merged (by time; as lines arrive with --follow) with a POD column. A pod without that container is exit 3.
Saved: -f PATH, or -f - for stdin (kubectl logs output, with or without --prefix/--timestamps).
Istio's TEXT or JSON access-log encoding; non-access-log lines (Envoy's and pilot-agent's own logs) are skipped and their count printed on stderr.
--status takes codes and classes (504, 5xx, 4xx,5xx, 0 for "no response sent"); --flags matches entries carrying any listed response flag; --path and --upstream-cluster are substring tests.
--summary counts by code, flag and upstream host (p50/max latency, 5xx share) and marks the host that stands out; --explain adds a plain-words explanation.
-o table (default) | json (one object per line, NDJSON; with --summary, the summary object).
Exit code 6 also when a non-empty input holds no access-log line.`

  static override examples = [
    '<%= config.bin %> access-log deploy/istio-ingressgateway -n istio-system --since 10m --summary',
    '<%= config.bin %> access-log deploy/istio-ingressgateway -n istio-system --status 5xx --explain',
    '<%= config.bin %> access-log deploy/webapp -n istioinaction --follow --flags NR,UH',
    'kubectl logs deploy/istio-ingressgateway -n istio-system > gw.log && <%= config.bin %> access-log -f gw.log --status 5xx --summary',
    'kubectl logs deploy/webapp -c istio-proxy | <%= config.bin %> access-log -f - --flags UT,DC --explain',
  ]

  static override outputFormats = ['table', 'json']
  static override defaultOutput = 'table'
  static override args = {target: targetArg}
  static override flags = {
    file: Flags.string({char: 'f', summary: 'Read a saved log from this file ("-" for stdin) instead of a pod.'}),
    status: Flags.string({summary: 'Only these response codes or classes, comma-separated: 504, 5xx, 4xx,5xx, 0.'}),
    flags: Flags.string({summary: 'Only entries with any of these response flags, comma-separated: UT,DC.'}),
    path: Flags.string({summary: 'Only entries whose path contains this text.'}),
    'upstream-cluster': Flags.string({summary: 'Only entries whose upstream cluster contains this text.'}),
    explain: Flags.boolean({summary: 'Explain each kind of entry in plain words, with the next command to run.'}),
    summary: Flags.boolean({summary: 'Counts by response code, flag and upstream host (latency p50/max, 5xx share) instead of rows.'}),
    since: Flags.string({summary: 'Live mode: only lines newer than this duration (e.g. 10m).'}),
    tail: Flags.integer({summary: 'Live mode: only the last N lines of each pod\'s log (before filtering).', min: 0}),
    follow: Flags.boolean({summary: 'Live mode: keep reading new lines until Ctrl-C.'}),
    container: Flags.string({char: 'c', summary: 'Live mode: the proxy container (default istio-proxy).'}),
  }

  async run(): Promise<AccessLogResult> {
    const {args, flags} = this
    if (args.target && flags.file) throw usageError('access-log: give either a pod/workload or --file, not both')
    if (!args.target && !flags.file) throw usageError('access-log requires a pod/workload name or --file')
    if (flags.file && (flags.follow || flags.since || flags.container || flags.tail !== undefined)) throw usageError('--follow, --since, --tail and --container apply to a pod, not to --file')
    if (flags.since) parseDuration(flags.since, 'since')
    if (flags.follow && flags.summary) throw usageError('--summary needs a finished log: drop --follow (or use --since)')
    const keep = buildEntryFilter({status: flags.status, flags: flags.flags, path: flags.path, upstreamCluster: flags['upstream-cluster']})

    const source = args.target
      ? await openLogSource(this.runContext(), {target: args.target, since: flags.since, follow: flags.follow, container: flags.container, tail: flags.tail})
      : undefined
    const lines = source ? source.lines : splitLines(await openFile(flags.file!))
    // A workload's pods are merged: a POD column says which pod logged each entry.
    const podColumn = (source?.pods.length ?? 0) > 1

    const stats = newParseStats()
    const entries: AccessLogResult['entries'] = []
    const streaming = flags.follow && !this.jsonEnabled()
    const podWidth = Math.max(3, ...(source?.pods ?? []).map((pod) => pod.length))
    if (streaming && this.outputFormat === 'table') this.write((podColumn ? 'POD'.padEnd(podWidth + 2) : '') + renderAccessLogStreamHeader())
    for await (const entry of accessLogEntries(lines, stats)) {
      if (!keep(entry)) continue
      const pod = source ? podOf(entry) ?? args.target : args.target
      const item: AccessLogResult['entries'][number] = flags.explain ? {...entry, explanation: explainEntry(entry, {pod, namespace: flags.namespace})} : entry
      if (streaming) {
        // --follow ends on Ctrl-C only: print as lines arrive and keep nothing.
        if (this.outputFormat === 'json') this.write(JSON.stringify(item) + '\n')
        else this.write((podColumn ? (podOf(item) ?? '-').padEnd(podWidth + 2) : '') + renderAccessLogStreamRow(item) + (item.explanation ? renderExplanation(item, item.explanation) : ''))
        continue
      }
      entries.push(item)
    }
    if (stats.skipped > 0) process.stderr.write(`skipped ${stats.skipped} line${stats.skipped === 1 ? '' : 's'} that ${stats.skipped === 1 ? 'is' : 'are'} not access-log entries\n`)
    if (stats.entries === 0 && stats.skipped > stats.skippedBy.blank) {
      throw badDataError(`no access-log entry in ${args.target ?? (flags.file === '-' ? 'stdin' : flags.file)}`, 'are access logs enabled (meshConfig.accessLogFile=/dev/stdout or the Telemetry API)? Is this the istio-proxy container\'s log?')
    }

    const result: AccessLogResult = {entries, skipped: stats.skipped}
    if (streaming) return result
    if (flags.summary) result.summary = summarizeEntries(entries)
    if (this.outputFormat === 'json') {
      this.write(result.summary ? JSON.stringify(result.summary) + '\n' : renderNdjson(entries))
    } else if (result.summary) {
      this.write(renderSummary(result.summary))
    } else {
      this.write(podColumn ? renderPodAccessLogTable(entries) : renderAccessLogTable(entries))
      if (flags.explain && entries.length > 0) {
        this.write('\n' + renderGroupedExplanations(entries.map((entry) => ({entry, explanation: entry.explanation!}))))
      }
    }
    return result
  }
}

/** The pod name from the `[pod/<name>/<container>]` prefix the live source adds. */
function podOf(entry: AccessLogEntry): string | undefined {
  const match = /^pod\/([^/]+)\//.exec(entry.source ?? '')
  return match?.[1]
}

/** The access-log table with a leading POD column (a workload's pods, merged). */
function renderPodAccessLogTable(entries: readonly AccessLogEntry[]): string {
  const lines = [['POD', ...ACCESS_LOG_HEADER], ...entries.map((entry) => [podOf(entry) ?? '-', ...accessLogRowCells(entry)])]
  return tabwrite(lines.map((cells) => cells.join('\t') + '\t'), {padding: 2}).replace(/ +$/gm, '')
}

async function openFile(file: string): Promise<NodeJS.ReadableStream> {
  if (file === '-') return process.stdin
  try {
    if ((await stat(file)).isDirectory()) throw usageError(`cannot read ${file}: it is a directory`)
    // Opening first turns a missing or unreadable file into a usage error before any output.
    const handle = await open(file, 'r')
    return handle.createReadStream()
  } catch (error) {
    if (error instanceof MeshdbgError) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw usageError(`cannot read ${file}: no such file`)
    if (code === 'EACCES') throw usageError(`cannot read ${file}: permission denied`)
    throw usageError(`cannot read ${file}: ${(error as Error).message}`)
  }
}
