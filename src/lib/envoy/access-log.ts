import {StringDecoder} from 'node:string_decoder'

import {usageError} from '../errors.js'
import {splitResponseFlags} from './response-flags.js'

/**
 * Envoy access-log lines as Istio writes them: the default TEXT format (Istio ≥1.9, and the
 * pre-1.9 variant with the mixer status field), or JSON (`accessLogEncoding: JSON`), optionally
 * prefixed by `kubectl logs --prefix` and/or `--timestamps`. Anything else (Envoy's own logs,
 * pilot-agent logs, blank lines) is skipped and counted: a log file mixes them.
 */

export interface AccessLogEntry {
  encoding: 'text' | 'json'
  /** `tcp` when the request line is `"- - -"` (a TCP proxy or a connection that never became HTTP). */
  kind: 'http' | 'tcp'
  /** `pod/name/container` from `kubectl logs --prefix`. */
  source: string | null
  /** The RFC3339 timestamp added by `kubectl logs --timestamps`. */
  logTimestamp: string | null
  startTime: string | null
  method: string | null
  path: string | null
  protocol: string | null
  /** 0 when no response was sent (e.g. the client went away first) and for TCP. */
  responseCode: number
  responseFlags: string[]
  responseCodeDetails: string | null
  connectionTerminationDetails: string | null
  upstreamTransportFailureReason: string | null
  bytesReceived: number | null
  bytesSent: number | null
  /** `%DURATION%`, milliseconds. */
  durationMs: number | null
  /** `x-envoy-upstream-service-time`, milliseconds. */
  upstreamServiceTimeMs: number | null
  xForwardedFor: string | null
  userAgent: string | null
  requestId: string | null
  authority: string | null
  upstreamHost: string | null
  upstreamCluster: string | null
  upstreamLocalAddress: string | null
  downstreamLocalAddress: string | null
  downstreamRemoteAddress: string | null
  requestedServerName: string | null
  routeName: string | null
  /** `%DOWNSTREAM_PEER_URI_SAN%` (the caller's SPIFFE ID), when a custom JSON format logs it; Istio's default formats do not. */
  downstreamPeerUriSan?: string
}

export type SkipReason = 'blank' | 'envoy-log' | 'not-access-log'

export type ParsedLine = {ok: true; entry: AccessLogEntry} | {ok: false; reason: SkipReason}

export interface ParseStats {
  entries: number
  skipped: number
  skippedBy: Record<SkipReason, number>
}

export function newParseStats(): ParseStats {
  return {entries: 0, skipped: 0, skippedBy: {blank: 0, 'envoy-log': 0, 'not-access-log': 0}}
}

/** The stderr note for lines that were not access-log entries (Envoy's own logs, blank lines...). */
export function skippedLinesNote(count: number): string {
  return count === 1 ? 'skipped 1 line that is not an access-log entry' : `skipped ${count} lines that are not access-log entries`
}

export function recordParse(stats: ParseStats, parsed: ParsedLine): void {
  if (parsed.ok) stats.entries++
  else {
    stats.skipped++
    stats.skippedBy[parsed.reason]++
  }
}

const KUBECTL_PREFIX = /^\[((?:pod|deployment|deploy|statefulset|daemonset|job|replicaset)\/[^\]\s]+)\] /
const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /
/** Envoy's own log lines: `[2025-05-09 08:45:41.636][15][warning][config] ...`. */
const ENVOY_APP_LOG = /^\[\d{4}-\d\d-\d\d[ T][\d:.]+\]\[\d+\]\[[a-z]+\]/
/** pilot-agent / istiod (zap) lines: `2025-05-09T08:45:41.636Z\tinfo\t...`. */
const ZAP_LOG = /^\d{4}-\d\d-\d\dT[\d:.]+Z?\s+(trace|debug|info|warn|warning|error|critical|fatal)\s/

/** Strips `kubectl logs --prefix` and `--timestamps` decorations. */
export function stripKubectlPrefixes(line: string): {rest: string; source: string | null; logTimestamp: string | null} {
  let rest = line
  let source: string | null = null
  let logTimestamp: string | null = null
  const prefix = KUBECTL_PREFIX.exec(rest)
  if (prefix) {
    source = prefix[1]
    rest = rest.slice(prefix[0].length)
  }
  const stamp = RFC3339.exec(rest)
  if (stamp) {
    logTimestamp = stamp[1]
    rest = rest.slice(stamp[0].length)
  }
  return {rest, source, logTimestamp}
}

/** Parses one line. Never throws: a line that is not an access-log entry is skipped with a reason. */
export function parseAccessLogLine(line: string): ParsedLine {
  const trimmedEnd = line.replace(/\r?\n$/, '').trimEnd()
  if (trimmedEnd.trim() === '') return {ok: false, reason: 'blank'}
  const {rest, source, logTimestamp} = stripKubectlPrefixes(trimmedEnd.trimStart())
  if (ENVOY_APP_LOG.test(rest) || ZAP_LOG.test(rest)) return {ok: false, reason: 'envoy-log'}
  const entry = rest.startsWith('{') ? parseJsonEntry(rest) : rest.startsWith('[') ? parseTextEntry(rest) : undefined
  if (!entry) return {ok: false, reason: 'not-access-log'}
  entry.source = source
  entry.logTimestamp = logTimestamp
  return {ok: true, entry}
}

export interface ParsedText {
  entries: AccessLogEntry[]
  stats: ParseStats
}

/** Parses a whole saved log (e.g. `kubectl logs POD -c istio-proxy` output). */
export function parseAccessLogText(text: string): ParsedText {
  const stats = newParseStats()
  const entries: AccessLogEntry[] = []
  const lines = text.split('\n')
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  for (const line of lines) {
    const parsed = parseAccessLogLine(line)
    recordParse(stats, parsed)
    if (parsed.ok) entries.push(parsed.entry)
  }
  return {entries, stats}
}

/**
 * The longest line kept, in characters. Access-log lines are a few hundred; a longer one (a binary
 * blob, a runaway JSON log) is skipped without being held in memory whole.
 */
export const MAX_LINE_LENGTH = 1024 * 1024

/**
 * What splitLines yields in place of a line over the maximum length. It cannot parse as an
 * access-log entry, so it is skipped and counted like any other non-access-log line.
 */
export const OVERLONG_LINE = '<an over-long line, skipped>'

/**
 * Splits a byte or string stream (a Readable, a socket, an async generator) into lines without
 * their line terminators, across chunk boundaries and multi-byte characters; the last line is
 * yielded even without a trailing newline. Suitable for `--follow`: lines come out as they arrive.
 * Each character is scanned once (only the new chunk is searched for a newline, never the pending
 * start of a line), and a line over `maxLength` comes out as OVERLONG_LINE.
 */
export async function* splitLines(source: AsyncIterable<Buffer | Uint8Array | string>, maxLength = MAX_LINE_LENGTH): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8')
  /** The start of the current line, from earlier chunks (never holds a newline). */
  let pending = ''
  /** The current line has passed maxLength: drop its text until its newline. */
  let overlong = false
  function* cut(text: string): Generator<string> {
    let start = 0
    let newline = text.indexOf('\n')
    while (newline !== -1) {
      if (overlong || pending.length + newline - start > maxLength) yield OVERLONG_LINE
      else yield stripCr(pending + text.slice(start, newline))
      pending = ''
      overlong = false
      start = newline + 1
      newline = text.indexOf('\n', start)
    }
    if (overlong) return
    if (pending.length + text.length - start > maxLength) {
      overlong = true
      pending = ''
    } else pending += text.slice(start)
  }
  for await (const chunk of source) {
    yield* cut(typeof chunk === 'string' ? chunk : decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)))
  }
  yield* cut(decoder.end())
  if (overlong) yield OVERLONG_LINE
  else if (pending !== '') yield stripCr(pending)
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}

/** Parses lines as they arrive, counting skipped ones in `stats` (which the caller reads at the end). */
export async function* accessLogEntries(lines: AsyncIterable<string>, stats: ParseStats = newParseStats()): AsyncGenerator<AccessLogEntry> {
  for await (const line of lines) {
    const parsed = parseAccessLogLine(line)
    recordParse(stats, parsed)
    if (parsed.ok) yield parsed.entry
  }
}

// ---------------------------------------------------------------------------------------------
// TEXT

interface Token {
  text: string
  quoted: boolean
}

/**
 * Splits on single spaces outside quotes. A quoted token ends at a `"` followed by a space or the
 * end of the line, so a stray quote inside a user agent does not derail the rest of the line.
 */
function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    while (text[i] === ' ') i++
    if (i >= text.length) break
    if (text[i] === '"') {
      let end = i + 1
      for (;;) {
        end = text.indexOf('"', end)
        if (end === -1) return undefined
        if (end + 1 === text.length || text[end + 1] === ' ') break
        end++
      }
      tokens.push({text: text.slice(i + 1, end), quoted: true})
      i = end + 1
    } else {
      let end = text.indexOf(' ', i)
      if (end === -1) end = text.length
      tokens.push({text: text.slice(i, end), quoted: false})
      i = end
    }
  }
  return tokens
}

const DASHABLE_INT = /^(-|\d+)$/
const FLAGS_SHAPE = /^(-|[A-Z]+(,[A-Z]+)*)$/

function dash(value: string | undefined): string | null {
  return value === undefined || value === '-' || value === '' ? null : value
}

function intOrNull(value: string | undefined): number | null {
  return value === undefined || !/^\d+$/.test(value) ? null : Number(value)
}

function parseTextEntry(text: string): AccessLogEntry | undefined {
  const close = text.indexOf('] ')
  if (close === -1) return undefined
  const startTime = text.slice(1, close)
  const tokens = tokenize(text.slice(close + 2))
  if (!tokens || tokens.length < 3) return undefined
  const [request, code, flags] = tokens
  if (!request.quoted || code.quoted || flags.quoted) return undefined
  if (!DASHABLE_INT.test(code.text) || !FLAGS_SHAPE.test(flags.text)) return undefined
  const requestParts = request.text.split(' ')
  if (requestParts.length !== 3) return undefined
  const [method, path, protocol] = requestParts.map((part) => dash(part))

  // Istio ≥1.9: DETAILS CONN_TERM "UTFR"; before 1.9: "MIXER_STATUS" "UTFR".
  let index = 3
  let details: string | null = null
  let termination: string | null = null
  let transportFailure: string | null = null
  if (tokens[index]?.quoted) {
    index++
    transportFailure = tokens[index]?.quoted ? dash(tokens[index++].text) : null
  } else if (tokens[index]) {
    details = dash(tokens[index++].text)
    termination = tokens[index] && !tokens[index].quoted ? dash(tokens[index++].text) : null
    transportFailure = tokens[index]?.quoted ? dash(tokens[index++].text) : null
  }
  const numbers = tokens.slice(index, index + 4)
  // Bytes received, bytes sent and duration at least: a line cut short is not an entry.
  if (numbers.length < 3 || numbers.some((token) => token.quoted || !DASHABLE_INT.test(token.text))) return undefined
  index += numbers.length
  const quoted = (): string | null => {
    const token = tokens[index]
    if (!token || !token.quoted) return null
    index++
    return dash(token.text)
  }
  const xForwardedFor = quoted()
  const userAgent = quoted()
  const requestId = quoted()
  const authority = quoted()
  const upstreamHost = quoted()
  const bare = (): string | null => {
    const token = tokens[index]
    if (!token) return null
    index++
    return dash(token.text)
  }
  return {
    encoding: 'text',
    kind: method === null && path === null && protocol === null ? 'tcp' : 'http',
    source: null,
    logTimestamp: null,
    startTime: dash(startTime),
    method,
    path,
    protocol,
    responseCode: code.text === '-' ? 0 : Number(code.text),
    responseFlags: splitResponseFlags(flags.text),
    responseCodeDetails: details,
    connectionTerminationDetails: termination,
    upstreamTransportFailureReason: transportFailure,
    bytesReceived: intOrNull(numbers[0]?.text),
    bytesSent: intOrNull(numbers[1]?.text),
    durationMs: intOrNull(numbers[2]?.text),
    upstreamServiceTimeMs: intOrNull(numbers[3]?.text),
    xForwardedFor,
    userAgent,
    requestId,
    authority,
    upstreamHost,
    upstreamCluster: bare(),
    upstreamLocalAddress: bare(),
    downstreamLocalAddress: bare(),
    downstreamRemoteAddress: bare(),
    requestedServerName: bare(),
    routeName: bare(),
  }
}

// ---------------------------------------------------------------------------------------------
// JSON

function jsonString(object: Record<string, unknown>, ...keys: string[]): string | null {
  for (const key of keys) {
    const value = object[key]
    if (value === undefined || value === null) continue
    const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value)
    return dash(text)
  }
  return null
}

function jsonInt(object: Record<string, unknown>, ...keys: string[]): number | null {
  const text = jsonString(object, ...keys)
  if (text === null) return null
  return /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text)) : null
}

function parseJsonEntry(text: string): AccessLogEntry | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const object = value as Record<string, unknown>
  // Both snake_case (Istio's default keys) and camelCase (hand-written formats) are seen.
  const has = (...keys: string[]) => keys.some((key) => key in object)
  if (!has('response_code', 'responseCode') || !has('response_flags', 'responseFlags', 'start_time', 'startTime', 'upstream_cluster', 'upstreamCluster')) {
    return undefined
  }
  const method = jsonString(object, 'method')
  const path = jsonString(object, 'path')
  const protocol = jsonString(object, 'protocol')
  const flags = jsonString(object, 'response_flags', 'responseFlags')
  return {
    encoding: 'json',
    kind: method === null && path === null && protocol === null ? 'tcp' : 'http',
    source: null,
    logTimestamp: null,
    startTime: jsonString(object, 'start_time', 'startTime'),
    method,
    path,
    protocol,
    responseCode: jsonInt(object, 'response_code', 'responseCode') ?? 0,
    responseFlags: splitResponseFlags(flags),
    responseCodeDetails: jsonString(object, 'response_code_details', 'responseCodeDetails'),
    connectionTerminationDetails: jsonString(object, 'connection_termination_details', 'connectionTerminationDetails'),
    upstreamTransportFailureReason: jsonString(object, 'upstream_transport_failure_reason', 'upstreamTransportFailureReason'),
    bytesReceived: jsonInt(object, 'bytes_received', 'bytesReceived'),
    bytesSent: jsonInt(object, 'bytes_sent', 'bytesSent'),
    durationMs: jsonInt(object, 'duration', 'durationMs'),
    upstreamServiceTimeMs: jsonInt(object, 'upstream_service_time', 'upstreamServiceTime'),
    xForwardedFor: jsonString(object, 'x_forwarded_for', 'xForwardedFor'),
    userAgent: jsonString(object, 'user_agent', 'userAgent'),
    requestId: jsonString(object, 'request_id', 'requestId'),
    authority: jsonString(object, 'authority'),
    upstreamHost: jsonString(object, 'upstream_host', 'upstreamHost'),
    upstreamCluster: jsonString(object, 'upstream_cluster', 'upstreamCluster'),
    upstreamLocalAddress: jsonString(object, 'upstream_local_address', 'upstreamLocalAddress'),
    downstreamLocalAddress: jsonString(object, 'downstream_local_address', 'downstreamLocalAddress'),
    downstreamRemoteAddress: jsonString(object, 'downstream_remote_address', 'downstreamRemoteAddress'),
    requestedServerName: jsonString(object, 'requested_server_name', 'requestedServerName'),
    routeName: jsonString(object, 'route_name', 'routeName'),
    ...optionalString('downstreamPeerUriSan', jsonString(object, 'downstream_peer_uri_san', 'downstreamPeerUriSan')),
  }
}

/** A field set only when the log carries it, so entries of the default formats keep their shape. */
function optionalString<K extends string>(key: K, value: string | null): Partial<Record<K, string>> {
  return value === null ? {} : ({[key]: value} as Record<K, string>)
}

// ---------------------------------------------------------------------------------------------
// Filters

export interface EntryFilterOptions {
  /** `5xx`, `504`, `4xx,5xx`, `0`. */
  status?: string
  /** `UT,DC`: entries carrying any of them. */
  flags?: string
  /** Substring of the path. */
  path?: string
  /** Substring of the upstream cluster name. */
  upstreamCluster?: string
}

export type EntryFilter = (entry: AccessLogEntry) => boolean

/** Builds the `--status/--flags/--path/--upstream-cluster` predicate; bad values are usage errors. */
export function buildEntryFilter(options: EntryFilterOptions): EntryFilter {
  const tests: EntryFilter[] = []
  if (options.status !== undefined) {
    const codeTests = options.status.split(',').map((item) => item.trim()).filter(Boolean).map((item): EntryFilter => {
      const klass = /^([1-5])xx$/i.exec(item)
      if (klass) {
        const hundred = Number(klass[1])
        return (entry) => Math.floor(entry.responseCode / 100) === hundred
      }
      if (/^(0|[1-5]\d\d)$/.test(item)) {
        const code = Number(item)
        return (entry) => entry.responseCode === code
      }
      throw usageError(`invalid --status "${item}": use a code (504, 0) or a class (5xx), comma-separated`)
    })
    if (codeTests.length === 0) throw usageError('--status needs a value such as 5xx or 504')
    tests.push((entry) => codeTests.some((test) => test(entry)))
  }
  if (options.flags !== undefined) {
    const wanted = options.flags.split(',').map((flag) => flag.trim().toUpperCase()).filter(Boolean)
    const bad = wanted.find((flag) => !/^[A-Z]+$/.test(flag))
    if (bad || wanted.length === 0) throw usageError(`invalid --flags "${options.flags}": use response flags such as UT,DC`)
    tests.push((entry) => entry.responseFlags.some((flag) => wanted.includes(flag)))
  }
  if (options.path !== undefined) {
    const needle = options.path
    tests.push((entry) => (entry.path ?? '').includes(needle))
  }
  if (options.upstreamCluster !== undefined) {
    const needle = options.upstreamCluster
    tests.push((entry) => (entry.upstreamCluster ?? '').includes(needle))
  }
  return (entry) => tests.every((test) => test(entry))
}

// ---------------------------------------------------------------------------------------------
// Summary

export interface HostSummary {
  upstreamHost: string
  /** Live targets: the pod that had the host's IP when the summary was printed (one pod list through the API). */
  pod?: {name: string; namespace: string}
  /** The clusters this host was reached through (usually one). */
  upstreamClusters: string[]
  requests: number
  errors5xx: number
  /** errors5xx / requests, 0..1. */
  share5xx: number
  p50Ms: number | null
  maxMs: number | null
  /** Set on hosts that stand out from their peers (slow, or failing more). */
  outlier?: string
}

export interface AccessLogSummary {
  total: number
  byCode: Array<{code: number; count: number}>
  byFlag: Array<{flag: string; count: number}>
  byHost: HostSummary[]
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  // Nearest-rank: an observed value, never an interpolated one.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]
}

/** Counts by code, flag and upstream host with per-host latency, so one bad instance stands out. */
export function summarizeEntries(entries: Iterable<AccessLogEntry>): AccessLogSummary {
  const codes = new Map<number, number>()
  const flags = new Map<string, number>()
  const hosts = new Map<string, {clusters: Set<string>; durations: number[]; requests: number; errors5xx: number}>()
  let total = 0
  for (const entry of entries) {
    total++
    codes.set(entry.responseCode, (codes.get(entry.responseCode) ?? 0) + 1)
    for (const flag of entry.responseFlags) flags.set(flag, (flags.get(flag) ?? 0) + 1)
    const key = entry.upstreamHost ?? '-'
    let host = hosts.get(key)
    if (!host) hosts.set(key, (host = {clusters: new Set(), durations: [], requests: 0, errors5xx: 0}))
    host.requests++
    if (entry.upstreamCluster) host.clusters.add(entry.upstreamCluster)
    if (entry.responseCode >= 500 && entry.responseCode < 600) host.errors5xx++
    if (entry.durationMs !== null) host.durations.push(entry.durationMs)
  }
  const byHost: HostSummary[] = [...hosts.entries()].map(([upstreamHost, host]) => {
    const sorted = [...host.durations].sort((a, b) => a - b)
    return {
      upstreamHost,
      upstreamClusters: [...host.clusters].sort(),
      requests: host.requests,
      errors5xx: host.errors5xx,
      share5xx: host.requests === 0 ? 0 : host.errors5xx / host.requests,
      p50Ms: percentile(sorted, 50),
      maxMs: sorted.length === 0 ? null : sorted[sorted.length - 1],
    }
  })
  markOutliers(byHost)
  byHost.sort((a, b) => b.share5xx - a.share5xx || (b.p50Ms ?? -1) - (a.p50Ms ?? -1) || b.requests - a.requests || a.upstreamHost.localeCompare(b.upstreamHost))
  return {
    total,
    byCode: [...codes.entries()].map(([code, count]) => ({code, count})).sort((a, b) => b.count - a.count || a.code - b.code),
    byFlag: [...flags.entries()].map(([flag, count]) => ({flag, count})).sort((a, b) => b.count - a.count || a.flag.localeCompare(b.flag)),
    byHost,
  }
}

/**
 * A host is an outlier when, among hosts of the same cluster set with at least one peer, its
 * 5xx share or its median latency is clearly above the others' (at least twice the peers'
 * median, and 10 points / 50 ms above it, so that noise on tiny numbers does not count).
 */
function markOutliers(hosts: HostSummary[]): void {
  const real = hosts.filter((host) => host.upstreamHost !== '-')
  for (const host of real) {
    const peers = real.filter((other) => other !== host && other.upstreamClusters.some((cluster) => host.upstreamClusters.includes(cluster)))
    if (peers.length === 0) continue
    const peerShare = median(peers.map((peer) => peer.share5xx)) ?? 0
    const peerP50 = median(peers.map((peer) => peer.p50Ms).filter((value): value is number => value !== null))
    const reasons: string[] = []
    if (host.share5xx >= 0.1 && host.share5xx - peerShare >= 0.1 && host.share5xx >= 2 * peerShare) {
      reasons.push(`${Math.round(host.share5xx * 100)}% 5xx vs ${Math.round(peerShare * 100)}% on its peers`)
    }
    if (host.p50Ms !== null && peerP50 !== null && host.p50Ms - peerP50 >= 50 && host.p50Ms >= 2 * peerP50) {
      reasons.push(`p50 ${host.p50Ms}ms vs ${peerP50}ms on its peers`)
    }
    if (reasons.length > 0) host.outlier = reasons.join('; ')
  }
}

function median(values: number[]): number | null {
  if (values.length === 0) return null
  return percentile([...values].sort((a, b) => a - b), 50)
}
