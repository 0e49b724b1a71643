import {describeRouteDomains, type RouteConfigSummary} from '../envoy/routes.js'
import {tabwriteRows} from './tabwriter.js'

import {formatRouteMatch} from '../envoy/route-match.js'

export interface RouteTableOptions {
  /** One row per (vhost, route) (default, as istioctl's --verbose=true); else one row per configuration with its vhost count. */
  verbose?: boolean
  /** `proxy-config all` prints the NAME cells as `route/<name>`. */
  withName?: boolean
}

/** `proxy-config route`, laid out as istioctl's (tabwriter padding 5). */
export function renderRouteTable(summaries: readonly RouteConfigSummary[], options: RouteTableOptions = {}): string {
  const verbose = options.verbose ?? true
  const lines: string[][] = [verbose ? ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'] : ['NAME', 'VIRTUAL HOSTS']]
  // The entries of one virtual host share its domains array: the DOMAINS cell is worked out once
  // per virtual host, not once per route (tens of thousands of rows on a large dump).
  let domains: readonly string[] | undefined
  let domainsCell = ''
  for (const summary of summaries) {
    const name = options.withName ? `route/${summary.name}` : summary.name
    if (!verbose) {
      lines.push([name, String(summary.virtualHosts)])
      continue
    }
    for (const entry of summary.entries) {
      if (entry.domains !== domains) {
        domains = entry.domains
        domainsCell = describeRouteDomains(domains)
      }
      // A virtual host without routes answers 404 to everything: istioctl shows it as "/*" and "404".
      if (entry.match === null) lines.push([name, entry.virtualHost, domainsCell, '/*', '404'])
      else lines.push([name, entry.virtualHost, domainsCell, formatRouteMatch(entry.match), entry.virtualService])
    }
  }
  return tabwriteRows(lines, {padding: 5})
}
