// The I/O of `meshdbg health`: every read a check needs, in parallel, each failure kept as the
// check's own "could not read" finding so one closed port never hides the other checks.
import {fetchCertificateRows} from '../envoy/certs-source.js'
import {parseJsonText} from '../envoy/configdump.js'
import {levelsAfter, parseActiveLoggers, resetSpecFor} from '../envoy/log-levels.js'
import type {RunContext} from '../context.js'
import {AGENT_STATUS_PORT} from '../istio/agent.js'
import {loadIstiodSyncz, proxyIdOf, type IstiodSelector} from '../istio/istiod.js'
import {messageOf} from '../istio/sync-sources.js'
import {mergeSyncStatus} from '../istio/sync-status.js'
import {chooseAdminPort} from '../kube/admin-port.js'
import {fetchFromPod} from '../kube/pod-http.js'
import type {ResolvedPod} from '../kube/resolve.js'
import {
  checkAgentReady,
  checkClusterHealth,
  checkEnvoyReady,
  checkEnvoyServer,
  checkIstiodSync,
  checkLogLevels,
  checkRejected,
  checkWarming,
  checkWorkloadCertificate,
  HEALTH_STATS_FILTER,
  isUnavailable,
  parseEnvoyStats,
  type HealthFinding,
  type Input,
} from './checks.js'

export interface HealthRequest {
  proxyAdminPort?: number
  istiod: IstiodSelector
  now: Date
}

/**
 * Runs every check against one pod. When none of Envoy's admin reads succeed (no port-forward,
 * pod gone, deadline), that first error is thrown instead, so the exit code says why (3, 4, 5).
 */
export async function gatherHealth(ctx: RunContext, pod: ResolvedPod, request: HealthRequest): Promise<HealthFinding[]> {
  const subject = {pod: pod.name, namespace: pod.namespace}
  const admin = chooseAdminPort(request.proxyAdminPort, pod.pod.metadata?.annotations ?? undefined).port
  const get = (port: number, path: string, options: {method?: 'POST'; acceptStatus?: number[] | 'any'} = {}) => fetchFromPod(ctx, pod, port, path, options)
  const failures: unknown[] = []
  const attempt = async <T>(promise: Promise<T>, admin: boolean): Promise<Input<T>> => {
    try {
      return await promise
    } catch (error) {
      if (admin) failures.push(error)
      return {error: messageOf(error)}
    }
  }
  const [ready, info, agent, certificates, stats, clusters, loggers, sync] = await ctx.spin(`Checking ${proxyIdOf(pod)}`, Promise.all([
    attempt(get(admin, '/ready', {acceptStatus: 'any'}).then((response) => ({status: response.status, body: response.text})), true),
    attempt(get(admin, '/server_info').then((response) => parseJsonText(response.text, `${proxyIdOf(pod)} /server_info`, 'Envoy\'s server info')), true),
    attempt(get(AGENT_STATUS_PORT, '/healthz/ready', {acceptStatus: 'any'}).then((response) => ({status: response.status})), false),
    attempt(fetchCertificateRows(ctx, pod, {now: request.now}, request.proxyAdminPort), true),
    attempt(get(admin, `/stats?filter=${encodeURIComponent(HEALTH_STATS_FILTER)}`).then((response) => parseEnvoyStats(response.text)), true),
    attempt(get(admin, '/clusters?format=json').then((response) => parseJsonText(response.text, `${proxyIdOf(pod)} /clusters`, 'Envoy\'s cluster status')), true),
    // Envoy lists levels only in answer to a POST without parameters (GET /logging is 405): this changes nothing.
    attempt(get(admin, '/logging', {method: 'POST'}).then((response) => parseActiveLoggers(response.text)), true),
    attempt(istiodRow(ctx, pod, request), false),
  ]))
  if (failures.length === 6) throw failures[0]
  const startup = isUnavailable(loggers) ? new Map<string, string>() : levelsAfter(resetSpecFor(pod.pod, loggers.keys()).spec, loggers)
  return [
    checkEnvoyReady(ready, subject),
    checkEnvoyServer(info, subject),
    checkAgentReady(agent, subject),
    checkWorkloadCertificate(certificates, subject),
    checkWarming(stats, subject),
    checkRejected(stats, subject),
    checkClusterHealth(clusters, subject),
    checkLogLevels(loggers, startup, subject),
    checkIstiodSync(sync, subject),
  ]
}

/** istiod's syncz row for this proxy; undefined when every istiod answered and none has it. */
async function istiodRow(ctx: RunContext, pod: ResolvedPod, request: HealthRequest) {
  const {sources, failures} = await loadIstiodSyncz(ctx, {...request.istiod, namespace: pod.namespace})
  const row = mergeSyncStatus(sources, {now: request.now.getTime()}).find((candidate) => candidate.proxy === proxyIdOf(pod))
  if (row === undefined && failures.length > 0) throw failures[0].error
  return row
}
