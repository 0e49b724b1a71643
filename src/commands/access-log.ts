import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import type {RunContext} from '../lib/context.js'
import {parseDuration} from '../lib/duration.js'
import {badDataError, usageError} from '../lib/errors.js'
import {
  type AccessLogEntry,
  type AccessLogSummary,
  accessLogEntries,
  buildEntryFilter,
  newParseStats,
  skippedLinesNote,
  splitLines,
  summarizeEntries,
} from '../lib/envoy/access-log.js'
import {tableOutputFlags, targetArg} from '../lib/flags.js'
import {openInputStream} from '../lib/input.js'
import {DEFAULT_MAX_LOG_REQUESTS, openLogSource, podOf} from '../lib/istio/access-log-source.js'
import {escapeTerminal} from '../lib/render/escape.js'
import {explainEntry, type Explanation} from '../lib/istio/explain.js'
import {
  renderAccessLogStreamHeader,
  renderAccessLogStreamRow,
  renderAccessLogTable,
  renderExplanation,
  renderGroupedExplanations,
  renderNdjson,
  renderPodAccessLogTable,
  renderSummary,
} from '../lib/render/access-log-table.js'

export interface AccessLogResult {
  entries: Array<AccessLogEntry & {explanation?: Explanation}>
  /** Lines that were not access-log entries. */
  skipped: number
  summary?: AccessLogSummary
}

export default class AccessLog extends MeshdbgCommand<typeof AccessLog> {
  static override summary = 'Read Envoy access logs as a table, filtered, summarised per upstream host, or explained.'
  static override description = `Live: give a pod or workload (pod, pod.namespace, deploy/x, svc/x, sts/x...) and the proxy container's log (-c, default istio-proxy) is read through the Kubernetes log API, like kubectl logs: --since 10m and --tail N limit it (per pod), --follow keeps reading until Ctrl-C. A workload means its running pods, merged (by time; as lines arrive with --follow) with a POD column: at most --max-log-requests (5, as kubectl) streams at once, the rest skipped and named on stderr. A pod without that container is exit 3.
Saved: -f PATH, or -f - for stdin (kubectl logs output, with or without --prefix/--timestamps).
Istio's TEXT or JSON access-log encoding; non-access-log lines (Envoy's and pilot-agent's own logs) are skipped and their count printed on stderr.
--status takes codes and classes (504, 5xx, 4xx,5xx, 0 for "no response sent"); --flags matches entries carrying any listed response flag; --path and --upstream-cluster are substring tests.
--summary counts by code, flag and upstream host (p50/max latency, 5xx share) and marks the host that stands out; --explain adds a plain-words explanation.
Live: -l SELECTOR reads the pods matching a label selector in the namespace (as kubectl logs -l). --summary names the pod behind each upstream host IP (one list of the cluster's pods, at most 1000 pods).
-o table (default; also short) | wide (a POD column even for one pod, and DOWNSTREAM last: the caller's address and, when a JSON format logs downstream_peer_uri_san, its SPIFFE ID) | json (one object per line, NDJSON; with --summary, the summary object). --no-headers drops the header lines.
-c is --container here (not --kubeconfig).
Exit code 6 also when a non-empty input holds no access-log line.`

  static override examples = [
    '<%= config.bin %> access-log deploy/istio-ingressgateway -n istio-system --since 10m --summary',
    '<%= config.bin %> access-log deploy/istio-ingressgateway -n istio-system --status 5xx --explain',
    '<%= config.bin %> access-log deploy/webapp -n istioinaction --follow --flags NR,UH',
    'kubectl logs deploy/istio-ingressgateway -n istio-system > gw.log && <%= config.bin %> access-log -f gw.log --status 5xx --summary',
    'kubectl logs deploy/webapp -c istio-proxy | <%= config.bin %> access-log -f - --flags UT,DC --explain',
  ]

  static override args = {target: targetArg}
  static override flags = {
    ...tableOutputFlags(['json'], 'table'),
    // -c is the container here, as in kubectl logs: --kubeconfig keeps its long form only.
    kubeconfig: Flags.string({summary: 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).', helpGroup: 'GLOBAL'}),
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
    selector: Flags.string({char: 'l', summary: 'Live mode: the pods matching this label selector (in -n), instead of a target.'}),
    'max-log-requests': Flags.integer({summary: 'Live mode: read at most this many pods\' logs at once (as kubectl logs); the other pods are skipped and named.', default: DEFAULT_MAX_LOG_REQUESTS, min: 1}),
  }

  async run(): Promise<AccessLogResult> {
    const {args, flags} = this
    const sources = [args.target, flags.selector, flags.file].filter((given) => given !== undefined).length
    if (sources > 1) throw usageError('access-log: give one of a pod/workload, --selector or --file')
    if (sources === 0) throw usageError('access-log requires a pod/workload name, --selector or --file')
    if (flags.file && (flags.follow || flags.since || flags.container || flags.tail !== undefined)) throw usageError('--follow, --since, --tail and --container apply to a pod, not to --file')
    if (flags.since) parseDuration(flags.since, 'since')
    if (flags.follow && flags.summary) throw usageError('--summary needs a finished log: drop --follow (or use --since)')
    const keep = buildEntryFilter({status: flags.status, flags: flags.flags, path: flags.path, upstreamCluster: flags['upstream-cluster']})

    const ctx = this.runContext()
    const live = args.target ?? (flags.selector === undefined ? undefined : `-l ${flags.selector}`)
    const source = live
      ? await openLogSource(ctx, {target: args.target, selector: flags.selector, since: flags.since, follow: flags.follow, container: flags.container, tail: flags.tail, maxLogRequests: flags['max-log-requests']})
      : undefined
    const lines = source ? source.lines : splitLines(await openInputStream(flags.file!, ctx.signal))
    // A workload's pods are merged: a POD column says which pod logged each entry (always with -o wide).
    const podColumn = (source?.pods.length ?? 0) > 1 || this.wideOutput
    const downstream = this.wideOutput

    const stats = newParseStats()
    const entries: AccessLogResult['entries'] = []
    const streaming = flags.follow && !this.jsonEnabled()
    const podWidth = Math.max(3, ...(source?.pods ?? []).map((pod) => pod.length))
    if (streaming && this.tableOutput && !flags['no-headers']) this.write((podColumn ? 'POD'.padEnd(podWidth + 2) : '') + renderAccessLogStreamHeader({downstream}))
    for await (const entry of accessLogEntries(lines, stats)) {
      if (!keep(entry)) continue
      const pod = source ? podOf(entry) ?? live : args.target
      const item: AccessLogResult['entries'][number] = flags.explain ? {...entry, explanation: explainEntry(entry, {pod, namespace: flags.namespace})} : entry
      if (streaming) {
        // --follow ends on Ctrl-C only: print as lines arrive and keep nothing.
        if (this.outputFormat === 'json') this.write(JSON.stringify(item) + '\n')
        else this.write((podColumn ? escapeTerminal(podOf(item) ?? '-').padEnd(podWidth + 2) : '') + renderAccessLogStreamRow(item, {downstream}) + (item.explanation ? renderExplanation(item, item.explanation) : ''))
        continue
      }
      entries.push(item)
    }
    if (stats.skipped > 0) ctx.note(skippedLinesNote(stats.skipped))
    if (stats.entries === 0 && stats.skipped > stats.skippedBy.blank) {
      throw badDataError(`no access-log entry in ${live ?? (flags.file === '-' ? 'stdin' : flags.file)}`, 'are access logs enabled (meshConfig.accessLogFile=/dev/stdout or the Telemetry API)? Is this the istio-proxy container\'s log?')
    }

    const result: AccessLogResult = {entries, skipped: stats.skipped}
    if (streaming) return result
    if (flags.summary) result.summary = source ? await namePods(ctx, summarizeEntries(entries)) : summarizeEntries(entries)
    if (this.outputFormat === 'json') {
      this.write(result.summary ? JSON.stringify(result.summary) + '\n' : renderNdjson(entries))
    } else if (result.summary) {
      this.writeTable(renderSummary(result.summary))
    } else {
      this.writeTable(podColumn ? renderPodAccessLogTable(entries, {downstream}) : renderAccessLogTable(entries))
      if (flags.explain && entries.length > 0) {
        this.write('\n' + renderGroupedExplanations(entries.map((entry) => ({entry, explanation: entry.explanation!}))))
      }
    }
    return result
  }

}

/** Upstream host IPs to pod names (one bounded pod list); a failure only costs the names. */
async function namePods(ctx: RunContext, summary: AccessLogSummary): Promise<AccessLogSummary> {
  if (!summary.byHost.some((host) => host.upstreamHost !== '-')) return summary
  const {listPodsByIp, withHostPods, POD_IP_LIST_LIMIT} = await import('../lib/istio/pod-names.js')
  try {
    const pods = await listPodsByIp(ctx)
    if (!pods.complete) ctx.note(`pod names from the first ${POD_IP_LIST_LIMIT} pods of the cluster only`)
    return withHostPods(summary, pods.byIp)
  } catch (error) {
    if (ctx.signal.aborted) throw error
    ctx.note(`upstream hosts left as IPs: ${error instanceof Error ? error.message : String(error)}`)
    return summary
  }
}
