import type {V1Pod, V1PodList} from '@kubernetes/client-node'

import {BytesMemo} from '../bytes-memo.js'
import type {RunContext} from '../context.js'
import {MeshdbgError, notFoundError} from '../errors.js'
import {accessLogEntries, splitLines} from '../envoy/access-log.js'
import {certificateCache, type CertificateCache} from '../envoy/certs.js'
import {fetchCertificateRows} from '../envoy/certs-source.js'
import {parseActiveLoggers, resetSpecFor} from '../envoy/log-levels.js'
import {MEMBERSHIP_STATS_FILTER, parseClusterMembership, type ClusterMembership} from '../envoy/membership.js'
import {AGENT_STATUS_PORT} from '../istio/agent.js'
import type {DescribeContext, DescribePodInput, IstioResources, ServiceInput} from '../istio/describe.js'
import {listIstioResources, rootNamespaceOf} from '../istio/describe-fetch.js'
import {loadIstiodSyncz, type IstiodSelector} from '../istio/istiod.js'
import {mergeSyncStatus, type SyncStatusRow} from '../istio/sync-status.js'
import {loadControlPlaneVersions} from '../istio/version.js'
import {chooseAdminPort} from '../kube/admin-port.js'
import {buffersCollector, heapCollector} from '../gc.js'
import {closePodForwards, fetchAdminFromPod, fetchFromPod, getKubeJson, resolveTargetPods, type ResolvedPod} from '../kube/index.js'
import {isMeshedPod} from '../kube/target.js'
import {planSharedTunnel} from '../kube/tunnel-plan.js'
import {pairMemo, type PairMemo} from '../pair-memo.js'
import type {InputText} from '../input.js'
import {destinationRulePaths, DIAGNOSE_DUMP_PATHS, withDestinationRules, type DiagnoseDumpPart} from './dump-reads.js'
import type {DumpReader} from './dump-readers.js'
import {clusterHealthFromEndpoints, ENDPOINT_STATES_PATH} from './endpoint-states.js'
import {clusterHealthFromMembership} from './routing.js'
import type {ProxyHandle} from './run.js'
import type {ProxyFacts, SyncFacts} from './types.js'

export interface DiagnoseTargets {
  target?: string
  /** `-l`: pods matching a label selector (in -n). */
  selector?: string
  /** `--all`: every meshed pod of the namespace. */
  all?: boolean
  /** `-A`: every meshed pod of every namespace. */
  allNamespaces?: boolean
}

/** Running meshed pods to diagnose, in namespace and name order. */
export async function resolveDiagnosePods(ctx: RunContext, targets: DiagnoseTargets): Promise<ResolvedPod[]> {
  let pods: ResolvedPod[]
  if (targets.allNamespaces) {
    const list = await getKubeJson<V1PodList>(ctx, 'pods in all namespaces', '/api/v1/pods')
    pods = (list.items ?? []).map((pod) => ({name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', pod}))
  } else {
    pods = await resolveTargetPods(ctx, {target: targets.target, selector: targets.selector, namespaceWide: targets.all})
  }
  const usable = pods.filter(({pod}) => isMeshedPod(pod) && pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp)
  const skipped = pods.length - usable.length
  if (usable.length === 0) {
    throw notFoundError(`no Running meshed pods to diagnose${skipped > 0 ? ` (${skipped} pod${skipped === 1 ? '' : 's'} without a sidecar or not Running)` : ''}`, 'name a meshed pod or workload, or pass -n with the namespace')
  }
  if (skipped > 0 && (targets.target !== undefined || targets.selector !== undefined)) {
    ctx.note(`skipping ${skipped} pod${skipped === 1 ? '' : 's'} without a sidecar or not Running`)
  }
  return usable.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

export interface LiveFactsOptions extends IstiodSelector {
  sinceMs: number
  proxyAdminPort?: number
  /** At most this many access-log lines per proxy (the newest). */
  maxLogLines: number
  /** Reads each proxy's config dump and `/clusters` answers (on worker threads for many proxies). */
  dumpReader: DumpReader
  /** pilot-agent's readiness is read (the readiness check runs): it shares the admin port's tunnel. */
  readsAgent: boolean
}

/** Buffers this thread may hold between proxies before it collects them: see open().close. */
const MAIN_THREAD_BUFFER_BYTES = 64 * 1024 * 1024
/**
 * Heap this thread may add between full collections: see heapCollector. 6 interleaved pairs of
 * `diagnose -A` on the scale scenario: 16 MB peaked at 254-269 MB (median wall 10.5 s), 32 MB at
 * 268-318 MB (10.2 s), the same CPU.
 */
const MAIN_THREAD_HEAP_GROWTH_BYTES = 16 * 1024 * 1024
/** Gauge answers kept to be recognised (BytesMemo): a few namespaces' worth at 2,000 services. */
const MEMBERSHIP_MEMO_BYTES = 4 * 1024 * 1024

/** A promise made on first call and shared by every later caller. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined
  return () => {
    if (!value) {
      value = make()
      // Only the checks that asked see the failure; nobody else may crash the process with it.
      value.catch(() => {})
    }
    return value
  }
}

function isGatewayPod(pod: V1Pod): boolean {
  return (pod.spec?.containers ?? []).some((container) => [...(container.command ?? []), ...(container.args ?? [])].includes('router'))
}

/**
 * The facts of every proxy, fetched live on first use: Envoy admin and pilot-agent through
 * port-forwards, the access log through the log API, and istiod's syncz and versions once for
 * the whole run (every replica, in parallel).
 */
export function liveFacts(ctx: RunContext, pods: readonly ResolvedPod[], options: LiveFactsOptions): ProxyHandle[] {
  const selector: IstiodSelector = {istioNamespace: options.istioNamespace, revision: options.revision, token: options.token}
  const syncz = once(async () => {
    const {sources, failures} = await loadIstiodSyncz(ctx, selector)
    const rows = new Map<string, SyncStatusRow>(mergeSyncStatus(sources, {now: Date.now()}).map((row) => [row.proxy, row]))
    return {rows, failures: failures.map((failure) => ({istiod: failure.istiod, message: failure.error instanceof Error ? failure.error.message : String(failure.error)}))}
  })
  const versions = once(async () => new Map((await loadControlPlaneVersions(ctx, selector)).map((v) => [v.istiod, v.version])))
  const podsByNamespace = new Map<string, () => Promise<V1Pod[]>>()
  const podsOf = (namespace: string) => {
    let get = podsByNamespace.get(namespace)
    if (!get) {
      get = once(async () => (await getKubeJson<V1PodList>(ctx, `pods in namespace "${namespace}"`, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`)).items ?? [])
      podsByNamespace.set(namespace, get)
    }
    return get()
  }
  const servicesByNamespace = new Map<string, () => Promise<ServiceInput[]>>()
  const servicesOf = (namespace: string) => {
    let get = servicesByNamespace.get(namespace)
    if (!get) {
      get = once(async () => (await getKubeJson<{items?: ServiceInput[]}>(ctx, `services in namespace "${namespace}"`, `/api/v1/namespaces/${encodeURIComponent(namespace)}/services`)).items ?? [])
      servicesByNamespace.set(namespace, get)
    }
    return get()
  }
  // Where listing cluster-wide is forbidden: the diagnosed namespaces and the root namespace's default.
  const namespaces = [...new Set([...pods.map((pod) => pod.namespace), options.istioNamespace])]
  const istio = once(async () => {
    const [resources, rootNamespace] = await Promise.all([listIstioResources(ctx, async () => namespaces), rootNamespaceOf(ctx, options.istioNamespace)])
    return {resources, rootNamespace}
  })
  // Callers outside those namespaces (a client in `default`): one cluster-wide list, on first need.
  const allPods = once(async () => (await getKubeJson<V1PodList>(ctx, 'pods in all namespaces', '/api/v1/pods')).items ?? [])
  const certificates = certificateCache()
  // One namespace's sidecars have the same clusters, most often in the same health: their gauge
  // answers (~0.3 MB at 2,000 services) are the same bytes, read once.
  const memberships = new BytesMemo<ReadonlyMap<string, ClusterMembership>>(MEMBERSHIP_MEMO_BYTES)
  const membershipHealth = pairMemo()
  const endpointHealth = pairMemo()
  const pairs = pairMemo()
  const listPair = (first: readonly string[], second: readonly string[]): object => pairs(first, second, () => ({}))
  const sets = new WeakMap<readonly string[], ReadonlySet<string>>()
  const listSet = (list: readonly string[]): ReadonlySet<string> => {
    let set = sets.get(list)
    if (set === undefined) sets.set(list, (set = new Set(list)))
    return set
  }
  const collectBuffers = buffersCollector(MAIN_THREAD_BUFFER_BYTES)
  const collectHeap = heapCollector(MAIN_THREAD_HEAP_GROWTH_BYTES)
  return pods.map((resolved) => ({
    id: `${resolved.name}.${resolved.namespace}`,
    open: () => {
      // The proxy's own requests end when its checks are done (each check has its own deadline):
      // a fetch a timed-out check left behind must not run on while the next proxies start. The
      // shared istiod and pod-list reads above keep the command's signal: other proxies use them.
      const stop = new AbortController()
      const proxyCtx: RunContext = {...ctx, signal: AbortSignal.any([ctx.signal, stop.signal])}
      return {
        facts: proxyFacts(proxyCtx, resolved, options, {syncz, versions, podsOf, servicesOf, istio, namespaces, allPods, certificates, memberships, membershipHealth, endpointHealth, listPair, listSet, dumpReader: options.dumpReader}),
        close: () => {
          stop.abort(new MeshdbgError('timeout', `the checks of ${resolved.name}.${resolved.namespace} are done`))
          // Its tunnels too: 500 pods' idle tunnels and their buffers must not pile up until the end.
          void closePodForwards(ctx, resolved).catch(() => {})
          // With the dumps read on worker threads this thread allocates few objects, and V8 let
          // the proxies' dead port-forward chunks and bodies pile up past 100 MB.
          collectHeap()
          collectBuffers()
        },
      }
    },
  }))
}

interface Shared {
  syncz(): Promise<{rows: Map<string, SyncStatusRow>; failures: SyncFacts['failedIstiods']}>
  versions(): Promise<Map<string, string>>
  podsOf(namespace: string): Promise<V1Pod[]>
  servicesOf(namespace: string): Promise<ServiceInput[]>
  istio(): Promise<{resources: IstioResources; rootNamespace: string}>
  /** The diagnosed pods' namespaces and the istio namespace. */
  namespaces: readonly string[]
  allPods(): Promise<V1Pod[]>
  /** Certificates parsed by earlier proxies' certificate checks (the mesh root, mostly). */
  certificates: CertificateCache
  /** Membership gauges read by earlier proxies, by their answer's bytes. */
  memberships: BytesMemo<ReadonlyMap<string, ClusterMembership>>
  /** What clusterHealthFromMembership made of a membership and a used-cluster list. */
  membershipHealth: PairMemo
  /** What clusterHealthFromEndpoints made of a used-cluster list and an EDS dump's lists (by their pair: listPair). */
  endpointHealth: PairMemo
  /** One object per pair of lists, to memoise by both (PairMemo takes two keys). */
  listPair: (first: readonly string[], second: readonly string[]) => object
  /** A list's names as a set, made once per list (the dump reader hands out one array per repeated list). */
  listSet: (list: readonly string[]) => ReadonlySet<string>
  dumpReader: DumpReader
}

const hasIp = (pod: V1Pod, ip: string) => pod.status?.podIP === ip || (pod.status?.podIPs ?? []).some((entry) => entry.ip === ip)

/**
 * One stats read for two checks: the membership gauges (clusterHealth) and the update_rejected
 * counters (configStats), each of which keeps only its own lines. A request per proxy fewer: at
 * 500 proxies each is a message through the API server and the kubelet both ways.
 */
const PROXY_STATS_PATH = `stats?filter=${encodeURIComponent(`(${MEMBERSHIP_STATS_FILTER})|update_rejected`)}`

function proxyFacts(ctx: RunContext, resolved: ResolvedPod, options: LiveFactsOptions, shared: Shared): ProxyFacts {
  const id = `${resolved.name}.${resolved.namespace}`
  const adminPort = chooseAdminPort(options.proxyAdminPort, resolved.pod.metadata?.annotations ?? undefined)
  // One port-forward upgrade per proxy instead of two: at 500 proxies the second tunnel's upgrade,
  // setup and close were ~1 s of a `diagnose -A`.
  if (options.readsAgent) planSharedTunnel(ctx, resolved, [adminPort.port, AGENT_STATUS_PORT])
  const admin = (path: string, method: 'GET' | 'POST' = 'GET') => fetchAdminFromPod(ctx, resolved, path, {adminPort, method, spinner: false})
  // The answers the dump reader takes: read into buffers it lends (and gets back from its workers).
  const dumpAnswer = (path: string) => fetchAdminFromPod(ctx, resolved, path, {adminPort, spinner: false, bodyBuffer: shared.dumpReader.bodyBuffer})
  const statusOf = async (port: number, path: string, headers?: Record<string, string>) => {
    const response = await fetchFromPod(ctx, resolved, port, path, {acceptStatus: 'any', headers})
    return {status: response.status, text: response.text}
  }
  // Only the fields checks read, filtered by Envoy itself (dump-reads.ts): a few MB instead of
  // a 2,000-service sidecar's whole 11 MB dump, read down to a few names by the dump reader.
  const readRouting = async () => {
    const parts = Object.keys(DIAGNOSE_DUMP_PATHS) as DiagnoseDumpPart[]
    const answers = await Promise.all(parts.map((part) => dumpAnswer(DIAGNOSE_DUMP_PATHS[part])))
    return shared.dumpReader.routing(Object.fromEntries(parts.map((part, i) => [part, answers[i]])) as Record<DiagnoseDumpPart, InputText>, id)
  }
  const proxyStats = once(() => admin(PROXY_STATS_PATH))
  const routing = once(async () => {
    // The DestinationRule behind a host with missing subsets: its clusters' metadata, asked for
    // only now (a few proxies), not with every proxy's clusters. When istiod pushed between the
    // two reads the proxy is read once more; after a second push that soon, withDestinationRules'
    // merge of the two reads stands.
    for (let attempt = 1; ; attempt++) {
      const digest = await readRouting()
      const known = digest.missingHosts.filter((host) => host.known).map((host) => host.hostname)
      if (known.length === 0) return digest
      const paths = destinationRulePaths(known)
      const [activeClusters, staticClusters] = await Promise.all([admin(paths.activeClusters), admin(paths.staticClusters)])
      const {routing: read, changed} = withDestinationRules(digest, {activeClusters, staticClusters}, id)
      if (!changed || attempt === 2) return read
    }
  })
  return {
    pod: {
      name: resolved.name,
      namespace: resolved.namespace,
      id,
      gateway: isGatewayPod(resolved.pod),
      startLevels: resetSpecFor(resolved.pod).spec,
    },
    routing,
    // The membership gauges settle a healthy mesh's clusters in a fifth of `/clusters`' bytes
    // (1.6 MB on a 2,000-service sidecar), when the mesh exports them (Istio's default stats
    // matcher does not); else the EDS dump, in about half of them, read item by item against the
    // proxies before. `/clusters` is read only for a cluster whose hosts are all down.
    clusterHealth: once(async () => {
      const [{usedEdsClusters}, stats] = await Promise.all([routing(), proxyStats()])
      const bytes = stats.bytes ?? Buffer.from(stats.text, 'utf8')
      const known = shared.memberships.lookup(bytes)
      const membership = known ?? parseClusterMembership(bytes)
      if (known === undefined) shared.memberships.keep(bytes, membership)
      // Both are shared by one namespace's sidecars (the used clusters decoded once: dump-readers.ts).
      const health = shared.membershipHealth(membership, usedEdsClusters, () => clusterHealthFromMembership(membership, usedEdsClusters))
      if (health) return health
      const states = await shared.dumpReader.endpointStates(await dumpAnswer(ENDPOINT_STATES_PATH), id)
      // Memoised only without down clusters: the verdict then depends on the used, listed and empty lists alone.
      const fromEndpoints = states.unserved.length > 0
        ? clusterHealthFromEndpoints(states, usedEdsClusters, shared.listSet)
        : shared.endpointHealth(usedEdsClusters, shared.listPair(states.clusters, states.empty), () => clusterHealthFromEndpoints(states, usedEdsClusters, shared.listSet))
      return fromEndpoints ?? shared.dumpReader.clusterHealth(await dumpAnswer('clusters?format=json'), id)
    }),
    envoyReady: once(() => statusOf(adminPort.port, '/ready')),
    // The proxy's only pilot-agent request: its connection ends with it, which lets the tunnel it
    // shares with the admin port close when Envoy's does (planSharedTunnel).
    agentReady: once(() => statusOf(AGENT_STATUS_PORT, '/healthz/ready', {connection: 'close'})),
    logLevels: once(async () => parseActiveLoggers((await admin('logging', 'POST')).text)),
    configStats: once(async () => {
      const text = (await proxyStats()).text
      const stats = new Map<string, number>()
      for (const line of text.split('\n')) {
        const match = /^(\S+): (\d+)$/.exec(line.trim())
        if (match) stats.set(match[1], Number(match[2]))
      }
      return stats
    }),
    certificates: once(() => fetchCertificateRows(ctx, resolved, {now: new Date()}, options.proxyAdminPort, {adminPort, spinner: false}, shared.certificates)),
    describeContext: once(async (): Promise<DescribeContext> => {
      const [{resources, rootNamespace}, services, pods] = await Promise.all([shared.istio(), shared.servicesOf(resolved.namespace), shared.podsOf(resolved.namespace)])
      return {resources, rootNamespace, services, pods: pods as DescribePodInput[], gatewayPods: [], gatewayServices: [], proxies: []}
    }),
    accessLog: once(async () => {
      const {openPodLog} = await import('../kube/pod-logs.js')
      const stream = await openPodLog(ctx, resolved, {container: 'istio-proxy', follow: false, sinceSeconds: options.sinceMs / 1000, tailLines: options.maxLogLines})
      const entries = []
      for await (const entry of accessLogEntries(splitLines(stream))) entries.push(entry)
      return entries
    }),
    sync: once(async () => {
      const {rows, failures} = await shared.syncz()
      return {row: rows.get(id), failedIstiods: failures}
    }),
    istiodVersion: async (istiod) => (await shared.versions()).get(istiod),
    podByIp: async (ip, namespace) => {
      const candidates = namespace ? await shared.podsOf(namespace) : []
      return candidates.find((pod) => hasIp(pod, ip))?.metadata?.name
    },
    peerByIp: async (ip) => {
      for (const namespace of [resolved.namespace, ...shared.namespaces.filter((ns) => ns !== resolved.namespace)]) {
        // Naming the caller is a nicety: a namespace we may not list leaves it an IP, not an ERROR.
        const pods = await shared.podsOf(namespace).catch((): V1Pod[] => [])
        const pod = pods.find((candidate) => hasIp(candidate, ip))
        if (pod) return `${pod.metadata?.name ?? ''}.${namespace}`
      }
      const pod = (await shared.allPods().catch((): V1Pod[] => [])).find((candidate) => hasIp(candidate, ip))
      return pod ? `${pod.metadata?.name ?? ''}.${pod.metadata?.namespace ?? ''}` : undefined
    },
  }
}
