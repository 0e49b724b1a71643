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
  renderAccessLogStreamHeader,
  renderAccessLogStreamRow,
  renderAccessLogTable,
  renderExplanation,
  renderGroupedExplanations,
  renderNdjson,
  renderSummary,
} from '../lib/render/access-log-table.js'

export interface LogSourceFlags {
  target: string
  since?: string
  follow: boolean
  container?: string
}

/**
 * The live source: the proxy container's log lines for a pod or workload. Cluster access is wired
 * in separately; until then the live branch is a usage error that points at -f.
 */
export async function openLogSource(_ctx: RunContext, _flags: LogSourceFlags): Promise<AsyncIterable<string>> {
  throw new MeshdbgError('usage', 'live access-log needs cluster access: not available yet; use -f')
}

export interface AccessLogResult {
  entries: Array<AccessLogEntry & {explanation?: Explanation}>
  /** Lines that were not access-log entries. */
  skipped: number
  summary?: AccessLogSummary
}

export default class AccessLog extends MeshdbgCommand<typeof AccessLog> {
  static override summary = 'Read Envoy access logs as a table, filtered, summarised per upstream host, or explained.'
  static override description = `Reads a saved log (-f PATH, or -f - for stdin: kubectl logs output, with or without --prefix/--timestamps) in Istio's TEXT or JSON access-log encoding. Non-access-log lines are skipped and their count printed on stderr.
--status takes codes and classes (504, 5xx, 4xx,5xx, 0 for "no response sent"); --flags matches entries carrying any listed response flag; --path and --upstream-cluster are substring tests.
--summary counts by code, flag and upstream host (p50/max latency, 5xx share) and marks the host that stands out; --explain adds a plain-words explanation.
-o table (default) | json (one object per line, NDJSON; with --summary, the summary object).

EXIT CODES
${MeshdbgCommand.exitCodesHelp}
  (6 also when a non-empty input holds no access-log line)`

  static override examples = [
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
    follow: Flags.boolean({summary: 'Live mode: keep reading new lines.'}),
    container: Flags.string({char: 'c', summary: 'Live mode: the proxy container (default istio-proxy).'}),
  }

  async run(): Promise<AccessLogResult> {
    const {args, flags} = this
    if (args.target && flags.file) throw usageError('access-log: give either a pod/workload or --file, not both')
    if (!args.target && !flags.file) throw usageError('access-log requires a pod/workload name or --file')
    if (flags.file && (flags.follow || flags.since || flags.container)) throw usageError('--follow, --since and --container apply to a pod, not to --file')
    if (flags.since) parseDuration(flags.since, 'since')
    if (flags.follow && flags.summary) throw usageError('--summary needs a finished log: drop --follow (or use --since)')
    const keep = buildEntryFilter({status: flags.status, flags: flags.flags, path: flags.path, upstreamCluster: flags['upstream-cluster']})

    const lines = args.target
      ? await openLogSource(this.runContext(), {target: args.target, since: flags.since, follow: flags.follow, container: flags.container})
      : splitLines(await openFile(flags.file!))

    const stats = newParseStats()
    const entries: AccessLogResult['entries'] = []
    const streaming = flags.follow && !this.jsonEnabled()
    if (streaming && this.outputFormat === 'table') this.write(renderAccessLogStreamHeader())
    for await (const entry of accessLogEntries(lines, stats)) {
      if (!keep(entry)) continue
      const item: AccessLogResult['entries'][number] = flags.explain ? {...entry, explanation: explainEntry(entry, {pod: args.target, namespace: flags.namespace})} : entry
      if (streaming) {
        // --follow never ends on its own: print as lines arrive and keep nothing.
        if (this.outputFormat === 'json') this.write(JSON.stringify(item) + '\n')
        else this.write(renderAccessLogStreamRow(item) + (item.explanation ? renderExplanation(item, item.explanation) : ''))
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
      this.write(renderAccessLogTable(entries))
      if (flags.explain && entries.length > 0) {
        this.write('\n' + renderGroupedExplanations(entries.map((entry) => ({entry, explanation: entry.explanation!}))))
      }
    }
    return result
  }
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
