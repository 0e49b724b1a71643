import {forEachLimited} from '../async.js'
import {formatDuration} from '../duration.js'
import {usageError} from '../errors.js'
import {pairMemo} from '../pair-memo.js'
import type {Check, CheckOptions, Finding, ProxyFacts, Severity} from './types.js'

/** Worst first: a failure outranks a check that could not run, which outranks a warning. */
export const SEVERITY_ORDER: readonly Severity[] = ['fail', 'error', 'warn', 'pass']

export interface RunChecksOptions extends CheckOptions {
  /** Proxies diagnosed at the same time (each with all its checks in parallel). */
  concurrency: number
  /** Each check run's own deadline, in milliseconds. */
  checkTimeoutMs: number
  /** The command's deadline: once aborted, checks still running end as ERROR findings. */
  signal?: AbortSignal
}

/** `--check a,b` / `--skip c`: the checks to run, in registry order; an unknown id is a usage error. */
export function selectChecks(all: readonly Check[], only: readonly string[], skip: readonly string[]): Check[] {
  const ids = new Set(all.map((check) => check.id))
  for (const id of [...only, ...skip]) {
    if (!ids.has(id)) throw usageError(`unknown check "${id}" (checks: ${[...ids].join(', ')})`)
  }
  return all.filter((check) => (only.length === 0 || only.includes(check.id)) && !skip.includes(check.id))
}

/** Splits repeated and comma-separated flag values: `--check a,b --check c`. */
export function checkIdList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean)
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return (text.split('\n').find((line) => line.trim() !== '') ?? text).trim()
}

/** A check run that ends no later than its deadline, or the command's: never an unhandled rejection. */
async function runOne(check: Check, facts: ProxyFacts, options: RunChecksOptions, aborted: Promise<'aborted'>): Promise<Finding[]> {
  const base = {id: check.id, group: check.group, target: facts.pod.id}
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.checkTimeoutMs)
  })
  try {
    const outcome = await Promise.race([check.run(facts, options), deadline, aborted])
    if (outcome === 'timeout') {
      return [{...base, severity: 'error', message: `${check.title}: not decided, the check timed out after ${formatDuration(options.checkTimeoutMs)}`, hint: 'the proxy or the API server is slow to answer: raise --check-timeout, or run the check alone with --check'}]
    }
    if (outcome === 'aborted') {
      return [{...base, severity: 'error', message: `${check.title}: not decided before the command's deadline (--timeout)`, hint: 'raise --timeout, or diagnose fewer proxies at once'}]
    }
    return outcome.map((result) => ({...base, ...result}))
  } catch (error) {
    return [{...base, severity: 'error', message: `${check.title}: could not check: ${messageOf(error)}`, ...(error instanceof Error && 'hint' in error && typeof error.hint === 'string' ? {hint: error.hint} : {})}]
  } finally {
    clearTimeout(timer)
  }
}

/** A proxy to diagnose: its facts are created when its turn comes and dropped when it is done. */
export interface ProxyHandle {
  id: string
  /**
   * The proxy's facts; `close` (called once all its checks reported) ends what is still in
   * flight: a check that timed out must not leave its fetch running while the next proxies start.
   */
  open(): {facts: ProxyFacts; close(): void}
}

/**
 * Every check on every proxy: at most `concurrency` proxies at once, each proxy's checks in
 * parallel on facts fetched once for it and released when its checks are done (a dump of a
 * 2,000-service sidecar is tens of MB: 500 of them must not be held at once). A check that throws
 * or overruns its deadline becomes one ERROR finding; the others are unaffected. Findings come
 * back ordered: severity, then the check's place in the registry, then target.
 */
export async function runChecks(checks: readonly Check[], proxies: readonly ProxyHandle[], options: RunChecksOptions): Promise<Finding[]> {
  const results: Finding[][] = new Array(proxies.length)
  // One listener for the whole run (one per check run would pass Node's listener limit).
  const aborted = new Promise<'aborted'>((resolve) => {
    if (options.signal?.aborted) resolve('aborted')
    else options.signal?.addEventListener('abort', () => resolve('aborted'), {once: true})
  })
  const pool = new Map<string, string>()
  const intern = (text: string): string => {
    const known = pool.get(text)
    if (known !== undefined) return known
    pool.set(text, text)
    return text
  }
  const checkOptions: RunChecksOptions = {...options, intern, derived: pairMemo()}
  await forEachLimited(proxies, options.concurrency, async (proxy, index) => {
    const {facts, close} = proxy.open()
    try {
      const perCheck = await Promise.all(checks.map((check) => runOne(check, facts, checkOptions, aborted)))
      results[index] = perCheck.flat()
    } finally {
      close()
    }
  })
  return orderFindings(results.flat(), checks)
}

export function orderFindings(findings: readonly Finding[], checks: readonly Check[]): Finding[] {
  const rank = new Map(checks.map((check, index) => [check.id, index]))
  return [...findings].sort((a, b) =>
    SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
    (rank.get(a.id) ?? 0) - (rank.get(b.id) ?? 0) ||
    (a.target < b.target ? -1 : a.target > b.target ? 1 : 0),
  )
}

export interface DiagnoseCounts {
  pass: number
  warn: number
  fail: number
  error: number
}

export function countFindings(findings: readonly Finding[]): DiagnoseCounts {
  const counts: DiagnoseCounts = {pass: 0, warn: 0, fail: 0, error: 0}
  for (const finding of findings) counts[finding.severity]++
  return counts
}
