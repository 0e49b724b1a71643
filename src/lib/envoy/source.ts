import type {RunContext} from '../context.js'
import {requireTargetOrFile} from '../flags.js'
import {readInputText, type InputText} from '../input.js'

/** Admin API paths, each fetching only what its command needs (as istioctl does). */
export const AdminPath = {
  clusters: 'config_dump?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters',
  listeners: 'config_dump?mask=dynamic_listeners,static_listeners',
  routes: 'config_dump?mask=dynamic_route_configs,static_route_configs',
  bootstrap: 'config_dump?mask=bootstrap',
  secrets: 'config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets',
  withEds: 'config_dump?include_eds',
  full: 'config_dump',
  clusterStatus: 'clusters?format=json',
} as const

export interface AdminSourceRequest {
  /** Name of the command, for the "requires a target or --file" message. */
  command: string
  target?: string
  file?: string
  /** Admin API path and query, without the leading slash. */
  path: string
  proxyAdminPort?: number
}

/**
 * The offline and live paths meet here: after this, `-f dump.json` and `deploy/x` go through the
 * same parse, filter and render code.
 */
export async function loadAdminText(ctx: RunContext, request: AdminSourceRequest): Promise<InputText> {
  requireTargetOrFile(request.command, request.target, request.file)
  if (request.file) return readInputText(request.file, ctx.signal)
  const {fetchProxyAdmin} = await import('../kube/proxy-admin.js')
  return fetchProxyAdmin(ctx, request.target!, request.path, {proxyAdminPort: request.proxyAdminPort})
}
