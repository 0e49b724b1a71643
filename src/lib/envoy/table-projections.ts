import type {SectionKind} from './configdump.js'
import {camelName} from './fields.js'
import {projection, type Projection} from './json-scan.js'

// The members each table's summaries read, per section, for sections big enough to matter. A
// projected section is that section with everything else left out, so the unchanged selection
// code gives the same rows from it; keep these in step with the readers named below (the
// fast/full equivalence test, test/unit/fastpath-equivalence.test.ts, runs every table on both).

/** summarizeCluster and selectClusters (clusters.ts), istioConfigNameOf (istio-names.ts). */
const CLUSTER = {name: true, type: true, metadata: {filter_metadata: {istio: {config: true}}}} as const

export const TABLE_PROJECTIONS: Partial<Record<SectionKind, Projection>> = {
  // collectClusters (configdump.ts)
  Clusters: projection({'@type': true, dynamic_active_clusters: {cluster: CLUSTER}, static_clusters: {cluster: CLUSTER}}, camelName),
}
