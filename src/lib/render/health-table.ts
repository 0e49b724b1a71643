// `meshdbg health`: a human view (cli-table3, borderless), not an istioctl table, so it is free to
// wrap a finding's hint and next command under its message.
import Table from 'cli-table3'

import type {HealthFinding, HealthSeverity} from '../health/checks.js'
import {escapeTerminal} from './escape.js'

const COLORS: Record<HealthSeverity, string> = {PASS: '\u001B[32m', WARN: '\u001B[33m', FAIL: '\u001B[31m'}
const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
}

/** One line per check (PASS/WARN/FAIL, what, the finding), its hint and next command below it, then the tally. */
export function renderHealth(proxy: string, findings: readonly HealthFinding[], options: {color?: boolean} = {}): string {
  const table = new Table({chars: NO_BORDER, style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}})
  for (const finding of findings) {
    const severity = options.color ? `${COLORS[finding.severity]}${finding.severity}\u001B[0m` : finding.severity
    const detail = [escapeTerminal(finding.message)]
    if (finding.severity !== 'PASS' && finding.hint) detail.push(`Hint: ${escapeTerminal(finding.hint)}`)
    if (finding.severity !== 'PASS' && finding.next) detail.push(`Next: ${escapeTerminal(finding.next)}`)
    table.push([severity, escapeTerminal(finding.title), detail.join('\n')])
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const count = (severity: HealthSeverity) => findings.filter((finding) => finding.severity === severity).length
  const lines = table.toString().split('\n').map((line) => line.trimEnd())
  return `${escapeTerminal(proxy)}\n${lines.join('\n')}\n${count('PASS')} passed, ${plural(count('WARN'), 'warning')}, ${count('FAIL')} failed\n`
}
