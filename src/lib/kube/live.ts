// The live Kubernetes layer: the entry point of dist/lib/kube-bundle.js (client-node, undici, ws and
// these modules in one file, so a live command pays ~200 ms to load them instead of ~600 ms).
// Import it only through ./load.js.
import {setFlagsFromString} from 'node:v8'

import type {RunContext} from '../context.js'
import {inputFromBytes, type InputText} from '../input.js'
import {adminPortOf} from './admin-port.js'
import type {AdminRequestOptions} from './proxy-admin.js'
import {fetchFromPod} from './pod-fetch.js'
import {type ResolvedPod, resolveTargetPod} from './resolve.js'
import {callApi, openKube, type KubeSession} from './session.js'

// undici parses HTTP with a WebAssembly llhttp; V8 then re-compiles it with TurboFan in the
// background and node waits for that compile before exiting: 100-300 ms added to every live
// command, after its output. Baseline (Liftoff) code parses our few responses just as well.
setFlagsFromString('--liftoff-only')

export {adminPortOf, chooseAdminPort} from './admin-port.js'
export {fetchFromPod, type FetchFromPodOptions, type PodHttpResponse} from './pod-fetch.js'
export {closePodForwards} from './port-forward.js'
export {resolveTargetPod, resolveTargetPods, type ResolvedPod, type ResolvePodsRequest, type ResolveTargetOptions} from './resolve.js'
export {openKube, type KubeSession} from './session.js'
export {kubeconfigContextNames} from './kubeconfig.js'

/** One Kubernetes API call on the command's session, under its deadline, with one-line errors. */
export async function callKube<T>(ctx: RunContext, what: string, call: (session: KubeSession) => Promise<T>): Promise<T> {
  const session = openKube(ctx)
  await session.loadClients()
  return callApi(ctx, session, what, () => call(session))
}

/**
 * A GET of an API path on the command's session: a plain request (retried on 429 and on one reset,
 * capped, under the deadline), without loading client-node's generated API clients.
 */
export async function getKubeJson<T>(ctx: RunContext, what: string, path: string): Promise<T> {
  const session = openKube(ctx)
  return callApi(ctx, session, what, () => session.getJson<T>(path))
}

/** The session with client-node's API clients loaded (for code that calls session.core() etc.). */
export async function openKubeWithClients(ctx: RunContext): Promise<KubeSession> {
  const session = openKube(ctx)
  await session.loadClients()
  return session
}

/** GETs an Envoy admin path from a target's istio-proxy: resolve, then fetchAdminFromPod. */
export async function fetchProxyAdmin(ctx: RunContext, target: string, path: string, options: {proxyAdminPort?: number}): Promise<InputText> {
  return fetchAdminFromPod(ctx, await resolveTargetPod(ctx, target), path, options)
}

export async function fetchAdminFromPod(ctx: RunContext, resolved: ResolvedPod, path: string, options: AdminRequestOptions): Promise<InputText> {
  const choice = options.adminPort ?? adminPortOf(ctx, resolved, options.proxyAdminPort)
  const origin = `${resolved.name}.${resolved.namespace}`
  const request = fetchFromPod(ctx, resolved, choice.port, path, {
    method: options.method,
    bodyBuffer: options.bodyBuffer,
    refusedHint:
      choice.source === 'flag'
        ? 'is that the Envoy admin port? (port-forward reaches 127.0.0.1 inside the pod only, not [::1])'
        : `Envoy's admin API is not on port ${choice.port}: pass --proxy-admin-port (port-forward reaches 127.0.0.1 inside the pod only, not [::1])`,
  })
  const response = options.spinner === false ? await request : await ctx.spin(`Fetching /${path.split('?')[0].replace(/^\//, '')} from ${origin}`, request)
  return response.bytes ? inputFromBytes(response.bytes, origin) : {text: response.text, origin}
}
