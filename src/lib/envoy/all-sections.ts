import type {BootstrapSummary} from './bootstrap.js'
import {bootstrapSection, summarizeBootstrap} from './bootstrap.js'
import {selectClusters, type ClusterFilter, type ClusterSummary} from './clusters.js'
import type {SectionKind, SectionSource} from './configdump.js'
import {selectEdsEndpoints, type EdsEndpointRow} from './endpoints.js'
import {selectListeners, type ListenerSummary} from './listeners.js'
import {selectRoutes, type RouteConfigSummary} from './routes.js'
import {collectSecretRows, secretsSection, type SecretRow} from './secrets.js'

/** `proxy-config all` filters: --port and --address reach several sections at once, as in istioctl. */
export interface AllFilter extends ClusterFilter {
  address?: string
  type?: string
  name?: string
}

export interface AllSections {
  bootstrap?: BootstrapSummary
  clusters?: ClusterSummary[]
  listeners?: ListenerSummary[]
  routes?: RouteConfigSummary[]
  secrets?: SecretRow[]
  endpoints: EdsEndpointRow[]
  /** Sections the dump does not have (shown as a note, not an error: a masked dump is still useful). */
  missing: SectionKind[]
}

/**
 * Every section of one dump, each through the same selection code as its own subcommand. Sections
 * are taken one at a time from the source, so only one parsed section needs to be alive at once.
 */
export function selectAllSections(source: SectionSource, filter: AllFilter, now: Date = new Date()): AllSections {
  const missing: SectionKind[] = []
  const present = (kind: SectionKind): boolean => {
    if (source.has(kind)) return true
    missing.push(kind)
    return false
  }
  const bootstrap = present('Bootstrap') ? summarizeBootstrap(bootstrapSection(source.dumpWith('Bootstrap'))) : undefined
  const clusterFilter = {fqdn: filter.fqdn, direction: filter.direction, subset: filter.subset, port: filter.port}
  const clusters = present('Clusters') ? selectClusters(source.dumpWith('Clusters'), clusterFilter).summaries : undefined
  const listeners = present('Listeners') ? selectListeners(source.dumpWith('Listeners'), {address: filter.address, port: filter.port, type: filter.type}).summaries : undefined
  const routes = present('Routes') ? selectRoutes(source.dumpWith('Routes'), {name: filter.name}).summaries : undefined
  const secrets = present('Secrets') ? collectSecretRows(secretsSection(source.dumpWith('Secrets')), now) : undefined
  // As in istioctl, a dump without EDS (no ?include_eds) has an empty endpoint section.
  const endpoints = source.has('Endpoints') ? selectEdsEndpoints(source.dumpWith('Endpoints'), {address: filter.address, port: filter.port}).rows : []
  return {bootstrap, clusters, listeners, routes, secrets, endpoints, missing}
}
