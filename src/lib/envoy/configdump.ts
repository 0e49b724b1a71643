import {badDataError, MeshdbgError} from '../errors.js'
import type {InputText} from '../input.js'
import {arrayField, field, type Json} from './fields.js'
import {JsonScanner, ScanDoubt, type Projection} from './json-scan.js'
import {TABLE_PROJECTIONS} from './table-projections.js'

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

export const SECTION_BY_TYPE: ReadonlyMap<string, SectionKind> = new Map<string, SectionKind>(
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

/** Which sections to read; with `summariesOnly`, big sections may be read as table projections. */
export interface DumpOptions {
  only?: readonly SectionKind[]
  /**
   * The caller only summarises the sections for a table (no -o json/yaml of them): sections with
   * a table projection (see table-projections.ts) are then read with just the members the table
   * needs, which skips decoding and building most of a cluster-heavy dump.
   */
  summariesOnly?: boolean
  /** Inputs smaller than this are parsed whole (default SECTION_SCAN_MIN_BYTES; tests pass 0). */
  scanMinBytes?: number
}

/**
 * Parses a config dump. With `only`, just those sections are decoded and parsed: on a 150 MB
 * sidecar dump that is most of the time and memory of a command. The sections are found by a
 * structural scan (json-scan.ts), so any whitespace, line ending, key order or camelCase output
 * qualifies; anything the scan doubts falls back to parsing everything, so results and error
 * messages never depend on the shortcut.
 */
export function parseConfigDump(text: string, origin: string, options: DumpOptions = {}): ConfigDump {
  if (options.only) {
    const sectioned = parseSections(Buffer.from(text, 'utf8'), origin, options.only, options.summariesOnly === true)
    if (sectioned) return sectioned
  }
  return configDumpFromJson(parseJsonText(text, origin, EXPECTED_DUMP), origin)
}

export interface LocatedSection {
  type: string
  /** Offsets of the section object's '{' and just past its '}'. */
  begin: number
  end: number
  /** The section with only the members its table reads, when a projection was asked for. */
  projected?: Json
}

/**
 * Where each section of a dump is, found by one structural pass over the bytes; sections of a kind
 * in `project` are projected on the way (no second pass). Undefined when the scan doubts anything.
 */
export function locateSections(
  scanner: JsonScanner,
  project: ReadonlySet<SectionKind>,
  onSection?: (section: LocatedSection) => void,
): LocatedSection[] | undefined {
  try {
    let sections: LocatedSection[] | undefined
    const end = scanner.members(scanner.skipSpace(0), (name, at) => {
      if (name !== 'configs') return scanner.skipValue(at)
      // A repeated "configs" (JSON.parse keeps the last): rare enough to leave to the full parse.
      if (sections) throw new ScanDoubt(at)
      const found: LocatedSection[] = []
      sections = found
      return scanner.elements(at, (begin) => {
        const located = locateSection(scanner, begin, project)
        found.push(located)
        onSection?.(located)
        return located.end
      })
    })
    if (!sections || scanner.skipSpace(end) !== scanner.bytes.length) return undefined
    return sections
  } catch (error) {
    if (error instanceof ScanDoubt) return undefined
    throw error
  }
}

/**
 * A section's "@type" value found by the scanner (`at`: the value's first byte). Anything the full
 * parse would treat differently is a doubt: a non-string type, or a legacy (v2alpha) dump, which
 * the full parse names in its error.
 */
export function scanSectionType(scanner: JsonScanner, at: number): {type: string; end: number; kind: SectionKind | undefined} {
  if (scanner.bytes[at] !== 0x22) throw new ScanDoubt(at)
  const end = scanner.skipValue(at)
  const type = scanner.parse(at, end) as string
  if (type.includes('envoy.admin.v2alpha.')) throw new ScanDoubt(at)
  return {type, end, kind: SECTION_BY_TYPE.get(type)}
}

function locateSection(scanner: JsonScanner, begin: number, project: ReadonlySet<SectionKind>): LocatedSection {
  let type: string | undefined
  let keep: Projection | undefined
  let projected: Record<string, Json> | undefined
  let membersBeforeType = false
  const end = scanner.members(begin, (name, at) => {
    if (name === '@type') {
      if (type !== undefined) throw new ScanDoubt(at)
      const section = scanSectionType(scanner, at)
      type = section.type
      const valueEnd = section.end
      const kind = section.kind
      keep = kind !== undefined && project.has(kind) ? TABLE_PROJECTIONS[kind] : undefined
      if (keep) projected = {'@type': type}
      return valueEnd
    }
    if (type === undefined) membersBeforeType = true
    const kept = keep ? keep.names.indexOf(name) : -1
    if (kept < 0) return scanner.skipValue(at)
    const sub = keep!.subs[kept]
    if (sub === true) {
      const valueEnd = scanner.skipValue(at)
      projected![name] = scanner.value(at, valueEnd)
      return valueEnd
    }
    projected![name] = scanner.project(at, sub)
    return scanner.endOfLast()
  })
  // Sections without "@type" are skipped by the full parse; leave such dumps to it.
  if (type === undefined) throw new ScanDoubt(begin)
  // Members before "@type" (an unusual key order) were skipped unseen: project the section again.
  if (keep && membersBeforeType) projected = scanner.project(begin, keep) as Record<string, Json>
  return {type, begin, end, projected}
}

/**
 * A dump of the `only` sections. A projection is handed over once (`release`: the caller takes
 * each kind once, so memory goes as soon as the caller drops the dump); asked again, the section
 * is parsed whole, which gives the same summaries.
 */
export function sectionDump(scanner: JsonScanner, origin: string, located: readonly LocatedSection[], only: readonly SectionKind[], release = false): ConfigDump | undefined {
  const wanted = new Set(only)
  const configs: Json[] = []
  try {
    for (const section of located) {
      const kind = SECTION_BY_TYPE.get(section.type)
      if (kind === undefined || !wanted.has(kind)) continue
      configs.push(section.projected ?? scanner.parse(section.begin, section.end))
      if (release) section.projected = undefined
    }
  } catch (error) {
    if (error instanceof ScanDoubt) return undefined
    throw error
  }
  return configDumpFromJson({configs}, origin)
}

export function projectedKinds(only: readonly SectionKind[], summariesOnly: boolean): Set<SectionKind> {
  return new Set(summariesOnly ? only.filter((kind) => TABLE_PROJECTIONS[kind] !== undefined) : [])
}

function parseSections(bytes: Buffer, origin: string, only: readonly SectionKind[], summariesOnly: boolean): ConfigDump | undefined {
  const scanner = new JsonScanner(bytes)
  const located = locateSections(scanner, projectedKinds(only, summariesOnly))
  return located && sectionDump(scanner, origin, located, only)
}

/** A dump read section by section, so a caller can let go of each parsed section before the next. */
export interface SectionSource {
  has(kind: SectionKind): boolean
  /** A dump holding (at least) this section. */
  dumpWith(kind: SectionKind): ConfigDump
}

export const ALL_KINDS: readonly SectionKind[] = SECTION_SUFFIXES.map(([, kind]) => kind)

/** The sections of a dump for summaries (as `proxy-config all` prints them): projected where a table allows. */
export function sectionSource(input: InputText): SectionSource {
  const scanner = new JsonScanner(input.bytes ?? Buffer.from(input.text, 'utf8'))
  const located = locateSections(scanner, projectedKinds(ALL_KINDS, true))
  if (located) {
    const kinds = new Set(located.map((section) => SECTION_BY_TYPE.get(section.type)))
    return {
      has: (kind) => kinds.has(kind),
      dumpWith: (kind) => sectionDump(scanner, input.origin, located, [kind], true) ?? parseConfigDump(input.text, input.origin),
    }
  }
  const dump = parseConfigDump(input.text, input.origin)
  return {has: (kind) => dump.sections.has(kind), dumpWith: () => dump}
}

/** parseConfigDump for command input: scans the raw bytes when it has them. */
/** Inputs smaller than this are parsed whole. */
export const SECTION_SCAN_MIN_BYTES = 4 << 20

export function parseConfigDumpInput(input: InputText, options: DumpOptions = {}): ConfigDump {
  // Below a few MB one JSON.parse of everything is faster than scanning for sections (and the
  // scanner is more JavaScript to run at start-up); both paths print the same (equivalence tests).
  const size = input.bytes?.length ?? input.text.length
  if (options.only && size >= (options.scanMinBytes ?? SECTION_SCAN_MIN_BYTES)) {
    const sectioned = parseSections(input.bytes ?? Buffer.from(input.text, 'utf8'), input.origin, options.only, options.summariesOnly === true)
    if (sectioned) return sectioned
  }
  return parseConfigDump(input.text, input.origin)
}

/**
 * Whether the input's top-level object starts with a "configs" member (any whitespace), read from
 * its first bytes only. Envoy, istioctl, jq and Python all print "configs" as the only member, so
 * this tells a config dump from /clusters?format=json output without scanning the whole input.
 */
export function startsAsConfigDump(input: InputText): boolean {
  const head = input.bytes ? input.bytes.subarray(0, 64) : Buffer.from(input.text.slice(0, 64), 'utf8')
  return /^\s*\{\s*"configs"\s*:/.test(head.toString('latin1'))
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

