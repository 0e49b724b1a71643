import type {RunContext} from '../context.js'
import type {InputText} from '../input.js'
import type {BodyBuffers} from '../transport/http1.js'
import type {AdminPortChoice} from './admin-port.js'
import {loadLive} from './load.js'
import type {ResolvedPod} from './resolve.js'

export interface AdminRequestOptions {
  /** --proxy-admin-port: beats the pod's annotation and the 15000 default. */
  proxyAdminPort?: number
  /** The port already chosen for this pod (with adminPortOf), so its warning is noted once. */
  adminPort?: AdminPortChoice
  /** POST only for deliberate changes (/logging); default GET. */
  method?: 'GET' | 'POST'
  /** false: no spinner (requests to many pods at once). */
  spinner?: boolean
  /** Where a body of declared length is read into. */
  bodyBuffer?: BodyBuffers
}

/**
 * Fetches an Envoy admin path (without the leading slash, e.g. `config_dump?mask=...`) from a
 * target's proxy: resolves the pod, picks the admin port (flag, annotation, 15000), port-forwards
 * and GETs it, with a spinner. `origin` is `<pod>.<namespace>`.
 */
export async function fetchProxyAdmin(ctx: RunContext, target: string, path: string, options: {proxyAdminPort?: number}): Promise<InputText> {
  return (await loadLive()).fetchProxyAdmin(ctx, target, path, options)
}

/**
 * An Envoy admin request to an already resolved pod: the admin port (flag, annotation, 15000),
 * through the command's port-forward, with a spinner unless `spinner: false`; a refused port gets
 * a hint naming --proxy-admin-port. `origin` is `<pod>.<namespace>`.
 */
export async function fetchAdminFromPod(ctx: RunContext, resolved: ResolvedPod, path: string, options: AdminRequestOptions): Promise<InputText> {
  return (await loadLive()).fetchAdminFromPod(ctx, resolved, path, options)
}
