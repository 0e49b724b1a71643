import {Flags} from '@oclif/core'

import {ProxyCommand} from '../lib/proxy-command.js'
import {parseConfigDumpInput} from '../lib/envoy/configdump.js'
import {AdminPath} from '../lib/envoy/source.js'
import {collectAuthzChains, explainAuthz, summarizeAuthzPolicies, type AuthzExplanation, type AuthzPolicyRow} from '../lib/istio/authz.js'
import {renderAuthzExplanation, renderAuthzTable} from '../lib/render/authz-table.js'
import {renderStructured} from '../lib/render/formats.js'

export interface AuthzResult {
  /** The table rows: DENY, ALLOW, LOG, CUSTOM, names in byte order. */
  policies: AuthzPolicyRow[]
  /** With --explain: per listener and destination port, what applies and in which order. */
  explanation?: AuthzExplanation
}

export default class Authz extends ProxyCommand<typeof Authz> {
  static override summary = 'Show the AuthorizationPolicies an Envoy proxy enforces (istioctl x authz check).'
  static override description = `Reads the RBAC filters of the proxy's listeners: HTTP filters (envoy.filters.http.rbac) and network filters (envoy.filters.network.rbac). Policy keys ns[<ns>]-policy[<name>]-rule[<i>] become <name>.<ns>; RULES counts the distinct rule indices of a policy across all listeners. ACTION is the filter's rules.action (ALLOW when absent), CUSTOM for ext-authz rules (istio-ext-authz-... shadow keys). Rows go DENY, ALLOW, LOG, CUSTOM, names sorted; with no policy, the header alone (exit 0). Columns and padding match istioctl.
Differences from istioctl: filters with no rules (ext-authz shadow-only filters) add no "ALLOW _anonymous_match_nothing_" row; a filter whose rules hold no policy shows as _anonymous_match_nothing_ only when no named policy of that action exists (--explain shows it per chain); a key not in Istio's form is shown as is, not as an empty name; static listeners and default filter chains count too.
--explain adds, per listener and destination port, the policies that apply in evaluation order (CUSTOM -> DENY -> ALLOW; a request matching no ALLOW rule is denied when any ALLOW policy applies), LOG and dry-run policies, and chains with no filter.
-o short (default) | json | yaml: the rows as {action, name, rules}; with --explain, {policies, explanation}.`

  static override hiddenAliases = ['authz:check']
  static override examples = [
    '<%= config.bin %> authz deploy/webapp -n istioinaction',
    '<%= config.bin %> authz productpage-v1-7f9d.bookinfo --explain',
    'kubectl exec POD -c istio-proxy -- curl -s localhost:15000/config_dump | <%= config.bin %> authz -f -',
    '<%= config.bin %> authz -f dump.json -o json',
  ]

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    ...ProxyCommand.proxyFlags,
    explain: Flags.boolean({summary: 'Also show, per listener and port, which policies apply and in which order they are evaluated.'}),
  }

  async run(): Promise<AuthzResult> {
    const {flags} = this
    const input = await this.loadProxyText(AdminPath.full)
    const chains = collectAuthzChains(parseConfigDumpInput(input, {only: ['Listeners']}))
    const policies = summarizeAuthzPolicies(chains)
    const explanation = flags.explain ? explainAuthz(chains) : undefined
    if (this.tableOutput) {
      this.writeTable(renderAuthzTable(policies))
      if (explanation) this.write(renderAuthzExplanation(explanation))
    } else {
      this.write(renderStructured(explanation ? {policies, explanation} : policies, this.outputFormat as 'json' | 'yaml'))
    }
    return explanation ? {policies, explanation} : {policies}
  }
}
