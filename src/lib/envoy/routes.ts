import {goSortSlice} from '../render/go-sort.js'
import {collectRouteConfigs, type ConfigDump} from './configdump.js'
import {arrayField, field, stringField, type Json} from './fields.js'
import {istioConfigNameOf} from './istio-names.js'
import {isPassthroughRoute, routeMatchData, type RouteMatchData} from './route-match.js'

/** `--name` of `proxy-config route` (and `all`): an exact match on the RouteConfiguration name. */
export interface RouteFilter {
  name?: string
}

/** One row of the verbose route table: a (vhost, route) pair. */
export interface RouteEntry {
  virtualHost: string
  /** The virtual host's domains, all of them, as Envoy lists them (the table collapses them: describeRouteDomains). */
  domains: string[]
  /** The route's path conditions; null for a virtual host without routes (which answers 404 to everything: the table's "/*" and "404"). */
  match: RouteMatchData | null
  /** `<name>.<namespace>` of the VirtualService that produced the route, from its istio metadata ("" for a virtual host without routes). */
  virtualService: string
}

export interface RouteConfigSummary {
  name: string
  /** The VIRTUAL HOSTS column of the short table. */
  virtualHosts: number
  entries: RouteEntry[]
}

const MAX_SHOWN_DOMAINS = 2

/**
 * The DOMAINS column: one domain as is; otherwise the domains without a port (bare bracketed IPv6
 * counts as portless), minus those whose short form (without `.svc.cluster.local` or `.svc`) is
 * also listed, the first two joined with ", " and `+ N more...` for the rest. A list where every
 * domain has a port prints "".
 */
export function describeRouteDomains(domains: readonly string[]): string {
  if (domains.length === 0) return ''
  if (domains.length === 1) return domains[0]
  const portless = domains.filter((domain) => {
    if (!domain.includes(':')) return true
    return countColons(domain) > 2 && domain.endsWith(']')
  })
  const present = new Set(portless)
  const shortFormListed = (domain: string, suffix: string): boolean =>
    domain.endsWith(suffix) && present.has(domain.slice(0, domain.length - suffix.length))
  const kept = portless.filter((domain) => !shortFormListed(domain, '.svc.cluster.local') && !shortFormListed(domain, '.svc'))
  if (kept.length > MAX_SHOWN_DOMAINS) {
    return `${kept.slice(0, MAX_SHOWN_DOMAINS).join(', ')} + ${kept.length - MAX_SHOWN_DOMAINS} more...`
  }
  return kept.join(', ')
}

function countColons(text: string): number {
  let count = 0
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) count++
  return count
}

/** The VIRTUAL SERVICE column from the route's `metadata.filter_metadata.istio.config`. */
export function routeVirtualService(route: Json): string {
  return istioConfigNameOf(route)
}

export function summarizeRouteConfig(routeConfig: Json): RouteConfigSummary {
  const vhosts = arrayField(routeConfig, 'virtual_hosts')
  const entries: RouteEntry[] = []
  for (const vhost of vhosts) {
    const virtualHost = stringField(vhost, 'name')
    const domains = arrayField(vhost, 'domains').map(String)
    const routes = arrayField(vhost, 'routes')
    if (routes.length === 0) {
      // A vhost without routes answers 404 to everything.
      entries.push({virtualHost, domains, match: null, virtualService: ''})
      continue
    }
    for (const route of routes) {
      if (isPassthroughRoute(route)) continue
      entries.push({virtualHost, domains, match: routeMatchData(field(route, 'match')), virtualService: routeVirtualService(route)})
    }
  }
  return {name: stringField(routeConfig, 'name'), virtualHosts: vhosts.length, entries}
}

/** strconv.Atoi: optional sign, decimal digits, within int64; anything else is not a number. */
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
function atoi(name: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(name)) return undefined
  const value = BigInt(name)
  return value < INT64_MIN || value > INT64_MAX ? undefined : value
}

/**
 * istioctl's route configuration order: `sort.Slice` with a comparator that is "less" only when both
 * names are integers (strconv.Atoi) and the first is smaller. That is no strict weak order (a
 * non-numeric name is "not less" than anything, both ways), so the printed order is whatever Go's
 * algorithm does: insertion sort up to 12 configurations, pdqsort above (goSortSlice).
 */
export function sortByRouteName<T>(items: readonly T[], nameOf: (item: T) => string): T[] {
  const keyed = items.map((item) => ({item, number: atoi(nameOf(item))}))
  goSortSlice(keyed, (a, b) => a.number !== undefined && b.number !== undefined && a.number < b.number)
  return keyed.map((entry) => entry.item)
}

export interface SelectedRoutes {
  /** The matching RouteConfigurations as found in the dump (for -o json/yaml), in table order. */
  routeConfigs: Json[]
  summaries: RouteConfigSummary[]
}

export function selectRoutes(dump: ConfigDump, filter: RouteFilter): SelectedRoutes {
  // istioctl sorts every configuration, then filters: with an unstable sort the order of the kept
  // ones depends on the others.
  const sorted = sortByRouteName(collectRouteConfigs(dump), (config) => stringField(config, 'name'))
  const routeConfigs = sorted.filter((config) => !filter.name || stringField(config, 'name') === filter.name)
  return {routeConfigs, summaries: routeConfigs.map(summarizeRouteConfig)}
}
