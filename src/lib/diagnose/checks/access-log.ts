import {type AccessLogEntry, summarizeEntries} from '../../envoy/access-log.js'
import {parseSubsetKey} from '../../envoy/istio-names.js'
import {describeResponseCodeDetails} from '../../envoy/response-flags.js'
import {formatDuration} from '../../duration.js'
import {explainEntry} from '../../istio/explain.js'
import {shellArg} from '../../render/shell-quote.js'
import type {Check, CheckOutcome} from '../types.js'

/** Below this share of 5xx answers a run of errors is a warning; at or above it, a failure. */
const FAIL_SHARE = 0.05

interface ErrorGroup {
  key: string
  code: number
  flags: string
  details: string
  upstreamHost: string
  upstreamCluster: string
  entries: AccessLogEntry[]
}

function ipOf(host: string): string {
  return host.replace(/^envoy:\/\/connect_originate\//, '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
}

/**
 * 5xx answers in the proxy's access log over `--since`, grouped by code, response flags and
 * upstream host, the host named by its pod (story 2: `504 UT` from one slow catalog v2 pod behind
 * the VirtualService's 0.5 s timeout). The cause comes from `meshdbg explain`'s reading of the
 * most frequent group.
 */
export const accessLogCheck: Check = {
  id: 'access-log',
  group: 'Traffic',
  title: 'no 5xx answers in the recent access log',
  async run(facts, options) {
    const entries = await facts.accessLog()
    const window = formatDuration(options.sinceMs)
    const errors = entries.filter((entry) => entry.responseCode >= 500 && entry.responseCode < 600)
    if (errors.length === 0) return [{severity: 'pass', message: `${entries.length} request${entries.length === 1 ? '' : 's'} in the last ${window}, no 5xx`}]
    const groups = new Map<string, ErrorGroup>()
    for (const entry of errors) {
      const flags = entry.responseFlags.join(',') || '-'
      const details = entry.responseCodeDetails ? describeResponseCodeDetails(entry.responseCodeDetails).base : ''
      const upstreamHost = entry.upstreamHost ?? ''
      const key = `${entry.responseCode} ${flags} ${upstreamHost}`
      let group = groups.get(key)
      if (!group) groups.set(key, (group = {key, code: entry.responseCode, flags, details, upstreamHost, upstreamCluster: entry.upstreamCluster ?? '', entries: []}))
      group.entries.push(entry)
    }
    const ordered = [...groups.values()].sort((a, b) => b.entries.length - a.entries.length || a.key.localeCompare(b.key))
    const outliers = new Map(summarizeEntries(entries).byHost.filter((host) => host.outlier).map((host) => [host.upstreamHost, host.outlier!]))
    const podOf = async (group: ErrorGroup): Promise<string | undefined> => {
      if (group.upstreamHost === '' || group.upstreamHost === '-' || /^127\.|^::1$/.test(ipOf(group.upstreamHost))) return undefined
      return facts.podByIp(ipOf(group.upstreamHost), parseSubsetKey(group.upstreamCluster)?.hostname.split('.')[1])
    }
    const describe = async (group: ErrorGroup): Promise<string> => {
      const what = `${group.code} ${group.flags}${group.details ? ` (${group.details})` : ''} ×${group.entries.length}`
      if (group.upstreamHost === '' || group.upstreamHost === '-') return what
      const pod = await podOf(group)
      return `${what} via ${pod ? `pod ${pod} (${group.upstreamHost})` : group.upstreamHost}${group.upstreamCluster ? ` ${group.upstreamCluster}` : ''}`
    }
    const top = ordered[0]
    const topWords = await describe(top)
    const topPod = await podOf(top)
    const share = errors.length / entries.length
    const outlier = outliers.get(top.upstreamHost)
    const explanation = explainEntry(top.entries[0], {pod: facts.pod.name, namespace: facts.pod.namespace})
    const evidence = [
      ...(await Promise.all(ordered.map(describe))),
      ...top.entries.slice(0, 2).map((entry) => `${entry.startTime ?? ''} ${entry.method ?? ''} ${entry.path ?? ''} ${entry.responseCode} ${top.flags} ${entry.durationMs ?? '-'}ms`.trim()),
    ]
    const outcome: CheckOutcome = {
      severity: share >= FAIL_SHARE ? 'fail' : 'warn',
      message: `${errors.length} of ${entries.length} requests in the last ${window} failed: ${topWords}${ordered.length > 1 ? ` (and ${ordered.length - 1} more kind${ordered.length > 2 ? 's' : ''})` : ''}${outlier ? `; that host stands out: ${outlier}` : ''}`,
      // A host that stands out is the lead (story 2): the mesh config is fine for its peers.
      hint: outlier && topPod
        ? `${explanation.summary}. Its peers answer in time: look at pod ${topPod} (restart or replace it), or raise the route's timeout`
        : explanation.summary,
      command: `meshdbg access-log ${shellArg(facts.pod.id, '<pod>')} --since ${window} --status 5xx --summary`,
      evidence,
    }
    return [outcome]
  },
}
