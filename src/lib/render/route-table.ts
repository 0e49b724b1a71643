import {describeRouteDomains, type RouteConfigSummary} from '../envoy/routes.js'
import {tabRow, tabwrite} from './tabwriter.js'

export interface RouteTableOptions {
  /** One row per (vhost, route) (default, as istioctl's --verbose=true); else one row per configuration with its vhost count. */
  verbose?: boolean
  /** `proxy-config all` prints the NAME cells as `route/<name>`. */
  withName?: boolean
}

/** `proxy-config route`, laid out as istioctl's (tabwriter padding 5). */
export function renderRouteTable(rows: readonly RouteConfigSummary[], options: RouteTableOptions = {}): string {
  const verbose = options.verbose ?? true
  const lines: string[] = [verbose ? 'NAME\tVHOST NAME\tDOMAINS\tMATCH\tVIRTUAL SERVICE' : 'NAME\tVIRTUAL HOSTS']
  for (const row of rows) {
    const name = options.withName ? `route/${row.name}` : row.name
    if (!verbose) {
      lines.push(tabRow([name, String(row.virtualHosts)]))
      continue
    }
    for (const entry of row.entries) {
      lines.push(tabRow([name, entry.virtualHost, describeRouteDomains(entry.domains), entry.match, entry.virtualService]))
    }
  }
  return tabwrite(lines, {padding: 5})
}
