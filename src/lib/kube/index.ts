// The public face of live cluster access. Everything here is cheap to import: the Kubernetes layer
// (client-node, undici, ws) is loaded on the first call.
import type {RunContext} from '../context.js'
import {loadLive} from './load.js'
import type {KubeSession} from './session.js'

export {closePodForwards, fetchFromPod, type FetchFromPodOptions, type PodHttpResponse} from './pod-http.js'
export {fetchAdminFromPod, fetchProxyAdmin, type AdminRequestOptions} from './proxy-admin.js'
export {parseTarget, resolveTargetPod, resolveTargetPods, type ResolvedPod, type ResolvePodsRequest} from './target.js'
export type {KubeSession} from './session.js'

/** The command's Kubernetes session: kubeconfig, default namespace, API clients (created once). */
export async function openKube(ctx: RunContext): Promise<KubeSession> {
  return (await loadLive()).openKubeWithClients(ctx)
}

/**
 * One call to the Kubernetes API not covered above (listing pods of another namespace, a
 * TokenRequest...): `call` gets the session, `what` names the object in errors ("pods in namespace
 * "x""). Failures become one-line MeshdbgErrors: not found (3), forbidden/401/unreachable (4), deadline (5).
 */
export async function callKube<T>(ctx: RunContext, what: string, call: (session: KubeSession) => Promise<T>): Promise<T> {
  return (await loadLive()).callKube(ctx, what, call)
}

/** A GET of an API path (`/api/v1/...`): retried on 429 and on one reset like every API read, one-line errors as callKube. */
export async function getKubeJson<T>(ctx: RunContext, what: string, path: string): Promise<T> {
  return (await loadLive()).getKubeJson<T>(ctx, what, path)
}
