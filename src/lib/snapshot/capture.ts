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
import {findIstiods, ISTIOD_ENDPOINTS, ISTIOD_HTTP_PORT, ISTIOD_MONITORING_PORT, istiodEndpointPath, proxyIdOf, type IstiodPod} from '../istio/istiod.js'
import {fetchFromPod, openKube, resolveTargetPods, type ResolvedPod} from '../kube/index.js'
import {chooseAdminPort} from '../kube/admin-port.js'
import {isMeshedPod} from '../kube/target.js'
import {SNAPSHOT_FORMAT, SNAPSHOT_FORMAT_VERSION, SnapshotWriter, type EntrySource, type SnapshotEntry, type SnapshotManifest} from './archive.js'
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
  proxyAdminPort?: number
  /** Lines of each proxy's log to keep (its most recent). */
  logTail: number
  /** Proxies captured at once. */
  concurrency: number
}

export interface CaptureSummary {
  file: string
  capturedAt: string
  proxies: Array<{pod: string; namespace: string}>
  istiods: string[]
  namespaces: string[]
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
const ADMIN_GETS = [AdminPath.withEds, AdminPath.clusterStatus, 'certs', 'server_info', 'stats']
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
  body?: Buffer
  status?: number
  complete?: boolean
  error?: MeshdbgError
}

export async function captureSnapshot(ctx: RunContext, options: CaptureOptions, meshdbgVersion: string): Promise<CaptureSummary> {
  const session = await openKube(ctx)
  const capturedAt = new Date(Date.now()).toISOString()
  const proxies = await proxyPods(ctx, options)
  const namespaces = [...new Set([...proxies.map((pod) => pod.namespace), options.istioNamespace])].sort()
  const writer = new SnapshotWriter(options.file)
  const entries: SnapshotEntry[] = []
  const collections: SnapshotManifest['collections'] = []
  let failed = 0
  let redacted = 0
  const failures: string[] = []
  const write = async (recorded: Recorded, label: string, extension: string) => {
    const entry: SnapshotEntry = {source: recorded.source}
    if (recorded.error) {
      failed += 1
      if (failures.length < 5) failures.push(recorded.error.message)
      entry.error = {kind: recorded.error.kind, message: recorded.error.message, ...(recorded.error.hint ? {hint: recorded.error.hint} : {})}
    } else {
      let body = recorded.body ?? Buffer.alloc(0)
      const redaction = redactAnswer(body)
      if (redaction) {
        body = redaction.body
        entry.redacted = redaction.count
        redacted += redaction.count
      }
      const added = await writer.add(label, body, extension)
      entry.file = added.file
      entry.offset = added.offset
      if (recorded.status !== undefined) entry.status = recorded.status
      if (recorded.complete !== undefined) entry.complete = recorded.complete
    }
    entries.push(entry)
  }
  try {
    // API objects first: the pods, services, workloads and Istio resources of every namespace involved.
    const scopes = options.allNamespaces ? [''] : namespaces.map((namespace) => `namespaces/${encodeURIComponent(namespace)}/`)
    const apiPaths = ['/api/v1/namespaces', ...scopes.flatMap((scope) => NAMESPACED_COLLECTIONS.map((path) => path.replace('NS/', scope)))]
    const apiAnswers = await ctx.spin(`Reading ${apiPaths.length} API collections`, Promise.all(apiPaths.map((path) => recordApi(ctx, session, path))))
    for (const answer of apiAnswers) {
      await write(answer, (answer.source as {path: string}).path, 'json')
      const path = (answer.source as {path: string}).path
      collections.push({path, ...(/\/namespaces\/([^/]+)\//.test(path) ? {namespace: decodeURIComponent(/\/namespaces\/([^/]+)\//.exec(path)![1])} : {})})
    }

    // Each proxy: admin, agent and log answers, `concurrency` pods at a time, with a progress bar.
    for (let start = 0; start < proxies.length; start += options.concurrency) {
      const batch = proxies.slice(start, start + options.concurrency)
      const done = start + batch.length
      const answers = await ctx.spin(`Capturing proxies ${progressBar(done, proxies.length)} ${done}/${proxies.length}`, Promise.all(batch.map((pod) => recordProxy(ctx, pod, options))))
      for (const [index, recorded] of answers.entries()) {
        for (const answer of recorded) await write(answer, labelOf(batch[index], answer.source), answer.source.kind === 'log' ? 'log' : extensionOf(answer.source))
      }
    }

    // istiod: what sync-status and version ask every replica (and every view with --istiod).
    const istiods = await findIstiods(ctx, {istioNamespace: options.istioNamespace, revision: options.revision}).catch((error: unknown) => {
      if (!isMeshdbgError(error) || error.kind !== 'not-found') throw error
      ctx.note(`snapshot: ${error.message}; istiod left out`)
      return [] as IstiodPod[]
    })
    for (const istiod of istiods) {
      const answers = await ctx.spin(`Capturing istiod ${istiod.name}`, recordIstiod(ctx, istiod, proxies, namespaces, options))
      for (const answer of answers) await write(answer, `istiod-${istiod.name}-${answer.source.kind === 'pod' ? answer.source.path : ''}`, extensionOf(answer.source))
    }

    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_FORMAT_VERSION,
      meshdbgVersion,
      capturedAt,
      contexts: [{name: session.contextName, server: session.server, namespace: session.namespace}],
      request: {
        targets: options.targets,
        ...(options.selector === undefined ? {} : {selector: options.selector}),
        namespaces,
        allNamespaces: options.allNamespaces,
        istiod: options.istiod,
        istioNamespace: options.istioNamespace,
      },
      collections,
      entries,
    }
    await writer.finish(manifest)
    if (failed > 0) ctx.note(`snapshot: ${failed} request${failed === 1 ? '' : 's'} failed and will fail the same way on replay, e.g.: ${failures.join('; ')}`)
    return {
      file: options.file,
      capturedAt,
      proxies: proxies.map((pod) => ({pod: pod.name, namespace: pod.namespace})),
      istiods: istiods.map((pod) => pod.name),
      namespaces,
      entries: entries.length,
      failedRequests: failed,
      redactedKeys: redacted,
      uncompressedBytes: writer.totalBytes,
    }
  } catch (error) {
    writer.abandon()
    throw error
  }
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
    return {source, body: Buffer.from(JSON.stringify(await session.getJson(path)))}
  } catch (error) {
    // An API answer (404: the CRD is not installed, 403: not allowed) is recorded as such; anything else stops the capture.
    const code = (error as {code?: unknown}).code
    if (typeof code === 'number' && !ctx.signal.aborted) return {source, status: code, body: Buffer.from(String((error as {body?: unknown}).body ?? ''))}
    if (ctx.signal.aborted) throw new MeshdbgError('timeout', `timed out after ${formatDuration(ctx.timeoutMs)} reading ${path} from the Kubernetes API`, {hint: 'raise --timeout'})
    const cause = (error as {cause?: {code?: string}}).cause?.code ?? (error as {code?: string}).code
    throw new MeshdbgError('connection', `cannot read ${path} from the Kubernetes API server at ${session.server}${cause ? ` (${cause})` : `: ${(error as Error).message}`}`)
  }
}

async function recordProxy(ctx: RunContext, resolved: ResolvedPod, options: CaptureOptions): Promise<Recorded[]> {
  const pod = {name: resolved.name, namespace: resolved.namespace}
  const admin = chooseAdminPort(options.proxyAdminPort, resolved.pod.metadata?.annotations).port
  const requests: Array<Promise<Recorded>> = [
    ...ADMIN_GETS.map((path) => recordPod(ctx, pod, admin, 'GET', path)),
    // Reading levels is a POST without a query (GET is 405 on modern Envoy); it changes nothing.
    recordPod(ctx, pod, admin, 'POST', 'logging'),
    ...AGENT_GETS.map(([port, path]) => recordPod(ctx, pod, port, 'GET', path)),
  ]
  const hasProxyContainer = [...(resolved.pod.spec?.containers ?? []), ...(resolved.pod.spec?.initContainers ?? [])].some((container) => container.name === 'istio-proxy')
  if (hasProxyContainer) requests.push(recordLog(ctx, pod, 'istio-proxy', options.logTail))
  return Promise.all(requests)
}

async function recordIstiod(ctx: RunContext, istiod: IstiodPod, proxies: ResolvedPod[], namespaces: string[], options: CaptureOptions): Promise<Recorded[]> {
  const paths = new Set<string>(['/debug/syncz', ...namespaces.map((namespace) => `/debug/syncz?namespace=${encodeURIComponent(namespace)}`)])
  for (const proxy of proxies) paths.add(istiodEndpointPath('config-dump', {proxy: proxyIdOf(proxy)}))
  if (options.istiod) {
    for (const path of ISTIOD_VIEWS) paths.add(path)
    for (const proxy of proxies) {
      paths.add(istiodEndpointPath('edsz', {proxy: proxyIdOf(proxy)}))
      paths.add(istiodEndpointPath('adsz', {proxy: proxyIdOf(proxy)}))
    }
  }
  const requests = [...paths].map((path) => recordPod(ctx, istiod, ISTIOD_HTTP_PORT, 'GET', path))
  requests.push(recordPod(ctx, istiod, ISTIOD_MONITORING_PORT, 'GET', '/version'))
  return Promise.all(requests)
}

async function recordPod(ctx: RunContext, pod: {name: string; namespace: string}, port: number, method: 'GET' | 'POST', path: string): Promise<Recorded> {
  const requestPath = path.startsWith('/') ? path : `/${path}`
  const source: EntrySource = {kind: 'pod', namespace: pod.namespace, pod: pod.name, port, method, path: requestPath}
  try {
    const response = await fetchFromPod(ctx, pod, port, path, {method, acceptStatus: 'any'})
    return {source, status: response.status, body: Buffer.from(response.text)}
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
    const body = Buffer.concat(chunks)
    const lines = body.toString('utf8').split('\n').filter((line, index, all) => line !== '' || index < all.length - 1).length
    return {source, body, complete: lines < tailLines}
  } catch (error) {
    if (isMeshdbgError(error) && error.kind !== 'timeout') return {source, error}
    throw error
  }
}

/**
 * Private keys never reach the archive: a JSON answer that holds any (istiod's view of a proxy,
 * a Struct-typed config) is re-serialised with them replaced, as `-o json` would print it.
 */
function redactAnswer(body: Buffer): {body: Buffer; count: number} | undefined {
  const text = body.toString('utf8')
  if (!/private_?key|privateKey|password|generic_?secret|genericSecret|session_?ticket_?keys|sessionTicketKeys/.test(text)) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const {value, count} = redactKeyMaterial(parsed)
  return count > 0 ? {body: Buffer.from(toJson(value)), count} : undefined
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
