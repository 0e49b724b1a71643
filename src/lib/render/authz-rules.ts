import type {AuthzCheckResult, AuthzRequest, AuthzRuleVerdict, Tri} from '../istio/authz-eval.js'
import type {AuthzRuleText} from '../istio/authz-rules.js'
import {escapeTerminal} from './escape.js'

const plural = (n: number, word: string) => `${word}${n === 1 ? '' : 's'}`

function alternatives(label: string, alts: readonly string[][], anything: string): string[] {
  if (alts.length === 0) return [`  ${label} nothing (no ${label === 'to:  ' ? 'permission' : 'principal'}: the rule never matches)`]
  return alts.map((conditions, index) => {
    const text = conditions.length === 1 && conditions[0] === 'anything' ? anything : conditions.join(' and ')
    return `  ${index === 0 ? label : 'or:  '} ${text}`
  })
}

/** `--verbose`: each policy rule (per distinct compiled form) with what it requires, in words. */
export function renderAuthzRules(rules: readonly AuthzRuleText[]): string {
  const lines = ['', 'Rules (a rule matches when one "to" line and one "from" line match; conditions on a line must all hold):']
  if (rules.length === 0) lines.push('  no RBAC policy in this proxy\'s config')
  for (const rule of rules) {
    const name = rule.rule === '' ? rule.policy : `${rule.policy} rule ${rule.rule}`
    lines.push(`${rule.action} ${name} (${rule.layer}, ${plural(rule.ports.length, 'port')} ${rule.ports.join(', ')})`)
    lines.push(...alternatives('to:  ', rule.to, 'any request'), ...alternatives('from:', rule.from, 'anyone'))
  }
  return lines.map(escapeTerminal).join('\n') + '\n'
}

const RESULT_WORDS: Record<Tri, string> = {match: 'matches', 'no-match': 'no match', unknown: 'unknown'}

function ruleLine(rule: AuthzRuleVerdict): string {
  const name = rule.rule === '' ? rule.policy : `${rule.policy} rule ${rule.rule}`
  return `     ${RESULT_WORDS[rule.result].padEnd(8)} ${name}${rule.why.length > 0 ? `: ${rule.why.join('; ')}` : ''}`
}

export function requestText(request: AuthzRequest): string {
  const parts = [`${request.method} ${request.path}`]
  if (request.host !== undefined) parts.push(`host ${request.host}`)
  if (request.peer !== undefined) parts.push('principal' in request.peer ? `from ${request.peer.principal}` : `from namespace ${request.peer.namespace}`)
  if (request.jwt !== undefined) parts.push(request.jwt === 'none' ? 'no JWT' : `JWT ${request.jwt.principal}`)
  for (const [name, value] of Object.entries(request.headers)) parts.push(`${name}: ${value}`)
  return parts.join(', ')
}

const STEP_OUTCOME = {deny: 'denies', pass: 'passes', unknown: 'undecided'} as const

/** `--check`: the decision, the deciding rule, then every step in evaluation order. */
export function renderAuthzCheck(check: AuthzCheckResult, request: AuthzRequest): string {
  const lines = [`${check.decision}: ${check.reason}`, `  request: ${requestText(request)} (port ${check.port}, listener ${check.listener})`]
  if (check.steps.length === 0) lines.push('  no RBAC filter on this port: nothing is checked')
  check.steps.forEach((step, index) => {
    const note = step.action === 'DRY-RUN' || step.action === 'LOG' ? ' (never denies)' : step.action === 'CUSTOM' ? ' (a match sends the request to the ext-authz provider)' : ''
    lines.push(`  ${index + 1}. ${step.action} (${step.layer}): ${STEP_OUTCOME[step.outcome]}${note}`)
    lines.push(...step.rules.map(ruleLine))
  })
  for (const entry of check.perTransport ?? []) lines.push(`  on ${entry.transport} chains: ${entry.decision}: ${entry.reason}`)
  return lines.map(escapeTerminal).join('\n') + '\n'
}
