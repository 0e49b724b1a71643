import {escapeTerminal} from '../render/escape.js'
import type {DiagnoseResult} from './diagnose.js'
import {targetLabel} from './diagnose.js'
import {SEVERITY_ORDER} from './run.js'
import type {Finding, Severity} from './types.js'

/**
 * `diagnose --watch` without a terminal: what changed between two rounds, one line per finding
 * that appeared, was resolved or changed severity. A problem whose severity stays the same is not
 * repeated when its wording changes (an access-log count grows every round); PASS findings only
 * matter as the end of a problem.
 */

export type FindingChangeKind = 'new' | 'resolved' | 'changed' | 'gone'

export interface FindingChange {
  /** new: a problem appeared; resolved: it passes now or is no longer reported; changed: another problem severity; gone: its proxy is no longer diagnosed. */
  kind: FindingChangeKind
  /** The finding as it is now (as it was, for resolved and gone). */
  finding: Finding
  /** changed: the severity it had. */
  from?: Severity
}

const key = (finding: Finding) => `${finding.context ?? ''}\u0000${finding.id}\u0000${finding.target}`
const proxyKey = (context: string | undefined, proxy: string) => `${context ?? ''}\u0000${proxy}`
const rank = (finding: Finding) => SEVERITY_ORDER.indexOf(finding.severity)

function proxiesOf(result: DiagnoseResult): Set<string> {
  if (!result.contexts) return new Set(result.proxies.map((proxy) => proxyKey(undefined, proxy)))
  return new Set(result.contexts.flatMap((summary) => summary.proxies.map((proxy) => proxyKey(summary.context, proxy))))
}

function byKey(findings: readonly Finding[]): Map<string, Finding[]> {
  const groups = new Map<string, Finding[]>()
  for (const finding of findings) groups.set(key(finding), [...(groups.get(key(finding)) ?? []), finding])
  return groups
}

/**
 * The changes from `previous` to `current`, in `current`'s order (then what disappeared). A check
 * may report several findings on one proxy: the ones with the same message pair up first, the
 * rest by severity. The findings of a context that could not be diagnosed this round are unknown,
 * not resolved: they are left out until the context answers again.
 */
export function findingChanges(previous: DiagnoseResult, current: DiagnoseResult): FindingChange[] {
  const before = byKey(previous.findings)
  const after = byKey(current.findings)
  const proxiesNow = proxiesOf(current)
  const unknownContexts = new Set((current.contexts ?? []).filter((summary) => summary.error).map((summary) => summary.context))
  const changes: FindingChange[] = []
  const compare = (old: Finding[], now: Finding[]) => {
    const left = [...old]
    const right: Finding[] = []
    for (const finding of now) {
      const same = left.findIndex((candidate) => candidate.message === finding.message)
      if (same >= 0) {
        const [match] = left.splice(same, 1)
        pair(match, finding)
      } else {
        right.push(finding)
      }
    }
    left.sort((a, b) => rank(a) - rank(b))
    right.sort((a, b) => rank(a) - rank(b))
    for (let index = 0; index < Math.max(left.length, right.length); index++) {
      const was = left[index]
      const is = right[index]
      if (was && is) pair(was, is)
      else if (is) {
        if (is.severity !== 'pass') changes.push({kind: 'new', finding: is})
      } else if (was && was.severity !== 'pass') {
        if (was.context !== undefined && unknownContexts.has(was.context)) continue
        const stillDiagnosed = was.id === 'cluster' || proxiesNow.has(proxyKey(was.context, was.target))
        changes.push({kind: stillDiagnosed ? 'resolved' : 'gone', finding: was})
      }
    }
  }
  const pair = (was: Finding, is: Finding) => {
    if (was.severity === is.severity) return
    if (is.severity === 'pass') changes.push({kind: 'resolved', finding: was})
    else if (was.severity === 'pass') changes.push({kind: 'new', finding: is})
    else changes.push({kind: 'changed', finding: is, from: was.severity})
  }
  for (const [name, now] of after) compare(before.get(name) ?? [], now)
  for (const [name, old] of before) if (!after.has(name)) compare(old, [])
  return changes
}

const TAG: Readonly<Record<Severity, string>> = {pass: 'PASS', warn: 'WARN', fail: 'FAIL', error: 'ERROR'}

/** One line per change, e.g. `resolved FAIL routes gw.istio-system: no DestinationRule ...`; cluster text escaped. */
export function renderFindingChange(change: FindingChange): string {
  const {finding} = change
  const severity = change.kind === 'changed' && change.from ? `${TAG[change.from]} -> ${TAG[finding.severity]}` : TAG[finding.severity]
  const why = change.kind === 'gone' ? ' (the proxy is no longer diagnosed)' : ''
  return `${change.kind} ${severity} ${escapeTerminal(finding.id)} ${escapeTerminal(targetLabel(finding))}: ${escapeTerminal(finding.message)}${why}`
}
