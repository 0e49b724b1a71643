import type {DemoStep} from '../diagnose/demo.js'
import type {DiagnoseResult} from '../diagnose/diagnose.js'
import type {DiagnoseCounts} from '../diagnose/run.js'
import type {Check, Finding, Severity} from '../diagnose/types.js'
import {escapeTerminal} from './escape.js'

const TAG: Readonly<Record<Severity, string>> = {pass: 'PASS', warn: 'WARN', fail: 'FAIL', error: 'ERROR'}
const ANSI: Readonly<Record<Severity, string>> = {pass: '\u001B[32m', warn: '\u001B[33m', fail: '\u001B[31m', error: '\u001B[35m'}
const RESET = '\u001B[0m'
const INDENT = '       '

export interface DiagnoseRenderOptions {
  /** Problems only (`--short`): no PASS lines, no group without a problem. */
  short?: boolean
  color?: boolean
  /** How many proxies were diagnosed, for the summary line. */
  proxies: number
  counts: DiagnoseCounts
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`

/**
 * `linkerd check`-style text: findings grouped under their check's heading, the groups in the
 * order of their most important finding (so the first line under the first heading is the
 * finding to read first), each problem with its reason, hint and next command; PASS lines of a
 * check that passed on several proxies are folded into one. All text from the cluster is
 * escaped: names, error text and log fields can hold terminal controls.
 */
export function renderDiagnose(findings: readonly Finding[], checks: readonly Check[], options: DiagnoseRenderOptions): string {
  const tag = (severity: Severity) => {
    const text = `[${TAG[severity]}]`
    return options.color ? `${ANSI[severity]}${text}${RESET}` : text
  }
  const titles = new Map(checks.map((check) => [check.id, check.title]))
  // One proxy: its name is said once, in the summary line, not on every line.
  const single = options.proxies === 1
  const about = (finding: Finding) => (single ? '' : ` ${escapeTerminal(finding.target)}`)
  const groups = new Map<string, string[]>()
  const add = (group: string, lines: string[]) => groups.set(group, [...(groups.get(group) ?? []), ...lines])
  const passes = new Map<string, Finding[]>()
  for (const finding of findings) {
    if (finding.severity === 'pass') {
      if (!options.short) passes.set(finding.id, [...(passes.get(finding.id) ?? []), finding])
      if (!groups.has(finding.group) && !options.short) groups.set(finding.group, [])
      continue
    }
    const lines = [`${tag(finding.severity)} ${escapeTerminal(finding.id)}${about(finding)}: ${escapeTerminal(finding.message)}`]
    if (finding.hint) lines.push(`${INDENT}hint: ${escapeTerminal(finding.hint)}`)
    if (finding.command) lines.push(`${INDENT}next: ${escapeTerminal(finding.command)}`)
    add(finding.group, lines)
  }
  for (const [id, passed] of passes) {
    const first = passed[0]
    const text = passed.length === 1 ? `${about(first)}: ${escapeTerminal(first.message)}` : `: ${escapeTerminal(titles.get(id) ?? id)} (${passed.length} proxies)`
    add(first.group, [`${tag('pass')} ${escapeTerminal(id)}${text}`])
  }
  const out: string[] = []
  for (const [group, lines] of groups) {
    if (lines.length === 0) continue
    out.push(group, '-'.repeat(group.length), ...lines, '')
  }
  const {counts} = options
  const proxies = single ? escapeTerminal(findings[0]?.target ?? '1 proxy') : `${options.proxies} proxies`
  out.push(`Diagnosed ${proxies}: ${counts.fail} failed, ${plural(counts.error, 'error')}, ${plural(counts.warn, 'warning')}, ${counts.pass} passed`)
  return out.join('\n') + '\n'
}

/**
 * Several contexts: each context's report under its own heading (in the order asked), as one
 * cluster's run prints it, then one summary line over all of them. A context that could not be
 * diagnosed shows its one `cluster` finding.
 */
export function renderDiagnoseContexts(result: DiagnoseResult, checks: readonly Check[], options: Pick<DiagnoseRenderOptions, 'short' | 'color'>): string {
  const out: string[] = []
  for (const summary of result.contexts ?? []) {
    const heading = `Context ${escapeTerminal(summary.context)}`
    const findings = result.findings.filter((finding) => finding.context === summary.context)
    out.push(heading, '='.repeat(heading.length), renderDiagnose(findings, checks, {...options, proxies: summary.proxies.length, counts: summary.counts}))
  }
  const {counts} = result
  const contexts = result.contexts?.length ?? 0
  out.push(`Diagnosed ${plural(contexts, 'context')}, ${plural(result.proxies.length, 'proxy').replace(/proxys$/, 'proxies')}: ${counts.fail} failed, ${plural(counts.error, 'error')}, ${plural(counts.warn, 'warning')}, ${counts.pass} passed`)
  return out.join('\n') + '\n'
}

/** One step of `meshdbg demo`: the command as typed, then its diagnosis (problems only until the last) or kubectl's lines. */
export function renderDemoStep(step: DemoStep, checks: readonly Check[], options: {color?: boolean; last: boolean}): string {
  const lines = [`$ ${escapeTerminal(step.command)}`]
  if (step.diagnosis) {
    const {diagnosis} = step
    lines.push(renderDiagnose(diagnosis.findings, checks, {short: !options.last, color: options.color, proxies: diagnosis.proxies.length, counts: diagnosis.counts}))
  }
  if (step.applied) {
    lines.push(...step.applied.map(escapeTerminal))
    if (step.syncedAfterMs !== undefined) lines.push(`istiod pushed the change; the gateway acknowledged it (SYNCED) after ${(step.syncedAfterMs / 1000).toFixed(1)} s`, '')
  }
  return lines.join('\n') + '\n'
}
