import type {RunContext} from './context.js'
import {targetQuery, type LiveSource} from './completion.js'
import {loadLive} from './kube/load.js'

interface NamedList {
  items?: Array<{metadata?: {name?: string}}>
}

/** The list path of each target kind (`deploy/` -> deployments of apps/v1). */
const LIST_PATHS: Record<string, (namespace: string) => string> = {
  pod: (ns) => `/api/v1/namespaces/${ns}/pods`,
  pods: (ns) => `/api/v1/namespaces/${ns}/pods`,
  deploy: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  svc: (ns) => `/api/v1/namespaces/${ns}/services`,
  sts: (ns) => `/apis/apps/v1/namespaces/${ns}/statefulsets`,
  ds: (ns) => `/apis/apps/v1/namespaces/${ns}/daemonsets`,
  rs: (ns) => `/apis/apps/v1/namespaces/${ns}/replicasets`,
  job: (ns) => `/apis/batch/v1/namespaces/${ns}/jobs`,
}

/** Names from the API go into the user's shell: only well-formed Kubernetes names pass. */
const KUBE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const namesOf = (list: NamedList): string[] => (list.items ?? []).map((item) => item.metadata?.name ?? '').filter((name) => KUBE_NAME.test(name)).sort()

/**
 * Candidates from the kubeconfig or the cluster, within `ctx`'s deadline (the caller's short one).
 * Failures (no kubeconfig, unreachable, forbidden) give no candidates: completion never errors.
 */
export async function liveCandidates(ctx: RunContext, source: LiveSource, current: string): Promise<string[]> {
  try {
    const session = (await loadLive()).openKube(ctx)
    if (source === 'contexts') return session.kubeConfig.getContexts().map((context) => context.name).filter((name) => /^[\x21-\x7e]+$/.test(name)).sort()
    if (source === 'namespaces') return namesOf(await session.getJson<NamedList>('/api/v1/namespaces'))
    const query = targetQuery(current)
    if (!query) return []
    const namespace = encodeURIComponent(session.namespace)
    if (query.kind === 'pods') return namesOf(await session.getJson<NamedList>(LIST_PATHS.pods(namespace)))
    const list = LIST_PATHS[query.kind]
    return list ? namesOf(await session.getJson<NamedList>(list(namespace))).map((name) => `${query.kind}/${name}`) : []
  } catch {
    return []
  }
}
