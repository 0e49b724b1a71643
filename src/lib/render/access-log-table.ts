import type {AccessLogEntry, AccessLogSummary} from '../envoy/access-log.js'
import {podOf} from '../istio/access-log-source.js'
import type {Explanation} from '../istio/explain.js'
import {escapeTerminal} from './escape.js'
import {tabRow, tabwrite} from './tabwriter.js'

/**
 * Access-log views. The table goes through tabwrite (padding 2, like kubectl) rather than
 * cli-table3: one plain line per request, no borders, so `| grep`, `| awk '{print $4}'` and
 * `| sort` keep working, and a --follow stream can be laid out one batch at a time.
 */

export const ACCESS_LOG_HEADER = ['TIME', 'METHOD', 'PATH', 'CODE', 'FLAGS', 'DETAILS', 'DURATION', 'UPSTREAM HOST', 'UPSTREAM CLUSTER']

const cell = (value: string | number | null | undefined): string => (value === null || value === undefined || value === '' ? '-' : String(value))

/** One row's cells, escaped (escape.ts): a tab or newline in a value would break the layout, an ESC the terminal. */
export function accessLogRowCells(entry: AccessLogEntry): string[] {
  return [
    cell(entry.startTime ?? entry.logTimestamp),
    cell(entry.kind === 'tcp' ? 'TCP' : entry.method),
    cell(entry.path),
    String(entry.responseCode),
    cell(entry.responseFlags.join(',')),
    cell(entry.responseCodeDetails),
    entry.durationMs === null ? '-' : `${entry.durationMs}ms`,
    cell(entry.upstreamHost),
    cell(entry.upstreamCluster),
  ].map(escapeTerminal)
}

/** `-o wide`: the caller's address and, when the log carries it, its SPIFFE ID (last, so awk's fields before it stay put). */
export function downstreamCell(entry: AccessLogEntry): string {
  const address = cell(entry.downstreamRemoteAddress)
  return escapeTerminal(entry.downstreamPeerUriSan ? `${address} (${entry.downstreamPeerUriSan})` : address)
}

/** The table, header included (the header alone for no entries). */
export function renderAccessLogTable(entries: readonly AccessLogEntry[], options: {header?: boolean} = {}): string {
  const lines = entries.map((entry) => accessLogRowCells(entry).join('\t'))
  if (options.header !== false) lines.unshift(ACCESS_LOG_HEADER.join('\t'))
  // The last cell is terminated too, so every column (the last included) belongs to one block.
  return tabwrite(lines.map((line) => line + '\t'), {padding: 2}).replace(/ +$/gm, '')
}

/**
 * Minimum column widths for --follow, where rows are printed as they arrive and cannot be laid out
 * together: wide enough for typical values, and a longer value widens only its own row (never
 * truncated, so awk still sees the same fields).
 */
const STREAM_WIDTHS = [24, 6, 24, 4, 5, 22, 8, 21, 64, 0]

function streamLine(cells: readonly string[]): string {
  return cells.map((value, i) => (i === cells.length - 1 ? value : value.padEnd(STREAM_WIDTHS[i]) + '  ')).join('').trimEnd() + '\n'
}

export function renderAccessLogStreamHeader(options: {downstream?: boolean} = {}): string {
  return streamLine(options.downstream ? [...ACCESS_LOG_HEADER, 'DOWNSTREAM'] : ACCESS_LOG_HEADER)
}

export function renderAccessLogStreamRow(entry: AccessLogEntry, options: {downstream?: boolean} = {}): string {
  return streamLine(options.downstream ? [...accessLogRowCells(entry), downstreamCell(entry)] : accessLogRowCells(entry))
}

/** `-o json`: one object per entry and line (NDJSON), so a stream can be piped into `jq -c`. */
export function renderNdjson(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value) + '\n').join('')
}

/** The human form of one explanation. */
export function renderExplanation(entry: AccessLogEntry, explanation: Explanation): string {
  const head = entry.kind === 'tcp'
    ? `TCP ${entry.responseCode} ${cell(entry.responseFlags.join(','))}`
    : `${cell(entry.method)} ${cell(entry.path)} -> ${entry.responseCode} ${cell(entry.responseFlags.join(','))}`
  const when = entry.startTime ?? entry.logTimestamp
  const lines = [`${when ? `[${when}] ` : ''}${head}${entry.authority ? `  (${entry.authority})` : ''}`, `  ${explanation.summary}`]
  if (explanation.causes.length > 0) {
    lines.push('  Why:')
    for (const cause of explanation.causes) lines.push(`    ${cause.flag ?? cause.detail}: ${cause.meaning}`)
  }
  if (explanation.next.length > 0) {
    lines.push('  Next:')
    for (const command of explanation.next) lines.push(`    ${command}`)
  }
  return lines.map(escapeTerminal).join('\n') + '\n'
}

/** Explanations of many entries, each distinct one once, with how often it occurred. */
export function renderGroupedExplanations(items: ReadonlyArray<{entry: AccessLogEntry; explanation: Explanation}>): string {
  const groups = new Map<string, {entry: AccessLogEntry; explanation: Explanation; count: number}>()
  for (const item of items) {
    const key = `${item.entry.responseCode}|${item.entry.responseFlags.join(',')}|${item.explanation.summary}`
    const group = groups.get(key)
    if (group) group.count++
    else groups.set(key, {...item, count: 1})
  }
  return [...groups.values()]
    .map((group) => (group.count > 1 ? `${group.count}x ` : '') + renderExplanation(group.entry, group.explanation))
    .join('\n')
}

const percent = (share: number): string => `${Math.round(share * 100)}%`
const ms = (value: number | null): string => (value === null ? '-' : `${value}ms`)

/** Counts by code and flag, then per upstream host with latency and 5xx share; outliers marked. */
export function renderSummary(summary: AccessLogSummary): string {
  const out: string[] = []
  out.push(`${summary.total} request${summary.total === 1 ? '' : 's'}`)
  out.push('')
  out.push(tabwrite(['CODE\tCOUNT', ...summary.byCode.map((item) => `${item.code}\t${item.count}`)], {padding: 2}).trimEnd())
  if (summary.byFlag.length > 0) {
    out.push('')
    out.push(tabwrite(['FLAG\tCOUNT', ...summary.byFlag.map((item) => tabRow([item.flag, String(item.count)]))], {padding: 2}).trimEnd())
  }
  out.push('')
  const rows = summary.byHost.map((host) => tabRow([
    host.pod ? `${host.upstreamHost} (${host.pod.name})` : host.upstreamHost,
    host.upstreamClusters.join(',') || '-',
    String(host.requests),
    String(host.errors5xx),
    percent(host.share5xx),
    ms(host.p50Ms),
    ms(host.maxMs),
    host.outlier ? `<- ${host.outlier}` : '',
  ]))
  out.push(tabwrite(['UPSTREAM HOST\tUPSTREAM CLUSTER\tREQUESTS\t5XX\t5XX%\tP50\tMAX\t', ...rows], {padding: 2}).replace(/ +$/gm, '').trimEnd())
  return out.join('\n') + '\n'
}

/** The access-log table with a leading POD column (a workload's pods, merged); `-o wide` adds DOWNSTREAM last. */
export function renderPodAccessLogTable(entries: readonly AccessLogEntry[], options: {downstream?: boolean} = {}): string {
  const tail = (cells: string[], extra: string) => (options.downstream ? [...cells, extra] : cells)
  const lines = [
    tail(['POD', ...ACCESS_LOG_HEADER], 'DOWNSTREAM'),
    ...entries.map((entry) => tail([escapeTerminal(podOf(entry) ?? '-'), ...accessLogRowCells(entry)], downstreamCell(entry))),
  ]
  return tabwrite(lines.map((cells) => cells.join('\t') + '\t'), {padding: 2}).replace(/ +$/gm, '')
}
