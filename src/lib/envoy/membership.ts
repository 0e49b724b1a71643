/**
 * Envoy's per-cluster membership gauges (`cluster.<name>.membership_healthy` and
 * `cluster.<name>.membership_total`), read from `/stats?filter=`. They answer "does this cluster
 * have a healthy host" in ~180 bytes a cluster, where `/clusters?format=json` spends ~800 bytes
 * a cluster on per-host counters. A cluster whose stats carry another name (`alt_stat_name`, Istio's
 * `outboundClusterStatName`) is simply absent here: callers treat absence as "unknown".
 */

/**
 * The filter (RE2 partial match; std::regex on old Envoy) for the two gauges of every cluster.
 * Anchored, so it matches nothing else whatever the matcher.
 */
export const MEMBERSHIP_STATS_FILTER = String.raw`^cluster\..+\.membership_(healthy|total)$`

/** `stats?filter=…` (no leading slash), as fetched from Envoy admin. */
export const MEMBERSHIP_STATS_PATH = `stats?filter=${encodeURIComponent(MEMBERSHIP_STATS_FILTER)}`

export interface ClusterMembership {
  /** Hosts whose coarse health is healthy (not failing active health checks, outlier detection or EDS health, not degraded). */
  healthy: number
  /** Every host of every priority. */
  total: number
}

const PREFIX = Buffer.from('cluster.')
const HEALTHY = Buffer.from('.membership_healthy')
const TOTAL = Buffer.from('.membership_total')
const NEWLINE = 0x0a
const COLON = 0x3a
const SPACE = 0x20

/**
 * The membership of each cluster the text names with both gauges. Lines of other stats, or with
 * a value that is not a whole number, are skipped: a cluster then lacks an entry, which callers
 * treat as unknown (and ask `/clusters`), never as healthy. Read from the bytes, decoding only
 * the names (500 sidecars' answers are ~200 MB, and decoding them whole cost as much as the
 * rest), and each name once when its two lines are adjacent, as in Envoy's sorted output.
 */
export function parseClusterMembership(bytes: Buffer): Map<string, ClusterMembership> {
  const membership = new Map<string, ClusterMembership>()
  // Lines not paired with the one before (another order): matched by name at the end.
  const healthy = new Map<string, number>()
  const total = new Map<string, number>()
  let pending: {start: number; end: number; value: number} | undefined
  let start = 0
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start)
    if (end === -1) end = bytes.length
    const line = gaugeLine(bytes, start, end)
    start = end + 1
    if (line === undefined) continue
    if (line.healthy) {
      if (pending) healthy.set(bytes.toString('utf8', pending.start, pending.end), pending.value)
      pending = line
      continue
    }
    if (pending && bytes.compare(bytes, line.start, line.end, pending.start, pending.end) === 0) {
      if (line.end > line.start) membership.set(bytes.toString('utf8', line.start, line.end), {healthy: pending.value, total: line.value})
    } else {
      if (pending) healthy.set(bytes.toString('utf8', pending.start, pending.end), pending.value)
      total.set(bytes.toString('utf8', line.start, line.end), line.value)
    }
    pending = undefined
  }
  if (pending) healthy.set(bytes.toString('utf8', pending.start, pending.end), pending.value)
  for (const [name, count] of total) {
    const healthyCount = healthy.get(name)
    if (healthyCount !== undefined && name !== '' && !membership.has(name)) membership.set(name, {healthy: healthyCount, total: count})
  }
  return membership
}

/** A `cluster.<name>.membership_(healthy|total): <n>` line: where its name is, and its value. */
function gaugeLine(bytes: Buffer, start: number, end: number): {start: number; end: number; value: number; healthy: boolean} | undefined {
  const separator = lastSeparator(bytes, start, end)
  if (separator <= start || !startsWith(bytes, PREFIX, start)) return undefined
  const value = wholeNumber(bytes, separator + 2, end)
  if (value === undefined) return undefined
  const nameStart = start + PREFIX.length
  if (startsWith(bytes, HEALTHY, separator - HEALTHY.length) && separator - HEALTHY.length >= nameStart) return {start: nameStart, end: separator - HEALTHY.length, value, healthy: true}
  if (startsWith(bytes, TOTAL, separator - TOTAL.length) && separator - TOTAL.length >= nameStart) return {start: nameStart, end: separator - TOTAL.length, value, healthy: false}
  return undefined
}

/** The last ': ' of the line, or -1. */
function lastSeparator(bytes: Buffer, start: number, end: number): number {
  for (let k = end - 2; k >= start; k--) if (bytes[k] === COLON && bytes[k + 1] === SPACE) return k
  return -1
}

function startsWith(bytes: Buffer, prefix: Buffer, at: number): boolean {
  if (at < 0 || at + prefix.length > bytes.length) return false
  for (let k = 0; k < prefix.length; k++) if (bytes[at + k] !== prefix[k]) return false
  return true
}

function wholeNumber(bytes: Buffer, from: number, to: number): number | undefined {
  // A CRLF line end leaves a '\r' before the '\n'.
  if (to > from && bytes[to - 1] === 0x0d) to--
  if (to === from || to - from > 15) return undefined
  let value = 0
  for (let k = from; k < to; k++) {
    const digit = bytes[k] - 0x30
    if (digit < 0 || digit > 9) return undefined
    value = value * 10 + digit
  }
  return value
}
