// "Is this sidecar healthy?": one pure function per check, data in, one finding out. The `health`
// command gathers the data; `diagnose` can call the same functions on data it already has.
// Every finding carries a stable id, a one-line message, a hint and the next command to run (its
// arguments shell-quoted: pod names come from the cluster).
import {formatTimeLeft, workloadCertificate, type CertificateRow} from '../envoy/certs.js'
import {arrayField, field, path, stringField, type Json} from '../envoy/fields.js'
import type {ActiveLoggers} from '../envoy/log-levels.js'
import {SYNC_TYPES, type SyncStatusRow} from '../istio/sync-status.js'
import {shellArg} from '../render/shell-quote.js'

export type HealthSeverity = 'PASS' | 'WARN' | 'FAIL'

export const HEALTH_CHECK_IDS = [
  'envoy-ready',
  'envoy-server',
  'agent-ready',
  'workload-cert',
  'xds-warming',
  'xds-rejected',
  'cluster-health',
  'log-levels',
  'istiod-sync',
] as const
export type HealthCheckId = (typeof HEALTH_CHECK_IDS)[number]

export interface HealthFinding {
  id: HealthCheckId
  /** What was checked, in a few words. */
  title: string
  severity: HealthSeverity
  message: string
  hint?: string
  /** The command to run next, ready to paste. */
  next?: string
}

/** Data a check could not get: the finding says so instead of hiding the check. */
export interface Unavailable {
  error: string
}

export type Input<T> = T | Unavailable

export function isUnavailable<T>(input: Input<T>): input is Unavailable {
  return typeof input === 'object' && input !== null && 'error' in input && Object.keys(input as object).length === 1
}

/** Who the findings are about: the pod, for the next commands. */
export interface HealthSubject {
  pod: string
  namespace: string
}

const proxyArg = (subject: HealthSubject) => shellArg(`${subject.pod}.${subject.namespace}`, '<pod>.<namespace>')

function unavailable(id: HealthCheckId, title: string, what: string, input: Unavailable, next?: string): HealthFinding {
  return {id, title, severity: 'FAIL', message: `could not read ${what}: ${input.error}`, ...(next ? {next} : {})}
}

/** Envoy's /ready: 200 `LIVE` once it initialised (clusters and listeners from istiod); else 503 and its state. */
export function checkEnvoyReady(ready: Input<{status: number; body: string}>, subject: HealthSubject): HealthFinding {
  const title = 'Envoy ready'
  const logs = `kubectl logs -n ${shellArg(subject.namespace, '<namespace>')} ${shellArg(subject.pod, '<pod>')} -c istio-proxy`
  if (isUnavailable(ready)) return unavailable('envoy-ready', title, 'Envoy /ready', ready, logs)
  const state = ready.body.trim().split(/\s+/)[0] || `HTTP ${ready.status}`
  if (ready.status === 200) return {id: 'envoy-ready', title, severity: 'PASS', message: `/ready: ${state}`}
  return {id: 'envoy-ready', title, severity: 'FAIL', message: `/ready answered ${ready.status}: ${state}`,
    hint: 'Envoy is not serving: still waiting for its first clusters and listeners from istiod, or draining', next: logs}
}

function uptime(seconds: number): string {
  if (seconds >= 2 * 86_400) return `${Math.floor(seconds / 86_400)}d`
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m`
  return `${seconds}s`
}

/** /server_info: state, version, uptime and hot-restart epoch; FAIL unless LIVE, WARN after a hot restart. */
export function checkEnvoyServer(info: Input<Json>, subject: HealthSubject): HealthFinding {
  const title = 'Envoy server'
  if (isUnavailable(info)) return unavailable('envoy-server', title, 'Envoy /server_info', info)
  const state = stringField(info, 'state') || 'UNKNOWN'
  const version = stringField(info, 'version').split('/')[1] ?? ''
  const seconds = Number.parseInt(stringField(info, 'uptime_current_epoch'), 10)
  const epoch = Number(path(info, 'command_line_options', 'restart_epoch') ?? 0)
  const facts = [`${state}`, version ? `Envoy ${version}` : '', Number.isFinite(seconds) ? `up ${uptime(seconds)}` : '', `hot-restart epoch ${epoch}`].filter(Boolean).join(', ')
  if (state !== 'LIVE') {
    return {id: 'envoy-server', title, severity: 'FAIL', message: facts, hint: 'PRE_INITIALIZING/INITIALIZING: waiting for config; DRAINING: shutting down',
      next: `meshdbg sync-status ${proxyArg(subject)}`}
  }
  if (epoch > 0) return {id: 'envoy-server', title, severity: 'WARN', message: facts, hint: 'Envoy was hot-restarted (a new epoch): connections of the old one were drained'}
  return {id: 'envoy-server', title, severity: 'PASS', message: facts}
}

/** pilot-agent's /healthz/ready on 15020 (what the kubelet probes): Envoy ready and, with DNS capture, the DNS proxy. */
export function checkAgentReady(agent: Input<{status: number}>, subject: HealthSubject): HealthFinding {
  const title = 'pilot-agent ready'
  const next = `meshdbg agent ${proxyArg(subject)} ready`
  if (isUnavailable(agent)) return unavailable('agent-ready', title, 'pilot-agent :15020/healthz/ready', agent, next)
  if (agent.status === 200) return {id: 'agent-ready', title, severity: 'PASS', message: ':15020/healthz/ready: 200'}
  return {id: 'agent-ready', title, severity: 'FAIL', message: `:15020/healthz/ready answered ${agent.status}: the pod is not Ready`,
    hint: 'the kubelet takes the pod out of its Services\' endpoints until this passes', next}
}

/**
 * The workload certificate (leaf of the `default` secret): FAIL when absent, expired or not yet
 * valid; WARN with less than a third of its lifetime left, since istio-agent renews it at about
 * half (SECRET_GRACE_PERIOD_RATIO 0.5): renewal is then failing.
 */
export function checkWorkloadCertificate(rows: Input<CertificateRow[]>, subject: HealthSubject): HealthFinding {
  const title = 'workload certificate'
  const next = `meshdbg certs ${proxyArg(subject)}`
  if (isUnavailable(rows)) return unavailable('workload-cert', title, 'the SDS secrets', rows, next)
  const leaf = workloadCertificate(rows)
  if (!leaf) {
    return {id: 'workload-cert', title, severity: 'FAIL', message: 'no active "default" SDS secret: the proxy has no workload certificate',
      hint: 'istio-agent gets it from istiod\'s CA once connected: without it mTLS fails', next}
  }
  const who = leaf.identity || leaf.subject || leaf.serialNumber
  if (leaf.state === 'UNPARSABLE') return {id: 'workload-cert', title, severity: 'FAIL', message: 'the workload certificate does not parse', next}
  if (leaf.state === 'EXPIRED') return {id: 'workload-cert', title, severity: 'FAIL', message: `${who} ${leaf.timeLeft}`, hint: 'istio-agent could not renew it: check its connection to istiod and the istio-proxy logs', next}
  if (leaf.state === 'NOT YET VALID') return {id: 'workload-cert', title, severity: 'FAIL', message: `${who} is not valid before ${leaf.notBefore}`, hint: 'the node\'s clock or the CA\'s is wrong', next}
  const lifetime = (Date.parse(leaf.notAfter) - Date.parse(leaf.notBefore)) / 1000
  const message = `${who}: ${leaf.timeLeft} left (until ${leaf.notAfter})`
  if (lifetime > 0 && leaf.secondsLeft < lifetime / 3) {
    return {id: 'workload-cert', title, severity: 'WARN', message, hint: `istio-agent renews at about half of its ${formatTimeLeft(lifetime)} lifetime: renewal is failing`, next}
  }
  return {id: 'workload-cert', title, severity: 'PASS', message}
}

/** Envoy counters and gauges from /stats (`name: value` lines; histograms are skipped). */
export type EnvoyStats = Map<string, number>

export function parseEnvoyStats(text: string): EnvoyStats {
  const stats: EnvoyStats = new Map()
  for (const line of text.split('\n')) {
    const match = /^([^:\s]+): (\d+)$/.exec(line.trim())
    if (match) stats.set(match[1], Number(match[2]))
  }
  return stats
}

/** The /stats filter that gives every counter and gauge the checks read. */
export const HEALTH_STATS_FILTER = '(update_rejected|update_failure|warming_clusters|total_listeners_warming)$'

/** Warming clusters and listeners: config received but waiting for its dependencies (EDS, SDS, RDS). */
export function checkWarming(stats: Input<EnvoyStats>, subject: HealthSubject): HealthFinding {
  const title = 'warming config'
  if (isUnavailable(stats)) return unavailable('xds-warming', title, 'Envoy /stats', stats)
  const clusters = stats.get('cluster_manager.warming_clusters') ?? 0
  const listeners = stats.get('listener_manager.total_listeners_warming') ?? 0
  if (clusters === 0 && listeners === 0) return {id: 'xds-warming', title, severity: 'PASS', message: 'no warming clusters or listeners'}
  return {id: 'xds-warming', title, severity: 'WARN', message: `${clusters} warming cluster${clusters === 1 ? '' : 's'}, ${listeners} warming listener${listeners === 1 ? '' : 's'}`,
    hint: 'they wait for endpoints, secrets or routes istiod has not sent: until then the old config serves', next: `meshdbg sync-status ${proxyArg(subject)}`}
}

/**
 * `update_rejected` (a NACK: Envoy refused the config and kept the previous one) and
 * `update_failure` (the xDS stream failed) counters. They count since Envoy started, so a
 * rejection fixed since still shows: istiod's view (istiod-sync) tells whether it still stands.
 */
export function checkRejected(stats: Input<EnvoyStats>, subject: HealthSubject): HealthFinding {
  const title = 'rejected config'
  if (isUnavailable(stats)) return unavailable('xds-rejected', title, 'Envoy /stats', stats)
  const counted = (suffix: string) => [...stats].filter(([name, value]) => name.endsWith(suffix) && value > 0)
  const rejected = counted('.update_rejected')
  const failed = counted('.update_failure')
  if (rejected.length === 0 && failed.length === 0) return {id: 'xds-rejected', title, severity: 'PASS', message: 'no rejected or failed xDS updates'}
  const describe = (entries: Array<[string, number]>) => entries.map(([name, value]) => `${name.replace(/\.(update_rejected|update_failure)$/, '')} ${value}`).join(', ')
  const parts = [rejected.length ? `rejected: ${describe(rejected)}` : '', failed.length ? `failed: ${describe(failed)}` : ''].filter(Boolean)
  return {id: 'xds-rejected', title, severity: 'WARN', message: `xDS updates since start ${parts.join('; ')}`,
    hint: rejected.length ? 'Envoy NACKed config and kept the previous one: the NACK text is in sync-status -o wide' : 'the xDS stream to istiod failed at times',
    next: `meshdbg sync-status -n ${shellArg(subject.namespace, '<namespace>')} -o wide`}
}

/** Clusters that have endpoints but none healthy (/clusters?format=json): requests to them fail with 503 UH. */
export function checkClusterHealth(clusters: Input<Json>, subject: HealthSubject): HealthFinding {
  const title = 'upstream endpoints'
  if (isUnavailable(clusters)) return unavailable('cluster-health', title, 'Envoy /clusters', clusters)
  const unhealthy: string[] = []
  let withHosts = 0
  for (const status of arrayField(clusters, 'cluster_statuses')) {
    const hosts = arrayField(status, 'host_statuses')
    if (hosts.length === 0) continue
    withHosts++
    const healthy = hosts.some((host) => {
      const health = field(host, 'health_status')
      const eds = stringField(health, 'eds_health_status') || 'UNKNOWN'
      const failed = Object.entries(health ?? {}).some(([key, value]) => key.startsWith('failed') && value === true)
      return (eds === 'HEALTHY' || eds === 'UNKNOWN' || eds === 'DEGRADED') && !failed
    })
    if (!healthy) unhealthy.push(stringField(status, 'name'))
  }
  if (unhealthy.length === 0) return {id: 'cluster-health', title, severity: 'PASS', message: `every cluster with endpoints has a healthy one (${withHosts} cluster${withHosts === 1 ? '' : 's'})`}
  const listed = unhealthy.slice(0, 3).join(', ') + (unhealthy.length > 3 ? `, and ${unhealthy.length - 3} more` : '')
  return {id: 'cluster-health', title, severity: 'WARN', message: `${unhealthy.length} cluster${unhealthy.length === 1 ? ' has' : 's have'} no healthy endpoint: ${listed}`,
    hint: 'requests to them fail with 503 UH (no healthy upstream): the pods behind them are failing or ejected',
    next: `meshdbg pc endpoint ${proxyArg(subject)} --status UNHEALTHY`}
}

/** Loggers whose level differs from the pod's start-up levels (debug left on costs CPU and log volume). */
export function checkLogLevels(current: Input<ActiveLoggers>, startup: ActiveLoggers, subject: HealthSubject): HealthFinding {
  const title = 'log levels'
  if (isUnavailable(current)) return unavailable('log-levels', title, 'Envoy /logging', current)
  const changed = [...current].filter(([name, level]) => startup.has(name) && startup.get(name) !== level)
  if (changed.length === 0) return {id: 'log-levels', title, severity: 'PASS', message: 'every logger at its start-up level'}
  const listed = changed.slice(0, 4).map(([name, level]) => `${name}: ${level} (start-up ${startup.get(name)})`).join(', ')
  return {id: 'log-levels', title, severity: 'WARN', message: `${changed.length} logger${changed.length === 1 ? '' : 's'} changed: ${listed}${changed.length > 4 ? ', ...' : ''}`,
    hint: 'left on after a debugging session? --reset returns every logger to the pod\'s start-up level', next: `meshdbg log ${proxyArg(subject)} --reset`}
}

/** istiod's view of this proxy (/debug/syncz): FAIL when not connected or a type is NACKed (ERROR), WARN when STALE. */
export function checkIstiodSync(row: Input<SyncStatusRow | undefined>, subject: HealthSubject): HealthFinding {
  const title = 'istiod sync'
  if (isUnavailable(row)) return unavailable('istiod-sync', title, 'istiod\'s sync status', row, `meshdbg sync-status -n ${shellArg(subject.namespace, '<namespace>')}`)
  if (row === undefined) {
    return {id: 'istiod-sync', title, severity: 'FAIL', message: 'no istiod has this proxy connected',
      hint: 'the proxy cannot get config or certificates: check the istio-proxy logs for xDS connection errors', next: `meshdbg sync-status -n ${shellArg(subject.namespace, '<namespace>')}`}
  }
  const errors = SYNC_TYPES.filter((type) => row.types[type].state === 'ERROR')
  const stale = SYNC_TYPES.filter((type) => row.types[type].state.startsWith('STALE'))
  if (errors.length > 0) {
    const text = row.types[errors[0]].error
    return {id: 'istiod-sync', title, severity: 'FAIL', message: `${errors.join(', ')} rejected (NACK) at ${row.istiod}${text ? `: ${text}` : ''}`,
      hint: 'Envoy refused the config istiod sent and runs the previous one: fix the Istio resource the error names',
      next: `meshdbg sync-status -n ${shellArg(subject.namespace, '<namespace>')} -o wide`}
  }
  if (stale.length > 0) {
    return {id: 'istiod-sync', title, severity: 'WARN', message: `${stale.map((type) => `${type} ${row.types[type].state}`).join(', ')} at ${row.istiod}`,
      hint: 'istiod sent config the proxy has not acknowledged yet: retry; if it stays, istiod is overloaded or the connection is stuck',
      next: `meshdbg sync-status ${proxyArg(subject)}`}
  }
  return {id: 'istiod-sync', title, severity: 'PASS', message: `${SYNC_TYPES.map((type) => `${type} ${row.types[type].state}`).join(', ')} at ${row.istiod}`}
}

/** The exit-10 rule: any FAIL. */
export function healthFailed(findings: readonly HealthFinding[]): boolean {
  return findings.some((finding) => finding.severity === 'FAIL')
}
