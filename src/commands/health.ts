import {MeshdbgCommand} from '../lib/base-command.js'
import {MeshdbgError} from '../lib/errors.js'
import {istioNamespaceFlag, outputFlag, proxyAdminPortFlag, revisionFlag, targetArg} from '../lib/flags.js'
import {healthFailed, type HealthFinding} from '../lib/health/checks.js'
import {renderDump} from '../lib/render/dump-output.js'
import {renderHealth} from '../lib/render/health-table.js'

export type {HealthCheckId, HealthFinding, HealthSeverity} from '../lib/health/checks.js'

export interface HealthResult {
  /** `<pod>.<namespace>`. */
  proxy: string
  /** When the checks ran (RFC 3339). */
  checkedAt: string
  /** One per check, in a fixed order. */
  findings: HealthFinding[]
  /** True when any finding is FAIL (exit 10). */
  failed: boolean
}

export default class Health extends MeshdbgCommand<typeof Health> {
  static override summary = 'Is this sidecar healthy? One screen of PASS / WARN / FAIL checks with hints and the next command.'
  static override description = `Reads, in parallel, from the pod's Envoy (admin port), pilot-agent (15020) and istiod:
  envoy-ready     Envoy /ready (LIVE)
  envoy-server    /server_info: state, Envoy version, uptime, hot-restart epoch (WARN after a hot restart)
  agent-ready     pilot-agent :15020/healthz/ready, the kubelet's readiness probe
  workload-cert   the "default" SDS certificate: FAIL when missing, expired or not yet valid; WARN with less than a third of its lifetime left (istio-agent renews at about half)
  xds-warming     warming clusters and listeners (/stats gauges)
  xds-rejected    update_rejected (NACK) and update_failure counters since Envoy started (/stats)
  cluster-health  clusters that have endpoints but no healthy one (/clusters)
  log-levels      loggers not at the pod's start-up level (debug left on)
  istiod-sync     istiod's sync status for this proxy: FAIL when not connected or NACKed, WARN when STALE
Each line is PASS, WARN or FAIL with a one-line finding; WARN and FAIL add a hint and the command to run next. A read that fails makes its check FAIL ("could not read ..."); when no Envoy read succeeds at all, the error itself is reported (exit 3, 4 or 5). Exit 10 when any check FAILs.
Reading log levels takes a POST /logging without parameters, which lists them and changes nothing (Envoy has no GET form).
-o short (default) | json | yaml (the typed result; --json wraps it in the envelope).`

  static override examples = [
    '<%= config.bin %> health deploy/webapp -n istioinaction',
    '<%= config.bin %> health catalog-v2-6d4c8b7d9f-zqgfl.istioinaction -o json',
  ]

  static override args = {target: {...targetArg, required: true}}
  static override flags = {
    'proxy-admin-port': proxyAdminPortFlag,
    'istio-namespace': istioNamespaceFlag,
    revision: revisionFlag,
    ...outputFlag(['short', 'json', 'yaml'], 'short'),
  }

  async run(): Promise<HealthResult> {
    const {args, flags} = this
    const ctx = this.runContext()
    const {resolveTargetPod} = await import('../lib/kube/index.js')
    const {gatherHealth} = await import('../lib/health/gather.js')
    const pod = await resolveTargetPod(ctx, args.target!)
    const now = new Date()
    const findings = await gatherHealth(ctx, pod, {proxyAdminPort: flags['proxy-admin-port'], istiod: {istioNamespace: flags['istio-namespace'], revision: flags.revision}, now})
    const result: HealthResult = {proxy: `${pod.name}.${pod.namespace}`, checkedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), findings, failed: healthFailed(findings)}
    if (this.outputFormat === 'short') this.write(renderHealth(result.proxy, findings, {color: this.colorEnabled}))
    else this.write(renderDump(result, this.outputFormat as 'json' | 'yaml', this.notice))
    if (result.failed) {
      const failed = findings.filter((finding) => finding.severity === 'FAIL')
      throw new MeshdbgError('problems-found', `${result.proxy}: ${failed.length} health check${failed.length === 1 ? '' : 's'} failed: ${failed.map((finding) => finding.id).join(', ')}`, {result})
    }
    return result
  }
}
