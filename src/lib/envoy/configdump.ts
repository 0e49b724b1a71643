import {badDataError, MeshdbgError} from '../errors.js'
import type {InputText} from '../input.js'
import {arrayField, field, type Json} from './fields.js'

export const ADMIN_V3 = 'type.googleapis.com/envoy.admin.v3.'

export type SectionKind =
  | 'Bootstrap'
  | 'Clusters'
  | 'Listeners'
  | 'Routes'
  | 'ScopedRoutes'
  | 'Secrets'
  | 'Endpoints'
  | 'Ecds'

/**
 * An Envoy /config_dump, parsed once. Sections are picked by `@type`; the last section of a type
 * wins (as in istioctl), except ECDS, where every section counts. Unknown types are kept but
 * ignored, so a newer Envoy does not break the reader.
 */
export interface ConfigDump {
  /** Where the bytes came from, for error messages ("dump.json", "stdin", "pod x.ns"). */
  readonly origin: string
  /** The parsed top-level object (`{configs: [...]}`), as given. */
  readonly raw: Json
  readonly sections: ReadonlyMap<SectionKind, Json>
  readonly ecdsSections: readonly Json[]
}

const SECTION_SUFFIXES: ReadonlyArray<[string, SectionKind]> = [
  ['BootstrapConfigDump', 'Bootstrap'],
  ['ClustersConfigDump', 'Clusters'],
  ['ListenersConfigDump', 'Listeners'],
  ['RoutesConfigDump', 'Routes'],
  ['ScopedRoutesConfigDump', 'ScopedRoutes'],
  ['SecretsConfigDump', 'Secrets'],
  ['EndpointsConfigDump', 'Endpoints'],
  ['EcdsConfigDump', 'Ecds'],
]

const SECTION_BY_TYPE = new Map<string, SectionKind>(
  SECTION_SUFFIXES.map(([suffix, kind]) => [ADMIN_V3 + suffix, kind]),
)

/** Describes what text that failed to parse looks like, so the one-line error is useful. */
export function describeUnparsable(text: string): string {
  // Look at the start only: trimming a 300 MB string would copy it.
  const firstVisible = text.search(/\S/)
  if (firstVisible === -1) return 'it is empty'
  const head = text.slice(firstVisible, firstVisible + 200).toLowerCase()
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<')) {
    return 'it looks like an HTML page, not JSON'
  }
  return ''
}

/** JSON.parse with a one-line, origin-naming error (exit 6) for bad bytes. */
export function parseJsonText(text: string, origin: string, expected: string): Json {
  const described = describeUnparsable(text)
  if (described) throw badDataError(`${origin}: ${described}; expected ${expected}`)
  try {
    return JSON.parse(text)
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]
    const truncated = /end of (JSON )?input|Unterminated/i.test(reason) ? ' (truncated?)' : ''
    throw badDataError(`${origin}: not valid JSON${truncated}: ${reason}; expected ${expected}`)
  }
}

const EXPECTED_DUMP = 'an Envoy /config_dump (an object with a "configs" list)'

/**
 * Parses a config dump. With `only`, a dump in Envoy's own layout (1-space pretty JSON) has just
 * those sections parsed: on a 150 MB sidecar dump that is most of the time and memory of a
 * command. Any other layout, or any doubt, falls back to parsing everything, so results and error
 * messages never depend on the shortcut.
 */
export function parseConfigDump(text: string, origin: string, options: {only?: readonly SectionKind[]} = {}): ConfigDump {
  if (options.only) {
    const sectioned = parseEnvoyLayoutSections(text, origin, options.only)
    if (sectioned) return sectioned
  }
  return configDumpFromJson(parseJsonText(text, origin, EXPECTED_DUMP), origin)
}

// In Envoy's pretty output every section starts at exactly this text; a raw newline cannot occur
// inside a JSON string, so the marker cannot be data. The long needle lets the search skip ahead
// faster; a dump with sections of other API versions has no match and takes the full parse.
const SECTION_MARKER = '\n  {\n   "@type": "type.googleapis.com/envoy.admin.v3.'
const DUMP_HEAD = /^\{\n "configs": \[$/
const DUMP_TAIL = /^\n  \}\n \]\n?\}\s*$/

interface LocatedSection {
  type: string
  /** Offsets of the section object's '{' and just past its '}'. */
  begin: number
  end: number
}

/** Text, or the raw bytes of it (Buffer search is far faster than string search, and needs no decode). */
type DumpSource = string | Buffer

const decodeRange = (source: DumpSource, begin: number, end: number): string =>
  typeof source === 'string' ? source.slice(begin, end) : source.toString('utf8', begin, end)

/** Where each section of a dump in Envoy's own layout is, found without parsing; else undefined. */
function locateEnvoyLayoutSections(text: DumpSource): LocatedSection[] | undefined {
  const starts: number[] = []
  for (let at = text.indexOf(SECTION_MARKER); at !== -1; at = text.indexOf(SECTION_MARKER, at + SECTION_MARKER.length)) starts.push(at)
  if (starts.length === 0 || !DUMP_HEAD.test(decodeRange(text, 0, starts[0]))) return undefined
  const lastClose = text.lastIndexOf('\n  }')
  if (lastClose < starts[starts.length - 1] || !DUMP_TAIL.test(decodeRange(text, lastClose, text.length))) return undefined
  const located: LocatedSection[] = []
  for (let i = 0; i < starts.length; i++) {
    const typeStart = starts[i] + SECTION_MARKER.length - ADMIN_V3.length
    const type = decodeRange(text, typeStart, text.indexOf('"', typeStart))
    // From the section's '{' to its '}' (the next section's marker is preceded by "\n  },").
    located.push({type, begin: starts[i] + 3, end: i + 1 < starts.length ? starts[i + 1] - 1 : lastClose + 4})
  }
  return located
}

function parseLocatedSections(text: DumpSource, origin: string, located: readonly LocatedSection[], only: readonly SectionKind[]): ConfigDump | undefined {
  const wanted = new Set(only)
  const configs: Json[] = []
  for (const section of located) {
    const kind = SECTION_BY_TYPE.get(section.type)
    if (kind === undefined || !wanted.has(kind)) continue
    try {
      configs.push(JSON.parse(decodeRange(text, section.begin, section.end)))
    } catch {
      return undefined
    }
  }
  return configDumpFromJson({configs}, origin)
}

function parseEnvoyLayoutSections(text: DumpSource, origin: string, only: readonly SectionKind[]): ConfigDump | undefined {
  const located = locateEnvoyLayoutSections(text)
  return located && parseLocatedSections(text, origin, located, only)
}

/** A dump read section by section, so a caller can let go of each parsed section before the next. */
export interface SectionSource {
  has(kind: SectionKind): boolean
  /** A dump holding (at least) this section. */
  dumpWith(kind: SectionKind): ConfigDump
}

export function sectionSource(input: InputText): SectionSource {
  const source = input.bytes ?? input.text
  const located = locateEnvoyLayoutSections(source)
  if (located) {
    const kinds = new Set(located.map((section) => SECTION_BY_TYPE.get(section.type)))
    return {
      has: (kind) => kinds.has(kind),
      dumpWith: (kind) => parseLocatedSections(source, input.origin, located, [kind]) ?? parseConfigDump(input.text, input.origin),
    }
  }
  const dump = parseConfigDump(input.text, input.origin)
  return {has: (kind) => dump.sections.has(kind), dumpWith: () => dump}
}

/** parseConfigDump for command input: scans the raw bytes when it has them. */
export function parseConfigDumpInput(input: InputText, options: {only?: readonly SectionKind[]} = {}): ConfigDump {
  if (options.only && input.bytes) {
    const sectioned = parseEnvoyLayoutSections(input.bytes, input.origin, options.only)
    if (sectioned) return sectioned
    // The bytes were searched already: the text would not find the layout either.
    return parseConfigDump(input.text, input.origin)
  }
  return parseConfigDump(input.text, input.origin, options)
}

export function sectionSourceOf(dump: ConfigDump): SectionSource {
  return {has: (kind) => dump.sections.has(kind), dumpWith: () => dump}
}

export function configDumpFromJson(raw: Json, origin: string): ConfigDump {
  const configs = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw.configs : undefined
  if (!Array.isArray(configs)) {
    const shape = Array.isArray(raw) ? 'a JSON list' : raw === null ? 'null' : typeof raw === 'object' ? 'an object without "configs"' : `a JSON ${typeof raw}`
    throw badDataError(`${origin}: got ${shape}; expected ${EXPECTED_DUMP}`)
  }
  const sections = new Map<SectionKind, Json>()
  const ecdsSections: Json[] = []
  for (const section of configs) {
    const type = section?.['@type']
    if (typeof type !== 'string') continue
    const kind = SECTION_BY_TYPE.get(type)
    if (kind === undefined) {
      if (type.includes('envoy.admin.v2alpha.')) {
        throw new MeshdbgError(
          'bad-data',
          `${origin}: unsupported legacy config dump format (${type.slice(type.lastIndexOf('/') + 1)}, Envoy v2 API, Istio 1.5 or older); meshdbg reads envoy.admin.v3 dumps`,
        )
      }
      continue
    }
    if (kind === 'Ecds') ecdsSections.push(section)
    sections.set(kind, section)
  }
  return {origin, raw, sections, ecdsSections}
}

export function section(dump: ConfigDump, kind: SectionKind): Json | undefined {
  return dump.sections.get(kind)
}

/** istioctl's wording for a required section that is absent. */
export function requireSection(dump: ConfigDump, kind: SectionKind): Json {
  const found = dump.sections.get(kind)
  if (found === undefined) {
    throw badDataError(`${dump.origin}: config dump has no configuration type ${ADMIN_V3}${kind}ConfigDump`)
  }
  return found
}

/** Clusters: dynamic active, then static (warming clusters are not shown, as in istioctl). */
export function collectClusters(dump: ConfigDump): Json[] {
  const clusters = requireSection(dump, 'Clusters')
  const result: Json[] = []
  for (const entry of arrayField(clusters, 'dynamic_active_clusters')) {
    const cluster = field(entry, 'cluster')
    if (cluster) result.push(cluster)
  }
  for (const entry of arrayField(clusters, 'static_clusters')) {
    const cluster = field(entry, 'cluster')
    if (cluster) result.push(cluster)
  }
  return result
}

/** Listeners: dynamic ones with an active state, then static. */
export function collectListeners(dump: ConfigDump): Json[] {
  return collectListenerEntries(dump).map((entry) => entry.listener)
}

/** collectListeners, also saying whether each listener is dynamic (LDS) or static. */
export function collectListenerEntries(dump: ConfigDump): Array<{listener: Json; dynamic: boolean}> {
  const listeners = requireSection(dump, 'Listeners')
  const result: Array<{listener: Json; dynamic: boolean}> = []
  for (const entry of arrayField(listeners, 'dynamic_listeners')) {
    const listener = field(field(entry, 'active_state'), 'listener')
    if (listener) result.push({listener, dynamic: true})
  }
  for (const entry of arrayField(listeners, 'static_listeners')) {
    const listener = field(entry, 'listener')
    if (listener) result.push({listener, dynamic: false})
  }
  return result
}

/** Route configurations: dynamic, then static. */
export function collectRouteConfigs(dump: ConfigDump): Json[] {
  const routes = requireSection(dump, 'Routes')
  const result: Json[] = []
  for (const entry of arrayField(routes, 'dynamic_route_configs')) {
    const config = field(entry, 'route_config')
    if (config) result.push(config)
  }
  for (const entry of arrayField(routes, 'static_route_configs')) {
    const config = field(entry, 'route_config')
    if (config) result.push(config)
  }
  return result
}

