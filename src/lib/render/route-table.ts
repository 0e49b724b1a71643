import {describeRouteDomains, type RouteConfigSummary} from '../envoy/routes.js'
import {tabwriteRows} from './tabwriter.js'

import {formatRouteMatch} from '../envoy/route-match.js'

export interface RouteTableOptions {
  /** One row per (vhost, route) (default, as istioctl's --verbose=true); else one row per configuration with its vhost count. */
  verbose?: boolean
  /** `proxy-config all` prints the NAME cells as `route/<name>`. */
  withName?: boolean
}

/**
 * The MATCH and VIRTUAL SERVICE cells of an entry. A virtual host without routes answers 404 to
 * everything: istioctl shows it as "/*" and "404".
 */
function entryCells(entry: RouteConfigSummary['entries'][number]): {virtualHost: string; domains: string[]; match: string; virtualService: string} {
  return entry.match === null ? {...entry, match: '/*', virtualService: '404'} : {...entry, match: formatRouteMatch(entry.match)}
}

/** `proxy-config route`, laid out as istioctl's (tabwriter padding 5). */
export function renderRouteTable(summaries: readonly RouteConfigSummary[], options: RouteTableOptions = {}): string {
  const rows = summaries.map((summary) => ({...summary, entries: summary.entries.map(entryCells)}))
  const verbose = options.verbose ?? true
  const lines: string[][] = [verbose ? ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'] : ['NAME', 'VIRTUAL HOSTS']]
  for (const row of rows) {
    const name = options.withName ? `route/${row.name}` : row.name
    if (!verbose) {
      lines.push([name, String(row.virtualHosts)])
      continue
    }
    for (const entry of row.entries) {
      lines.push([name, entry.virtualHost, describeRouteDomains(entry.domains), entry.match, entry.virtualService])
    }
  }
  return tabwriteRows(lines, {padding: 5})
}
