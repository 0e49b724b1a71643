import {byteCompare} from '../compare.js'
import {ADMIN_V3, type ConfigDump} from './configdump.js'
import {arrayField, field, stringField, type Json} from './fields.js'

const TYPE_URL_PREFIX = 'type.googleapis.com/'

export interface EcdsSummary {
  name: string
  /** `typed_config.@type` as given (the sort key); empty without a typed_config. */
  typeUrl: string
  /** The TYPE column: typeUrl without `type.googleapis.com/`. */
  type: string
}

export interface SelectedEcds {
  /**
   * Every ECDS section merged into one EcdsConfigDump object (the `-o json/yaml` document): the
   * `ecds_filters` entries in dump order, with the key spelled as the first section spells it. Envoy
   * prints one section per filter category, and istioctl merges them the same way.
   */
  section: Json
  summaries: EcdsSummary[]
}

/**
 * A dump without an EcdsConfigDump has no ECDS filters (Envoy only adds the section when ECDS
 * is in use), so it gives an empty table, not an error.
 */
export function selectEcds(dump: ConfigDump): SelectedEcds {
  const entries: Json[] = []
  for (const ecdsSection of dump.ecdsSections) entries.push(...arrayField(ecdsSection, 'ecds_filters'))
  // The merged list takes the first section's spelling (Envoy writes snake_case, istiod camelCase).
  const first = dump.ecdsSections[0]
  const camel = first !== undefined && first.ecds_filters === undefined && first.ecdsFilters !== undefined
  const summaries: EcdsSummary[] = []
  for (const entry of entries) {
    const filter = field(entry, 'ecds_filter')
    if (filter === null || typeof filter !== 'object') continue
    const typeUrl = stringField(field(filter, 'typed_config'), '@type')
    summaries.push({
      name: stringField(filter, 'name'),
      typeUrl,
      type: typeUrl.startsWith(TYPE_URL_PREFIX) ? typeUrl.slice(TYPE_URL_PREFIX.length) : typeUrl,
    })
  }
  summaries.sort(compareEcdsSummaries)
  return {section: {'@type': `${ADMIN_V3}EcdsConfigDump`, [camel ? 'ecdsFilters' : 'ecds_filters']: entries}, summaries}
}


/** istioctl's order: full type URL (empty first), then name; exact ties keep dump order (stable sort). */
export function compareEcdsSummaries(a: EcdsSummary, b: EcdsSummary): number {
  return byteCompare(a.typeUrl, b.typeUrl) || byteCompare(a.name, b.name)
}
