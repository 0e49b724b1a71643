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
 * istioctl sorts route configurations with `sort.Slice` and a comparator that is "less" only when
 * both names are integers. That is no strict weak order; for up to 12 items Go runs an insertion
 * sort, where a non-numeric name is a barrier no numeric name crosses, and each run of numeric
 * names between barriers ends up sorted, stably. We apply that rule at every size in O(n log n)
 * (a stable sort of each numeric run). Beyond 12 items Go's pdqsort can order differently
 * (it is unstable and its partitioning lets numeric names cross barriers); we keep the
 * insertion-sort result there on purpose, as it is deterministic and explainable.
 */
export function sortByRouteName<T>(items: readonly T[], nameOf: (item: T) => string): T[] {
  const keyed = items.map((item) => ({item, number: atoi(nameOf(item))}))
  let runStart = 0
  while (runStart < keyed.length) {
    if (keyed[runStart].number === undefined) {
      runStart++
      continue
    }
    let runEnd = runStart
    while (runEnd < keyed.length && keyed[runEnd].number !== undefined) runEnd++
    if (runEnd - runStart > 1) {
      const run = keyed.slice(runStart, runEnd)
      run.sort((a, b) => (a.number! < b.number! ? -1 : a.number! > b.number! ? 1 : 0))
      for (let i = 0; i < run.length; i++) keyed[runStart + i] = run[i]
    }
    runStart = runEnd
  }
  return keyed.map((entry) => entry.item)
}

export interface SelectedRoutes {
  /** The matching RouteConfigurations as found in the dump (for -o json/yaml), in table order. */
  routeConfigs: Json[]
  summaries: RouteConfigSummary[]
}

export function selectRoutes(dump: ConfigDump, filter: RouteFilter): SelectedRoutes {
  const configs = collectRouteConfigs(dump).filter((config) => !filter.name || stringField(config, 'name') === filter.name)
  const routeConfigs = sortByRouteName(configs, (config) => stringField(config, 'name'))
  return {routeConfigs, summaries: routeConfigs.map(summarizeRouteConfig)}
}
