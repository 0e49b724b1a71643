// `meshdbg snapshot`: records, through the same transport the live commands use, every answer the
// read-only commands ask for, so that `--snapshot FILE` can replay them (src/lib/snapshot/replay.ts).
import type {V1Pod} from '@kubernetes/client-node'

import type {RunContext} from '../context.js'
import {formatDuration} from '../duration.js'
import {isMeshdbgError, MeshdbgError} from '../errors.js'
import {AdminPath} from '../envoy/source.js'
import {redactKeyMaterial} from '../envoy/redact.js'
import {toJson} from '../render/formats.js'
import {AGENT_STATUS_PORT} from '../istio/agent.js'
import {forEachLimited} from '../async.js'
import {findIstiods, ISTIOD_ENDPOINTS, ISTIOD_HTTP_PORT, ISTIOD_MONITORING_PORT, istiodEndpointPath, istiodToken, proxyIdOf, type IstiodPod} from '../istio/istiod.js'
import {fetchFromPod, openKube, resolveTargetPods, type ResolvedPod} from '../kube/index.js'
import {chooseAdminPort} from '../kube/admin-port.js'
import {contextFailure, forEachContext, partialContextsError} from '../kube/contexts.js'
import {isMeshedPod} from '../kube/target.js'
import {
  SNAPSHOT_FORMAT,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_MULTI_CONTEXT_VERSION,
  SnapshotWriter,
  type EntrySource,
  type SnapshotContext,
  type SnapshotEntry,
  type SnapshotManifest,
} from './archive.js'
import {matchesLabelSelector, parseLabelSelector} from './selectors.js'

export interface CaptureOptions {
  /** The archive to write. */
  file: string
  targets: string[]
  selector?: string
  allNamespaces: boolean
  /** Also every istiod debug view `meshdbg istiod` offers (registryz, configz, ...). */
  istiod: boolean
  istioNamespace: string
  revision?: string
  /** Bearer token for istiod's port 15014 when 8080 does not answer (else a TokenRequest, as the live commands). */
  token?: string
  proxyAdminPort?: number
  /** Lines of each proxy's log to keep (its most recent). */
  logTail: number
  /** Proxies (and istiod requests) captured at once. */
  concurrency: number
}

export interface CaptureSummary {
  file: string
  capturedAt: string
  /** Every captured proxy (with its context when the archive holds several). */
  proxies: Array<{pod: string; namespace: string; context?: string}>
  istiods: string[]
  namespaces: string[]
  /** Several contexts: what each gave, or why it failed. */
  contexts?: Array<{context: string; proxies: number; istiods: number; namespaces: string[]} | {context: string; error: {kind: string; message: string}}>
  /** Recorded answers (failed requests included: replay fails them the same way). */
  entries: number
  /** Requests that failed during capture (the first few are noted on stderr). */
  failedRequests: number
  /** Private keys replaced by "[redacted]" before writing. */
  redactedKeys: number
  /** Bytes of recorded answers, uncompressed. */
  uncompressedBytes: number
}

/** The collections recorded per namespace (or cluster-wide with -A): what target resolution and the views read. */
const NAMESPACED_COLLECTIONS = [
  '/api/v1/NS/pods',
  '/api/v1/NS/services',
  '/apis/apps/v1/NS/deployments',
  '/apis/apps/v1/NS/statefulsets',
  '/apis/apps/v1/NS/daemonsets',
  '/apis/apps/v1/NS/replicasets',
  '/apis/batch/v1/NS/jobs',
  '/apis/networking.istio.io/v1beta1/NS/virtualservices',
  '/apis/networking.istio.io/v1beta1/NS/destinationrules',
  '/apis/networking.istio.io/v1beta1/NS/gateways',
  '/apis/networking.istio.io/v1beta1/NS/serviceentries',
  '/apis/networking.istio.io/v1beta1/NS/sidecars',
  '/apis/networking.istio.io/v1beta1/NS/envoyfilters',
  '/apis/networking.istio.io/v1beta1/NS/workloadentries',
  '/apis/security.istio.io/v1beta1/NS/authorizationpolicies',
  '/apis/security.istio.io/v1beta1/NS/peerauthentications',
  '/apis/security.istio.io/v1beta1/NS/requestauthentications',
  '/apis/telemetry.istio.io/v1alpha1/NS/telemetries',
]

/**
 * Envoy admin paths, as the commands request them. The whole dump and its masked sections are not
 * recorded: replay derives them from `config_dump?include_eds` (one dump per proxy, not seven).
 */
const ADMIN_GETS = [AdminPath.withEds, AdminPath.clusterStatus, 'certs', 'server_info', 'stats', 'ready']
/** pilot-agent: readiness (15021), metrics and DNS table (15020), its syncz (15004, gone in 1.25+). */
const AGENT_GETS: Array<[number, string]> = [
  [AGENT_STATUS_PORT, '/healthz/ready'],
  [15020, '/stats/prometheus'],
  [15020, '/debug/ndsz'],
  [15004, '/debug/syncz'],
]
const ISTIOD_VIEWS = Object.values(ISTIOD_ENDPOINTS).filter((view) => view.proxy !== 'required').map((view) => view.path)

interface Recorded {
  source: EntrySource
  /** The answer as it came (text: converted to bytes once, after redaction). */
  text?: string
  status?: number
  complete?: boolean
  error?: MeshdbgError
}

/**
 * Writes answers into the archive as they arrive (nothing waits for a batch: memory holds only the
 * answers in flight) and keeps the manifest's entries and the counts. Shared by every context of
 * one archive.
 */
class Recorder {
  readonly entries: SnapshotEntry[] = []
  failed = 0
  redacted = 0
  readonly failures: string[] = []

  constructor(readonly writer: SnapshotWriter) {}

  async write(recorded: Recorded, label: string, extension: string, context?: string): Promise<void> {
    const entry: SnapshotEntry = {source: recorded.source, ...(context === undefined ? {} : {context})}
    if (recorded.error) {
      this.failed += 1
      if (this.failures.length < 5) this.failures.push(recorded.error.message)
      entry.error = {kind: recorded.error.kind, message: recorded.error.message, ...(recorded.error.hint ? {hint: recorded.error.hint} : {})}
    } else {
      let text = recorded.text ?? ''
      const redaction = redactAnswer(text)
      if (redaction) {
        text = redaction.text
        entry.redacted = redaction.count
        this.redacted += redaction.count
      }
      // Label with the context too: the entry names stay readable with `tar tzf`.
      const added = await this.writer.add(context === undefined ? label : `${context}-${label}`, Buffer.from(text), extension)
      entry.file = added.file
      entry.offset = added.offset
      if (recorded.status !== undefined) entry.status = recorded.status
      if (recorded.complete !== undefined) entry.complete = recorded.complete
    }
    this.entries.push(entry)
  }
}

/** What one context's capture gave. */
interface ContextCapture {
  context: SnapshotContext
  collections: SnapshotManifest['collections']
  proxies: ResolvedPod[]
  istiods: IstiodPod[]
  namespaces: string[]
}

/** One context (the kubeconfig's, or --context): a version-1 archive, as every meshdbg since snapshots reads. */
export async function captureSnapshot(ctx: RunContext, options: CaptureOptions, meshdbgVersion: string): Promise<CaptureSummary> {
  const recorder = new Recorder(new SnapshotWriter(options.file))
  try {
    const captured = await captureContext(ctx, recorder, options)
    const {name, server, namespace} = captured.context
    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_FORMAT_VERSION,
      meshdbgVersion,
      capturedAt: captured.context.capturedAt!,
      contexts: [{name, server, namespace}],
      request: requestOf(options, captured.namespaces),
      collections: captured.collections,
      entries: recorder.entries,
    }
    await recorder.writer.finish(manifest)
    noteFailures(ctx, recorder)
    return {
      file: options.file,
      capturedAt: manifest.capturedAt,
      proxies: captured.proxies.map((pod) => ({pod: pod.name, namespace: pod.namespace})),
      istiods: captured.istiods.map((pod) => pod.name),
      namespaces: captured.namespaces,
      ...counts(recorder),
    }
  } catch (error) {
    recorder.writer.abandon()
    throw error
  }
}

/**
 * Several contexts into one version-2 archive: each context captured as alone (its own deadline,
 * session and port-forwards; `contextConcurrency` at a time), its entries and collections tagged
 * with its name. A context that fails is recorded as failed in the manifest and the others are
 * kept; then the command fails as the other multi-context commands do (the first failure's exit
 * code). Every context failing writes nothing.
 */
export async function captureSnapshots(
  base: RunContext,
  contexts: readonly string[],
  options: CaptureOptions,
  meshdbgVersion: string,
  contextConcurrency: number,
): Promise<{summary: CaptureSummary; failure?: MeshdbgError}> {
  const recorder = new Recorder(new SnapshotWriter(options.file))
  try {
    const capturedAt = new Date(Date.now()).toISOString()
    const outcomes = await base.spin(
      `Capturing ${contexts.length} contexts`,
      forEachContext(base, contexts, (ctx) => captureContext(ctx, recorder, options, ctx.context), {concurrency: contextConcurrency, timeoutMs: base.timeoutMs}),
    )
    const failures = outcomes.filter((outcome) => !outcome.ok)
    if (failures.length === contexts.length) throw partialContextsError(failures, contexts.length, undefined)!
    const manifestContexts: SnapshotContext[] = []
    const collections: SnapshotManifest['collections'] = []
    const perContext: NonNullable<CaptureSummary['contexts']> = []
    const proxies: CaptureSummary['proxies'] = []
    const istiods: string[] = []
    const namespaces = new Set<string>()
    for (const outcome of outcomes) {
      if (!outcome.ok) {
        // The first failure becomes the command's error line (below); the others are noted.
        const {kind, message} = contextFailure(outcome)
        const error = outcome.error instanceof MeshdbgError ? outcome.error : undefined
        // The one-line message as replay repeats it: the capture's own (its hint apart), as the live command would have said it.
        manifestContexts.push({name: outcome.context, server: '', namespace: '', error: {kind, message: error?.message.replace(/\s*[\r\n]+\s*/g, ' ') ?? message, ...(error?.hint ? {hint: error.hint} : {})}})
        perContext.push({context: outcome.context, error: {kind, message}})
        if (outcome !== failures[0]) base.note(`context ${outcome.context}: not captured: ${message}`)
        continue
      }
      const captured = outcome.value
      manifestContexts.push({...captured.context, namespaces: captured.namespaces})
      collections.push(...captured.collections.map((collection) => ({...collection, context: outcome.context})))
      proxies.push(...captured.proxies.map((pod) => ({pod: pod.name, namespace: pod.namespace, context: outcome.context})))
      istiods.push(...captured.istiods.map((pod) => pod.name))
      for (const namespace of captured.namespaces) namespaces.add(namespace)
      perContext.push({context: outcome.context, proxies: captured.proxies.length, istiods: captured.istiods.length, namespaces: captured.namespaces})
    }
    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_MULTI_CONTEXT_VERSION,
      meshdbgVersion,
      capturedAt,
      contexts: manifestContexts,
      request: requestOf(options, [...namespaces].sort()),
      collections,
      entries: recorder.entries,
    }
    await recorder.writer.finish(manifest)
    noteFailures(base, recorder)
    const summary: CaptureSummary = {
      file: options.file,
      capturedAt,
      proxies,
      istiods,
      namespaces: [...namespaces].sort(),
      contexts: perContext,
      ...counts(recorder),
    }
    return {summary, failure: partialContextsError(failures, contexts.length, summary)}
  } catch (error) {
    recorder.writer.abandon()
    throw error
  }
}

function requestOf(options: CaptureOptions, namespaces: string[]): SnapshotManifest['request'] {
  return {
    targets: options.targets,
    ...(options.selector === undefined ? {} : {selector: options.selector}),
    namespaces,
    allNamespaces: options.allNamespaces,
    istiod: options.istiod,
    istioNamespace: options.istioNamespace,
  }
}

function counts(recorder: Recorder): Pick<CaptureSummary, 'entries' | 'failedRequests' | 'redactedKeys' | 'uncompressedBytes'> {
  return {entries: recorder.entries.length, failedRequests: recorder.failed, redactedKeys: recorder.redacted, uncompressedBytes: recorder.writer.totalBytes}
}

function noteFailures(ctx: RunContext, recorder: Recorder): void {
  const failed = recorder.failed
  if (failed > 0) ctx.note(`snapshot: ${failed} request${failed === 1 ? '' : 's'} failed and will fail the same way on replay, e.g.: ${recorder.failures.join('; ')}`)
}

/** One context's API objects, proxies and istiods, written as they arrive; `tag` names the context in a multi-context archive. */
async function captureContext(ctx: RunContext, recorder: Recorder, options: CaptureOptions, tag?: string): Promise<ContextCapture> {
  const session = await openKube(ctx)
  const capturedAt = new Date(Date.now()).toISOString()
  const proxies = await proxyPods(ctx, options)
  const namespaces = [...new Set([...proxies.map((pod) => pod.namespace), options.istioNamespace])].sort()
  const collections: SnapshotManifest['collections'] = []

  // API objects first: the pods, services, workloads and Istio resources of every namespace involved.
  const scopes = options.allNamespaces ? [''] : namespaces.map((namespace) => `namespaces/${encodeURIComponent(namespace)}/`)
  const apiPaths = ['/api/v1/namespaces', ...scopes.flatMap((scope) => NAMESPACED_COLLECTIONS.map((path) => path.replace('NS/', scope)))]
  const apiAnswers = await ctx.spin(`Reading ${apiPaths.length} API collections`, Promise.all(apiPaths.map((path) => recordApi(ctx, session, path))))
  for (const answer of apiAnswers) {
    const path = (answer.source as {path: string}).path
    await recorder.write(answer, path, 'json', tag)
    const namespace = /\/namespaces\/([^/]+)\//.exec(path)?.[1]
    collections.push({path, ...(namespace === undefined ? {} : {namespace: decodeURIComponent(namespace)})})
  }

  // Each proxy: admin, agent and log answers, `concurrency` pods at a time (a slow pod holds up
  // only its own slot), each answer written as soon as it arrives.
  let started = 0
  await forEachLimited(proxies, options.concurrency, async (pod) => {
    started += 1
    const write = (answer: Recorded) => recorder.write(answer, labelOf(pod, answer.source), answer.source.kind === 'log' ? 'log' : extensionOf(answer.source), tag)
    await ctx.spin(`Capturing proxies ${progressBar(started, proxies.length)} ${started}/${proxies.length}`, recordProxy(ctx, pod, options, write))
  })

  // istiod: what sync-status and version ask every replica (and every view with --istiod).
  const istiods = await findIstiods(ctx, {istioNamespace: options.istioNamespace, revision: options.revision}).catch((error: unknown) => {
    if (!isMeshdbgError(error) || error.kind !== 'not-found') throw error
    ctx.note(`snapshot: ${error.message}; istiod left out`)
    return [] as IstiodPod[]
  })
  for (const istiod of istiods) {
    const write = (answer: Recorded) => recorder.write(answer, `istiod-${istiod.name}-${answer.source.kind === 'pod' ? `${answer.source.port}-${answer.source.path}` : ''}`, extensionOf(answer.source), tag)
    await ctx.spin(`Capturing istiod ${istiod.name}`, recordIstiod(ctx, istiod, proxies, namespaces, options, write))
  }
  return {context: {name: session.contextName, server: session.server, namespace: session.namespace, capturedAt}, collections, proxies, istiods, namespaces}
}

/** The Running meshed pods the snapshot covers: the targets' pods, a selector's, or the namespace's (-A: the cluster's). */
async function proxyPods(ctx: RunContext, options: CaptureOptions): Promise<ResolvedPod[]> {
  let pods: ResolvedPod[] = []
  if (options.targets.length > 0) {
    for (const target of options.targets) pods.push(...(await resolveTargetPods(ctx, {target, meshedOnly: true})))
  } else if (options.allNamespaces) {
    const session = await openKube(ctx)
    const list = await session.getJson<{items?: V1Pod[]}>('/api/v1/pods')
    const requirements = options.selector === undefined ? undefined : parseLabelSelector(options.selector)
    if (options.selector !== undefined && !requirements) throw new MeshdbgError('usage', `invalid label selector "${options.selector}"`)
    pods = (list.items ?? [])
      .filter((pod) => isMeshedPod(pod) && (!requirements || matchesLabelSelector(pod.metadata?.labels ?? {}, requirements)))
      .map((pod) => ({name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', pod}))
  } else {
    pods = await resolveTargetPods(ctx, options.selector === undefined ? {namespaceWide: true, meshedOnly: true} : {selector: options.selector, meshedOnly: true})
  }
  const seen = new Set<string>()
  const running = pods.filter((pod) => {
    const key = `${pod.namespace}/${pod.name}`
    if (seen.has(key)) return false
    seen.add(key)
    return (pod.pod.status?.phase ?? 'Running') === 'Running'
  })
  const skipped = seen.size - running.length
  if (skipped > 0) ctx.note(`snapshot: skipping ${skipped} pod${skipped === 1 ? '' : 's'} that ${skipped === 1 ? 'is' : 'are'} not Running`)
  if (running.length === 0) throw new MeshdbgError('not-found', 'no Running meshed pods to capture')
  return running
}

async function recordApi(ctx: RunContext, session: Awaited<ReturnType<typeof openKube>>, path: string): Promise<Recorded> {
  const source: EntrySource = {kind: 'api', path}
  try {
    return {source, text: JSON.stringify(await session.getJson(path))}
  } catch (error) {
    // An API answer (404: the CRD is not installed, 403: not allowed) is recorded as such; anything else stops the capture.
    const code = (error as {code?: unknown}).code
    if (typeof code === 'number' && !ctx.signal.aborted) return {source, status: code, text: String((error as {body?: unknown}).body ?? '')}
    if (ctx.signal.aborted) throw new MeshdbgError('timeout', `timed out after ${formatDuration(ctx.timeoutMs)} reading ${path} from the Kubernetes API`, {hint: 'raise --timeout'})
    const cause = (error as {cause?: {code?: string}}).cause?.code ?? (error as {code?: string}).code
    throw new MeshdbgError('connection', `cannot read ${path} from the Kubernetes API server at ${session.server}${cause ? ` (${cause})` : `: ${(error as Error).message}`}`)
  }
}

type Write = (answer: Recorded) => Promise<void>

/** One proxy's answers, all asked at once, each written when it arrives. */
async function recordProxy(ctx: RunContext, resolved: ResolvedPod, options: CaptureOptions, write: Write): Promise<void> {
  const pod = {name: resolved.name, namespace: resolved.namespace}
  const admin = chooseAdminPort(options.proxyAdminPort, resolved.pod.metadata?.annotations).port
  const requests: Array<() => Promise<Recorded>> = [
    ...ADMIN_GETS.map((path) => () => recordPod(ctx, pod, admin, 'GET', path)),
    // Reading levels is a POST without a query (GET is 405 on modern Envoy); it changes nothing.
    () => recordPod(ctx, pod, admin, 'POST', 'logging'),
    ...AGENT_GETS.map(([port, path]) => () => recordPod(ctx, pod, port, 'GET', path)),
  ]
  const hasProxyContainer = [...(resolved.pod.spec?.containers ?? []), ...(resolved.pod.spec?.initContainers ?? [])].some((container) => container.name === 'istio-proxy')
  if (hasProxyContainer) requests.push(() => recordLog(ctx, pod, 'istio-proxy', options.logTail))
  await Promise.all(requests.map(async (request) => write(await request())))
}

/**
 * Every debug path sync-status, version and the istiod views ask one istiod, as they ask it
 * (queryIstiod): port 8080 first; when it does not answer (refused, closed) or wants credentials
 * (401/403), that answer is recorded and the path is asked again on 15014 with a bearer token, so
 * replay takes the same fallback and prints what the live command printed. `concurrency` paths at
 * a time: a replica serving 100 proxies' config dumps at once only queues them and holds them all
 * in memory.
 */
async function recordIstiod(ctx: RunContext, istiod: IstiodPod, proxies: ResolvedPod[], namespaces: string[], options: CaptureOptions, write: Write): Promise<void> {
  const paths = new Set<string>(['/debug/syncz', ...namespaces.map((namespace) => `/debug/syncz?namespace=${encodeURIComponent(namespace)}`)])
  for (const proxy of proxies) paths.add(istiodEndpointPath('config-dump', {proxy: proxyIdOf(proxy)}))
  if (options.istiod) {
    for (const path of ISTIOD_VIEWS) paths.add(path)
    for (const proxy of proxies) {
      paths.add(istiodEndpointPath('edsz', {proxy: proxyIdOf(proxy)}))
      paths.add(istiodEndpointPath('adsz', {proxy: proxyIdOf(proxy)}))
    }
  }
  let fellBack = false
  const monitoring = async (path: string): Promise<Recorded> => {
    let token: string
    try {
      token = await istiodToken(ctx, istiod, options)
    } catch (error) {
      // No token, no request: replay fails this path the way the live command fails it.
      if (isMeshdbgError(error) && error.kind !== 'timeout') return {source: podSource(istiod, ISTIOD_MONITORING_PORT, 'GET', path), error}
      throw error
    }
    return recordPod(ctx, istiod, ISTIOD_MONITORING_PORT, 'GET', path, {authorization: `Bearer ${token}`})
  }
  const requests = [...paths].map((path) => async () => {
    const answer = await recordPod(ctx, istiod, ISTIOD_HTTP_PORT, 'GET', path)
    await write(answer)
    const unanswered = answer.error?.kind === 'connection' || answer.status === 401 || answer.status === 403
    if (!unanswered) return
    if (!fellBack) ctx.note(`istiod ${istiod.name}: port ${ISTIOD_HTTP_PORT} ${answer.error ? 'did not answer' : `answered HTTP ${answer.status}`}; capturing port ${ISTIOD_MONITORING_PORT} with a bearer token`)
    fellBack = true
    await write(await monitoring(path))
  })
  requests.push(async () => write(await recordPod(ctx, istiod, ISTIOD_MONITORING_PORT, 'GET', '/version')))
  await forEachLimited(requests, options.concurrency, (request) => request())
}

function podSource(pod: {name: string; namespace: string}, port: number, method: 'GET' | 'POST', path: string): EntrySource {
  return {kind: 'pod', namespace: pod.namespace, pod: pod.name, port, method, path: path.startsWith('/') ? path : `/${path}`}
}

async function recordPod(ctx: RunContext, pod: {name: string; namespace: string}, port: number, method: 'GET' | 'POST', path: string, headers?: Record<string, string>): Promise<Recorded> {
  const source = podSource(pod, port, method, path)
  try {
    const response = await fetchFromPod(ctx, pod, port, path, {method, acceptStatus: 'any', ...(headers ? {headers} : {})})
    return {source, status: response.status, text: response.text}
  } catch (error) {
    if (isMeshdbgError(error) && error.kind !== 'timeout') return {source, error}
    throw error
  }
}

async function recordLog(ctx: RunContext, pod: {name: string; namespace: string}, container: string, tailLines: number): Promise<Recorded> {
  const source: EntrySource = {kind: 'log', namespace: pod.namespace, pod: pod.name, container, tailLines}
  try {
    const {openPodLog} = await import('../kube/pod-logs.js')
    const stream = await openPodLog(ctx, pod, {container, follow: false, tailLines, timestamps: true})
    const chunks: Buffer[] = []
    for await (const chunk of stream) chunks.push(chunk)
    const text = Buffer.concat(chunks).toString('utf8')
    const lines = text.split('\n').filter((line, index, all) => line !== '' || index < all.length - 1).length
    return {source, text, complete: lines < tailLines}
  } catch (error) {
    if (isMeshdbgError(error) && error.kind !== 'timeout') return {source, error}
    throw error
  }
}

/** A key that holds key material (redact.ts's KEY_HOLDERS), in key position. */
const KEY_HOLDER = /"(?:private_?key|privateKey|password|generic_?secret|genericSecret|session_?ticket_?keys|sessionTicketKeys)"\s*:\s*/g
/** An inline data-source value that is not Envoy's "[redacted]" (nor its base64): what redactKeyMaterial replaces. */
const UNREDACTED_MATERIAL = /"inline_?(?:bytes|string|secret|Bytes|String|Secret)"\s*:\s*"(?!\[redacted\]"|W3JlZGFjdGVkXQ==")/

/**
 * Whether an answer may hold key material redactKeyMaterial would replace: some key holder's
 * value (found by scanning the JSON text, not parsing it) holds an inline value Envoy did not
 * redact. A `\u` escape anywhere could spell a key differently: then always yes.
 */
function mayHoldKeyMaterial(text: string): boolean {
  if (text.includes('\\u')) return true
  for (const match of text.matchAll(KEY_HOLDER)) {
    const start = match.index + match[0].length
    if (UNREDACTED_MATERIAL.test(text.slice(start, jsonValueEnd(text, start)))) return true
  }
  return false
}

/** Where the JSON value starting at `start` ends (a string, an object or array with what nests in it, or a literal). */
export function jsonValueEnd(text: string, start: number): number {
  let depth = 0
  let at = start
  while (at < text.length) {
    const char = text[at]
    if (char === '"') {
      at += 1
      while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1
      at += 1
      if (depth === 0) return at
      continue
    }
    if (char === '{' || char === '[') depth += 1
    else if (char === '}' || char === ']') {
      depth -= 1
      if (depth <= 0) return at + 1
    } else if (depth === 0 && (char === ',' || char === '\n')) return at
    at += 1
  }
  return text.length
}

/**
 * Private keys never reach the archive: a JSON answer that holds any (istiod's view of a proxy,
 * a Struct-typed config) is re-serialised with them replaced, as `-o json` would print it. The
 * text scan first spares the parse of the usual answer, whose keys Envoy already redacted
 * (parsing every 12 MB config dump was a fifth of a capture's CPU).
 */
export function redactAnswer(text: string): {text: string; count: number} | undefined {
  if (!mayHoldKeyMaterial(text)) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const {value, count} = redactKeyMaterial(parsed)
  return count > 0 ? {text: toJson(value), count} : undefined
}

function labelOf(pod: ResolvedPod, source: EntrySource): string {
  if (source.kind === 'log') return `${pod.namespace}-${pod.name}-log`
  if (source.kind === 'pod') return `${pod.namespace}-${pod.name}-${source.port}-${source.method === 'POST' ? 'post-' : ''}${source.path}`
  return source.path
}

function extensionOf(source: EntrySource): string {
  if (source.kind !== 'pod') return 'txt'
  return /^\/(config_dump|clusters\?format=json|certs|server_info|debug\/(?!ndsz)|version)/.test(source.path) ? 'json' : 'txt'
}

export function progressBar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width)
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`
}
