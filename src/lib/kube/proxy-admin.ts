import type {RunContext} from '../context.js'
import type {InputText} from '../input.js'
import {loadLive} from './load.js'

/**
 * Fetches an Envoy admin path (without the leading slash, e.g. `config_dump?mask=...`) from a
 * target's proxy: resolves the pod, picks the admin port (flag, annotation, 15000), port-forwards
 * and GETs it, with a spinner. `origin` is `<pod>.<namespace>`.
 */
export async function fetchProxyAdmin(ctx: RunContext, target: string, path: string, options: {proxyAdminPort?: number}): Promise<InputText> {
  return (await loadLive()).fetchProxyAdmin(ctx, target, path, options)
}
