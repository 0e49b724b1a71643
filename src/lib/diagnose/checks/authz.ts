import type {AccessLogEntry} from '../../envoy/access-log.js'
import {describeResponseCodeDetails} from '../../envoy/response-flags.js'
import {formatDuration} from '../../duration.js'
import {shellArg} from '../../render/shell-quote.js'
import type {Check, CheckOutcome} from '../types.js'

const DENIED = 'rbac_access_denied_matched_policy'

/** `ns[istioinaction]-policy[deny-x]-rule[0]` (Envoy's RBAC policy key, from istiod's authz builder) → `DENY-side policy deny-x.istioinaction rule 0`; `none` → no ALLOW rule matched. */
export function deniedBy(argument: string | undefined): string {
  const key = /^ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[(\d+)\]$/.exec(argument ?? '')
  if (key) return `AuthorizationPolicy ${key[2]}.${key[1]} (rule ${key[3]})`
  if (argument === 'none') return 'no ALLOW policy rule (ALLOW policies apply, none matches)'
  return `policy ${argument ?? '?'}`
}

interface Denial {
  caller: string
  /** The caller pod's namespace, for `authz --check --from-namespace`. */
  namespace?: string
  /** A pod of the cluster (a meshed peer), not an outside address. */
  peer: boolean
  policy: string
  entries: AccessLogEntry[]
}

const ipOf = (address: string) => address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')

/**
 * Requests this proxy's RBAC filter denied over `--since` (403 `rbac_access_denied_matched_policy`
 * in its access log), grouped by caller and by the policy that decided, callers named by their
 * pod. Read from the log rather than evaluated: the log records what Envoy enforced, for the
 * callers that actually came (story 3). Denials of the cluster's own pods FAIL (the workload's
 * callers are cut off); denials of outside addresses only WARN (they may be the policy's point).
 */
export const authzCheck: Check = {
  id: 'authz',
  group: 'Security',
  title: 'no requests denied by an AuthorizationPolicy in the recent access log',
  async run(facts, options) {
    const window = formatDuration(options.sinceMs)
    const entries = (await facts.accessLog()).filter((entry) => entry.responseCode === 403 && entry.responseCodeDetails?.startsWith(DENIED))
    if (entries.length === 0) return [{severity: 'pass', message: `no request denied by an AuthorizationPolicy in the last ${window}`}]
    const denials = new Map<string, Denial>()
    const callers = new Map<string, Promise<string | undefined>>()
    for (const entry of entries) {
      const address = entry.downstreamRemoteAddress ? ipOf(entry.downstreamRemoteAddress) : ''
      if (address && !callers.has(address)) callers.set(address, facts.peerByIp(address))
      const pod = address ? await callers.get(address) : undefined
      const caller = pod ? `pod ${pod}` : address || 'an unknown caller'
      const policy = deniedBy(describeResponseCodeDetails(entry.responseCodeDetails ?? '').argument)
      const key = `${caller} ${policy}`
      let denial = denials.get(key)
      if (!denial) denials.set(key, (denial = {caller, ...(pod ? {namespace: pod.slice(pod.lastIndexOf('.') + 1)} : {}), peer: pod !== undefined, policy, entries: []}))
      denial.entries.push(entry)
    }
    const ordered = [...denials.values()].sort((a, b) => Number(b.peer) - Number(a.peer) || b.entries.length - a.entries.length || a.caller.localeCompare(b.caller))
    const top = ordered[0]
    const sample = top.entries[0]
    const outcome: CheckOutcome = {
      severity: top.peer ? 'fail' : 'warn',
      message: `${entries.length} request${entries.length === 1 ? '' : 's'} denied in the last ${window}: ${top.caller} by ${top.policy} ×${top.entries.length}${ordered.length > 1 ? ` (and ${ordered.length - 1} more caller/policy pair${ordered.length > 2 ? 's' : ''})` : ''}`,
      hint: top.peer
        ? 'a workload of the cluster is refused: widen the ALLOW policy\'s rules (paths, methods, principals) or narrow the DENY policy'
        : 'callers from outside the cluster\'s pods are refused: right if the policy means it, else widen its rules',
      command: `meshdbg authz ${shellArg(facts.pod.id, '<pod>')} --check ${shellArg(sample.method ?? 'GET', '<method>')} ${shellArg(sample.path ?? '/', '<path>')}${top.namespace ? ` --from-namespace ${shellArg(top.namespace, '<namespace>')}` : ''}`,
      evidence: [
        ...ordered.map((denial) => `${denial.caller}: ${denial.policy} ×${denial.entries.length}`),
        ...top.entries.slice(0, 2).map((entry) => `${entry.startTime ?? ''} ${entry.method ?? ''} ${entry.path ?? ''} 403 ${entry.responseCodeDetails ?? ''}`.trim()),
      ],
    }
    return [outcome]
  },
}
