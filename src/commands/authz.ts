import {Flags} from '@oclif/core'

import {ProxyCommand} from '../lib/proxy-command.js'
import {parseConfigDumpInput} from '../lib/envoy/configdump.js'
import {AdminPath} from '../lib/envoy/source.js'
import {MeshdbgError, notFoundError, usageError} from '../lib/errors.js'
import {collectAuthzChains, explainAuthz, summarizeAuthzPolicies, type AuthzExplanation, type AuthzPolicyRow} from '../lib/istio/authz.js'
import {checkAuthz, type AuthzCheckResult, type AuthzRequest} from '../lib/istio/authz-eval.js'
import {parseCheckRequest} from '../lib/istio/authz-request.js'
import {describeAuthzRules, type AuthzRuleText} from '../lib/istio/authz-rules.js'
import {renderAuthzCheck, renderAuthzRules} from '../lib/render/authz-rules.js'
import {renderAuthzExplanation, renderAuthzTable} from '../lib/render/authz-table.js'
import {renderStructured} from '../lib/render/formats.js'

export interface AuthzResult {
  /** The table rows: DENY, ALLOW, LOG, CUSTOM, names in byte order. */
  policies: AuthzPolicyRow[]
  /** With --explain or --verbose: per listener and destination port, what applies and in which order. */
  explanation?: AuthzExplanation
  /** With --verbose: every policy rule (per distinct compiled form) in words. */
  rules?: AuthzRuleText[]
  /** With --check: the request as evaluated and the decision (DENIED exits 10). */
  check?: AuthzCheckResult & {request: AuthzRequest}
}

export default class Authz extends ProxyCommand<typeof Authz> {
  static override summary = 'Show the AuthorizationPolicies an Envoy proxy enforces (istioctl x authz check).'
  static override description = `Reads the RBAC filters of the proxy's listeners: HTTP filters (envoy.filters.http.rbac) and network filters (envoy.filters.network.rbac). Policy keys ns[<ns>]-policy[<name>]-rule[<i>] become <name>.<ns>; RULES counts the distinct rule indices of a policy across all listeners. ACTION is the filter's rules.action (ALLOW when absent), CUSTOM for ext-authz rules (istio-ext-authz-... shadow keys). Rows go DENY, ALLOW, LOG, CUSTOM, names sorted; with no policy, the header alone (exit 0). Columns and padding match istioctl.
Differences from istioctl: filters with no rules (ext-authz shadow-only filters) add no "ALLOW _anonymous_match_nothing_" row; a filter whose rules hold no policy shows as _anonymous_match_nothing_ only when no named policy of that action exists (--explain shows it per chain); a key not in Istio's form is shown as is, not as an empty name; static listeners and default filter chains count too.
--explain adds, per listener and destination port, the policies that apply in evaluation order (CUSTOM -> DENY -> ALLOW; a request matching no ALLOW rule is denied when any ALLOW policy applies), LOG and dry-run policies, and chains with no filter.
--verbose adds the --explain view and every rule's conditions in words (paths, methods, ports, hosts, principals, namespaces, request principals, JWT claims, headers, IPs, "not" forms), read from the proxy's compiled RBAC config (a "when" condition reads like the from/to field it compiles to).
--check METHOD PATH evaluates one request against the proxy's RBAC filters on the destination port's inbound chains (--port, else the only port with a filter) in Envoy's order (CUSTOM, DENY, ALLOW) and prints ALLOWED, DENIED (exit 10) or UNKNOWN with the deciding policy and rule and, per rule, why it matches or not. The caller: --from-sa NS/SA (trust domain cluster.local), --from-principal (a SPIFFE ID) or --from-namespace NS; --request-principal ISS/SUB or "none" (no JWT); --header k=v (host=... sets :authority). What the CLI is not told or cannot know (the caller's identity or IP, JWT claims, SNI, dynamic metadata) leaves a rule undecided, and the answer is UNKNOWN when it depends on one.
-o short (default) | json | yaml: the rows as {action, name, rules}; with --explain, --verbose or --check, {policies, explanation?, rules?, check?}.`

  static override hiddenAliases = ['authz:check']
  static override examples = [
    '<%= config.bin %> authz deploy/webapp -n istioinaction',
    '<%= config.bin %> authz productpage-v1-7f9d.bookinfo --explain',
    'kubectl exec POD -c istio-proxy -- curl -s localhost:15000/config_dump | <%= config.bin %> authz -f -',
    '<%= config.bin %> authz -f dump.json -o json',
    '<%= config.bin %> authz deploy/webapp -n istioinaction --verbose',
    '<%= config.bin %> authz deploy/webapp -n istioinaction --check GET /items --from-sa default/sleep',
  ]

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    ...ProxyCommand.proxyFlags,
    explain: Flags.boolean({summary: 'Also show, per listener and port, which policies apply and in which order they are evaluated.'}),
    verbose: Flags.boolean({summary: 'Also show every rule\'s conditions in words, and the --explain view (stack traces: DEBUG=meshdbg).'}),
    check: Flags.string({summary: 'Evaluate one request: --check METHOD PATH (ALLOWED, DENIED: exit 10, or UNKNOWN).', multiple: true, helpValue: 'METHOD PATH'}),
    'from-sa': Flags.string({summary: '--check: the caller\'s service account, NS/SA (spiffe://cluster.local/ns/NS/sa/SA).', exclusive: ['from-principal', 'from-namespace']}),
    'from-principal': Flags.string({summary: '--check: the caller\'s SPIFFE ID (spiffe:// optional).', exclusive: ['from-sa', 'from-namespace']}),
    'from-namespace': Flags.string({summary: '--check: the caller\'s namespace (its service account unknown).', exclusive: ['from-sa', 'from-principal']}),
    'request-principal': Flags.string({summary: '--check: the JWT\'s ISS/SUB, or "none" for a request without a token.'}),
    header: Flags.string({summary: '--check: a request header k=v (repeatable; host=... sets :authority).', multiple: true, multipleNonGreedy: true}),
    port: Flags.integer({summary: '--check: the destination port (default: the only port with an RBAC filter).', min: 1, max: 65535}),
  }

  static override verboseIsTableSwitch = true

  async run(): Promise<AuthzResult> {
    const {flags} = this
    // Flags are checked before the proxy is asked anything.
    const request = parseCheckRequest(flags)
    const input = await this.loadProxyText(AdminPath.full)
    const chains = collectAuthzChains(parseConfigDumpInput(input, {only: ['Listeners']}))
    const policies = summarizeAuthzPolicies(chains)
    const explanation = flags.explain || flags.verbose ? explainAuthz(chains) : undefined
    const rules = flags.verbose ? describeAuthzRules(chains) : undefined
    let check: AuthzResult['check']
    if (request) {
      const outcome = checkAuthz(chains, request)
      if ('error' in outcome) {
        const ports = outcome.candidates.length > 0 ? `ports with an RBAC filter: ${outcome.candidates.join(', ')}` : 'no port has an RBAC filter'
        if (outcome.error === 'no-port') throw usageError(`--check needs --port: ${ports}`)
        throw notFoundError(`no inbound filter chain for port ${outcome.port} (${ports})`)
      }
      check = {...outcome, request}
    }
    const result: AuthzResult = {policies, ...(explanation ? {explanation} : {}), ...(rules ? {rules} : {}), ...(check ? {check} : {})}
    if (this.tableOutput) {
      if (check) this.write(renderAuthzCheck(check, check.request))
      else this.writeTable(renderAuthzTable(policies))
      if (rules) this.write(renderAuthzRules(rules))
      if (explanation) this.write(renderAuthzExplanation(explanation))
    } else {
      this.write(renderStructured(explanation || check ? result : policies, this.outputFormat as 'json' | 'yaml'))
    }
    if (check?.decision === 'DENIED') {
      throw new MeshdbgError('problems-found', `the request is denied: ${check.reason}`, {result})
    }
    return result
  }
}
