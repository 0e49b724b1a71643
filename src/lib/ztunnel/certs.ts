/**
 * --warn-within for ztunnel certificates. Workload certificates live for a day by default and are
 * rotated at half-life, so "expires within 12h" is the early sign that ztunnel cannot reach the CA;
 * roots are checked the same way.
 */
import {parseDuration} from '../duration.js'
import {usageError} from '../errors.js'
import type {CertificateRow} from './tables.js'

const DAY_MS = 86_400_000

/** A duration for --warn-within: Go-style (`12h`, `90m`, `1h30m`) plus whole days first (`7d`, `1d12h`). */
export function parseWarnWithin(text: string): number {
  const days = /^(\d+)d(.*)$/.exec(text.trim())
  if (!days) return parseDuration(text, 'warn-within')
  const rest = days[2] === '' ? 0 : parseDuration(days[2], 'warn-within')
  if (!/^\d+$/.test(days[1])) throw usageError(`invalid --warn-within "${text}"`)
  return Number(days[1]) * DAY_MS + rest
}

/**
 * Rows that need attention: no certificate (identity still Initializing or Unavailable), not valid
 * now (expired or not yet valid), or fewer than `withinMs` left.
 */
export function certificateProblems(rows: readonly CertificateRow[], withinMs: number): CertificateRow[] {
  return rows.filter((row) => !row.valid || row.timeLeftMs === undefined || row.timeLeftMs < withinMs)
}
