import {usageError} from './errors.js'

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/**
 * Parses Go/kubectl-style durations: `500ms`, `3s`, `2m`, `1h`, `1m30s`, or a bare number of seconds.
 */
export function parseDuration(text: string, flagName = 'duration'): number {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  let match: RegExpExecArray | null
  while ((match = part.exec(trimmed)) !== null) {
    total += Number(match[1]) * UNIT_MS[match[2]]
    consumed = part.lastIndex
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw usageError(`invalid --${flagName} "${text}": use a duration such as 500ms, 3s, 2m or 1m30s`)
  }
  return Math.round(total)
}

/**
 * The longest delay setTimeout honours (2^31-1 ms, about 24.8 days): a longer one fires at once,
 * so a deadline or a --duration above it would end the command immediately.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1
/** MAX_TIMER_MS rounded down to whole seconds, as a user would type it. */
export const MAX_TIMER_TEXT = '596h31m23s'

/** parseDuration for a value that becomes a timer (--timeout, --duration): above MAX_TIMER_MS is a usage error. */
export function parseTimerDuration(text: string, flagName: string): number {
  const ms = parseDuration(text, flagName)
  if (ms > MAX_TIMER_MS) throw usageError(`--${flagName} "${text}" is too long: the maximum is ${MAX_TIMER_TEXT}`)
  return ms
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`
}
