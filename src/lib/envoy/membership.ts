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

const PREFIX = 'cluster.'
const HEALTHY = '.membership_healthy'
const TOTAL = '.membership_total'

/**
 * The membership of each cluster the text names with both gauges. Lines of other stats, or with
 * a value that is not a whole number, are skipped: a cluster then lacks an entry, which callers
 * treat as unknown (and ask `/clusters`), never as healthy.
 */
export function parseClusterMembership(text: string): Map<string, ClusterMembership> {
  const healthy = new Map<string, number>()
  const total = new Map<string, number>()
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end === -1) end = text.length
    const separator = text.lastIndexOf(': ', end)
    if (separator > start && text.startsWith(PREFIX, start)) {
      const value = wholeNumber(text, separator + 2, end)
      if (value !== undefined) {
        if (endsAt(text, HEALTHY, separator)) healthy.set(text.slice(start + PREFIX.length, separator - HEALTHY.length), value)
        else if (endsAt(text, TOTAL, separator)) total.set(text.slice(start + PREFIX.length, separator - TOTAL.length), value)
      }
    }
    start = end + 1
  }
  const membership = new Map<string, ClusterMembership>()
  for (const [name, count] of total) {
    const healthyCount = healthy.get(name)
    if (healthyCount !== undefined && name !== '') membership.set(name, {healthy: healthyCount, total: count})
  }
  return membership
}

function endsAt(text: string, suffix: string, end: number): boolean {
  return text.startsWith(suffix, end - suffix.length)
}

function wholeNumber(text: string, from: number, to: number): number | undefined {
  // A CRLF line end leaves a '\r' before the '\n'.
  if (to > from && text.charCodeAt(to - 1) === 0x0d) to--
  if (to === from || to - from > 15) return undefined
  let value = 0
  for (let k = from; k < to; k++) {
    const digit = text.charCodeAt(k) - 0x30
    if (digit < 0 || digit > 9) return undefined
    value = value * 10 + digit
  }
  return value
}
