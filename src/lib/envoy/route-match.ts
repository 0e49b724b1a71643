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

/** Array.join's text for one element (null and undefined print as ""), so data joins as the dump did. */
export function joinedText(value: Json): string {
  return value === undefined || value === null ? '' : String(value)
}

function isOnlyWildcard(domains: readonly string[]): boolean {
  return domains.length === 1 && domains[0] === '*'
}

/**
 * A route configuration that sends everything (one vhost for exactly `*`, one route, prefix `/`)
 * to one cluster is described by that cluster alone: its name, or undefined.
 */
export function matchAllCluster(routeConfig: Json): string | undefined {
  const vhosts = arrayField(routeConfig, 'virtual_hosts')
  if (vhosts.length !== 1) return undefined
  const vhost = vhosts[0]
  if (!isOnlyWildcard(arrayField(vhost, 'domains').map(joinedText))) return undefined
  const routes = arrayField(vhost, 'routes')
  if (routes.length !== 1) return undefined
  if (stringField(field(routes[0], 'match'), 'prefix') !== '/') return undefined
  return routeSingleCluster(routes[0])
}

/** One virtual host of an inline route configuration, as data: its domains and each route's path match. */
export interface InlineVirtualHost {
  domains: string[]
  matches: RouteMatchData[]
}

export function inlineVirtualHosts(routeConfig: Json): InlineVirtualHost[] {
  return arrayField(routeConfig, 'virtual_hosts').map((vhost) => ({
    domains: arrayField(vhost, 'domains').map(joinedText),
    matches: arrayField(vhost, 'routes').map((route) => routeMatchData(field(route, 'match'))),
  }))
}

/** `Inline Route: ` + vhosts (`<domains joined by "/"> <matches>`, the domain part omitted for exactly `*`) joined with "; ". */
export function formatInlineVirtualHosts(vhosts: readonly InlineVirtualHost[]): string {
  const parts = vhosts.map((vhost) => {
    const matches = vhost.matches.map(formatRouteMatch).join(', ')
    const domainText = isOnlyWildcard(vhost.domains) ? '' : vhost.domains.join('/')
    return domainText === '' ? matches : `${domainText} ${matches}`
  })
  return `Inline Route: ${parts.join('; ')}`
}

/**
 * The listener DESTINATION of an HTTP connection manager with an inline route configuration:
 * the match-all shortcut (the cluster), else the routes (formatInlineVirtualHosts).
 */
export function describeInlineRouteConfig(routeConfig: Json): string {
  const cluster = matchAllCluster(routeConfig)
  if (cluster !== undefined) return describeClusterTarget(cluster)
  return formatInlineVirtualHosts(inlineVirtualHosts(routeConfig))
}
