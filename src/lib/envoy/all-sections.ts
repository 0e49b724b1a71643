import type {BootstrapSummary} from './bootstrap.js'
import {bootstrapSection, summarizeBootstrap} from './bootstrap.js'
import {selectClusters, type ClusterFilter, type ClusterSummary} from './clusters.js'
import type {ConfigDump, SectionKind} from './configdump.js'
import {hasEdsSection, selectEdsEndpoints, type EdsEndpointRow} from './endpoints.js'
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

/** Every section of one parsed dump, each through the same selection code as its own subcommand. */
export function selectAllSections(dump: ConfigDump, filter: AllFilter, now: Date = new Date()): AllSections {
  const missing: SectionKind[] = []
  const present = (kind: SectionKind): boolean => {
    if (dump.sections.has(kind)) return true
    missing.push(kind)
    return false
  }
  return {
    bootstrap: present('Bootstrap') ? summarizeBootstrap(bootstrapSection(dump)) : undefined,
    clusters: present('Clusters')
      ? selectClusters(dump, {fqdn: filter.fqdn, direction: filter.direction, subset: filter.subset, port: filter.port}).summaries
      : undefined,
    listeners: present('Listeners') ? selectListeners(dump, {address: filter.address, port: filter.port, type: filter.type}).summaries : undefined,
    routes: present('Routes') ? selectRoutes(dump, {name: filter.name}).summaries : undefined,
    secrets: present('Secrets') ? collectSecretRows(secretsSection(dump), now) : undefined,
    // As in istioctl, a dump without EDS (no ?include_eds) has an empty endpoint section.
    endpoints: hasEdsSection(dump) ? selectEdsEndpoints(dump, {address: filter.address, port: filter.port}).rows : [],
    missing,
  }
}
