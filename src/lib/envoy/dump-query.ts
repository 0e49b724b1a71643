// Envoy admin's `/config_dump` query parameters (`resource`, `mask`, `name_regex`) applied to a
// dump's JSON, as admin/config_dump_handler.cc applies them: the simulator serves its dumps
// through it, and a snapshot replay derives filtered answers from the one dump it recorded.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any

/** Each config dump type's top-level fields: field -> inner @type of its repeated items (null: not repeated). */
export const DUMP_FIELDS: Record<string, Record<string, string | null>> = {
  BootstrapConfigDump: {bootstrap: null, last_updated: null},
  ClustersConfigDump: {version_info: null, static_clusters: 'ClustersConfigDump.StaticCluster', dynamic_active_clusters: 'ClustersConfigDump.DynamicCluster', dynamic_warming_clusters: 'ClustersConfigDump.DynamicCluster'},
  EndpointsConfigDump: {static_endpoint_configs: 'EndpointsConfigDump.StaticEndpointConfig', dynamic_endpoint_configs: 'EndpointsConfigDump.DynamicEndpointConfig'},
  ListenersConfigDump: {version_info: null, static_listeners: 'ListenersConfigDump.StaticListener', dynamic_listeners: 'ListenersConfigDump.DynamicListener'},
  ScopedRoutesConfigDump: {inline_scoped_route_configs: 'ScopedRoutesConfigDump.InlineScopedRouteConfigs', dynamic_scoped_route_configs: 'ScopedRoutesConfigDump.DynamicScopedRouteConfigs'},
  RoutesConfigDump: {static_route_configs: 'RoutesConfigDump.StaticRouteConfig', dynamic_route_configs: 'RoutesConfigDump.DynamicRouteConfig'},
  SecretsConfigDump: {static_secrets: 'SecretsConfigDump.StaticSecret', dynamic_active_secrets: 'SecretsConfigDump.DynamicSecret', dynamic_warming_secrets: 'SecretsConfigDump.DynamicSecret'},
  EcdsConfigDump: {ecds_filters: 'EcdsConfigDump.EcdsFilterConfig'},
}
/** Each repeated item type's fields (envoy/admin/v3/config_dump*.proto). */
export const ITEM_FIELDS: Record<string, string[]> = {
  'ClustersConfigDump.StaticCluster': ['cluster', 'last_updated'],
  'ClustersConfigDump.DynamicCluster': ['version_info', 'cluster', 'last_updated', 'error_state', 'client_status'],
  'EndpointsConfigDump.StaticEndpointConfig': ['endpoint_config', 'last_updated'],
  'EndpointsConfigDump.DynamicEndpointConfig': ['version_info', 'endpoint_config', 'last_updated', 'client_status'],
  'ListenersConfigDump.StaticListener': ['listener', 'last_updated'],
  'ListenersConfigDump.DynamicListener': ['name', 'active_state', 'warming_state', 'draining_state', 'error_state', 'client_status'],
  'RoutesConfigDump.StaticRouteConfig': ['route_config', 'last_updated'],
  'RoutesConfigDump.DynamicRouteConfig': ['version_info', 'route_config', 'last_updated', 'client_status'],
  'SecretsConfigDump.StaticSecret': ['name', 'last_updated', 'secret'],
  'SecretsConfigDump.DynamicSecret': ['name', 'version_info', 'last_updated', 'secret', 'client_status'],
  'EcdsConfigDump.EcdsFilterConfig': ['version_info', 'ecds_filter', 'last_updated', 'client_status'],
  'ScopedRoutesConfigDump.InlineScopedRouteConfigs': ['name', 'scoped_route_configs', 'last_updated'],
  'ScopedRoutesConfigDump.DynamicScopedRouteConfigs': ['name', 'version_info', 'scoped_route_configs', 'last_updated', 'client_status'],
}

/** `ClustersConfigDump` of `type.googleapis.com/envoy.admin.v3.ClustersConfigDump`. */
export function shortType(t: string | undefined): string {
  return (t ?? '').replace(/^type\.googleapis\.com\/envoy\.admin\.v[0-9a-z]+\./, '')
}

/** `obj` trimmed to the FieldMask `paths` (protobuf's FieldMaskUtil::TrimMessage). */
export function applyMask(obj: J, paths: string[]): J {
  const out: J = {}
  for (const p of paths) {
    const [head, ...rest] = p.split('.')
    if (!(head in obj)) continue
    if (rest.length === 0) out[head] = obj[head]
    else if (obj[head] && typeof obj[head] === 'object' && !Array.isArray(obj[head])) {
      // protobuf's FieldMaskUtil::TrimMessage keeps a set sub-message even when none of the
      // masked fields under it are set: Envoy prints it as {}. An Any (a resource's `cluster`,
      // `secret`) is unpacked, trimmed and packed again (config_dump_handler.cc,
      // trimResourceMessage): it keeps its `@type`, printed first.
      const inner = obj[head]
      const typed = typeof inner['@type'] === 'string' ? {'@type': inner['@type']} : {}
      out[head] = {...typed, ...(out[head] ?? {}), ...applyMask(inner, [rest.join('.')])}
    }
  }
  return out
}

function itemName(field: string, item: J): string | undefined {
  switch (field) {
    case 'static_clusters': case 'dynamic_active_clusters': case 'dynamic_warming_clusters': return item.cluster?.name
    case 'static_listeners': return item.listener?.name
    case 'dynamic_listeners': return item.name
    case 'static_route_configs': case 'dynamic_route_configs': return item.route_config?.name ?? ''
    case 'static_secrets': case 'dynamic_active_secrets': case 'dynamic_warming_secrets': return item.name
    case 'static_endpoint_configs': case 'dynamic_endpoint_configs': return item.endpoint_config?.cluster_name
    case 'ecds_filters': return item.ecds_filter?.name
    default: return undefined
  }
}

/** `config` with its repeated items kept only where `regex` matches their name (`name_regex`). */
export function filterByName(config: J, regex: RegExp): J {
  const out: J = {}
  for (const [k, v] of Object.entries(config)) {
    if (Array.isArray(v) && itemName(k, v[0] ?? {}) !== undefined) {
      const kept = v.filter((item) => regex.test(itemName(k, item) ?? ''))
      if (kept.length) out[k] = kept
    } else out[k] = v
  }
  return out
}

export type ResourceAnswer = {status: 200; configs: J[]} | {status: 400 | 404; text: string}

/**
 * `?resource=` (with `mask`; `name_regex` is nameFilter's, applied first): the items of that repeated field of every config
 * that has it, each with its item `@type`, trimmed to the mask. Envoy's errors: 404 when no config
 * has the field, 400 when it is not repeated or the mask does not fit the items.
 */
export function dumpResourceItems(configs: readonly J[], resource: string, maskPaths: readonly string[]): ResourceAnswer {
  const items: J[] = []
  let found = false
  for (const c of configs) {
    const fields = DUMP_FIELDS[shortType(c['@type'])]
    if (!fields || !(resource in fields)) continue
    const inner = fields[resource]
    if (inner === null) return {status: 400, text: `${resource} is not a repeated field. Use ?mask=${resource} to get only this field`}
    found = true
    for (const item of (c[resource] as J[] | undefined) ?? []) {
      const type = `type.googleapis.com/envoy.admin.v3.${inner}`
      if (maskPaths.length === 0) {
        items.push({'@type': type, ...item})
        continue
      }
      if (!maskPaths.every((p) => ITEM_FIELDS[inner]?.includes(p.split('.')[0]))) return {status: 400, text: `FieldMask paths: "${maskPaths.join('" paths: "')}" could not be successfully used.`}
      items.push({'@type': type, ...applyMask(item, [...maskPaths])})
    }
  }
  if (!found) return {status: 404, text: `${resource} not found in config dump`}
  return {status: 200, configs: items}
}

/** `name_regex`'s matcher, or Envoy's 400 answer to a regex it cannot parse. */
export function nameFilter(nameRegex: string): RegExp | {status: 400; text: string} {
  try {
    return new RegExp(nameRegex)
  } catch (error) {
    return {status: 400, text: `INVALID_ARGUMENT: Error while parsing name_regex from ${nameRegex}: ${(error as Error).message}`}
  }
}
