import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {diagnoseOutcome, FAIL_ON, runDiagnose, type DiagnoseResult} from '../lib/diagnose/diagnose.js'
import {CHECKS} from '../lib/diagnose/registry.js'
import {checkIdList} from '../lib/diagnose/run.js'
import {parseDuration, parseTimerDuration} from '../lib/duration.js'
import {usageError} from '../lib/errors.js'
import {istioNamespaceFlag, outputFlag, proxyAdminPortFlag, revisionFlag, targetArg} from '../lib/flags.js'
import {renderDiagnose} from '../lib/render/diagnose.js'
import {renderStructured} from '../lib/render/formats.js'

export type {DiagnoseResult} from '../lib/diagnose/diagnose.js'

export default class Diagnose extends MeshdbgCommand<typeof Diagnose> {
  static override summary = 'Run every check on proxies and the istiod serving them: what is broken, why, and the command to run next.'
  static override description = `Targets: a pod or workload (every Running meshed pod of it), -l SELECTOR, --all (every meshed pod of the namespace) or -A (of every namespace).
Checks (--check ID / --skip ID, repeatable or comma-separated):
${CHECKS.map((check) => `  ${check.id.padEnd(16)} ${check.title}`).join('\n')}
Proxies are diagnosed --concurrency at a time, each proxy's checks in parallel, each with its own deadline (--check-timeout); a check that times out or fails to fetch its data is an ERROR finding and never hides the others. Data is fetched once per proxy: Envoy admin (config_dump filtered by Envoy to the fields checks read: cluster names and types, listener states, routes; clusters, ready, logging, stats, SDS secrets and certs), pilot-agent :15020/healthz/ready, the istio-proxy log of the last --since, the namespace's Services and pods; once per run: istiod's /debug/syncz and versions, the Istio resources and MeshConfig's root namespace.
Output: findings grouped by area, the most important first (FAIL, ERROR, WARN, then PASS; within a severity causes before symptoms), each with a one-line reason, a hint and the next command. --short prints problems only. -o json|yaml (or --json) prints the typed findings: id, group, severity (pass|warn|fail|error), target, message, hint, command, evidence.
Exit 0 when nothing failed; 11 when a check failed or could not run (error); 10 for warnings with --fail-on warn.`

  static override examples = [
    '<%= config.bin %> diagnose deploy/istio-ingressgateway -n istio-system',
    '<%= config.bin %> diagnose --all -n istioinaction --short',
    '<%= config.bin %> diagnose -A --skip access-log,log-levels --fail-on warn',
    '<%= config.bin %> diagnose deploy/webapp -n istioinaction --check sync,routes -o json',
  ]

  static override args = {target: targetArg}
  static override flags = {
    ...outputFlag(['short', 'json', 'yaml'], 'short'),
    all: Flags.boolean({summary: 'Every meshed pod of the namespace (-n).'}),
    'all-namespaces': Flags.boolean({char: 'A', summary: 'Every meshed pod of every namespace.'}),
    selector: Flags.string({char: 'l', summary: 'Label selector for the pods (instead of a target).'}),
    check: Flags.string({summary: 'Run only these checks (ids, comma-separated or repeated).', multiple: true}),
    skip: Flags.string({summary: 'Skip these checks (ids, comma-separated or repeated).', multiple: true}),
    short: Flags.boolean({summary: 'Print problems only (no PASS lines).'}),
    since: Flags.string({summary: 'How far back the access-log check reads, e.g. 5m, 1h.', default: '5m'}),
    'fail-on': Flags.string({summary: 'Exit non-zero from this severity: fail (11 on failures and errors) or warn (also 10 on warnings).', options: [...FAIL_ON], default: 'fail'}),
    concurrency: Flags.integer({summary: 'Proxies diagnosed at the same time (each with its checks in parallel).', default: 8, min: 1}),
    'check-timeout': Flags.string({summary: 'Deadline of each check on each proxy, e.g. 10s.', default: '10s'}),
    'istio-namespace': istioNamespaceFlag,
    revision: revisionFlag,
    token: Flags.string({summary: 'Bearer token for istiod\'s port 15014 when 8080 is unreachable.', env: 'MESHDBG_ISTIOD_TOKEN'}),
    'proxy-admin-port': proxyAdminPortFlag,
  }

  async run(): Promise<DiagnoseResult> {
    const {args, flags} = this
    const chosen = [args.target !== undefined, flags.selector !== undefined, flags.all, flags['all-namespaces']].filter(Boolean).length
    if (chosen !== 1) throw usageError(chosen === 0 ? 'diagnose needs a pod/workload, -l SELECTOR, --all or -A' : 'give only one of a pod/workload, -l SELECTOR, --all and -A')
    const checkTimeoutMs = parseTimerDuration(flags['check-timeout'], 'check-timeout')
    const ctx = this.runContext()
    const {result, checks} = await runDiagnose(ctx, {
      target: args.target,
      selector: flags.selector,
      all: flags.all,
      allNamespaces: flags['all-namespaces'],
      only: checkIdList(flags.check),
      skip: checkIdList(flags.skip),
      sinceMs: parseDuration(flags.since, 'since'),
      concurrency: flags.concurrency,
      // 0 means no deadline per check, as --timeout 0 does for the command.
      checkTimeoutMs: checkTimeoutMs === 0 ? 2 ** 31 - 1 : checkTimeoutMs,
      istioNamespace: flags['istio-namespace'],
      revision: flags.revision,
      token: flags.token,
      proxyAdminPort: flags['proxy-admin-port'],
    })
    if (this.outputFormat === 'short') {
      this.write(renderDiagnose(result.findings, checks, {short: flags.short, color: this.colorEnabled, proxies: result.proxies.length, counts: result.counts}))
    } else {
      this.write(renderStructured(result, this.outputFormat as 'json' | 'yaml'))
    }
    const failure = diagnoseOutcome(result, flags['fail-on'] as (typeof FAIL_ON)[number])
    if (failure) throw failure
    return result
  }
}
