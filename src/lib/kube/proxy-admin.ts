import type {RunContext} from '../context.js'
import {MeshdbgError} from '../errors.js'
import type {InputText} from '../input.js'

// Live access (target resolution, port-forward, HTTP) is built in the live-access issue.
export async function fetchProxyAdmin(
  _ctx: RunContext,
  target: string,
  _path: string,
  _options: {proxyAdminPort?: number},
): Promise<InputText> {
  throw new MeshdbgError('usage', `live targets are not available yet (${target}); use --file`)
}
