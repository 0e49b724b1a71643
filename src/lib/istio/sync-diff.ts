import {structuredPatch} from 'diff'

import {configDumpFromJson, parseJsonText, type ConfigDump, type SectionKind} from '../envoy/configdump.js'
import {arrayField, field, type Json} from '../envoy/fields.js'

/**
 * The one-proxy diff: istiod's view of a proxy (`/debug/config_dump?proxyID=`, protobuf JSON in
 * lowerCamelCase) against the proxy's own `/config_dump` (Envoy's snake_case). Both are brought to
 * one spelling, stripped of what always differs (versions, timestamps), sorted, and compared per
 * section as stably pretty-printed JSON.
 */

// ---------------------------------------------------------------------------------------------
// Key normalisation

/**
 * Fields whose value is user data as a whole (google.protobuf.Struct, or maps of Struct or of
 * strings): their keys are not proto field names and are kept verbatim, all the way down.
 */
const VERBATIM_FIELDS = new Set([
  'filter_metadata', // core.v3.Metadata: map<string, Struct>
  'per_filter_config', // map<string, Struct> (v2)
  'extension_protocol_options', // map<string, Struct> (v2)
  'json_format', // access log format: user-chosen keys
  'struct_value', // google.protobuf.Value
  'key_values', // wasm environment variables: map<string, string>
  'dimensions', // istio.stats metric dimensions: map<string, string>
  'static_layer', // bootstrap runtime: Struct
])

/** Map fields: their keys are user data (filter names, policy names, addresses), their values messages. */
const MAP_FIELDS = new Set([
  'typed_filter_metadata',
  'typed_per_filter_config',
  'typed_extension_protocol_options',
  'policies', // RBAC
  'providers', // jwt_authn
  'requirement_map', // jwt_authn
  'source_codes', // lua
  'map', // matcher exact_match_map / prefix_match_map
])

/** `Any` payloads whose `value` is user data. */
const VERBATIM_ANY_VALUE = [
  'google.protobuf.Struct',
  'google.protobuf.Value',
  'google.protobuf.ListValue',
  'udpa.type.v1.TypedStruct',
  'xds.type.v3.TypedStruct',
]

/** A key that may be a proto field name in lowerCamelCase (not `@type`, not `10.0.0.1`, not `envoy.lua`). */
const FIELD_NAME = /^[a-z][A-Za-z0-9_]*$/

/**
 * The snake_case spelling of a proto JSON key. Going through protoc's lowerCamelCase first makes
 * both spellings of a field agree even where snake -> camel -> snake does not round-trip
 * (`foo_1bar` and `foo1bar` both become `foo1bar`).
 */
export function snakeKey(key: string): string {
  if (!FIELD_NAME.test(key)) return key
  const camel = key.replace(/_+(.)/g, (_, ch: string) => ch.toUpperCase())
  return camel.replace(/[A-Z]/g, (ch) => '_' + ch.toLowerCase())
}

function isPlainObject(value: Json): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function anyValueIsVerbatim(obj: Json): boolean {
  const type = obj['@type']
  return typeof type === 'string' && VERBATIM_ANY_VALUE.some((name) => type.endsWith('/' + name))
}

/**
 * Rewrites proto JSON keys to snake_case, leaving user data alone: Struct fields and Struct-valued
 * maps (`filter_metadata`, `json_format`, `node.metadata`...), the keys of map fields
 * (`typed_per_filter_config`, RBAC `policies`...), and the `value` of Struct/TypedStruct `Any`s.
 * Envoy's snake_case input comes back unchanged (apart from `_<digit>` names, see snakeKey).
 */
export function normaliseProtoJson(value: Json, parentKey = ''): Json {
  if (Array.isArray(value)) return value.map((item) => normaliseProtoJson(item, parentKey))
  if (!isPlainObject(value)) return value
  const verbatimValue = anyValueIsVerbatim(value)
  const result: Record<string, Json> = {}
  for (const [key, child] of Object.entries(value)) {
    const name = snakeKey(key)
    if (VERBATIM_FIELDS.has(name) || (name === 'value' && verbatimValue) || (name === 'metadata' && parentKey === 'node')) {
      result[name] = child
    } else if (MAP_FIELDS.has(name) && isPlainObject(child)) {
      result[name] = Object.fromEntries(Object.entries(child as Record<string, Json>).map(([mapKey, entry]) => [mapKey, normaliseProtoJson(entry)]))
    } else {
      result[name] = normaliseProtoJson(child, name)
    }
  }
  return result
}

// ---------------------------------------------------------------------------------------------
// Stable printing

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (!isPlainObject(value)) return value
  const sorted: Record<string, Json> = {}
  for (const key of Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) sorted[key] = sortKeys(value[key])
  return sorted
}

/** 2-space JSON with keys sorted at every level and a trailing newline: equal configs print equal. */
export function stableJson(value: Json): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n'
}

// ---------------------------------------------------------------------------------------------
// Sections

export type DiffSectionName = 'Clusters' | 'Listeners' | 'Routes'

const LISTENER_V3 = 'type.googleapis.com/envoy.config.listener.v3.Listener'

function byName(keyOf: (entry: Json) => Json): (a: Json, b: Json) => number {
  return (a, b) => {
    const x = String(keyOf(a)?.name ?? '')
    const y = String(keyOf(b)?.name ?? '')
    return x < y ? -1 : x > y ? 1 : 0
  }
}

function withoutKeys(obj: Json, keys: readonly string[]): Json {
  if (!isPlainObject(obj)) return obj
  const copy = {...obj}
  for (const key of keys) delete copy[key]
  return copy
}

/** `dynamic_active_clusters`, sorted by cluster name, without versions and timestamps. */
function clustersView(section: Json): Json {
  const clusters = arrayField(section, 'dynamic_active_clusters')
    .map((entry) => withoutKeys(entry, ['version_info', 'last_updated']))
    .sort(byName((entry) => entry.cluster))
  return {dynamic_active_clusters: clusters}
}

/**
 * Dynamic listeners with an active state, sorted by listener name, without the draining state (a
 * reloaded listener has both), the active state's version and timestamp, and the dynamic
 * listener's own `name` (Envoy sets it, istiod does not).
 */
function listenersView(section: Json): Json {
  const listeners = arrayField(section, 'dynamic_listeners')
    .filter((entry) => isPlainObject(entry?.active_state))
    .map((entry) => {
      const active = withoutKeys(entry.active_state, ['version_info', 'last_updated'])
      if (isPlainObject(active.listener) && typeof active.listener['@type'] === 'string') {
        // v2 and v3 dumps describe the same listener.
        active.listener = {...active.listener, '@type': LISTENER_V3}
      }
      return {...withoutKeys(entry, ['draining_state', 'name']), active_state: active}
    })
    .sort(byName((entry) => entry.active_state.listener))
  return {dynamic_listeners: listeners}
}

/** `dynamic_route_configs`, sorted by name, each with its virtual hosts sorted by name, without versions. */
function routesView(section: Json): Json {
  const routes = arrayField(section, 'dynamic_route_configs')
    .map((entry) => {
      const copy = withoutKeys(entry, ['version_info', 'last_updated'])
      if (isPlainObject(copy.route_config) && Array.isArray(copy.route_config.virtual_hosts)) {
        copy.route_config = {...copy.route_config, virtual_hosts: [...copy.route_config.virtual_hosts].sort(byName((vh) => vh))}
      }
      return copy
    })
    .sort(byName((entry) => entry.route_config))
  return {dynamic_route_configs: routes}
}

interface SectionSpec {
  name: DiffSectionName
  kind: SectionKind
  view: (section: Json) => Json
  /** The view's list of resources, and each one's name. */
  entries: (view: Json) => Json[]
  nameOf: (entry: Json) => string
}

const SECTIONS: readonly SectionSpec[] = [
  {name: 'Clusters', kind: 'Clusters', view: clustersView, entries: (view) => view.dynamic_active_clusters, nameOf: (entry) => String(entry?.cluster?.name ?? '')},
  {name: 'Listeners', kind: 'Listeners', view: listenersView, entries: (view) => view.dynamic_listeners, nameOf: (entry) => String(entry?.active_state?.listener?.name ?? '')},
  {name: 'Routes', kind: 'Routes', view: routesView, entries: (view) => view.dynamic_route_configs, nameOf: (entry) => String(entry?.route_config?.name ?? '')},
]

/** One side's view of a section (normalised, sorted, without what always differs), or undefined when the dump lacks it. */
function sectionView(dump: ConfigDump, spec: SectionSpec): Json {
  const section = dump.sections.get(spec.kind)
  return section === undefined ? undefined : spec.view(normaliseProtoJson(section))
}

/** The text one side contributes to a section's comparison: its stable JSON, or why there is none. */
function sectionText(dump: ConfigDump, spec: SectionSpec, view: Json, side: string): string {
  if (view === undefined) return `${side} config dump (${dump.origin}) has no ${spec.kind}ConfigDump\n`
  return stableJson(view)
}

/**
 * Which resources differ, by name: `added` are in istiod's view only (sent, not in Envoy's
 * config: not yet accepted, or rejected), `removed` in Envoy's only (istiod no longer sends them),
 * `changed` in both with different content. Names in byte order.
 */
export function resourceChanges(spec: Pick<SectionSpec, 'entries' | 'nameOf'>, istiodView: Json, envoyView: Json): ResourceChanges {
  const byName = (view: Json) => new Map(spec.entries(view).map((entry) => [spec.nameOf(entry), stableJson(entry)]))
  const istiod = byName(istiodView)
  const envoy = byName(envoyView)
  const sorted = (names: Iterable<string>) => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return {
    added: sorted([...istiod.keys()].filter((name) => !envoy.has(name))),
    removed: sorted([...envoy.keys()].filter((name) => !istiod.has(name))),
    changed: sorted([...istiod.keys()].filter((name) => envoy.has(name) && envoy.get(name) !== istiod.get(name))),
  }
}

// ---------------------------------------------------------------------------------------------
// Unified diff

/** difflib's range format: a length of 1 prints the start only; an empty range prints start-1. */
function formatRange(start: number, length: number): string {
  if (length === 1) return String(start)
  return `${length === 0 ? start - 1 : start},${length}`
}

/** A unified diff (`--- a`, `+++ b`, `@@` hunks), or '' when the texts are equal. */
export function unifiedDiff(fromName: string, toName: string, fromText: string, toText: string, context = 7): string {
  if (fromText === toText) return ''
  const patch = structuredPatch(fromName, toName, fromText, toText, undefined, undefined, {context})
  const out = [`--- ${fromName}`, `+++ ${toName}`]
  for (const hunk of patch.hunks) {
    out.push(`@@ -${formatRange(hunk.oldStart, hunk.oldLines)} +${formatRange(hunk.newStart, hunk.newLines)} @@`)
    for (const line of hunk.lines) if (!line.startsWith('\\')) out.push(line)
  }
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------------------------------------
// API

export interface ResourceChanges {
  /** In istiod's view only: sent, but not in Envoy's config. */
  added: string[]
  /** In Envoy's config only: istiod no longer sends them. */
  removed: string[]
  /** In both, with different content. */
  changed: string[]
}

export interface SectionDiff {
  name: DiffSectionName
  match: boolean
  /** Which resources differ, by name (when the section does not match and both sides have it). */
  resources?: ResourceChanges
  /** Unified diff, istiod's view (`---`) against Envoy's (`+++`); '' when they match. */
  diff: string
  /** Routes only: the newest `last_updated` of Envoy's dynamic route configs (RFC 3339). */
  lastLoaded?: string
}

export interface ProxyConfigDiff {
  sections: SectionDiff[]
  anyDifference: boolean
}

const EXPECTED_ISTIOD = 'istiod\'s /debug/config_dump?proxyID=<pod>.<namespace> (an object with a "configs" list)'
const EXPECTED_ENVOY = 'an Envoy /config_dump (an object with a "configs" list)'

/** Parses istiod's dump: the HTTP `{configs}` form or the xDS `istio.io/debug/config_dump` response (`{resources}`). */
export function parseIstiodDump(text: string, origin: string): ConfigDump {
  const raw = parseJsonText(text, origin, EXPECTED_ISTIOD)
  if (isPlainObject(raw) && raw.configs === undefined && Array.isArray(raw.resources)) {
    return configDumpFromJson({configs: raw.resources}, origin)
  }
  return configDumpFromJson(raw, origin)
}

export function parseEnvoyDump(text: string, origin: string): ConfigDump {
  return configDumpFromJson(parseJsonText(text, origin, EXPECTED_ENVOY), origin)
}

function newestRouteUpdate(envoy: ConfigDump): string | undefined {
  const section = envoy.sections.get('Routes')
  let newest: {time: number; text: string} | undefined
  for (const entry of arrayField(section, 'dynamic_route_configs')) {
    const text = field(entry, 'last_updated')
    const time = typeof text === 'string' ? Date.parse(text) : Number.NaN
    if (!Number.isNaN(time) && (newest === undefined || time > newest.time)) newest = {time, text}
  }
  return newest?.text
}

/** Compares istiod's view of a proxy with the proxy's own config dump, section by section. */
export function diffProxyConfig(istiodDump: ConfigDump, envoyDump: ConfigDump, options: {context?: number} = {}): ProxyConfigDiff {
  const sections = SECTIONS.map((spec): SectionDiff => {
    const {name} = spec
    const istiodView = sectionView(istiodDump, spec)
    const envoyView = sectionView(envoyDump, spec)
    const istiodText = sectionText(istiodDump, spec, istiodView, 'istiod')
    const envoyText = sectionText(envoyDump, spec, envoyView, 'Envoy')
    const diff = unifiedDiff(`Istiod ${name}`, `Envoy ${name}`, istiodText, envoyText, options.context ?? 7)
    const result: SectionDiff = {name, match: diff === '', ...(diff === '' || istiodView === undefined || envoyView === undefined ? {} : {resources: resourceChanges(spec, istiodView, envoyView)}), diff}
    if (name === 'Routes') {
      const lastLoaded = newestRouteUpdate(envoyDump)
      if (lastLoaded !== undefined) result.lastLoaded = lastLoaded
    }
    return result
  })
  return {sections, anyDifference: sections.some((section) => !section.match)}
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** RFC 1123 in UTC (`Mon, 02 Jan 2006 15:04:05 UTC`): deterministic, unlike istioctl's local time. */
export function rfc1123(text: string): string {
  const date = new Date(text)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC`
}

/** At most this many names per line of the summary; the diff below has them all. */
const NAMES_SHOWN = 10

function nameList(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ')
  return names.length > NAMES_SHOWN ? `${shown}, and ${names.length - NAMES_SHOWN} more` : shown
}

/** The lines that say which resources differ, before the diff (none when the names cannot say: a section missing on one side). */
export function renderResourceChanges(changes: ResourceChanges | undefined): string {
  if (changes === undefined) return ''
  const lines = [
    changes.added.length > 0 ? `  only in istiod (not in Envoy): ${nameList(changes.added)}` : '',
    changes.removed.length > 0 ? `  only in Envoy (istiod no longer sends): ${nameList(changes.removed)}` : '',
    changes.changed.length > 0 ? `  changed: ${nameList(changes.changed)}` : '',
  ].filter(Boolean)
  return lines.map((line) => line + '\n').join('')
}

/**
 * istioctl's layout: `<Section> Match`, or `<Section> Don't Match`, the diff and a blank line;
 * meshdbg adds, between the two, which resources differ by name.
 */
export function renderProxyConfigDiff(result: ProxyConfigDiff): string {
  let out = ''
  for (const section of result.sections) {
    const loaded = section.lastLoaded === undefined ? '' : ` (RDS last loaded at ${rfc1123(section.lastLoaded)})`
    out += section.match ? `${section.name} Match${loaded}\n` : `${section.name} Don't Match${loaded}\n${renderResourceChanges(section.resources)}${section.diff}\n`
  }
  return out
}
