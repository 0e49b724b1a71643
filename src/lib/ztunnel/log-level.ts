/**
 * ztunnel's log levels (istio/ztunnel src/admin.rs handle_logging, validate_log_level): POST
 * /logging?level=SPEC, where SPEC is comma-separated clauses, each a bare level (exactly `off`,
 * `error`, `warn`, `info`, `debug`, `trace`) or `target=level` (a tracing target such as
 * `ztunnel::proxy` or `access`; the level in any case, or 0-5); `&reset` first returns to the
 * start-up filter. Anything else is a bare 400, so meshdbg checks the spec before sending it and
 * says what ztunnel would have wanted (istioctl forwards Envoy-style `access:debug` as it is).
 */
import {usageError} from '../errors.js'
import {tabRow, tabwrite} from '../render/tabwriter.js'

export const ZTUNNEL_LEVELS = ['off', 'error', 'warn', 'info', 'debug', 'trace'] as const

/** What istioctl users type for Envoy that ztunnel spells differently. */
const LEVEL_SPELLINGS: Readonly<Record<string, string>> = {warning: 'warn', critical: 'error'}

function targetLevelOk(level: string): boolean {
  return /^[0-5]$/.test(level) || (ZTUNNEL_LEVELS as readonly string[]).includes(level.toLowerCase())
}

/** Checks a --level value clause by clause; returns it unchanged when ztunnel will accept it. */
export function validateZtunnelLevel(spec: string): string {
  if (spec === '') throw usageError('--level is empty: give a level (info) or target=level clauses (ztunnel::proxy=debug,info)')
  for (const clause of spec.split(',')) {
    if ((ZTUNNEL_LEVELS as readonly string[]).includes(clause)) continue
    const fix = suggest(clause)
    const hint = `ztunnel takes ${ZTUNNEL_LEVELS.join('|')} or target=level, e.g. ztunnel::proxy=debug,info`
    if (!clause.includes('=')) {
      throw usageError(`invalid --level clause "${clause}"${fix ? `: did you mean "${fix}"` : ''}`, hint)
    }
    const [target, level, ...rest] = clause.split('=')
    if (rest.length > 0 || target === '' || target.includes('[') || !targetLevelOk(level)) {
      throw usageError(`invalid --level clause "${clause}"${fix ? `: did you mean "${fix}"` : ''}`, hint)
    }
  }
  return spec
}

/** The clause ztunnel would take for a near miss: `access:debug` -> `access=debug`, `warning` -> `warn`. */
function suggest(clause: string): string | undefined {
  const lower = clause.toLowerCase()
  if (LEVEL_SPELLINGS[lower]) return LEVEL_SPELLINGS[lower]
  if ((ZTUNNEL_LEVELS as readonly string[]).includes(lower)) return lower
  // Envoy's logger:level, possibly with ztunnel's own `::` in the target.
  const colon = /^(.+?):([A-Za-z]+)$/.exec(clause)
  if (colon && !colon[1].endsWith(':')) {
    const level = LEVEL_SPELLINGS[colon[2].toLowerCase()] ?? colon[2].toLowerCase()
    if ((ZTUNNEL_LEVELS as readonly string[]).includes(level)) return `${colon[1]}=${level}`
  }
  const equals = /^([^=]+)=([A-Za-z]+)$/.exec(clause)
  if (equals && LEVEL_SPELLINGS[equals[2].toLowerCase()]) return `${equals[1]}=${LEVEL_SPELLINGS[equals[2].toLowerCase()]}`
  return undefined
}

/** The filter in ztunnel's answer "current log level is hickory_server::server=off,info". */
export function parseCurrentLevel(body: string): string | undefined {
  return /^current log level is (.*)$/m.exec(body)?.[1]?.trim()
}

/** The /logging path for a change; `reset` alone returns to the start-up filter. */
export function loggingPath(change: {level?: string; reset?: boolean}): string {
  const query = [change.level !== undefined ? `level=${encodeURIComponent(change.level)}` : '', change.reset ? 'reset' : ''].filter(Boolean).join('&')
  return query ? `logging?${query}` : 'logging'
}

/** `POD LEVELS` for a read, `POD RESULT LEVELS` after a change (LEVELS: the filter ztunnel reports). */
export function renderZtunnelLogTable(pods: ReadonlyArray<{pod: string; result: string; levels?: string; error?: string}>, changed: boolean): string {
  const header = changed ? 'POD\tRESULT\tLEVELS' : 'POD\tLEVELS'
  const rows = pods.map((pod) => {
    const levels = pod.levels ?? pod.error?.replace(/\s+/g, ' ') ?? '-'
    return tabRow(changed ? [pod.pod, pod.result, levels] : [pod.pod, pod.result === 'failed' ? `failed: ${levels}` : levels])
  })
  return tabwrite([header, ...rows].map((line) => `${line}\t`), {padding: 2}).replace(/ +$/gm, '')
}
