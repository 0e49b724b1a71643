import {byteCompare} from '../compare.js'
import {arrayField, camelName, field, type Json} from '../envoy/fields.js'
import {projection} from '../envoy/json-scan.js'
import {MeshdbgError} from '../errors.js'
import type {InputText} from '../input.js'
import {answerConfigs, scanProjected, walkConfigItems} from './dump-reads.js'
import type {ClusterHealth} from './routing.js'

/**
 * Envoy's EDS dump, each endpoint config cut to its cluster and its hosts: every active cluster
 * (admin/config_dump_handler.cc dumpEndpointConfigs walks them all, EDS or not), each host with
 * the `health_status` Envoy derives from all its health flags (`addLbEndpoint`: `coarseHealth()`,
 * so an outlier-ejected or health-check-failed host reads UNHEALTHY, a degraded one DEGRADED).
 * On a 2,000-service sidecar it is ~0.9 MB against `/clusters?format=json`'s ~1.7 MB of
 * per-host stats, and one proxy's endpoint configs repeat another's item by item.
 */
export const ENDPOINT_STATES_PATH = 'config_dump?include_eds&resource=dynamic_endpoint_configs&mask=endpoint_config.cluster_name,endpoint_config.endpoints'

/** What an EDS dump says of each cluster it lists. */
export interface EndpointStates {
  /** Every cluster listed. */
  clusters: string[]
  /** Those without any host. */
  empty: string[]
  /** Those with hosts, none HEALTHY or DEGRADED (by Envoy's coarse health). */
  unserved: string[]
}

const EMPTY = 0
const UNSERVED = 1
const SERVED = 2
type ItemState = typeof EMPTY | typeof UNSERVED | typeof SERVED
interface ItemValue {
  name: string
  state: ItemState
}

const ITEM_READ = {endpoint_config: {cluster_name: true, endpoints: {lb_endpoints: {health_status: true}}}} as const
const ITEM = projection(ITEM_READ, camelName)
const ANSWER = projection({configs: ITEM_READ}, camelName)
const SERVING = new Set(['HEALTHY', 'DEGRADED'])

function itemValue(item: Json): ItemValue | undefined {
  const config = field(item, 'endpoint_config')
  const name = field(config, 'cluster_name')
  if (typeof name !== 'string') return undefined
  let hosts = 0
  for (const group of arrayField(config, 'endpoints')) {
    for (const host of arrayField(group, 'lb_endpoints')) {
      hosts++
      const health = field(host, 'health_status')
      if (typeof health === 'string' && SERVING.has(health)) return {name, state: SERVED}
    }
  }
  return {name, state: hosts === 0 ? EMPTY : UNSERVED}
}

function statesOf(values: ReadonlyArray<ItemValue | undefined>): EndpointStates {
  const states: EndpointStates = {clusters: [], empty: [], unserved: []}
  for (const value of values) {
    if (value === undefined) continue
    states.clusters.push(value.name)
    if (value.state === EMPTY) states.empty.push(value.name)
    else if (value.state === UNSERVED) states.unserved.push(value.name)
  }
  return states
}

const EXPECTED = 'an Envoy admin /config_dump?include_eds&resource=dynamic_endpoint_configs answer ({"configs": [...]})'

/** The states of the clusters an ENDPOINT_STATES_PATH answer lists. With `memo`, items read before are not read again. */
export function readEndpointStates(input: InputText, memo?: EndpointItemMemo): EndpointStates {
  const remembered = memo === undefined ? undefined : scanWithMemo(input, memo)
  if (remembered !== undefined) return remembered
  const scanned = scanProjected(input, ANSWER)
  const configs = scanned === undefined ? undefined : field(scanned, 'configs')
  return statesOf((Array.isArray(configs) ? configs : configsOf(input)).map(itemValue))
}

function configsOf(input: InputText): Json[] {
  const configs = answerConfigs(input, EXPECTED)
  if (configs === undefined) throw new MeshdbgError('bad-data', `${input.origin}: not ${EXPECTED}`)
  return configs
}

const NAME_KEY = Buffer.from('"cluster_name"')
/** How far into an item its cluster name may start (after two `@type`s) to serve as the memo's key. */
const NAME_KEY_WINDOW = 1024
/** Bytes of items kept in all: a mesh's outbound clusters (~1 MB at 2,000 services), and proxies' own inbound ones. */
const MEMO_MAX_BYTES = 16 * 1024 * 1024
/** Item texts are copied into chunks of this size: a small Buffer per item would each keep a slab of Node's pool. */
const MEMO_CHUNK_BYTES = 1024 * 1024

/**
 * Endpoint config items already read, by a hash of their cluster name's text, each with a copy of
 * its text: an item is taken when its bytes equal the copy (a memcmp), whatever its position.
 * Envoy dumps clusters in its hash map's order, which differs from one Envoy process to the next
 * (absl::flat_hash_map, seeded per process), so the items cannot be matched by position as the
 * active clusters' are (ClusterItemMemo). The key is only where to look: a value is taken for
 * bytes equal to those it was read from, so a wrong key (or two names with one hash) costs a
 * read, never a wrong value. The key is a number hashed here, not a string: searching for the
 * name, slicing it into a string and hashing that, per item (~2,000 per sidecar), took a third
 * longer than the whole read takes now.
 */
export class EndpointItemMemo {
  private readonly items = new Map<number, {text: Buffer; value: ItemValue}>()
  private bytes = 0
  private chunk = Buffer.alloc(0)
  private chunkUsed = 0
  /** Where an item's name key was last found, from the item's start (most items share it). */
  nameOffset = -1

  lookup(bytes: Buffer, at: number, key: number): {end: number; value: ItemValue} | undefined {
    const kept = this.items.get(key)
    if (kept === undefined) return undefined
    const end = at + kept.text.length
    if (end > bytes.length || bytes.compare(kept.text, 0, kept.text.length, at, end) !== 0) return undefined
    return {end, value: kept.value}
  }

  keep(bytes: Buffer, at: number, end: number, key: number, value: ItemValue): void {
    const length = end - at
    // Replaced texts stay in their chunks until the memo is cleared: `bytes` counts them too.
    if (this.bytes + length > MEMO_MAX_BYTES) {
      this.items.clear()
      this.bytes = 0
      this.chunk = Buffer.alloc(0)
      this.chunkUsed = 0
    }
    if (this.chunkUsed + length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(Math.max(MEMO_CHUNK_BYTES, length))
      this.chunkUsed = 0
    }
    const text = this.chunk.subarray(this.chunkUsed, this.chunkUsed + length)
    bytes.copy(text, 0, at, end)
    this.chunkUsed += length
    this.items.set(key, {text, value})
    this.bytes += length
  }
}

/** True when `bytes` has `key` at `at` (a loop: a native call per item cost more than the bytes). */
function hasAt(bytes: Buffer, at: number, key: Buffer): boolean {
  if (at < 0 || at + key.length > bytes.length) return false
  for (let k = 0; k < key.length; k++) if (bytes[at + k] !== key[k]) return false
  return true
}

/**
 * The memo key of the item at `at`: an FNV-1a hash of the bytes of the string after its
 * `"cluster_name"` (escapes and all: any function of the bytes will do), or undefined when none is
 * found near its start. `memo.nameOffset` is tried first; else a search from `at`, whose find
 * `search` keeps for later items, so no bytes are searched twice.
 */
function itemKey(bytes: Buffer, at: number, memo: EndpointItemMemo, search: {found: number}): number | undefined {
  let key = at + memo.nameOffset
  if (memo.nameOffset < 0 || !hasAt(bytes, key, NAME_KEY)) {
    if (search.found !== -2 && search.found < at) search.found = bytes.indexOf(NAME_KEY, at)
    if (search.found < 0) {
      search.found = -2
      return undefined
    }
    key = search.found
    if (key - at > NAME_KEY_WINDOW) return undefined
    memo.nameOffset = key - at
  }
  let k = key + NAME_KEY.length
  const stop = Math.min(bytes.length, k + NAME_KEY_WINDOW)
  while (k < stop && bytes[k] !== 0x22) k++
  let hash = 0x811c9dc5
  for (k++; k < stop && bytes[k] !== 0x22; k++) hash = Math.imul(hash ^ bytes[k], 0x01000193)
  return k < stop ? hash >>> 0 : undefined
}

/**
 * readEndpointStates through `memo`; undefined when the scanner doubts anything (the caller then
 * reads the answer without it).
 */
function scanWithMemo(input: InputText, memo: EndpointItemMemo): EndpointStates | undefined {
  const bytes = input.bytes ?? Buffer.from(input.text, 'utf8')
  let values: Array<ItemValue | undefined> | undefined
  // The next `"cluster_name"` found by a search: it serves every item before it, so a text
  // without names is searched once, not once per item.
  const search = {found: -1}
  const walked = walkConfigItems(bytes, (scanner) => {
    const out: Array<ItemValue | undefined> = []
    values = out
    return (at) => {
      const key = itemKey(bytes, at, memo, search)
      const known = key === undefined ? undefined : memo.lookup(bytes, at, key)
      if (known !== undefined) {
        out.push(known.value)
        return known.end
      }
      const item = itemValue(scanner.project(at, ITEM) as Json)
      const itemEnd = scanner.endOfLast()
      if (key !== undefined && item !== undefined) memo.keep(bytes, at, itemEnd, key, item)
      out.push(item)
      return itemEnd
    }
  })
  return walked && values !== undefined ? statesOf(values) : undefined
}

/**
 * The health of `used` clusters by the EDS dump, when it settles every one: each is listed, and
 * none has hosts that all are down. The answer then equals clusterHealth's on `/clusters`
 * restricted to `used`: both list the same hosts (the clusters' priority sets), an empty cluster
 * has none in either, and a host Envoy calls HEALTHY or DEGRADED has none of the flags that make
 * hostServesTraffic false. Otherwise undefined: `/clusters` judges each host of a down cluster,
 * and names it in the evidence (whether outlier detection ejected it, which EDS does not tell).
 */
export function clusterHealthFromEndpoints(states: EndpointStates, used: readonly string[], sets: (list: readonly string[]) => ReadonlySet<string> = (list) => new Set(list)): ClusterHealth | undefined {
  if (states.unserved.length > 0) {
    const usedSet = sets(used)
    if (states.unserved.some((cluster) => usedSet.has(cluster))) return undefined
  }
  const listed = sets(states.clusters)
  const empty = sets(states.empty)
  const usedEmpty = new Set<string>()
  for (const cluster of used) {
    if (!listed.has(cluster)) return undefined
    if (empty.has(cluster)) usedEmpty.add(cluster)
  }
  return {empty: [...usedEmpty].sort(byteCompare), unhealthy: []}
}
