import type {V1PodList} from '@kubernetes/client-node'

import type {RunContext} from '../context.js'
import type {AccessLogSummary} from '../envoy/access-log.js'
import {loadLive} from '../kube/load.js'

/** One page of the cluster's pods: enough for the hosts a summary names, and a bounded answer. */
export const POD_IP_LIST_LIMIT = 1000

export type PodRef = {name: string; namespace: string}

export interface PodsByIp {
  byIp: Map<string, PodRef>
  /** False when the cluster has more pods than one page holds (some IPs may stay unresolved). */
  complete: boolean
}

/** Pod IPs of the cluster, from one list call. Host-network pods share their node's IP: left out. */
export async function listPodsByIp(ctx: RunContext): Promise<PodsByIp> {
  // Through the live layer (the bundle): one GET on the command's session, under its deadline.
  const {getKubeJson} = await loadLive()
  const list = await getKubeJson<V1PodList>(ctx, 'pods in all namespaces', `/api/v1/pods?limit=${POD_IP_LIST_LIMIT}`)
  const byIp = new Map<string, PodRef>()
  for (const pod of list.items ?? []) {
    if (pod.spec?.hostNetwork) continue
    const ref = {name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? ''}
    const ips = new Set([pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((entry) => entry.ip)])
    for (const ip of ips) if (ip) byIp.set(ip, ref)
  }
  // getJson hands back the API's JSON: the field is `continue` (client-node's model names it _continue).
  return {byIp, complete: !(list.metadata as {continue?: string} | undefined)?.continue}
}

/** The IP of `ip:port`, `[v6]:port` or a bare address. */
export function hostIp(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address)
  if (bracketed) return bracketed[1]
  const colons = address.split(':').length - 1
  return colons === 1 ? address.slice(0, address.indexOf(':')) : address
}

/** The summary with each upstream host's pod, where its IP belongs to one. */
export function withHostPods(summary: AccessLogSummary, byIp: ReadonlyMap<string, PodRef>): AccessLogSummary {
  return {
    ...summary,
    byHost: summary.byHost.map((host) => {
      const pod = byIp.get(hostIp(host.upstreamHost))
      return pod ? {...host, pod} : host
    }),
  }
}
