import {Args, Flags} from '@oclif/core'

import {clockOf} from '../lib/snapshot/replay.js'
import {MeshdbgCommand} from '../lib/base-command.js'
import {parseJsonText} from '../lib/envoy/configdump.js'
import {MeshdbgError, notFoundError, usageError} from '../lib/errors.js'
import {AGENT_STATUS_PORT, type DnsEntry, fetchAgentSyncz, filterMetrics, metricMatcher, nameTableEntries} from '../lib/istio/agent.js'
import {mergeSyncStatus, syncStatusData, type SyncStatusData} from '../lib/istio/sync-status.js'
import {tableOutputFlags} from '../lib/flags.js'
import {fetchFromPod, resolveTargetPod} from '../lib/kube/index.js'
import {renderNameTable} from '../lib/render/agent-tables.js'
import {escapeTerminalLines} from '../lib/render/escape.js'
import {renderDump} from '../lib/render/dump-output.js'
import {renderSyncStatusTable} from '../lib/render/sync-status-table.js'

export type {DnsEntry} from '../lib/istio/agent.js'

const ENDPOINTS = ['ready', 'metrics', 'ndsz', 'syncz'] as const
type AgentEndpoint = (typeof ENDPOINTS)[number]

export interface AgentReadyResult {
  proxy: string
  ready: boolean
  status: number
}

export interface AgentMetricsResult {
  proxy: string
  /** The metric lines kept (all, or those matching --match with their # HELP/# TYPE lines). */
  lines: string[]
}

export interface AgentNdszResult {
  proxy: string
  entries: DnsEntry[]
}

export interface AgentSynczResult {
  proxy: string
  /** The agent's DiscoveryResponse (ClientConfigs from the proxy's istiod). */
  response: unknown
  proxies: SyncStatusData[]
}

export type AgentResult = AgentReadyResult | AgentMetricsResult | AgentNdszResult | AgentSynczResult

export default class Agent extends MeshdbgCommand<typeof Agent> {
  static override summary = 'Read a proxy\'s pilot-agent: ready, metrics, ndsz (DNS table), syncz.'
  static override description = `Port-forwards to the pilot-agent next to Envoy in the pod.
  ready     :15020/healthz/ready
  metrics   :15020/stats/prometheus
  ndsz      :15020/debug/ndsz
  syncz     :15004/debug/syncz (Istio 1.11-1.24)

ready prints READY, or NOT READY and exits 10 (Envoy has no CDS/LDS yet, or is not live).
metrics prints the merged agent, Envoy and app metrics; --match SUBSTR, or --match /REGEX/ (flags after the last /), keeps the matching samples and their # HELP/# TYPE lines.
ndsz prints the DNS proxy's name table (HOSTNAME SHORTNAME NAMESPACE REGISTRY ADDRESSES); exit 3 when DNS capture is off.
syncz prints the sync status the agent gets from its istiod as the sync-status table (-o json: the agent's DiscoveryResponse); 1.25+ has no port 15004: use meshdbg sync-status.
-o short (default) | json | yaml. Never calls /quitquitquit or /drain (the transport refuses them).`

  static override examples = [
    '<%= config.bin %> agent webapp-7c5d7b8c6b-4vzd9.istioinaction ready',
    '<%= config.bin %> agent deploy/webapp -n istioinaction metrics --match istio_agent_',
    '<%= config.bin %> agent deploy/webapp -n istioinaction metrics --match \'/^envoy_cluster_upstream_rq\\{.*response_code="5/\'',
    '<%= config.bin %> agent sleep-6f8cfb8c8f-wncwh ndsz',
    '<%= config.bin %> agent deploy/sleep syncz -o json',
  ]

  static override args = {
    target: Args.string({name: 'target', description: 'Pod or workload: pod, pod.namespace, deploy/x, svc/x... (with optional .namespace).', required: true}),
    endpoint: Args.string({name: 'endpoint', description: `The pilot-agent view: ${ENDPOINTS.join(', ')}.`, required: true, options: [...ENDPOINTS]}),
  }

  static override flags = {
    ...tableOutputFlags(['json', 'yaml'], 'short'),
    match: Flags.string({summary: 'metrics: keep samples containing SUBSTR, or matching /REGEX/.'}),
  }

  async run(): Promise<AgentResult> {
    const {args, flags} = this
    const endpoint = args.endpoint as AgentEndpoint
    if (flags.match !== undefined && endpoint !== 'metrics') throw usageError('--match applies to metrics only')
    const matcher = flags.match === undefined ? undefined : metricMatcher(flags.match)
    const ctx = this.runContext()
    const pod = await resolveTargetPod(ctx, args.target)
    const proxy = `${pod.name}.${pod.namespace}`
    const fetch = (port: number, path: string, acceptStatus: number[] = []) =>
      ctx.spin(`Fetching :${port}${path} from ${proxy}`, fetchFromPod(ctx, pod, port, path, {acceptStatus}))
    const structured = !this.tableOutput
    const writeStructured = (value: unknown) => this.write(renderDump(value, this.outputFormat as 'json' | 'yaml', this.notice))

    switch (endpoint) {
      case 'ready': {
        const response = await fetch(AGENT_STATUS_PORT, '/healthz/ready', [503])
        const result: AgentReadyResult = {proxy, ready: response.status === 200, status: response.status}
        if (structured) writeStructured(result)
        else this.write(result.ready ? 'READY\n' : 'NOT READY\n')
        if (!result.ready) {
          throw new MeshdbgError('problems-found', `the proxy ${proxy} is not ready (pilot-agent /healthz/ready answered ${response.status})`, {
            hint: 'Envoy has not received CDS and LDS from istiod yet, or is not live: see meshdbg sync-status and the istio-proxy logs',
            result,
          })
        }
        return result
      }
      case 'metrics': {
        const response = await fetch(AGENT_STATUS_PORT, '/stats/prometheus')
        const lines = filterMetrics(response.text, matcher)
        const result: AgentMetricsResult = {proxy, lines}
        if (structured) writeStructured(result)
        else this.write(lines.length === 0 ? '' : escapeTerminalLines(lines.join('\n')) + '\n')
        return result
      }
      case 'ndsz': {
        const response = await fetch(AGENT_STATUS_PORT, '/debug/ndsz', [404])
        if (response.status === 404) {
          throw notFoundError(`the DNS proxy of ${proxy} is off: pilot-agent has no name table`, 'DNS capture is enabled with ISTIO_META_DNS_CAPTURE=true in the proxy config')
        }
        const result: AgentNdszResult = {proxy, entries: nameTableEntries(parseJsonText(response.text, `${proxy} /debug/ndsz`, 'a DNS name table'))}
        if (structured) writeStructured(result)
        else this.writeTable(renderNameTable(result.entries))
        return result
      }
      case 'syncz': {
        const answer = await fetchAgentSyncz(ctx, pod)
        if (!answer.available) throw answer.error
        const response = parseJsonText(answer.text, answer.origin, 'the agent\'s DiscoveryResponse')
        const rows = mergeSyncStatus([{istiod: `pilot-agent ${proxy}`, text: answer.text}], {now: clockOf(ctx)})
        const result: AgentSynczResult = {proxy, response, proxies: syncStatusData(rows)}
        if (structured) writeStructured(response)
        else this.writeTable(renderSyncStatusTable(rows, {color: this.colorEnabled, wide: this.wideOutput}))
        return result
      }
    }
  }
}
