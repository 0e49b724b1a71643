import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import type {RunContext} from '../lib/context.js'
import {findingChanges, renderFindingChange} from '../lib/diagnose/changes.js'
import {diagnoseContexts} from '../lib/diagnose/contexts.js'
import {diagnoseOutcome, FAIL_ON, runDiagnose, type DiagnoseRequest, type DiagnoseResult} from '../lib/diagnose/diagnose.js'
import {CHECKS} from '../lib/diagnose/registry.js'
import {checkIdList, selectChecks} from '../lib/diagnose/run.js'
import type {Check} from '../lib/diagnose/types.js'
import {parseDuration, parseTimerDuration} from '../lib/duration.js'
import {ExitCode, MeshdbgError, usageError} from '../lib/errors.js'
import {istioNamespaceFlag, outputFlag, proxyAdminPortFlag, revisionFlag, targetArg} from '../lib/flags.js'
import {multiContextFlags, selectContexts} from '../lib/kube/contexts.js'
import {renderDiagnose, renderDiagnoseContexts} from '../lib/render/diagnose.js'
import {escapeTerminal} from '../lib/render/escape.js'
import {renderStructured} from '../lib/render/formats.js'
import {problemReporter, TtyScreen, watchHeading, watchLoop, watchStamp} from '../lib/watch.js'

export type {DiagnoseResult} from '../lib/diagnose/diagnose.js'

export default class Diagnose extends MeshdbgCommand<typeof Diagnose> {
  static override summary = 'Run every check on proxies and the istiod serving them: what is broken, why, and the command to run next.'
  static override description = `Targets: a pod or workload (every Running meshed pod of it), -l SELECTOR, --all (every meshed pod of the namespace) or -A (of every namespace).
Checks (--check ID / --skip ID, repeatable or comma-separated):
${CHECKS.map((check) => `  ${check.id.padEnd(16)} ${check.title}`).join('\n')}
Proxies are diagnosed --concurrency at a time, each proxy's checks in parallel, each with its own deadline (--check-timeout); a check that times out or fails to fetch its data is an ERROR finding and never hides the others. Data is fetched once per proxy: Envoy admin (config_dump filtered by Envoy to the fields checks read: cluster names and types, listener states, routes, and the EDS endpoints' health, as Envoy judges each host; /clusters only for a cluster whose hosts are all down; ready, logging, stats, SDS secrets and certs), pilot-agent :15020/healthz/ready, the istio-proxy log of the last --since, the namespace's Services and pods; once per run: istiod's /debug/syncz and versions, the Istio resources and MeshConfig's root namespace.
Output: findings grouped by area, the most important first (FAIL, ERROR, WARN, then PASS; within a severity causes before symptoms), each with a one-line reason, a hint and the next command. --short prints problems only. -o json|yaml (or --json) prints the typed findings: id, group, severity (pass|warn|fail|error), target, message, hint, command, evidence.
Exit 0 when nothing failed; 11 when a check failed or could not run (error); 10 for warnings with --fail-on warn.
Several clusters: --context repeated or --all-contexts (every kubeconfig context) diagnoses each cluster (--context-concurrency at once, each under its own --timeout) and prints each context's report under a "Context <name>" heading, then one summary line; -o json findings carry "context" and "contexts" lists each context's proxies and counts. A cluster that cannot be diagnosed (unreachable, forbidden, timed out) is one ERROR finding "cluster" for that context and the others are still diagnosed; a context where nothing matches the target is a WARN (exit 3 only when no context has anything to diagnose). The exit code is the worst over all contexts (0, 10, 11). One --context is the ordinary run, byte for byte.
--watch (-w) runs the checks again every --interval (5s, counted from the end of a round) until Ctrl-C or SIGTERM, which exit with the code of the last round that finished (0, 10 with --fail-on warn, 11; a round that failed whole, e.g. the API server unreachable: its code, 4, 5...; 0 when stopped before the first round ended); --timeout bounds each round. On a TTY the report is redrawn in place; otherwise the first report is printed, then one timestamped line per finding that changed ("<time> new|resolved|changed|gone <SEVERITY> <check> <proxy>: <message>"; a problem whose wording changes at the same severity is not repeated), and notes or a failed round go to stderr once. With -o json every round is one line (NDJSON): {"time","status","result"} or {"time","status","error"}. --watch does not take --json, -o yaml or --snapshot, and several contexts do not take --snapshot, which is one cluster; --interval goes with --watch only (exit 2).`

  static override examples = [
    '<%= config.bin %> diagnose deploy/istio-ingressgateway -n istio-system',
    '<%= config.bin %> diagnose --all -n istioinaction --short',
    '<%= config.bin %> diagnose -A --skip access-log,log-levels --fail-on warn',
    '<%= config.bin %> diagnose deploy/webapp -n istioinaction --check sync,routes -o json',
    '<%= config.bin %> diagnose --all -n istioinaction --all-contexts --short',
    '<%= config.bin %> diagnose deploy/istio-ingressgateway -n istio-system --watch --interval 10s',
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
    concurrency: Flags.integer({summary: 'Proxies diagnosed at the same time (each with its checks in parallel).', default: 6, min: 1}),
    'check-timeout': Flags.string({summary: 'Deadline of each check on each proxy, e.g. 10s.', default: '10s'}),
    'istio-namespace': istioNamespaceFlag,
    revision: revisionFlag,
    token: Flags.string({summary: 'Bearer token for istiod\'s port 15014 when 8080 is unreachable.', env: 'MESHDBG_ISTIOD_TOKEN'}),
    'proxy-admin-port': proxyAdminPortFlag,
    ...multiContextFlags,
    watch: Flags.boolean({char: 'w', summary: 'Run the checks again every --interval until Ctrl-C (a TTY redraws the report; otherwise one line per finding that changed; -o json: one line per round).'}),
    // No oclif default, so that --interval without --watch can be refused.
    interval: Flags.string({summary: 'Time between the end of one round and the start of the next with --watch (default 5s; e.g. 10s, 1m).'}),
  }

  async run(): Promise<DiagnoseResult> {
    const {args, flags} = this
    const chosen = [args.target !== undefined, flags.selector !== undefined, flags.all, flags['all-namespaces']].filter(Boolean).length
    if (chosen !== 1) throw usageError(chosen === 0 ? 'diagnose needs a pod/workload, -l SELECTOR, --all or -A' : 'give only one of a pod/workload, -l SELECTOR, --all and -A')
    const checkTimeoutMs = parseTimerDuration(flags['check-timeout'], 'check-timeout')
    const failOn = flags['fail-on'] as (typeof FAIL_ON)[number]
    const request: DiagnoseRequest = {
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
    }
    if (flags.interval !== undefined && !flags.watch) throw usageError('--interval is the time between rounds of --watch: give --watch too')
    if (flags.watch) {
      if (this.jsonEnabled() || this.outputFormat === 'yaml') throw usageError('--watch prints a report and its changes, or -o json (one line per round): it does not take --json or -o yaml')
      if (flags.snapshot !== undefined) throw usageError('--watch runs the checks again on a live mesh: a --snapshot does not change')
    }
    const ctx = this.runContext()
    const contexts = await selectContexts(ctx, flags)
    if (contexts !== undefined && flags.snapshot !== undefined) throw usageError('a --snapshot holds one cluster: it does not take several --context or --all-contexts')
    if (flags.watch) return this.runWatch(ctx, contexts, request, failOn)
    const {result, checks} = await this.diagnoseOnce(ctx, contexts, request)
    this.write(this.render(result, checks))
    const failure = diagnoseOutcome(result, failOn)
    if (failure) throw failure
    return result
  }

  /** One run of the checks: one cluster as always, or every context with --context repeated / --all-contexts. */
  private diagnoseOnce(ctx: RunContext, contexts: string[] | undefined, request: DiagnoseRequest): Promise<{result: DiagnoseResult; checks: Check[]}> {
    if (contexts === undefined) return runDiagnose(ctx, request)
    return diagnoseContexts(ctx, contexts, request, {concurrency: this.flags['context-concurrency'], timeoutMs: ctx.timeoutMs})
  }

  private render(result: DiagnoseResult, checks: readonly Check[]): string {
    const {flags} = this
    if (this.outputFormat !== 'short') return renderStructured(result, this.outputFormat as 'json' | 'yaml')
    if (result.contexts) return renderDiagnoseContexts(result, checks, {short: flags.short, color: this.colorEnabled})
    return renderDiagnose(result.findings, checks, {short: flags.short, color: this.colorEnabled, proxies: result.proxies.length, counts: result.counts})
  }

  /**
   * --watch: the checks again every --interval until Ctrl-C, which exits with the code of the
   * last round that finished (as that round alone would have). On a TTY each round redraws the
   * report; otherwise the first report is printed, then one timestamped line per finding that
   * changed; -o json prints every round as one line. A round that fails whole (the API server
   * unreachable) is shown and the watch goes on.
   */
  private async runWatch(base: RunContext, contexts: string[] | undefined, request: DiagnoseRequest, failOn: (typeof FAIL_ON)[number]): Promise<DiagnoseResult> {
    const interval = this.flags.interval ?? DEFAULT_INTERVAL
    const intervalMs = parseTimerDuration(interval, 'interval')
    if (intervalMs === 0) throw usageError('--interval must be more than 0')
    // An unknown --check id is a usage error now, not a failed round every --interval.
    selectChecks(CHECKS, request.only, request.skip)
    this.disarmDeadline()
    const json = this.outputFormat === 'json'
    const screen = !json && process.stdout.isTTY ? new TtyScreen(process.stdout) : undefined
    let notes: string[] = []
    let last: {result: DiagnoseResult} | {error: unknown} | undefined
    const stamp = watchStamp
    const heading = () => watchHeading('diagnose', interval, contexts?.length)
    const report = problemReporter((line) => this.notice(line))
    await watchLoop(base, {
      intervalMs,
      pollTimeoutMs: base.timeoutMs,
      poll: (ctx) => {
        notes = []
        return this.diagnoseOnce({...ctx, note: (message: string) => notes.push(message)}, contexts, request)
      },
      onResult: ({result, checks}, previous) => {
        last = {result}
        const status = diagnoseOutcome(result, failOn)?.exitCode ?? ExitCode.ok
        if (json) {
          this.write(JSON.stringify({time: stamp(), status, result} satisfies DiagnoseWatchRound) + '\n')
          report(notes)
        } else if (screen) {
          screen.draw(heading() + notes.map((line) => escapeTerminal(line) + '\n').join('') + '\n' + this.render(result, checks))
        } else {
          if (previous === undefined) this.write(this.render(result, checks))
          else for (const change of findingChanges(previous.result, result)) this.write(`${stamp()} ${renderFindingChange(change)}\n`)
          report(notes)
        }
      },
      onError: (error) => {
        last = {error}
        const message = `round failed: ${messageOf(error)}`
        if (json) this.write(JSON.stringify({time: stamp(), status: exitCodeOf(error), error: {kind: error instanceof MeshdbgError ? error.kind : 'internal', message: messageOf(error)}} satisfies DiagnoseWatchRound) + '\n')
        if (screen) screen.draw(heading() + escapeTerminal(message) + '\n')
        else report([message])
      },
    })
    screen?.close()
    if (last === undefined) {
      this.notice('diagnose --watch: stopped before the first round finished')
      return {proxies: [], checks: [], counts: {pass: 0, warn: 0, fail: 0, error: 0}, findings: []}
    }
    if ('error' in last) throw last.error
    const failure = diagnoseOutcome(last.result, failOn)
    if (failure) throw failure
    return last.result
  }
}

/** Between rounds of --watch: a diagnosis takes seconds on a big mesh, and is heavier on it than sync-status's poll. */
const DEFAULT_INTERVAL = '5s'

/** A line of `diagnose --watch -o json`: one round, as its own exit code, result or error. */
export interface DiagnoseWatchRound {
  /** When the round ended, RFC 3339 in UTC. */
  time: string
  /** The exit code the round would have had alone: 0, 10, 11, or a failed round's (4, 5...). */
  status: number
  result?: DiagnoseResult
  error?: {kind: string; message: string}
}

function messageOf(error: unknown): string {
  const text = error instanceof MeshdbgError && error.hint ? `${error.message}. Hint: ${error.hint}` : error instanceof Error ? error.message : String(error)
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

function exitCodeOf(error: unknown): number {
  return error instanceof MeshdbgError ? error.exitCode : ExitCode.internal
}
