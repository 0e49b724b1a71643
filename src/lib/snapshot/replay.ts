// Offline replay of a snapshot (`--snapshot FILE`). The live layer's three I/O seams consult this
// module instead of the network: KubeSession.getJson (API reads), fetchFromPod (admin, agent and
// istiod answers) and openPodLog (container logs). Everything above them (target resolution,
// parsing, rendering, errors) is the live code path, so replay prints what the live run printed.
import type {RunContext} from '../context.js'
import {DUMP_FIELDS, dumpResourceItems, filterByName, nameFilter, shortType} from '../envoy/dump-query.js'
import {MeshdbgError, usageError} from '../errors.js'
import {readSnapshot, type SnapshotArchive, type SnapshotContext, type SnapshotEntry, type SnapshotManifest} from './archive.js'
import {matchesFieldSelector, matchesLabelSelector, parseLabelSelector} from './selectors.js'

const REPLAY = Symbol.for('meshdbg.snapshot.replay')
const ARCHIVE = Symbol.for('meshdbg.snapshot.archive')

interface KubeObject {
  metadata?: {name?: string; namespace?: string; labels?: Record<string, string>}
  [key: string]: unknown
}

export interface RecordedAnswer {
  status: number
  text: string
}

/**
 * The replay of one context of a snapshot file, shared by everything one command (or one context
 * of a multi-context command) does, memoised in its scope. `manifest` is that context's view: its
 * one context, its collections and entries, its capture time.
 */
export class SnapshotReplay {
  readonly manifest: SnapshotManifest
  private readonly api = new Map<string, SnapshotEntry>()
  private readonly pod = new Map<string, SnapshotEntry>()
  private readonly logs = new Map<string, SnapshotEntry>()

  /** `context`: the --context asked for (required when the archive holds several). */
  constructor(
    readonly path: string,
    private readonly archive: SnapshotArchive,
    context?: string,
  ) {
    const whole = archive.manifest
    const chosen = chooseContext(whole, path, context)
    const mine = (item: {context?: string}) => item.context === undefined || item.context === chosen.name
    this.manifest = {
      ...whole,
      capturedAt: chosen.capturedAt ?? whole.capturedAt,
      contexts: [chosen],
      collections: whole.collections.filter(mine),
      entries: whole.entries.filter(mine),
    }
    for (const entry of this.manifest.entries) {
      const source = entry.source
      if (source.kind === 'api') this.api.set(source.path, entry)
      else if (source.kind === 'pod') this.pod.set(podKey(source.namespace, source.pod, source.port, source.method, source.path), entry)
      else if (source.kind === 'log') this.logs.set(`${source.namespace}/${source.pod}/${source.container}`, entry)
    }
  }

  /** Replay's clock: the capture time, so ages, validity and `--since` read as they did live. */
  get capturedAtMs(): number {
    return Date.parse(this.manifest.capturedAt)
  }

  /**
   * A GET of an API path. An object or a (label/field-selected) list is answered from the recorded
   * collections in the order the API server listed them; a missing object is the API's 404. A path
   * outside what was captured is exit 3 naming it.
   */
  apiGet(path: string): unknown {
    const exact = this.api.get(path)
    if (exact) return this.apiAnswer(exact, path)
    const url = new URL(path, 'http://snapshot')
    const parsed = parseApiPath(url.pathname)
    if (!parsed) throw this.missing(`GET ${path} from the Kubernetes API`)
    const collection = this.collectionFor(parsed)
    if (!collection) throw this.missing(`GET ${url.pathname} from the Kubernetes API`, parsed.namespace ? `namespace "${parsed.namespace}" was not captured` : undefined)
    const list = this.apiAnswer(collection.entry, path) as {items?: KubeObject[]; kind?: string; apiVersion?: string; metadata?: unknown}
    let items = (list.items ?? []).filter((item) => parsed.namespace === undefined || item.metadata?.namespace === parsed.namespace)
    if (parsed.name !== undefined) {
      const found = items.find((item) => item.metadata?.name === parsed.name)
      if (!found) throw apiStatus(404, `${parsed.resource} "${parsed.name}" not found`)
      return {...found, kind: found.kind ?? list.kind?.replace(/List$/, ''), apiVersion: found.apiVersion ?? list.apiVersion}
    }
    const labelSelector = url.searchParams.get('labelSelector')
    const fieldSelector = url.searchParams.get('fieldSelector')
    if (labelSelector) {
      const requirements = parseLabelSelector(labelSelector)
      if (!requirements) throw apiStatus(400, `unable to parse requirement: ${labelSelector}`)
      items = items.filter((item) => matchesLabelSelector(item.metadata?.labels ?? {}, requirements))
    }
    if (fieldSelector) items = items.filter((item) => matchesFieldSelector(item as Record<string, unknown>, fieldSelector))
    return {...list, items}
  }

  /** The recorded answer of a pod port (status and body), or the capture's failure, thrown again. */
  podAnswer(pod: {name: string; namespace: string}, port: number, method: 'GET' | 'POST', path: string): RecordedAnswer {
    if (method === 'POST' && path !== '/logging') {
      throw usageError(`snapshot ${this.path} is read-only: ${method} ${path.split('?')[0]} would change pod ${pod.name}.${pod.namespace}`, 'run it against the cluster')
    }
    const entry = this.pod.get(podKey(pod.namespace, pod.name, port, method, path))
    if (!entry) {
      const derived = method === 'GET' ? (this.derivedConfigDump(pod, port, path) ?? this.derivedStats(pod, port, path)) : undefined
      if (derived !== undefined) return derived
      throw this.missing(`${method} ${path} from pod ${pod.name}.${pod.namespace} port ${port}`)
    }
    if (entry.error) throw new MeshdbgError(errorKind(entry.error.kind), entry.error.message, {hint: entry.error.hint})
    return {status: entry.status ?? 200, text: this.body(entry).toString('utf8')}
  }

  /**
   * A container's log as the kubelet would have answered at capture time: `sinceSeconds` counts
   * back from then, `tailLines` from the end, and the timestamps are dropped unless asked for. A
   * range older than the captured lines (the log had more) is exit 3.
   */
  podLog(pod: {name: string; namespace: string}, container: string, options: {sinceSeconds?: number; tailLines?: number; timestamps?: boolean}): string {
    const entry = this.logs.get(`${pod.namespace}/${pod.name}/${container}`)
    if (!entry || entry.source.kind !== 'log') throw this.missing(`the log of container "${container}" in pod ${pod.name}.${pod.namespace}`)
    if (entry.error) throw new MeshdbgError(errorKind(entry.error.kind), entry.error.message, {hint: entry.error.hint})
    const captured = entry.source.tailLines
    const text = this.body(entry).toString('utf8')
    const all = text.split('\n')
    if (all.at(-1) === '') all.pop()
    const since = options.sinceSeconds === undefined ? undefined : this.capturedAtMs - options.sinceSeconds * 1000
    let lines = since === undefined ? all : all.filter((line) => Date.parse(line.slice(0, line.indexOf(' '))) >= since)
    // The kubelet answers the lines newer than `since`, then the last `tailLines` of them: the
    // snapshot holds that answer when it holds the whole log, when `since` cut into the captured
    // lines, or when the tail asked for fits in them.
    const answerable = entry.complete === true || lines.length < all.length || (options.tailLines !== undefined && options.tailLines <= lines.length)
    if (!answerable) {
      throw this.missing(`more than the last ${captured} lines of the log of container "${container}" in pod ${pod.name}.${pod.namespace}`, 'narrow it with --tail or --since, or capture with a larger --log-tail')
    }
    if (options.tailLines !== undefined) lines = lines.slice(Math.max(0, lines.length - options.tailLines))
    if (!options.timestamps) lines = lines.map((line) => line.slice(line.indexOf(' ') + 1))
    return lines.map((line) => line + '\n').join('')
  }

  /**
   * `/config_dump` with `mask`, `resource` and `name_regex` from the recorded
   * `/config_dump?include_eds` (the snapshot stores one dump per proxy, not one per query): the EDS
   * section left out unless asked for, and the parameters applied as Envoy applies them
   * (admin/config_dump_handler.cc; dump-query.ts). A top-level mask keeps Envoy's field order
   * (configs whose type lacks a masked field are skipped, the others trimmed to the masked fields).
   * Readers parse these answers; the one printed byte for byte (`pc all -o json`, include_eds) is
   * recorded as it came. Envoy's 4xx answers come back as such.
   */
  private derivedConfigDump(pod: {name: string; namespace: string}, port: number, path: string): RecordedAnswer | undefined {
    const url = new URL(path, 'http://pod')
    const params = [...url.searchParams.keys()]
    if (url.pathname !== '/config_dump' || params.some((name) => !['mask', 'resource', 'name_regex', 'include_eds'].includes(name))) return undefined
    const whole = this.pod.get(podKey(pod.namespace, pod.name, port, 'GET', '/config_dump?include_eds'))
    if (!whole || whole.error || (whole.status ?? 200) !== 200) return undefined
    const dump = JSON.parse(this.body(whole).toString('utf8')) as {configs?: Array<Record<string, unknown>>}
    const withEds = url.searchParams.has('include_eds')
    let configs = (dump.configs ?? []).filter((config) => withEds || !String(config['@type']).endsWith('.EndpointsConfigDump'))
    const nameRegex = url.searchParams.get('name_regex')
    if (nameRegex !== null && nameRegex !== '') {
      const regex = nameFilter(nameRegex)
      if (!(regex instanceof RegExp)) return regex
      configs = configs.map((config) => filterByName(config, regex))
    }
    const mask = url.searchParams.get('mask')
    const paths = (mask ?? '').split(',').map((each) => each.trim()).filter((each) => each !== '')
    const resource = url.searchParams.get('resource')
    if (resource !== null && resource !== '') {
      const answer = dumpResourceItems(configs, resource, paths)
      return answer.status === 200 ? {status: 200, text: JSON.stringify({configs: answer.configs}, null, 1) + '\n'} : {status: answer.status, text: answer.text}
    }
    if (paths.length === 0) return {status: 200, text: JSON.stringify({...dump, configs}, null, 1) + '\n'}
    const kept: Array<Record<string, unknown>> = []
    for (const config of configs) {
      const fields = DUMP_FIELDS[shortType(String(config['@type']))]
      if (!fields) return undefined
      if (!paths.every((each) => each in fields)) continue
      kept.push(Object.fromEntries(Object.entries(config).filter(([key]) => key === '@type' || paths.includes(key))))
    }
    return kept.length === 0 ? undefined : {status: 200, text: JSON.stringify({configs: kept}, null, 1) + '\n'}
  }

  /**
   * `/stats?filter=RE` from the recorded `/stats` (every stat): its lines whose name the regex
   * finds (Envoy: a partial match).
   */
  private derivedStats(pod: {name: string; namespace: string}, port: number, path: string): RecordedAnswer | undefined {
    const url = new URL(path, 'http://pod')
    const filter = url.searchParams.get('filter')
    if (url.pathname !== '/stats' || filter === null || [...url.searchParams.keys()].some((name) => name !== 'filter')) return undefined
    const whole = this.pod.get(podKey(pod.namespace, pod.name, port, 'GET', '/stats'))
    if (!whole || whole.error || (whole.status ?? 200) !== 200) return undefined
    let regex: RegExp
    try {
      regex = new RegExp(filter)
    } catch (error) {
      return {status: 400, text: `Invalid re2 regex: ${(error as Error).message}`}
    }
    const lines = this.body(whole).toString('utf8').split('\n').filter((line) => line !== '' && regex.test(line.slice(0, line.lastIndexOf(': '))))
    return {status: 200, text: lines.map((line) => `${line}\n`).join('')}
  }

  private collectionFor(parsed: ApiPath): {entry: SnapshotEntry} | undefined {
    const candidates = [
      parsed.namespace === undefined ? undefined : `${parsed.prefix}/namespaces/${parsed.namespace}/${parsed.resource}`,
      `${parsed.prefix}/${parsed.resource}`,
    ].filter((path): path is string => path !== undefined)
    // Istio's CRDs serve the same objects under every version (v1, v1beta1, v1alpha3).
    const anyVersion = (path: string) => path.replace(/^\/apis\/([^/]*\.istio\.io)\/[^/]+\//, '/apis/$1/*/')
    for (const candidate of candidates) {
      const entry = this.api.get(candidate) ?? [...this.api.entries()].find(([path]) => anyVersion(path) === anyVersion(candidate))?.[1]
      if (entry) return {entry}
    }
    return undefined
  }

  private apiAnswer(entry: SnapshotEntry, path: string): unknown {
    if (entry.status !== undefined && entry.status >= 400) throw apiStatus(entry.status, this.body(entry).toString('utf8'))
    try {
      return JSON.parse(this.body(entry).toString('utf8'))
    } catch {
      throw new MeshdbgError('bad-data', `snapshot ${this.path}: the recorded answer for GET ${path} is not JSON`)
    }
  }

  private body(entry: SnapshotEntry): Buffer {
    const body = entry.file === undefined ? Buffer.alloc(0) : this.archive.file(entry.file)
    if (!body) throw new MeshdbgError('bad-data', `snapshot ${this.path} lacks ${entry.file ?? 'an entry'} named by its manifest (truncated or edited?)`)
    return body
  }

  private missing(what: string, why?: string): MeshdbgError {
    return new MeshdbgError('not-found', `snapshot ${this.path} does not hold ${what}${why ? ` (${why})` : ''}`, {
      hint: 'take a snapshot that includes it (meshdbg snapshot TARGET..., -n/-A, --istiod), or run against the cluster',
    })
  }
}

/**
 * The context a replay answers for. One context: it (a different --context is a usage error).
 * Several: the one --context names, none being a usage error that lists them; a context whose
 * capture failed fails again here, with the capture's error.
 */
function chooseContext(manifest: SnapshotManifest, path: string, wanted: string | undefined): SnapshotContext {
  const contexts = manifest.contexts ?? []
  const names = contexts.map((context) => `"${context.name}"`).join(', ')
  if (contexts.length === 0) throw new MeshdbgError('bad-data', `snapshot ${path} names no Kubernetes context`)
  let chosen: SnapshotContext | undefined
  if (contexts.length === 1) {
    chosen = contexts[0]
    if (wanted !== undefined && wanted !== chosen.name) {
      throw usageError(`snapshot ${path} holds context "${chosen.name}", not "${wanted}"`, 'drop --context, or pass the snapshot taken from that context')
    }
  } else {
    if (wanted === undefined) throw usageError(`snapshot ${path} holds ${contexts.length} contexts (${names}): pick one with --context`, 'sync-status and version also take --all-contexts')
    chosen = contexts.find((context) => context.name === wanted)
    if (!chosen) throw usageError(`snapshot ${path} holds no context "${wanted}" (it holds ${names})`)
  }
  if (chosen.error) throw new MeshdbgError(errorKind(chosen.error.kind), chosen.error.message, {hint: chosen.error.hint})
  return chosen
}

/** The archive behind `ctx.snapshot`, read once per scope. */
function archiveOf(ctx: Pick<RunContext, 'scope'>, path: string): SnapshotArchive {
  return ctx.scope.memo(ARCHIVE, () => readSnapshot(path))
}

/** The replay of `ctx.snapshot` for `ctx.context`, read once per command (per context); undefined for live commands. */
export function snapshotReplayOf(ctx: Pick<RunContext, 'snapshot' | 'scope' | 'context'>): SnapshotReplay | undefined {
  if (ctx.snapshot === undefined) return undefined
  const path = ctx.snapshot
  return ctx.scope.memo(REPLAY, () => new SnapshotReplay(path, archiveOf(ctx, path), ctx.context))
}

/** Every context a snapshot holds, sorted by name as --all-contexts lists a kubeconfig's (failed captures included). */
export function snapshotContextNames(ctx: Pick<RunContext, 'scope'>, path: string): string[] {
  return (archiveOf(ctx, path).manifest.contexts ?? []).map((context) => context.name).sort()
}

/** The command's clock: now, or the capture time of the snapshot being replayed. */
export function clockOf(ctx: Pick<RunContext, 'snapshot' | 'scope' | 'context'>): number {
  return snapshotReplayOf(ctx)?.capturedAtMs ?? Date.now()
}

export function podKey(namespace: string, pod: string, port: number, method: string, path: string): string {
  return `${namespace}/${pod}:${port} ${method} ${path}`
}

interface ApiPath {
  prefix: string
  namespace?: string
  resource: string
  name?: string
}

/** `/api/v1[/namespaces/NS]/RES[/NAME]` and `/apis/G/V[/namespaces/NS]/RES[/NAME]`. */
function parseApiPath(pathname: string): ApiPath | undefined {
  const match = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(pathname)
  if (!match) return undefined
  const decode = (value: string | undefined) => (value === undefined ? undefined : decodeURIComponent(value))
  // `/api/v1/namespaces/NS` itself is the namespace object, not a collection.
  if (match[3] === 'namespaces' && match[2] === undefined && match[4] !== undefined) return {prefix: match[1], resource: 'namespaces', name: decode(match[4])}
  return {prefix: match[1], namespace: decode(match[2]), resource: match[3], name: decode(match[4])}
}

/** An error shaped like the API's answer (client-node's ApiException: numeric code, Status body). */
function apiStatus(code: number, message: string): Error {
  return Object.assign(new Error(`HTTP ${code}`), {code, body: JSON.stringify({kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code})})
}

const KINDS = new Set(['usage', 'not-found', 'not-meshed', 'forbidden', 'connection', 'timeout', 'bad-data', 'problems-found', 'internal'])

function errorKind(kind: string): ConstructorParameters<typeof MeshdbgError>[0] {
  return (KINDS.has(kind) ? kind : 'internal') as ConstructorParameters<typeof MeshdbgError>[0]
}
