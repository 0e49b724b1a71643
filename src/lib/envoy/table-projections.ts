import type {SectionKind} from './configdump.js'
import {camelName} from './fields.js'
import {projection, type Projection} from './json-scan.js'

// The members each table's summaries read, per section, for sections big enough to matter. A
// projected section is that section with everything else left out, so the unchanged selection
// code gives the same rows from it; keep these in step with the readers named below (the
// fast/full equivalence test, test/unit/fastpath-equivalence.test.ts, runs every table on both).

/** summarizeCluster and selectClusters (clusters.ts), istioConfigNameOf (istio-names.ts). */
const CLUSTER = {name: true, type: true, metadata: {filter_metadata: {istio: {config: true}}}} as const

/** summarizeRouteConfig and selectRoutes (routes.ts), describeRouteMatch and isPassthroughRoute (route-match.ts). */
const ROUTE_CONFIG = {
  name: true,
  virtual_hosts: {name: true, domains: true, routes: {match: true, route: {cluster: true}, metadata: {filter_metadata: {istio: {config: true}}}}},
} as const

/** renderEdsAddress (endpoints.ts). Spelled out rather than kept whole: names decode faster than JSON.parse. */
const ADDRESS = {
  socket_address: {address: true, port_value: true},
  pipe: {path: true},
  envoy_internal_address: {server_listener_name: true, endpoint_id: true},
} as const

/** selectEdsEndpoints, pruneClusterLoadAssignment, lbEndpointAddresses, matchLbEndpoint, localityToString (endpoints.ts). */
const CLUSTER_LOAD_ASSIGNMENT = {
  cluster_name: true,
  endpoints: {
    locality: {region: true, zone: true, sub_zone: true},
    lb_endpoints: {endpoint: {address: ADDRESS, additional_addresses: {address: ADDRESS}}, health_status: true},
  },
} as const

export const TABLE_PROJECTIONS: Partial<Record<SectionKind, Projection>> = {
  // collectClusters (configdump.ts)
  Clusters: projection({'@type': true, dynamic_active_clusters: {cluster: CLUSTER}, static_clusters: {cluster: CLUSTER}}, camelName),
  // collectRouteConfigs (configdump.ts)
  Routes: projection({'@type': true, dynamic_route_configs: {route_config: ROUTE_CONFIG}, static_route_configs: {route_config: ROUTE_CONFIG}}, camelName),
  // requireEdsSection and selectEdsEndpoints (endpoints.ts)
  Endpoints: projection({'@type': true, dynamic_endpoint_configs: {endpoint_config: CLUSTER_LOAD_ASSIGNMENT}, static_endpoint_configs: {endpoint_config: CLUSTER_LOAD_ASSIGNMENT}}, camelName),
}
