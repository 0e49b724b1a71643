import {collectClusters, collectRouteConfigs, section, type ConfigDump} from '../envoy/configdump.js'
import {arrayField, field, stringField, type Json} from '../envoy/fields.js'
import {istioConfigNameOf, parseSubsetKey} from '../envoy/istio-names.js'

/** One cluster a route sends traffic to. */
export interface RouteTarget {
  /** The route configuration (`http.8080`, `80`). */
  routeConfig: string
  virtualHost: string
  /** `name.namespace` of the VirtualService the route came from, '' for generated routes. */
  virtualService: string
  cluster: string
  /** The cluster's share of the route's traffic, 0..100. */
  weightPercent: number
}

/**
 * Every cluster named by a route of the dump: `route.cluster` and `route.weighted_clusters`. With
 * `memo`, each route configuration object's targets are kept for the next dump that shares it
 * (dump-reads.ts, RouteConfigMemo); the targets are then shared and must not be changed.
 */
export function routeTargets(dump: ConfigDump, memo?: WeakMap<object, RouteTarget[]>): RouteTarget[] {
  const targets: RouteTarget[] = []
  for (const config of collectRouteConfigs(dump)) {
    const known = config !== null && typeof config === 'object' ? memo?.get(config) : undefined
    if (known !== undefined) {
      for (const target of known) targets.push(target)
      continue
    }
    const first = targets.length
    configTargets(config, targets)
    if (memo !== undefined && config !== null && typeof config === 'object') memo.set(config, targets.slice(first))
  }
  return targets
}

/** Appends the clusters the route configuration `config` sends traffic to. */
function configTargets(config: Json, targets: RouteTarget[]): void {
  const routeConfig = stringField(config, 'name')
  for (const vhost of arrayField(config, 'virtual_hosts')) {
    const virtualHost = stringField(vhost, 'name')
    for (const route of arrayField(vhost, 'routes')) {
      const action = field(route, 'route')
      if (action === undefined) continue
      const virtualService = istioConfigNameOf(route)
      const single = stringField(action, 'cluster')
      if (single !== '') targets.push({routeConfig, virtualHost, virtualService, cluster: single, weightPercent: 100})
      const weighted = field(action, 'weighted_clusters')
      const clusters = arrayField(weighted, 'clusters')
      const total = Number(field(weighted, 'total_weight') ?? 0) || clusters.reduce((sum: number, c: Json) => sum + Number(field(c, 'weight') ?? 0), 0) || 100
      for (const cluster of clusters) {
        targets.push({routeConfig, virtualHost, virtualService, cluster: stringField(cluster, 'name'), weightPercent: Math.round((Number(field(cluster, 'weight') ?? 0) / total) * 100)})
      }
    }
  }
}

/** Cluster names the proxy has: active, static and warming (a warming cluster exists, it waits). */
export function clusterNames(dump: ConfigDump): Set<string> {
  const names = new Set(collectClusters(dump).map((cluster) => stringField(cluster, 'name')))
  for (const entry of arrayField(section(dump, 'Clusters'), 'dynamic_warming_clusters')) names.add(stringField(field(entry, 'cluster'), 'name'))
  return names
}

/** The DestinationRule (`name.namespace`) behind the proxy's clusters of `hostname`, '' when none. */
export function destinationRuleFor(dump: ConfigDump, hostname: string): string {
  for (const cluster of collectClusters(dump)) {
    const key = parseSubsetKey(stringField(cluster, 'name'))
    if (key?.hostname !== hostname) continue
    const rule = istioConfigNameOf(cluster)
    if (rule !== '') return rule
  }
  return ''
}
