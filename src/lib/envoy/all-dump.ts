import type {AllFilter} from './all-sections.js'
import {matchCluster} from './clusters.js'
import {type ConfigDump, section} from './configdump.js'
import {pruneClusterLoadAssignment} from './endpoints.js'
import {field, type Json} from './fields.js'
import {selectListeners} from './listeners.js'
import {selectRoutes} from './routes.js'

/** Which sections of `proxy-config all` the given filters narrow (the others are printed whole). */
function narrowed(filter: AllFilter) {
  return {
    clusters: Boolean(filter.fqdn || filter.direction || filter.subset || filter.port),
    listeners: Boolean(filter.address || filter.port || filter.type),
    routes: Boolean(filter.name),
    endpoints: Boolean(filter.address || filter.port),
  }
}

export function hasAllFilter(filter: AllFilter): boolean {
  return Object.values(narrowed(filter)).some(Boolean)
}

/**
 * `proxy-config all -o json|yaml` with filters: the dump in Envoy's own layout, each section's
 * entries kept by the same filters as its table (clusters by name, listeners by address/port/type,
 * route configurations by name, endpoints pruned to matching ip:port), every other section whole.
 * Without filters the caller prints the dump as fetched, as istioctl does.
 */
export function filterAllDump(dump: ConfigDump, filter: AllFilter): Json {
  const narrow = narrowed(filter)
  const keptListeners = narrow.listeners && section(dump, 'Listeners') ? new Set(selectListeners(dump, {address: filter.address, port: filter.port, type: filter.type}).listeners) : undefined
  const keptRoutes = narrow.routes && section(dump, 'Routes') ? new Set(selectRoutes(dump, {name: filter.name}).routeConfigs) : undefined
  const clusterFilter = {fqdn: filter.fqdn, direction: filter.direction, subset: filter.subset, port: filter.port}
  const endpointFilter = {address: filter.address, port: filter.port}

  // Each kind: the function that maps one list entry to what is kept (undefined drops it).
  const entryFilters: Record<string, (entry: Json) => Json | undefined> = {}
  if (narrow.clusters) {
    entryFilters.ClustersConfigDump = (entry) => (matchCluster(clusterFilter, String(field(field(entry, 'cluster'), 'name') ?? '')) ? entry : undefined)
  }
  if (keptListeners) {
    entryFilters.ListenersConfigDump = (entry) => {
      const listener = field(entry, 'listener') ?? field(field(entry, 'active_state'), 'listener')
      return keptListeners.has(listener) ? entry : undefined
    }
  }
  if (keptRoutes) entryFilters.RoutesConfigDump = (entry) => (keptRoutes.has(field(entry, 'route_config')) ? entry : undefined)
  if (narrow.endpoints) {
    entryFilters.EndpointsConfigDump = (entry) => {
      const cla = field(entry, 'endpoint_config')
      const pruned = cla && typeof cla === 'object' ? pruneClusterLoadAssignment(cla, endpointFilter) : undefined
      if (!pruned) return undefined
      const key = 'endpoint_config' in entry ? 'endpoint_config' : 'endpointConfig'
      return {...entry, [key]: pruned}
    }
  }

  const configs = (dump.raw.configs as Json[]).map((config) => {
    const type = typeof config?.['@type'] === 'string' ? (config['@type'] as string) : ''
    const keep = entryFilters[type.slice(type.lastIndexOf('.') + 1)]
    if (!keep || !type.startsWith('type.googleapis.com/envoy.admin.v3.')) return config
    // Every list of the section (static_*, dynamic_*, either spelling) goes through the same filter.
    return Object.fromEntries(
      Object.entries(config as Record<string, Json>).map(([key, value]) =>
        Array.isArray(value) ? [key, value.map(keep).filter((entry) => entry !== undefined)] : [key, value],
      ),
    )
  })
  return {...dump.raw, configs}
}
