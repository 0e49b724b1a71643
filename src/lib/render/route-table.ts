import {formatRouteMatch} from '../envoy/route-match.js'
import {describeRouteDomains, type RouteConfigSummary, type RouteEntry} from '../envoy/routes.js'
import {tabwrite} from './tabwriter.js'

export interface RouteTableOptions {
  /** One row per (vhost, route) (default, as istioctl's --verbose=true); else one row per configuration with its vhost count. */
  verbose?: boolean
  /** `proxy-config all` prints the NAME cells as `route/<name>`. */
  withName?: boolean
}

/** `proxy-config route`, laid out as istioctl's (tabwriter padding 5). */
/** A virtual host without routes answers 404 to everything: istioctl shows it as "/*" and "404". */
const matchCell = (entry: RouteEntry): string => (entry.match === null ? '/*' : formatRouteMatch(entry.match))

export function renderRouteTable(rows: readonly RouteConfigSummary[], options: RouteTableOptions = {}): string {
  const verbose = options.verbose ?? true
  const lines: string[] = [verbose ? 'NAME\tVHOST NAME\tDOMAINS\tMATCH\tVIRTUAL SERVICE' : 'NAME\tVIRTUAL HOSTS']
  for (const row of rows) {
    const name = options.withName ? `route/${row.name}` : row.name
    if (!verbose) {
      lines.push(`${name}\t${row.virtualHosts}`)
      continue
    }
    for (const entry of row.entries) {
      lines.push(`${name}\t${entry.virtualHost}\t${describeRouteDomains(entry.domains)}\t${matchCell(entry)}\t${entry.match === null ? '404' : entry.virtualService}`)
    }
  }
  return tabwrite(lines, {padding: 5})
}
