import {arrayField, field, stringField, type Json} from './fields.js'

/**
 * How istioctl describes Envoy route matches and inline route configurations. Shared by the
 * listener DESTINATION column (inline `route_config` of an HTTP connection manager) and the
 * route table's MATCH column, so both always agree.
 */

/**
 * A route's match as one string: `<prefix>*`, `PathPrefix:<p>`, `<path>` or `regex <re>`, joined
 * with a space. Headers, query parameters, connect and template matchers are not shown (empty).
 * istioctl prints the Go text form of the RegexMatcher message for safe_regex; we print the
 * regex itself, which is what an SRE needs to read.
 */
export function describeRouteMatch(match: Json): string {
  return formatRouteMatch(routeMatchData(match))
}

/** The path conditions of a route's match, as data (the --json result); absent ones are left out. */
export interface RouteMatchData {
  prefix?: string
  pathSeparatedPrefix?: string
  path?: string
  regex?: string
}

export function routeMatchData(match: Json): RouteMatchData {
  const data: RouteMatchData = {}
  const prefix = stringField(match, 'prefix')
  if (prefix !== '') data.prefix = prefix
  const separatedPrefix = stringField(match, 'path_separated_prefix')
  if (separatedPrefix !== '') data.pathSeparatedPrefix = separatedPrefix
  const exactPath = stringField(match, 'path')
  if (exactPath !== '') data.path = exactPath
  const safeRegex = field(match, 'safe_regex')
  if (safeRegex !== undefined && safeRegex !== null) data.regex = stringField(safeRegex, 'regex')
  return data
}

/** The MATCH cell: see describeRouteMatch. */
export function formatRouteMatch(data: RouteMatchData): string {
  const conditions: string[] = []
  if (data.prefix !== undefined) conditions.push(`${data.prefix}*`)
  if (data.pathSeparatedPrefix !== undefined) conditions.push(`PathPrefix:${data.pathSeparatedPrefix}`)
  if (data.path !== undefined) conditions.push(data.path)
  if (data.regex !== undefined) conditions.push(`regex ${data.regex}`)
  return conditions.join(' ')
}

/** `PassthroughCluster`-style names print bare; every other cluster as `Cluster: <name>`. */
export function describeClusterTarget(cluster: string): string {
  return cluster.includes('Cluster') ? cluster : `Cluster: ${cluster}`
}

/** The single `cluster` a route forwards to, or undefined (redirects, direct responses, weighted clusters, headers). */
export function routeSingleCluster(route: Json): string | undefined {
  const action = field(route, 'route')
  if (action === undefined || action === null || typeof action !== 'object') return undefined
  const cluster = field(action, 'cluster')
  return typeof cluster === 'string' ? cluster : undefined
}

/** Routes istioctl's route table hides: those forwarding to the single cluster `PassthroughCluster`. */
export function isPassthroughRoute(route: Json): boolean {
  return routeSingleCluster(route) === 'PassthroughCluster'
}

function isOnlyWildcard(domains: readonly Json[]): boolean {
  return domains.length === 1 && domains[0] === '*'
}

/**
 * A route configuration that sends everything (one vhost for exactly `*`, one route, prefix `/`)
 * to one cluster is described by that cluster alone.
 */
function matchAllCluster(routeConfig: Json): string | undefined {
  const vhosts = arrayField(routeConfig, 'virtual_hosts')
  if (vhosts.length !== 1) return undefined
  const vhost = vhosts[0]
  if (!isOnlyWildcard(arrayField(vhost, 'domains'))) return undefined
  const routes = arrayField(vhost, 'routes')
  if (routes.length !== 1) return undefined
  if (stringField(field(routes[0], 'match'), 'prefix') !== '/') return undefined
  const cluster = routeSingleCluster(routes[0])
  return cluster === undefined ? undefined : describeClusterTarget(cluster)
}

/**
 * The listener DESTINATION of an HTTP connection manager with an inline route configuration:
 * the match-all shortcut, else `Inline Route: ` + vhosts (`<domains joined by "/"> <matches>`,
 * the domain part omitted for exactly `*`) joined with "; ".
 */
export function describeInlineRouteConfig(routeConfig: Json): string {
  const cluster = matchAllCluster(routeConfig)
  if (cluster !== undefined) return cluster
  const vhosts: string[] = []
  for (const vhost of arrayField(routeConfig, 'virtual_hosts')) {
    const domains = arrayField(vhost, 'domains')
    const matches = arrayField(vhost, 'routes').map((route) => describeRouteMatch(field(route, 'match'))).join(', ')
    const domainText = isOnlyWildcard(domains) ? '' : domains.join('/')
    vhosts.push(domainText === '' ? matches : `${domainText} ${matches}`)
  }
  return `Inline Route: ${vhosts.join('; ')}`
}
