import {BytesMemo, type KeptText} from '../bytes-memo.js'
import {ADMIN_V3, configDumpFromJson, parseJsonText, startsAsConfigDump, type ConfigDump} from '../envoy/configdump.js'
import {parseEndpointInput} from '../envoy/endpoints.js'
import {arrayField, camelName, field, path, type Json} from '../envoy/fields.js'
import {JsonScanner, projection, ScanDoubt, type Projection} from '../envoy/json-scan.js'
import {parseSubsetKey} from '../envoy/istio-names.js'
import {MeshdbgError} from '../errors.js'
import type {InputText} from '../input.js'
import {clusterNames, destinationRuleFor, type RouteTarget} from './route-targets.js'
import type {DumpRouting} from './routing.js'

/**
 * The part of a proxy's config dump that diagnose's checks read, asked of Envoy admin with its own
 * filters instead of the whole dump (11 MB on a 2,000-service sidecar, most of it cluster TLS and
 * listener filter chains no check reads). With `resource=` Envoy answers the items of one repeated
 * field, and `mask=` trims each item to the listed paths (Envoy's admin docs, "config_dump":
 * `?resource=dynamic_active_clusters&mask=cluster.name`). A field mask cannot index into repeated
 * fields, so routes are fetched whole, by a mask selecting only the route sections.
 *
 * What a check may read from the dump this builds:
 * - Clusters (static, active, warming): `name`, `type`, `eds_cluster_config`; of static and
 *   warming ones also `metadata.filter_metadata.istio.config` (Envoy sends the whole metadata: see
 *   readClusterItems). Active clusters' metadata (the services lists in it are half of their
 *   answer) is asked for only when a check needs a DestinationRule: destinationRulePaths.
 * - Listeners: dynamic listeners' `name` and whether `active_state` / `warming_state` is set
 *   (through their `version_info`, which Envoy sets on every state of an xDS listener).
 * - Routes: each route configuration's `name`, its virtual hosts' `name`, and their routes' `name`,
 *   `metadata.filter_metadata.istio.config` and `route` action's `cluster` and `weighted_clusters`
 *   (Envoy has to send them whole: see projectRoutes).
 * - /clusters: each cluster status's `name` and its hosts' `address` and `health_status`.
 * A new check that needs more adds its paths here.
 */
export const CLUSTER_MASK = 'cluster.name,cluster.type,cluster.eds_cluster_config.service_name,cluster.metadata'
export const ACTIVE_CLUSTER_MASK = 'cluster.name,cluster.type,cluster.eds_cluster_config.service_name'
const RULE_MASK = 'cluster.name,cluster.metadata'
export const LISTENER_MASK = 'name,active_state.version_info,warming_state.version_info'

/** Admin paths (no leading slash), each answered on its own request; all small but the routes. */
export const DIAGNOSE_DUMP_PATHS = {
  staticClusters: `config_dump?resource=static_clusters&mask=${CLUSTER_MASK}`,
  activeClusters: `config_dump?resource=dynamic_active_clusters&mask=${ACTIVE_CLUSTER_MASK}`,
  warmingClusters: `config_dump?resource=dynamic_warming_clusters&mask=${CLUSTER_MASK}`,
  listeners: `config_dump?resource=dynamic_listeners&mask=${LISTENER_MASK}`,
  routes: 'config_dump?mask=static_route_configs,dynamic_route_configs',
} as const

export type DiagnoseDumpPart = keyof typeof DIAGNOSE_DUMP_PATHS

const EXPECTED = 'an Envoy admin /config_dump answer ({"configs": [...]})'

/** The `configs` list of a config_dump answer parsed whole (`expected` names the answer in a parse error); undefined when it has none. */
export function answerConfigs(input: InputText, expected: string): Json[] | undefined {
  const raw = parseJsonText(input.text, input.origin, expected)
  const configs = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw.configs : undefined
  return Array.isArray(configs) ? configs : undefined
}

const configsOf = (input: InputText): Json[] => answerConfigs(input, EXPECTED) ?? []

/** A `resource=` answer's items, without the `@type` Envoy adds to each (the section's fields). */
function items(input: InputText): Json[] {
  return configsOf(input).map((item) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item
    const {['@type']: _type, ...rest} = item
    return rest
  })
}

// What projectRoutes and projectClusterStatuses read, for the byte scanner (json-scan.ts): the
// two big answers are scanned for these members instead of JSON.parsed whole (a 2,000-service
// sidecar's routes are ~2.5 MB of domains and retry policies, its /clusters ~1.6 MB of host stats,
// and parsing both whole was most of a 500-proxy `diagnose -A`'s CPU). Keep in step with them.
const ROUTE_CONFIG_READ = {name: true, virtual_hosts: {name: true, routes: {name: true, metadata: {filter_metadata: {istio: {config: true}}}, route: {cluster: true, weighted_clusters: true}}}} as const
const ROUTES_ANSWER = projection({configs: {'@type': true, static_route_configs: {route_config: ROUTE_CONFIG_READ}, dynamic_route_configs: {route_config: ROUTE_CONFIG_READ}}}, camelName)
const CLUSTERS_ANSWER = projection({cluster_statuses: {name: true, host_statuses: {address: true, health_status: true}}}, camelName)

/**
 * The JSON object `input` holds, with only `keep`'s members; undefined when it is not an object or
 * the scanner doubts anything (the caller then parses the whole text, so results and error
 * messages never depend on the scanner).
 */
export function scanProjected(input: InputText, keep: Projection): Json | undefined {
  const bytes = input.bytes ?? Buffer.from(input.text, 'utf8')
  try {
    const scanner = new JsonScanner(bytes)
    const start = scanner.skipSpace(0)
    if (bytes[start] !== 0x7b) return undefined
    const value = scanner.project(start, keep) as Json
    return scanner.skipSpace(scanner.endOfLast()) === bytes.length ? value : undefined
  } catch (error) {
    if (error instanceof ScanDoubt) return undefined
    throw error
  }
}

const CLUSTER_READ = {name: true, type: true, eds_cluster_config: true, metadata: {filter_metadata: {istio: {config: true}}}} as const
const CLUSTER_ITEMS = projection({configs: {cluster: CLUSTER_READ}}, camelName)
const CLUSTER_ITEM = projection({cluster: CLUSTER_READ}, camelName)

/**
 * A clusters answer's items (`resource=..._clusters`), each cluster cut to what the checks read:
 * of its metadata only `filter_metadata.istio.config` (the DestinationRule, istioConfigNameOf),
 * not the services lists that are most of the 1 MB a 2,000-service sidecar answers. With `memo`,
 * an item whose text was read before is not read again (ClusterItemMemo).
 */
export function readClusterItems(input: InputText, memo?: ClusterItemMemo): Json[] {
  const remembered = memo === undefined ? undefined : scanClusterItemsWithMemo(input, memo)
  if (remembered !== undefined) return remembered
  const scanned = scanProjected(input, CLUSTER_ITEMS)
  const configs = scanned === undefined ? items(input) : field(scanned, 'configs')
  const list: Json[] = Array.isArray(configs) ? configs : []
  const out = new Array<Json>(list.length)
  for (let k = 0; k < list.length; k++) out[k] = clusterItemOf(list[k])
  return out
}

/** One item as readClusterItems keeps it: `{cluster: {name, type, eds_cluster_config, metadata.filter_metadata.istio.config}}`. */
function clusterItemOf(item: Json): Json {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return item
  const cluster = field(item, 'cluster')
  if (cluster === undefined) return {}
  const kept = pick(cluster, CLUSTER_FIELDS)
  const config = field(field(field(field(cluster, 'metadata'), 'filter_metadata'), 'istio'), 'config')
  if (config !== undefined && config !== null) kept.metadata = {filter_metadata: {istio: {config}}}
  return {cluster: kept}
}

/**
 * The cluster items of the last clusters answer read, found again by position. The sidecars of a
 * namespace have the same outbound clusters, and Envoy dumps clusters in name order (a std::map),
 * each item alike on every proxy: one answer repeats the one before but for a few items (a
 * sidecar's own inbound clusters). Reading the items of a 2,000-service sidecar's active clusters
 * was half the worker's time of a 500-proxy `diagnose -A`, the same items read again for every
 * proxy; a Map by each item's text instead spent as long hashing the texts. Here an item is taken
 * when its bytes equal those of the item expected next (a memcmp), or of the item a native search
 * finds after a difference. The items read are shared and must not be changed.
 */
export class ClusterItemMemo {
  private last?: ReadItems
  /**
   * Two buffers, in turns: the last answer's copy, read while the next answer is, and the one the
   * next answer is then copied to. A fresh copy per answer (~0.7 MB) piled up outside the worker's
   * heap, which rarely collects (as BytesMemo's copies did).
   */
  private readonly copies: [Buffer | undefined, Buffer | undefined] = [undefined, undefined]
  private turn = 0

  /** A reading of an answer: offers the last answer's items in order, and records this one's. */
  reading(bytes: Buffer): ClusterItemReading {
    return new ClusterItemReading(bytes, this.last, (read) => this.keep(read))
  }

  private keep(read: ReadItems): void {
    this.turn = 1 - this.turn
    let copy = this.copies[this.turn]
    if (copy === undefined || copy.length < read.bytes.length) copy = this.copies[this.turn] = Buffer.allocUnsafeSlow(Math.ceil(read.bytes.length * 1.25))
    read.bytes.copy(copy)
    this.last = {...read, bytes: copy.subarray(0, read.bytes.length)}
  }
}

interface ReadItems {
  bytes: Buffer
  starts: number[]
  ends: number[]
  values: Json[]
}

/** How many differences one answer may send a search into the last answer (past them it reads on). */
const MAX_RESYNCS = 16

class ClusterItemReading {
  private next = 0
  private resyncs = 0
  private readonly starts: number[] = []
  private readonly ends: number[] = []
  private readonly values: Json[] = []

  constructor(
    private readonly bytes: Buffer,
    private readonly last: ReadItems | undefined,
    private readonly keep: (read: ReadItems) => void,
  ) {}

  /**
   * The item starting at `at` if its text is one of the last answer's items: where it ends and
   * its value. `guessEnd` finds where a pretty printer ended it, for the search after a difference.
   */
  known(at: number, guessEnd: () => number | undefined): {end: number; value: Json} | undefined {
    const last = this.last
    if (last === undefined) return undefined
    if (this.next < last.starts.length && this.equals(at, this.next)) return this.take(at, this.next)
    if (this.resyncs >= MAX_RESYNCS) return undefined
    this.resyncs++
    const guess = guessEnd()
    if (guess === undefined) return undefined
    const from = this.next < last.starts.length ? last.starts[this.next] : last.bytes.length
    const text = this.bytes.subarray(at, guess)
    // The search may land inside an item: only an item's own start counts.
    for (let found = last.bytes.indexOf(text, from); found >= 0; found = last.bytes.indexOf(text, found + 1)) {
      const index = indexOfStart(last.starts, found)
      if (index >= 0 && this.equals(at, index)) return this.take(at, index)
    }
    return undefined
  }

  /** Records an item read by a walk. */
  read(at: number, end: number, value: Json): void {
    this.starts.push(at)
    this.ends.push(end)
    this.values.push(value)
  }

  /** The answer is read: its items (the memo keeps a copy of its bytes) are the ones offered next. */
  done(): void {
    this.keep({bytes: this.bytes, starts: this.starts, ends: this.ends, values: this.values})
  }

  /** True when the bytes at `at` are those of the last answer's item `index` (a whole JSON value, so the item at `at` is that one). */
  private equals(at: number, index: number): boolean {
    const last = this.last!
    const length = last.ends[index] - last.starts[index]
    return at + length <= this.bytes.length && this.bytes.compare(last.bytes, last.starts[index], last.ends[index], at, at + length) === 0
  }

  private take(at: number, index: number): {end: number; value: Json} {
    const last = this.last!
    const end = at + last.ends[index] - last.starts[index]
    this.next = index + 1
    this.read(at, end, last.values[index])
    return {end, value: last.values[index]}
  }
}

/** The index of `start` in the ascending `starts`, or -1. */
function indexOfStart(starts: readonly number[], start: number): number {
  let low = 0
  let high = starts.length - 1
  while (low <= high) {
    const mid = (low + high) >> 1
    if (starts[mid] === start) return mid
    if (starts[mid] < start) low = mid + 1
    else high = mid - 1
  }
  return -1
}

/**
 * readClusterItems' result, each item through `memo`; undefined when the scanner doubts anything
 * (the caller then reads it without a memo, and the memo keeps the answer before).
 */
function scanClusterItemsWithMemo(input: InputText, memo: ClusterItemMemo): Json[] | undefined {
  const bytes = input.bytes ?? Buffer.from(input.text, 'utf8')
  let found: Json[] | undefined
  let reading: ClusterItemReading | undefined
  const walked = walkConfigItems(bytes, (scanner) => {
    const out: Json[] = []
    found = out
    const items = memo.reading(bytes)
    reading = items
    return (at) => {
      const known = items.known(at, () => scanner.prettyEnd(at))
      if (known !== undefined) {
        out.push(known.value)
        return known.end
      }
      const item = clusterItemOf(scanner.project(at, CLUSTER_ITEM) as Json)
      const itemEnd = scanner.endOfLast()
      items.read(at, itemEnd, item)
      out.push(item)
      return itemEnd
    }
  })
  if (!walked) return undefined
  reading?.done()
  return found ?? []
}

/**
 * Walks the items of a `resource=` answer (`{"configs": [...]}`) for readers that take each item
 * through a memo: `list` is called at each `configs` list (the last one stands, as in JSON.parse)
 * and gives what reads one item at `at`, returning where it ends. False when the scanner doubts
 * anything (the caller then reads the answer without its memo, so results and errors never
 * depend on the walk).
 */
export function walkConfigItems(bytes: Buffer, list: (scanner: JsonScanner) => (at: number) => number): boolean {
  try {
    const scanner = new JsonScanner(bytes)
    const start = scanner.skipSpace(0)
    if (bytes[start] !== 0x7b) return false
    let doubt = false
    const end = scanner.members(start, (name, value) => {
      if (name !== 'configs') return scanner.skipValue(value)
      if (bytes[value] !== 0x5b) {
        doubt = true
        return scanner.skipValue(value)
      }
      return scanner.elements(value, list(scanner))
    })
    return !doubt && scanner.skipSpace(end) === bytes.length
  } catch (error) {
    if (error instanceof ScanDoubt) return false
    throw error
  }
}

const CLUSTER_FIELDS = ['name', 'type', 'eds_cluster_config'] as const

/**
 * Route configurations already read, found again by their JSON text (BytesMemo): sidecars of one
 * namespace (one Sidecar scope) get the same route configurations from istiod, byte for byte apart
 * from the `version_info` and `last_updated` beside each, and reading a 2,000-service sidecar's
 * `80` (~2.5 MB) is most of a proxy's dump reading. A hit costs a byte comparison, and a skim of
 * the text when another configuration held its place in the last answer (a SHA-1 of each text
 * instead was a sixth of the worker's time over 500 sidecars).
 * Each reader keeps its own (a worker thread's lives as long as the worker). A value is kept only
 * with text a walk read whole, so that text's extent is proven (scanRoutesWithMemo relies on it).
 */
export class RouteConfigMemo extends BytesMemo<Json> {
  /** Route targets of a read route configuration (route-targets.ts), by the object read. */
  readonly targets = new WeakMap<object, RouteTarget[]>()
  /**
   * The text found at each route configuration's place in the last answer (its n-th): tried
   * first at the same place in the next answer, a byte comparison instead of the native search
   * for where the configuration ends (prettyEnd: ~0.4 s of 500 sidecars' 2.5 MB answers).
   */
  readonly byPlace: Array<KeptText<Json> | undefined> = []

  constructor(maxKeptBytes = ROUTE_MEMO_MAX_BYTES) {
    super(maxKeptBytes)
  }
}

/**
 * Text of the route configurations a memo keeps. 500 sidecars of the scale scenario (~2.5 MB of
 * route configurations each, namespace by namespace) missed 584 of ~3,900 reads with 4 MB kept,
 * 526 with 48 MB.
 */
const ROUTE_MEMO_MAX_BYTES = 8 * 1024 * 1024

const ROUTE_CONFIG_PROJECTION = projection(ROUTE_CONFIG_READ, camelName)

/**
 * The routes answer's RoutesConfigDump as readRoutesAnswer makes it, each route configuration
 * through `memo`; undefined when the scanner doubts anything (the caller then reads it as without
 * a memo). Walks what ROUTES_ANSWER keeps: configs[].{@type, static/dynamic_route_configs[].route_config}.
 */
function scanRoutesWithMemo(input: InputText, memo: RouteConfigMemo): Json | undefined {
  const bytes = input.bytes ?? Buffer.from(input.text, 'utf8')
  try {
    const scanner = new JsonScanner(bytes)
    let place = 0
    // Each entry as projectRouteConfigs makes it: {route_config} or, without one, {}.
    const routeConfigs = (at: number, out: Json[]) => scanner.elements(at, (entry) => {
      let routeConfig: Json | undefined
      const entryEnd = scanner.members(entry, (name, value) => {
        if (name !== 'route_config') return scanner.skipValue(value)
        const here = place++
        // A kept text is a whole JSON object, whose end its own bytes decide: equal bytes from
        // `value` on are that object, whatever follows.
        const last = memo.byPlace[here]
        if (last !== undefined && memo.startsAt(last, bytes, value)) {
          routeConfig = last.value
          return value + last.length
        }
        // Found by a native search, not a walk: when the memo knows the text up to that guess,
        // the walk that proved where that text ends proves it here too (same bytes, same extent).
        const guess = scanner.prettyEnd(value)
        const known = guess === undefined ? undefined : memo.lookupKept(bytes, value, guess)
        if (known !== undefined) {
          memo.byPlace[here] = known
          routeConfig = known.value
          return guess!
        }
        const projected = projectRouteConfig(scanner.project(value, ROUTE_CONFIG_PROJECTION) as Json)
        const end = scanner.endOfLast()
        memo.byPlace[here] = memo.keep(bytes, projected, value, end)
        routeConfig = projected
        return end
      })
      out.push(routeConfig === undefined ? {} : {route_config: routeConfig})
      return entryEnd
    })
    let found: Json | undefined
    const start = scanner.skipSpace(0)
    const end = scanner.members(start, (name, value) => {
      if (name !== 'configs') return scanner.skipValue(value)
      found = undefined
      return scanner.elements(value, (section) => {
        let type: unknown
        const statics: Json[] = []
        const dynamics: Json[] = []
        const sectionEnd = scanner.members(section, (member, at) => {
          if (member === '@type') {
            const after = scanner.skipValue(at)
            type = scanner.value(at, after)
            return after
          }
          if (member === 'static_route_configs') return (statics.length = 0, routeConfigs(at, statics))
          if (member === 'dynamic_route_configs') return (dynamics.length = 0, routeConfigs(at, dynamics))
          return scanner.skipValue(at)
        })
        if (found === undefined && type === `${ADMIN_V3}RoutesConfigDump`) found = {'@type': type, static_route_configs: statics, dynamic_route_configs: dynamics}
        return sectionEnd
      })
    })
    if (scanner.skipSpace(end) !== bytes.length) return undefined
    return found ?? {'@type': `${ADMIN_V3}RoutesConfigDump`, static_route_configs: [], dynamic_route_configs: []}
  } catch (error) {
    if (error instanceof ScanDoubt) return undefined
    throw error
  }
}

/** The routes answer's RoutesConfigDump, cut down by projectRoutes (its route configurations through `memo` when given). */
export function readRoutesAnswer(input: InputText, memo?: RouteConfigMemo): Json {
  const remembered = memo === undefined ? undefined : scanRoutesWithMemo(input, memo)
  if (remembered !== undefined) return remembered
  const scanned = scanProjected(input, ROUTES_ANSWER)
  const configs = scanned === undefined ? configsOf(input) : Array.isArray(field(scanned, 'configs')) ? (field(scanned, 'configs') as Json[]) : []
  return projectRoutes(configs.find((config) => config?.['@type'] === `${ADMIN_V3}RoutesConfigDump`) ?? {'@type': `${ADMIN_V3}RoutesConfigDump`})
}

/** `/clusters?format=json` cut down by projectClusterStatuses; anything but cluster statuses is an error. */
export function readClusterStatuses(input: InputText, id: string): Json[] {
  // A config dump answered instead takes the full path and its error, as does anything the scan doubts.
  const scanned = startsAsConfigDump(input) ? undefined : scanProjected(input, CLUSTERS_ANSWER)
  const statuses = scanned === undefined ? undefined : field(scanned, 'cluster_statuses')
  if (Array.isArray(statuses)) return projectClusterStatuses(statuses)
  const parsed = parseEndpointInput(input)
  if (parsed.kind !== 'cluster-status') throw new MeshdbgError('bad-data', `${id}: /clusters?format=json did not answer cluster statuses`)
  return projectClusterStatuses(parsed.clusterStatuses)
}

/**
 * One ConfigDump (Clusters, Listeners and Routes sections) from the answers to
 * DIAGNOSE_DUMP_PATHS, so the checks read it as they read a whole dump.
 */
export function assembleDiagnoseDump(answers: Record<DiagnoseDumpPart, InputText>, origin: string, memos?: DumpReadMemos): ConfigDump {
  const routes = readRoutesAnswer(answers.routes, memos?.routeConfigs)
  return configDumpFromJson({
    configs: [
      {
        '@type': `${ADMIN_V3}ClustersConfigDump`,
        static_clusters: readClusterItems(answers.staticClusters),
        dynamic_active_clusters: readClusterItems(answers.activeClusters, memos?.clusterItems),
        dynamic_warming_clusters: readClusterItems(answers.warmingClusters),
      },
      {'@type': `${ADMIN_V3}ListenersConfigDump`, dynamic_listeners: items(answers.listeners)},
      routes,
    ],
  }, origin)
}

/** What a reader (a worker thread) keeps of the answers it read, for later proxies' answers that repeat them. */
export interface DumpReadMemos {
  routeConfigs: RouteConfigMemo
  clusterItems: ClusterItemMemo
}

export function dumpReadMemos(): DumpReadMemos {
  return {routeConfigs: new RouteConfigMemo(), clusterItems: new ClusterItemMemo()}
}

/** Longest name_regex sent; past it the rule lookup reads every cluster's metadata. */
const MAX_NAME_REGEX = 4000

/**
 * The admin paths that answer the metadata of the clusters of `hostnames` (`dir|port|subset|host`
 * names), for withDestinationRules: a `name_regex` (RE2, matched whole) keeps the answer to those
 * clusters. An Envoy too old for `name_regex` ignores it and answers every cluster, which
 * withDestinationRules reads the same way.
 */
export function destinationRulePaths(hostnames: readonly string[]): {activeClusters: string; staticClusters: string} {
  // parseSubsetKey leaves the hostname empty for names of five or more parts: no regex names them.
  const regex = hostnames.includes('') ? '' : String.raw`[^|]*\|[^|]*\|[^|]*\|(?:` + hostnames.map(escapeRegex).join('|') + ')'
  const filter = regex !== '' && regex.length <= MAX_NAME_REGEX ? `&name_regex=${encodeURIComponent(regex)}` : ''
  return {
    activeClusters: `config_dump?resource=dynamic_active_clusters&mask=${RULE_MASK}${filter}`,
    staticClusters: `config_dump?resource=static_clusters&mask=${RULE_MASK}${filter}`,
  }
}

// Both RE2 and ECMAScript take a backslash before any of these as the character itself.
const escapeRegex = (text: string) => text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')

type RuleAnswers = {activeClusters: InputText; staticClusters: InputText}

function ruleDump(answers: RuleAnswers, origin: string): ConfigDump {
  return configDumpFromJson({
    configs: [{
      '@type': `${ADMIN_V3}ClustersConfigDump`,
      static_clusters: readClusterItems(answers.staticClusters),
      dynamic_active_clusters: readClusterItems(answers.activeClusters),
    }],
  }, origin)
}

/**
 * `routing` with the DestinationRule of each known missing host, from destinationRulePaths' answers
 * for those hosts. The two reads are apart in time, and istiod may push in between: a
 * DestinationRule applied adds its subset clusters and its name to the host's clusters in one CDS
 * update, and naming it as a rule that "defines no subset" would be false. So `changed` says the
 * answers hold a cluster `routing` found missing (the caller may read the proxy again), and such
 * targets are no longer counted missing: the rule's name is as of the later read, and so are they.
 */
export function withDestinationRules(routing: DumpRouting, answers: RuleAnswers, origin: string): {routing: DumpRouting; changed: boolean} {
  const dump = ruleDump(answers, origin)
  const present = clusterNames(dump)
  const missingTargets = routing.missingTargets.filter((target) => !present.has(target.cluster))
  const stillMissing = new Set(missingTargets.map((target) => parseSubsetKey(target.cluster)?.hostname))
  const missingHosts = routing.missingHosts
    .filter((host) => stillMissing.has(host.hostname))
    .map((host) => (host.known ? {...host, destinationRule: destinationRuleFor(dump, host.hostname)} : host))
  return {routing: {...routing, missingTargets, missingHosts}, changed: missingTargets.length !== routing.missingTargets.length}
}

// The projections below run on every route and host of 500 sidecars: plain loops and property
// writes, not spreads and rest arguments, which cost several times the scan that fed them.
const pick = (obj: Json, names: readonly string[]): Json => {
  const out: Record<string, Json> = {}
  for (let k = 0; k < names.length; k++) {
    const value = field(obj, names[k])
    if (value !== undefined) out[names[k]] = value
  }
  return out
}

/** `pick(obj, ['name'])`, the commonest projection. */
const pickName = (obj: Json): Json => {
  const name = field(obj, 'name')
  return name === undefined ? {} : {name}
}

const ACTION_FIELDS = ['cluster', 'weighted_clusters'] as const

function projectRoute(route: Json): Json {
  const out = pickName(route)
  // Only what istioConfigNameOf reads (the VirtualService a route came from).
  const config = field(field(field(field(route, 'metadata'), 'filter_metadata'), 'istio'), 'config')
  if (config !== undefined && config !== null) out.metadata = {filter_metadata: {istio: {config}}}
  const action = field(route, 'route')
  if (action !== undefined) out.route = pick(action, ACTION_FIELDS)
  return out
}

/** `obj`'s name, and its `list` member's items each projected by `project`. */
function namedWithList(obj: Json, list: string, project: (item: Json) => Json): Record<string, Json> {
  const out = pickName(obj) as Record<string, Json>
  const items = arrayField(obj, list)
  const projected = new Array<Json>(items.length)
  for (let k = 0; k < items.length; k++) projected[k] = project(items[k])
  out[list] = projected
  return out
}

const projectVirtualHost = (vhost: Json): Json => namedWithList(vhost, 'routes', projectRoute)
const projectRouteConfig = (config: Json): Json => namedWithList(config, 'virtual_hosts', projectVirtualHost)

function projectRouteConfigs(entries: Json[]): Json[] {
  const out = new Array<Json>(entries.length)
  for (let k = 0; k < entries.length; k++) {
    const config = field(entries[k], 'route_config')
    out[k] = config === undefined ? {} : {route_config: projectRouteConfig(config)}
  }
  return out
}

/**
 * A RoutesConfigDump cut down to what the checks read. A mask cannot reach inside virtual hosts
 * (protobuf's FieldMaskUtil rejects paths through repeated fields, and Envoy answers 400), so a
 * 2,000-service sidecar sends megabytes of domains and retry policies; dropping them as soon as
 * they are parsed keeps each proxy's share of memory small while its checks run.
 */
export function projectRoutes(routes: Json): Json {
  return {
    '@type': `${ADMIN_V3}RoutesConfigDump`,
    static_route_configs: projectRouteConfigs(arrayField(routes, 'static_route_configs')),
    dynamic_route_configs: projectRouteConfigs(arrayField(routes, 'dynamic_route_configs')),
  }
}

/** `/clusters?format=json` statuses cut down to what the endpoints check reads (hosts' stats are most of it). */
export function projectClusterStatuses(statuses: readonly Json[]): Json[] {
  const out = new Array<Json>(statuses.length)
  for (let k = 0; k < statuses.length; k++) {
    const status = pickName(statuses[k])
    const hosts = arrayField(statuses[k], 'host_statuses')
    const projected = new Array<Json>(hosts.length)
    for (let j = 0; j < hosts.length; j++) projected[j] = pick(hosts[j], HOST_FIELDS)
    status.host_statuses = projected
    out[k] = status
  }
  return out
}

const HOST_FIELDS = ['address', 'health_status'] as const
