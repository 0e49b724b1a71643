import type {AppliedPolicy, AuthzChainGroup, AuthzExplanation, AuthzPolicyRow} from '../istio/authz.js'
import {escapeTerminal} from './escape.js'
import {tabRow, tabwrite} from './tabwriter.js'

/** istioctl's `x authz check` table: padding 3; with no policies, the header alone. */
export function renderAuthzTable(rows: readonly AuthzPolicyRow[]): string {
  return tabwrite(['ACTION\tAuthorizationPolicy\tRULES', ...rows.map((row) => tabRow([row.action, row.name, String(row.rules)]))], {padding: 3})
}

export const EVALUATION_ORDER_NOTE =
  'Evaluation order for each request: CUSTOM (ext-authz) -> DENY -> ALLOW; the first denial ends it. ' +
  'When an ALLOW policy applies, a request that matches none of its rules is denied (403 "RBAC: access denied"); ' +
  'with no ALLOW policy, what is not denied is allowed. LOG and dry-run policies never deny.'

function policyText(policy: AppliedPolicy): string {
  if (policy.rules.length === 0) return policy.name
  return `${policy.name} (rule${policy.rules.length === 1 ? '' : 's'} ${policy.rules.join(', ')})`
}

function groupHeading(group: AuthzChainGroup): string {
  const where = [group.listener === '' ? '(unnamed listener)' : group.listener]
  if (group.address !== '') where.push(`${group.address}:${group.port}`)
  const details = [
    group.destinationPort === undefined ? undefined : `destination port ${group.destinationPort}`,
    group.dynamic ? undefined : 'static listener',
    group.layer === 'none' ? 'no authorization filter' : group.layer,
    `${group.chains} filter chain${group.chains === 1 ? '' : 's'}${group.includesDefaultChain ? ' incl. the default chain' : ''}`,
  ].filter(Boolean)
  return `${where.join(' ')}: ${details.join(', ')}`
}

function groupLines(group: AuthzChainGroup): string[] {
  if (group.layer === 'none') return ['  no RBAC filter on these chains: no policy is checked here']
  const steps: string[] = []
  for (const policy of group.custom) steps.push(`CUSTOM  ${policyText(policy)}: the ext-authz provider decides`)
  for (const policy of group.deny) steps.push(`DENY    ${policyText(policy)}: a matching request is denied`)
  if (group.allow.length > 0) steps.push(`ALLOW   ${group.allow.map(policyText).join(', ')}: a request must match one of these rules`)
  else if (group.matchNothing.includes('ALLOW')) {
    steps.push('ALLOW   (no rule applies here; e.g. ALLOW rules with HTTP-only fields on a TCP chain): every request is denied')
  }
  const lines = steps.map((step, index) => `  ${index + 1}. ${step}`)
  if (steps.length === 0) lines.push('  nothing is enforced')
  for (const policy of group.log) lines.push(`  also LOG      ${policyText(policy)}: matching requests are logged, never denied`)
  for (const policy of group.dryRun) lines.push(`  also dry-run  ${policy.action} ${policyText(policy)}: evaluated and logged, never enforced`)
  if (group.allow.length > 0 || !group.matchNothing.includes('ALLOW')) {
    lines.push(
      group.unmatched === 'denied'
        ? '  a request that passes CUSTOM and DENY but matches no ALLOW rule is denied'
        : '  no ALLOW policy here: a request that CUSTOM and DENY let through is allowed',
    )
  }
  return lines
}

/** `--explain`: the evaluation-order note, then per listener and destination port what applies. */
export function renderAuthzExplanation(explanation: AuthzExplanation): string {
  const lines = ['', EVALUATION_ORDER_NOTE, '']
  if (explanation.groups.length === 0) lines.push('No listener has an authorization (RBAC) filter: no policy applies to this proxy.')
  for (const group of explanation.groups) lines.push(groupHeading(group), ...groupLines(group))
  if (explanation.groups.length > 0 && explanation.listenersWithoutAuthz > 0) {
    const n = explanation.listenersWithoutAuthz
    lines.push(`${n} other listener${n === 1 ? ' has' : 's have'} no authorization filter (nothing is checked there; outbound listeners normally have none).`)
  }
  return lines.map(escapeTerminal).join('\n') + '\n'
}
