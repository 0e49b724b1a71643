// `describe pod` / `describe service`: what the Istio resources say about a workload, checked
// against each other and against the proxies' accepted clusters. Pure: resources and cluster names
// in, a typed result with warnings out (I/O lives in describe-fetch.ts, text in
// render/describe-view.ts). The warnings keep istioctl `x describe`'s wording where it has one
// (istioctl/pkg/describe/describe.go); every warning carries a stable `id` so `diagnose` can report
// the same findings. Entry points: analyzePod, analyzeService, mtlsConflicts (a namespace's),
// effectiveMtls / mtlsModeForPort, findDestinationRule, applicableAuthorizationPolicies,
// applicableSidecar; describe-fetch.ts reads their input (fetchPodDescribeInput, listIstioResources);
// ambient mode (enrolment, ztunnel, waypoints) is describe-ambient.ts's.
import {isMeshedPod} from '../kube/target-spec.js'
import {ambientDataplane, describeAmbient, serviceWaypoint, type AmbientContext, type Dataplane, type DescribedAmbient} from './describe-ambient.js'
import type {WaypointBinding, WaypointWarningId} from './waypoint.js'

// ---------------------------------------------------------------------------------------------
// Inputs: the fields of Kubernetes and Istio objects the analysis reads (plain API JSON).

export interface ObjectMeta {
  name: string
  namespace: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  creationTimestamp?: string
}

/** A pod as the API returns it (the fields read here; also a PodLike for the mesh checks). */
export interface DescribePodInput {
  metadata: ObjectMeta
  spec?: {
    nodeName?: string
    hostNetwork?: boolean
    containers?: Array<{name?: string; ports?: Array<{containerPort: number; name?: string; protocol?: string}>; args?: string[]; command?: string[]}>
    initContainers?: Array<{name?: string; args?: string[]; command?: string[]; restartPolicy?: string}>
  }
  status?: {
    phase?: string
    podIP?: string
    conditions?: Array<{type?: string; status?: string}>
    containerStatuses?: Array<{name?: string; ready?: boolean; restartCount?: number}>
  }
}

export interface ServicePortInput {
  name?: string
  port: number
  targetPort?: number | string
  protocol?: string
  appProtocol?: string
}

export interface ServiceInput {
  metadata: ObjectMeta
  spec?: {selector?: Record<string, string>; ports?: ServicePortInput[]; type?: string; clusterIP?: string}
  status?: {loadBalancer?: {ingress?: Array<{ip?: string; hostname?: string}>}}
}

/** Any Istio resource: the analysis reads `spec` by kind. */
export interface IstioObject {
  metadata: ObjectMeta
  spec?: any // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface IstioResources {
  virtualServices: IstioObject[]
  destinationRules: IstioObject[]
  gateways: IstioObject[]
  peerAuthentications: IstioObject[]
  /** Listed for the pod's view (which policies apply); optional for callers that only route. */
  authorizationPolicies?: IstioObject[]
  sidecars?: IstioObject[]
}

/** The clusters a proxy accepted (its config dump), or why they are unknown. */
export interface ProxyClusters {
  /** `pod.namespace` */
  proxy: string
  /** Cluster names; undefined when the dump could not be read (then nothing is checked against it). */
  clusters?: string[]
  /** Clusters received but still warming (waiting for endpoints or secrets): not used for traffic yet. */
  warming?: string[]
  unavailable?: string
}

export interface DescribeContext {
  resources: IstioResources
  /** Services of the described namespace (describe pod: those selecting the pod are described). */
  services: ServiceInput[]
  /** Pods of the described namespace: subsets are matched against the service's pods. */
  pods: DescribePodInput[]
  /** Pods selected by the Gateways that route to the described services, any namespace. */
  gatewayPods: DescribePodInput[]
  /** Services in the gateway pods' namespaces (their addresses and ports). */
  gatewayServices: ServiceInput[]
  /** MeshConfig rootNamespace: mesh-wide PeerAuthentication and DestinationRules live there. */
  rootNamespace: string
  /** Proxies' clusters by `pod.namespace`: the described pod's own, and the gateway pods'. */
  proxies: ProxyClusters[]
  /** Cluster DNS domain (Istio's default `cluster.local`). */
  domainSuffix?: string
  /** The namespace, waypoints and ztunnel for ambient mode; absent: judged from the pod's labels only, no waypoints. */
  ambient?: AmbientContext
}

// ---------------------------------------------------------------------------------------------
// Results.

export type DescribeWarningId =
  | 'pod-not-meshed'
  | 'container-not-ready'
  | 'no-service-selects-pod'
  | 'service-has-no-pods'
  | 'port-protocol-unclassified'
  | 'subset-without-destination-rule'
  | 'unknown-subset'
  | 'subset-matches-no-pod'
  | 'gateway-not-found'
  | 'gateway-selects-no-pod'
  | 'route-cluster-missing'
  | 'mtls-conflict'
  | 'ztunnel-missing'
  | 'ztunnel-not-ready'
  | 'ztunnel-not-synced'
  | 'ambient-not-captured'
  | WaypointWarningId

export interface DescribeWarning {
  /** Stable identifier of the finding (the same ids `diagnose` reports). */
  id: DescribeWarningId
  /** One line, istioctl's wording where it has one. */
  message: string
  /** The object it is about: `VirtualService catalog-v1-v2.istioinaction`, `Service catalog.istioinaction`. */
  subject: string
}

export interface DescribedPort {
  name?: string
  port: number
  /** The pod port it reaches (targetPort resolved against the pod's named container ports); undefined when the name is not found. */
  targetPort?: number
  /** Istio's protocol for the port (`HTTP`, `TCP`, ...), or `auto-detect` when nothing classifies it. */
  protocol: string
}

export interface DescribedSubset {
  name: string
  labels: Record<string, string>
  /** The subset's labels select the described pod (describe pod) or one of the service's pods (describe service). */
  matchesPod: boolean
  tlsMode?: string
}

export interface DescribedDestinationRule {
  name: string
  namespace: string
  host: string
  subsets: DescribedSubset[]
  /** trafficPolicy.tls.mode, when set. */
  tlsMode?: string
  /** Port-level TLS modes (portLevelSettings[].tls.mode). */
  portTlsModes: Array<{port: number; mode: string}>
  /** "load balancer", "connection pool", "outlier detection" when set (istioctl's Policies line). */
  policies: string[]
}

export interface DescribedDestination {
  host: string
  subset?: string
  port?: number
  /** Percent of the route's traffic (100 for a single destination without weight). */
  weight: number
  /** The destination is the described service. */
  toService: boolean
  /** For destinations to the service with a subset: the subset selects the pod. */
  subsetMatchesPod?: boolean
}

export interface DescribedRoute {
  kind: 'http' | 'tcp' | 'tls'
  /** Position in the VirtualService's list of that kind. */
  index: number
  name?: string
  /** Match conditions in words (`uri prefix /api`, `header x-user=exact:jason`); empty: everything. */
  match: string[]
  destinations: DescribedDestination[]
  /** Some destination of this route can reach the described pod. */
  reachesPod: boolean
  timeout?: string
  fault: boolean
}

export interface DescribedVirtualService {
  name: string
  namespace: string
  hosts: string[]
  /** `mesh` and/or gateways as `namespace/name`. */
  gateways: string[]
  routes: DescribedRoute[]
  /**
   * Some route reaches the pod. When false although routes go to the service, istioctl prints
   * "No destinations match pod subsets": a fact about this pod, not a warning (a canary route to v2
   * only is correct for the v1 pods); the causes that are mistakes are warnings of their own.
   */
  reachesPod: boolean
}

export interface DescribedService {
  name: string
  namespace: string
  /** `<name>.<namespace>.svc.cluster.local` */
  host: string
  ports: DescribedPort[]
  destinationRule?: DescribedDestinationRule
  virtualServices: DescribedVirtualService[]
  /** The waypoint serving traffic to the Service (ambient), when an istio.io/use-waypoint label on it or its namespace concerns it. */
  waypoint?: WaypointBinding
}

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE'

export interface MtlsSource {
  /** Which scope decided: `default` (no policy: PERMISSIVE), `mesh`, `namespace`, `workload` or `port`. */
  level: 'default' | 'mesh' | 'namespace' | 'workload' | 'port'
  /** The deciding PeerAuthentication, `name.namespace`. */
  policy?: string
}

export interface EffectiveMtls {
  /** The workload's mode (ports without a port-level setting). */
  mode: MtlsMode
  source: MtlsSource
  ports: Array<{port: number; mode: MtlsMode; source: MtlsSource}>
  /** PeerAuthentications that select the workload, `name.namespace`, oldest first within a scope (istioctl's "Applied PeerAuthentication"). */
  applied: string[]
}

export interface GatewayExposure {
  /** `name.namespace` of the Gateway. */
  gateway: string
  virtualService: string
  /** Hosts both the Gateway server and the VirtualService accept. */
  hosts: string[]
  /** The Gateway server's port (the gateway Service's port) and protocol. */
  port: number
  protocol: string
  /** Gateway pods the Gateway selects, `name.namespace`. */
  gatewayPods: string[]
  /** Addresses of the gateway Services in front of those pods: load-balancer IPs/hostnames, else the cluster IP. */
  addresses: string[]
  /** Some route of the VirtualService reaches the described pod. */
  reachesPod: boolean
}

export interface DescribedPod {
  name: string
  namespace: string
  phase: string
  meshed: boolean
  /** An Istio gateway (`pilot-agent proxy router`): PeerAuthentication and DestinationRule TLS towards it do not apply as to a sidecar. */
  gateway: boolean
  revision?: string
  ip?: string
  labels: Record<string, string>
  ports: Array<{port: number; name?: string; protocol: string; container: string}>
}

export interface AppliedAuthorizationPolicy {
  name: string
  namespace: string
  /** CUSTOM, DENY, ALLOW or AUDIT (ALLOW when unset). */
  action: string
  /** `mesh` (root namespace), `namespace` (no selector) or `workload` (its selector matches). */
  scope: 'mesh' | 'namespace' | 'workload'
  /** Number of rules; an ALLOW policy with none matches nothing (denies everything). */
  rules: number
}

export interface AppliedSidecar {
  name: string
  namespace: string
  /** Egress hosts (`namespace/host`): the services the proxy gets clusters for. Empty: every service. */
  egressHosts: string[]
}

export interface DescribePodAnalysis {
  pod: DescribedPod
  /** Sidecar, ambient (captured by its node's ztunnel) or outside the mesh; for ambient, its ztunnel and workload waypoint. */
  ambient: DescribedAmbient
  services: DescribedService[]
  /** AuthorizationPolicies applying to the pod, in evaluation order (CUSTOM, DENY, ALLOW, AUDIT), then by name. */
  authorizationPolicies: AppliedAuthorizationPolicy[]
  /** The Sidecar resource scoping the pod's proxy, if any. */
  sidecar?: AppliedSidecar
  /** Undefined for a pod without a sidecar (it only accepts plaintext). */
  mtls?: EffectiveMtls
  exposure: GatewayExposure[]
  warnings: DescribeWarning[]
  /** Proxies whose clusters were checked against the routes, and those that could not be read. */
  proxies: Array<{proxy: string; checked: boolean; reason?: string}>
}

export interface DescribeServiceAnalysis {
  service: DescribedService
  pods: Array<{name: string; ready: boolean; meshed: boolean; dataplane: Dataplane}>
  /** The mode of the service's first meshed pod (the one whose proxy was read). */
  mtls?: EffectiveMtls
  exposure: GatewayExposure[]
  warnings: DescribeWarning[]
  proxies: Array<{proxy: string; checked: boolean; reason?: string}>
}

// ---------------------------------------------------------------------------------------------
// Small rules, each from Istio.

const DEFAULT_DOMAIN = 'cluster.local'

/** `name.namespace` (Istio's convention for names in messages). */
export const kname = (meta: {name: string; namespace: string}) => `${meta.name}.${meta.namespace}`

/** Every `key=value` of `selector` is a label of the object (an empty selector selects everything). */
export function selectsLabels(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value)
}

/**
 * A host as written in a VirtualService or DestinationRule, as a FQDN: short names resolve in the
 * resource's namespace (model.ResolveShortnameToFQDN), and `name.namespace` gets the
 * `.svc.<domain>` suffix istioctl adds (describe.go extendFQDN).
 */
export function resolveHost(host: string, namespace: string, domain = DEFAULT_DOMAIN): string {
  if (host.startsWith('*')) return host
  const full = host.includes('.') ? host : `${host}.${namespace}`
  const suffix = `.svc.${domain}`
  if (full.endsWith(suffix)) return full
  // `name.namespace` only: a name with more dots (an external host) stays as written.
  return full.split('.').length === 2 ? full + suffix : full
}

/** `*.example.com` matches `a.example.com`; `*` matches everything (Istio's host.Name.Matches, one way). */
function hostCovers(pattern: string, host: string): boolean {
  if (pattern === host || pattern === '*') return true
  return pattern.startsWith('*') && host.endsWith(pattern.slice(1))
}

function hostsIntersect(a: string, b: string): string | undefined {
  if (hostCovers(a, b)) return b
  if (hostCovers(b, a)) return a
  return undefined
}

const PROTOCOLS: Readonly<Record<string, string>> = {
  tcp: 'TCP', udp: 'UDP', grpc: 'GRPC', 'grpc-web': 'GRPC-Web', http: 'HTTP', http_proxy: 'HTTP_PROXY', http2: 'HTTP2', https: 'HTTPS', tls: 'TLS', mongo: 'Mongo', redis: 'Redis', mysql: 'MySQL',
}
/** Ports Istio never sniffs: without a name they are TCP (pkg/config/kube/conversion.go wellKnownPorts). */
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017])

/**
 * Istio's protocol for a Service port (pkg/config/kube/conversion.go ConvertProtocol): appProtocol
 * first, else the name's prefix before `-`; undefined when nothing classifies it (Istio then
 * sniffs the protocol: istioctl prints `auto-detect`).
 */
export function servicePortProtocol(port: ServicePortInput): string | undefined {
  if (port.protocol === 'UDP') return 'UDP'
  let name = port.appProtocol ?? port.name ?? ''
  if (port.appProtocol === 'kubernetes.io/h2c') return 'HTTP2'
  if (port.appProtocol === 'kubernetes.io/ws') return 'HTTP'
  if (port.appProtocol === 'kubernetes.io/wss') return 'HTTPS'
  if (name.toLowerCase().startsWith('grpc-web')) return 'GRPC-Web'
  const dash = name.indexOf('-')
  if (dash >= 0) name = name.slice(0, dash)
  const found = PROTOCOLS[name.toLowerCase()]
  if (found) return found
  return WELL_KNOWN_TCP_PORTS.has(port.port) ? 'TCP' : undefined
}

/** The pod port a Service port reaches: a number, or a named container port (pilot's FindPort). */
export function resolveTargetPort(port: ServicePortInput, pod: DescribePodInput | undefined): number | undefined {
  const target = port.targetPort ?? port.port
  if (typeof target === 'number') return target
  if (/^\d+$/.test(target)) return Number(target)
  for (const container of pod?.spec?.containers ?? []) {
    for (const p of container.ports ?? []) if (p.name === target) return p.containerPort
  }
  return undefined
}

/** The revision that injected the pod: `istio.io/rev`, else the `sidecar.istio.io/status` annotation's. */
export function podRevision(pod: DescribePodInput): string | undefined {
  const annotations = pod.metadata.annotations ?? {}
  if (annotations['istio.io/rev']) return annotations['istio.io/rev']
  try {
    const status = JSON.parse(annotations['sidecar.istio.io/status'] ?? '') as {revision?: unknown}
    return typeof status.revision === 'string' ? status.revision : undefined
  } catch {
    return undefined
  }
}

const olderFirst = (a: IstioObject, b: IstioObject) => {
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0
  if (ta !== tb) return ta - tb
  return kname(a.metadata) < kname(b.metadata) ? -1 : kname(a.metadata) > kname(b.metadata) ? 1 : 0
}

function mtlsModeOf(mtls: {mode?: string} | undefined): MtlsMode | undefined {
  const mode = mtls?.mode
  return mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE' ? mode : undefined
}

/**
 * The effective PeerAuthentication of a workload (pilot/pkg/security/authn/policy_applier.go
 * ComposePeerAuthentication): the narrowest scope that sets a mode wins (workload over namespace
 * over mesh, i.e. the root namespace; no policy is PERMISSIVE), the oldest policy within a scope,
 * UNSET inherits, and the workload policy's portLevelMtls (keyed by the pod's port) wins per port.
 * `ports` are the pod ports to report (port-level ones are added).
 */
export function effectiveMtls(workload: {namespace: string; labels?: Record<string, string>}, rootNamespace: string, peerAuthentications: readonly IstioObject[], ports: readonly number[] = []): EffectiveMtls {
  const relevant = peerAuthentications.filter((pa) => pa.metadata.namespace === rootNamespace || pa.metadata.namespace === workload.namespace)
  const hasSelector = (pa: IstioObject) => Object.keys(pa.spec?.selector?.matchLabels ?? {}).length > 0
  const selecting = relevant.filter((pa) => selectsLabels(pa.spec?.selector?.matchLabels, workload.labels))
  const oldest = (list: IstioObject[]) => [...list].sort(olderFirst)[0] as IstioObject | undefined
  const mesh = oldest(selecting.filter((pa) => !hasSelector(pa) && pa.metadata.namespace === rootNamespace))
  const namespace = oldest(selecting.filter((pa) => !hasSelector(pa) && pa.metadata.namespace !== rootNamespace))
  // A selector in the root namespace is not a workload policy (and is ignored, as in pilot).
  const workloadPolicy = oldest(selecting.filter((pa) => hasSelector(pa) && pa.metadata.namespace !== rootNamespace))
  let mode: MtlsMode = 'PERMISSIVE'
  let source: MtlsSource = {level: 'default'}
  for (const [level, pa] of [['mesh', mesh], ['namespace', namespace], ['workload', workloadPolicy]] as const) {
    const set = pa ? mtlsModeOf(pa.spec?.mtls) : undefined
    if (pa && set) {
      mode = set
      source = {level, policy: kname(pa.metadata)}
    }
  }
  const perPort = new Map<number, {mode: MtlsMode; source: MtlsSource}>()
  for (const [key, value] of Object.entries((workloadPolicy?.spec?.portLevelMtls ?? {}) as Record<string, {mode?: string}>)) {
    const set = mtlsModeOf(value)
    perPort.set(Number(key), set ? {mode: set, source: {level: 'port', policy: kname(workloadPolicy!.metadata)}} : {mode, source})
  }
  const allPorts = [...new Set([...ports, ...perPort.keys()])].sort((a, b) => a - b)
  return {
    mode,
    source,
    ports: allPorts.map((port) => ({port, ...(perPort.get(port) ?? {mode, source})})),
    applied: [mesh, namespace, workloadPolicy].filter((pa): pa is IstioObject => pa !== undefined).map((pa) => kname(pa.metadata)),
  }
}

/** The server side's mode on one pod port. */
export function mtlsModeForPort(mtls: EffectiveMtls, port: number): {mode: MtlsMode; source: MtlsSource} {
  return mtls.ports.find((p) => p.port === port) ?? {mode: mtls.mode, source: mtls.source}
}

/**
 * The DestinationRule that applies to `host` for a client in `clientNamespace`: pilot looks in the
 * client's namespace, then the service's, then the root namespace (push_context.go
 * destinationRule), the most specific host first (exact, then the longest wildcard).
 */
export function findDestinationRule(destinationRules: readonly IstioObject[], host: string, clientNamespace: string, serviceNamespace: string, rootNamespace: string, domain = DEFAULT_DOMAIN): IstioObject | undefined {
  for (const namespace of [clientNamespace, serviceNamespace, rootNamespace]) {
    const candidates = destinationRules
      .filter((dr) => dr.metadata.namespace === namespace && typeof dr.spec?.host === 'string')
      .map((dr) => ({dr, pattern: resolveHost(dr.spec.host as string, namespace, domain)}))
      .filter(({pattern}) => hostCovers(pattern, host))
      .sort((a, b) => (a.pattern === host ? -1 : b.pattern === host ? 1 : b.pattern.length - a.pattern.length) || olderFirst(a.dr, b.dr))
    if (candidates.length > 0) return candidates[0].dr
  }
  return undefined
}

/** Conditions of an HTTP match in words, as istioctl's renderMatch (uri, headers) plus method, authority, port, query. */
function renderStringMatch(match: Record<string, string> | undefined): string {
  if (!match) return ''
  if (match.exact !== undefined) return match.exact
  if (match.prefix !== undefined) return `${match.prefix}*`
  if (match.regex !== undefined) return `regex ${match.regex}`
  return JSON.stringify(match)
}

function renderHttpMatch(match: any): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const parts: string[] = []
  if (match?.uri) parts.push(`${renderStringMatch(match.uri)}${match.ignoreUriCase ? ' uncased' : ''}`)
  if (match?.method) parts.push(`method ${renderStringMatch(match.method)}`)
  if (match?.authority) parts.push(`authority ${renderStringMatch(match.authority)}`)
  const headers = Object.entries((match?.headers ?? {}) as Record<string, Record<string, string>>).sort(([a], [b]) => (a < b ? -1 : 1))
  if (headers.length > 0) parts.push(`when headers are ${headers.map(([k, v]) => `${k}=${renderStringMatch(v)}`).join('; ')}`)
  const query = Object.entries((match?.queryParams ?? {}) as Record<string, Record<string, string>>).sort(([a], [b]) => (a < b ? -1 : 1))
  if (query.length > 0) parts.push(`query ${query.map(([k, v]) => `${k}=${renderStringMatch(v)}`).join('; ')}`)
  if (match?.port !== undefined) parts.push(`port ${match.port}`)
  if (match?.sourceLabels) parts.push(`from ${Object.entries(match.sourceLabels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',')}`)
  if (match?.gateways) parts.push(`via ${(match.gateways as string[]).join(',')}`)
  return parts.length > 0 ? `Match: ${parts.join(' ')}` : 'Match: everything'
}

function renderL4Match(match: any): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const parts: string[] = []
  if (match?.port !== undefined) parts.push(`port ${match.port}`)
  if (match?.sniHosts) parts.push(`sni ${(match.sniHosts as string[]).join(',')}`)
  if (match?.destinationSubnets) parts.push(`to ${(match.destinationSubnets as string[]).join(',')}`)
  if (match?.sourceLabels) parts.push(`from ${Object.entries(match.sourceLabels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',')}`)
  return parts.length > 0 ? `Match: ${parts.join(' ')}` : 'Match: everything'
}

/** `gateways` of a VirtualService as `mesh` or `namespace/name` (no list means `mesh`). */
export function virtualServiceGateways(vs: IstioObject): string[] {
  const list = Array.isArray(vs.spec?.gateways) && vs.spec.gateways.length > 0 ? (vs.spec.gateways as string[]) : ['mesh']
  return list.map((gw) => (gw === 'mesh' || gw.includes('/') ? gw : `${vs.metadata.namespace}/${gw}`))
}

const ACTION_ORDER = ['CUSTOM', 'DENY', 'ALLOW', 'AUDIT']

/**
 * AuthorizationPolicies that apply to a workload (pilot/pkg/model/authorization.go
 * ListAuthorizationPolicies): root-namespace ones everywhere, the workload namespace's, each when
 * its selector (none: all) matches; policies bound with targetRef(s) (gateways, waypoints) are not
 * about a sidecar and are left out.
 */
export function applicableAuthorizationPolicies(workload: {namespace: string; labels?: Record<string, string>}, rootNamespace: string, policies: readonly IstioObject[]): AppliedAuthorizationPolicy[] {
  return policies
    .filter((p) => (p.metadata.namespace === rootNamespace || p.metadata.namespace === workload.namespace) && !p.spec?.targetRef && !p.spec?.targetRefs)
    .filter((p) => selectsLabels(p.spec?.selector?.matchLabels, workload.labels))
    .map((p) => ({
      name: p.metadata.name,
      namespace: p.metadata.namespace,
      action: String(p.spec?.action ?? 'ALLOW'),
      scope: Object.keys(p.spec?.selector?.matchLabels ?? {}).length > 0 ? ('workload' as const) : p.metadata.namespace === rootNamespace ? ('mesh' as const) : ('namespace' as const),
      rules: Array.isArray(p.spec?.rules) ? p.spec.rules.length : 0,
    }))
    .sort((a, b) => ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action) || (kname(a) < kname(b) ? -1 : kname(a) > kname(b) ? 1 : 0))
}

/**
 * The Sidecar resource of a workload (pilot/pkg/model/sidecar.go): one in its namespace whose
 * workloadSelector matches, else its namespace's without selector, else the root namespace's.
 */
export function applicableSidecar(workload: {namespace: string; labels?: Record<string, string>}, rootNamespace: string, sidecars: readonly IstioObject[]): AppliedSidecar | undefined {
  const selectorOf = (sc: IstioObject) => sc.spec?.workloadSelector?.labels as Record<string, string> | undefined
  const sorted = [...sidecars].sort(olderFirst)
  const found = sorted.find((sc) => sc.metadata.namespace === workload.namespace && selectorOf(sc) && selectsLabels(selectorOf(sc), workload.labels)) ??
    sorted.find((sc) => sc.metadata.namespace === workload.namespace && !selectorOf(sc)) ??
    sorted.find((sc) => sc.metadata.namespace === rootNamespace && !selectorOf(sc))
  if (!found) return undefined
  const hosts = ((found.spec?.egress ?? []) as Array<{hosts?: string[]}>).flatMap((e) => e.hosts ?? [])
  return {name: found.metadata.name, namespace: found.metadata.namespace, egressHosts: hosts}
}

/** Whether a Sidecar's egress hosts import a service host (`.` is the Sidecar's namespace, `*` any, `~` none). */
export function sidecarImports(sidecar: AppliedSidecar, serviceNamespace: string, host: string): boolean {
  if (sidecar.egressHosts.length === 0) return true
  return sidecar.egressHosts.some((entry) => {
    const [ns, pattern] = entry.includes('/') ? entry.split('/', 2) : ['*', entry]
    const namespace = ns === '.' ? sidecar.namespace : ns
    if (namespace === '~' || (namespace !== '*' && namespace !== serviceNamespace)) return false
    return hostCovers(pattern, host)
  })
}

// ---------------------------------------------------------------------------------------------
// The analysis.

interface Subject {
  /** Labels of the pods the description is about: the pod (describe pod) or the service's pods. */
  podsLabels: Array<Record<string, string>>
  /** The pod whose own proxy stands for mesh clients (its outbound clusters are checked). */
  proxyPod?: DescribePodInput
}

class Findings {
  readonly warnings: DescribeWarning[] = []
  private readonly seen = new Set<string>()
  add(id: DescribeWarningId, subject: string, message: string): void {
    const key = `${id}\n${subject}\n${message}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    this.warnings.push({id, subject, message})
  }
}

function describeDestinationRule(dr: IstioObject, podsLabels: Array<Record<string, string>>): DescribedDestinationRule {
  const policy = dr.spec?.trafficPolicy
  const policies: string[] = []
  if (policy?.loadBalancer) policies.push('load balancer')
  if (policy?.connectionPool) policies.push('connection pool')
  if (policy?.outlierDetection) policies.push('outlier detection')
  return {
    name: dr.metadata.name,
    namespace: dr.metadata.namespace,
    host: String(dr.spec?.host ?? ''),
    subsets: ((dr.spec?.subsets ?? []) as Array<{name?: string; labels?: Record<string, string>; trafficPolicy?: {tls?: {mode?: string}}}>).map((subset) => ({
      name: String(subset.name ?? ''),
      labels: subset.labels ?? {},
      matchesPod: podsLabels.some((labels) => selectsLabels(subset.labels, labels)),
      ...(subset.trafficPolicy?.tls?.mode ? {tlsMode: subset.trafficPolicy.tls.mode} : {}),
    })),
    ...(policy?.tls?.mode ? {tlsMode: String(policy.tls.mode)} : {}),
    portTlsModes: ((policy?.portLevelSettings ?? []) as Array<{port?: {number?: number}; tls?: {mode?: string}}>)
      .filter((p) => p.tls?.mode && p.port?.number !== undefined)
      .map((p) => ({port: p.port!.number!, mode: p.tls!.mode!})),
    policies,
  }
}

function routeDestinations(route: any, vsNamespace: string, service: DescribedService, dr: DescribedDestinationRule | undefined, domain: string): DescribedDestination[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const list = (Array.isArray(route?.route) ? route.route : []) as Array<{destination?: {host?: string; subset?: string; port?: {number?: number}}; weight?: number}>
  return list.map((entry) => {
    const host = String(entry.destination?.host ?? '')
    const subset = entry.destination?.subset || undefined
    const toService = host !== '' && resolveHost(host, vsNamespace, domain) === service.host
    const known = subset && dr ? dr.subsets.find((s) => s.name === subset) : undefined
    return {
      host,
      ...(subset ? {subset} : {}),
      ...(entry.destination?.port?.number !== undefined ? {port: entry.destination.port.number} : {}),
      weight: entry.weight ?? (list.length === 1 ? 100 : 0),
      toService,
      ...(toService && subset ? {subsetMatchesPod: known?.matchesPod ?? false} : {}),
    }
  })
}

function describeVirtualService(vs: IstioObject, service: DescribedService, dr: DescribedDestinationRule | undefined, findings: Findings, domain: string): DescribedVirtualService {
  const subject = `VirtualService ${kname(vs.metadata)}`
  const routes: DescribedRoute[] = []
  for (const kind of ['http', 'tcp', 'tls'] as const) {
    const list = (Array.isArray(vs.spec?.[kind]) ? vs.spec[kind] : []) as any[] // eslint-disable-line @typescript-eslint/no-explicit-any
    list.forEach((route, index) => {
      const destinations = routeDestinations(route, vs.metadata.namespace, service, dr, domain)
      const matches = (Array.isArray(route?.match) ? route.match : []) as unknown[]
      routes.push({
        kind,
        index,
        ...(typeof route?.name === 'string' ? {name: route.name} : {}),
        match: matches.map((m) => (kind === 'http' ? renderHttpMatch(m) : renderL4Match(m))),
        destinations,
        reachesPod: destinations.some((d) => d.toService && d.weight > 0 && (d.subset === undefined || d.subsetMatchesPod === true)),
        ...(kind === 'http' && route?.timeout ? {timeout: String(route.timeout)} : {}),
        fault: kind === 'http' && route?.fault !== undefined,
      })
      for (const d of destinations.filter((x) => x.toService && x.subset !== undefined)) {
        if (!dr || dr.subsets.length === 0) {
          // istioctl: "Route to subset %s but NO DESTINATION RULE defining subsets!"
          findings.add('subset-without-destination-rule', subject, `Route to subset ${d.subset} but NO DESTINATION RULE defining subsets!`)
        } else if (!dr.subsets.some((s) => s.name === d.subset)) {
          findings.add('unknown-subset', subject, `Route to UNKNOWN subset ${d.subset}; check DestinationRule ${kname(dr)}`)
        }
      }
    })
  }
  return {
    name: vs.metadata.name,
    namespace: vs.metadata.namespace,
    hosts: Array.isArray(vs.spec?.hosts) ? (vs.spec.hosts as string[]) : [],
    gateways: virtualServiceGateways(vs),
    routes,
    reachesPod: routes.some((r) => r.reachesPod),
  }
}

/** A VirtualService concerns the service when a route goes to it or it is written for its host. */
export function virtualServiceConcerns(vs: IstioObject, host: string, domain = DEFAULT_DOMAIN): boolean {
  const ns = vs.metadata.namespace
  const hosts = Array.isArray(vs.spec?.hosts) ? (vs.spec.hosts as string[]) : []
  if (hosts.some((h) => resolveHost(h, ns, domain) === host)) return true
  return (['http', 'tcp', 'tls'] as const).some((kind) =>
    (Array.isArray(vs.spec?.[kind]) ? vs.spec[kind] : []).some((route: any) => // eslint-disable-line @typescript-eslint/no-explicit-any
      (Array.isArray(route?.route) ? route.route : []).some((d: any) => typeof d?.destination?.host === 'string' && resolveHost(d.destination.host, ns, domain) === host))) // eslint-disable-line @typescript-eslint/no-explicit-any
}

function describeService(svc: ServiceInput, subject: Subject, context: DescribeContext, findings: Findings, servicePods: DescribePodInput[]): DescribedService {
  const domain = context.domainSuffix ?? DEFAULT_DOMAIN
  const host = `${svc.metadata.name}.${svc.metadata.namespace}.svc.${domain}`
  const svcSubject = `Service ${kname(svc.metadata)}`
  const ports: DescribedPort[] = (svc.spec?.ports ?? []).map((port) => {
    const protocol = servicePortProtocol(port)
    if (protocol === undefined) {
      const named = port.name ? `name "${port.name}" has no protocol prefix` : 'has no name'
      findings.add('port-protocol-unclassified', svcSubject, `Port ${port.port} ${named} and no appProtocol: Istio auto-detects its protocol (name it http-..., grpc-..., tcp-... or set appProtocol)`)
    }
    return {...(port.name ? {name: port.name} : {}), port: port.port, targetPort: resolveTargetPort(port, subject.proxyPod ?? servicePods[0]), protocol: protocol ?? 'auto-detect'}
  })
  const drObject = findDestinationRule(context.resources.destinationRules, host, svc.metadata.namespace, svc.metadata.namespace, context.rootNamespace, domain)
  const destinationRule = drObject ? describeDestinationRule(drObject, subject.podsLabels) : undefined
  if (destinationRule) {
    const allPodsLabels = servicePods.map((p) => p.metadata.labels ?? {})
    for (const subset of destinationRule.subsets) {
      if (!allPodsLabels.some((labels) => selectsLabels(subset.labels, labels))) {
        const labels = Object.entries(subset.labels).map(([k, v]) => `${k}=${v}`).join(',')
        findings.add('subset-matches-no-pod', `DestinationRule ${kname(destinationRule)}`, `Subset ${subset.name} (${labels || 'no labels'}) matches no pod of service ${kname(svc.metadata)}`)
      }
    }
  }
  const waypoint = serviceWaypoint(svc, context.ambient)
  if (waypoint?.problem) findings.add(waypoint.problem.id, svcSubject, waypoint.problem.message)
  const described: DescribedService = {name: svc.metadata.name, namespace: svc.metadata.namespace, host, ports, ...(destinationRule ? {destinationRule} : {}), virtualServices: [], ...(waypoint ? {waypoint} : {})}
  described.virtualServices = [...context.resources.virtualServices]
    .filter((vs) => virtualServiceConcerns(vs, host, domain))
    .sort((a, b) => (kname(a.metadata) < kname(b.metadata) ? -1 : 1))
    .map((vs) => describeVirtualService(vs, described, destinationRule, findings, domain))
  return described
}

/** The cluster name a destination needs in a proxy (model.BuildSubsetKey), when the port is known. */
function expectedCluster(d: DescribedDestination, service: DescribedService): string | undefined {
  const port = d.port ?? (service.ports.length === 1 ? service.ports[0].port : undefined)
  if (port === undefined) return undefined
  return `outbound|${port}|${d.subset ?? ''}|${service.host}`
}

function proxiesFor(vs: DescribedVirtualService, gatewayMode: boolean, subject: Subject, context: DescribeContext): ProxyClusters[] {
  const names = new Set<string>()
  if (!gatewayMode && subject.proxyPod && isMeshedPod(subject.proxyPod)) names.add(kname(subject.proxyPod.metadata))
  if (gatewayMode) {
    for (const ref of vs.gateways.filter((g) => g !== 'mesh')) {
      const gateway = findGateway(context, ref)
      if (!gateway) continue
      for (const pod of gatewayPodsOf(gateway, context)) names.add(kname(pod.metadata))
    }
  }
  return context.proxies.filter((p) => names.has(p.proxy))
}

/**
 * Routes whose cluster a proxy lacks although the resources define it: the proxy did not receive
 * the config (istiod has not pushed, or the proxy has not ACKed yet) or rejected it (NACK). A
 * route to a subset no DestinationRule defines is already reported by its own warning.
 */
function checkRouteClusters(service: DescribedService, subject: Subject, context: DescribeContext, findings: Findings): void {
  for (const vs of service.virtualServices) {
    const bindings = [vs.gateways.includes('mesh') ? [false] : [], vs.gateways.some((g) => g !== 'mesh') ? [true] : []].flat()
    for (const gatewayMode of bindings) {
      // A Sidecar resource scopes sidecars only (gateways ignore it).
      const scoped = !gatewayMode && subject.proxyPod ? applicableSidecar(subject.proxyPod.metadata, context.rootNamespace, context.resources.sidecars ?? []) : undefined
      for (const proxy of proxiesFor(vs, gatewayMode, subject, context)) {
        if (!proxy.clusters) continue
        const have = new Set(proxy.clusters)
        for (const route of vs.routes) {
          for (const d of route.destinations.filter((x) => x.toService && x.weight > 0)) {
            if (d.subset !== undefined && !service.destinationRule?.subsets.some((s) => s.name === d.subset)) continue
            const cluster = expectedCluster(d, service)
            if (cluster && !have.has(cluster)) {
              const why = proxy.warming?.includes(cluster)
                ? 'it is still warming (received, waiting for its endpoints or secrets)'
                : scoped && !sidecarImports(scoped, service.namespace, service.host)
                  ? `its Sidecar ${kname(scoped)} does not import the host (egress hosts ${scoped.egressHosts.join(', ')})`
                  : `config not received or rejected (check meshdbg sync-status ${proxy.proxy})`
              findings.add('route-cluster-missing', `VirtualService ${kname(vs)}`, `Proxy ${proxy.proxy} has no cluster ${cluster} this route sends to: ${why}`)
            }
          }
        }
      }
    }
  }
}

function findGateway(context: DescribeContext, ref: string): IstioObject | undefined {
  const [namespace, name] = ref.split('/', 2)
  return context.resources.gateways.find((gw) => gw.metadata.namespace === namespace && gw.metadata.name === name)
}

/** The running gateway pods a Gateway selects; one without selector applies to every gateway (as in pilot). */
function gatewayPodsOf(gateway: IstioObject, context: DescribeContext): DescribePodInput[] {
  const selector = gateway.spec?.selector as Record<string, string> | undefined
  const everyGateway = Object.keys(selector ?? {}).length === 0
  return context.gatewayPods.filter((pod) => (pod.status?.phase ?? 'Running') === 'Running' && isMeshedPod(pod) && (everyGateway ? isGatewayPod(pod) : selectsLabels(selector, pod.metadata.labels)))
}

/** Which Gateway servers bring outside traffic to the service's VirtualServices, and where. */
function describeExposure(service: DescribedService, context: DescribeContext, findings: Findings): GatewayExposure[] {
  const exposure: GatewayExposure[] = []
  for (const vs of service.virtualServices) {
    for (const ref of vs.gateways.filter((g) => g !== 'mesh')) {
      const gateway = findGateway(context, ref)
      const subject = `VirtualService ${kname(vs)}`
      if (!gateway) {
        findings.add('gateway-not-found', subject, `Gateway ${ref} referenced by the VirtualService does not exist`)
        continue
      }
      const pods = gatewayPodsOf(gateway, context)
      if (pods.length === 0) {
        const selector = Object.entries((gateway.spec?.selector ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',')
        findings.add('gateway-selects-no-pod', `Gateway ${kname(gateway.metadata)}`, `Gateway ${kname(gateway.metadata)} selects no running gateway pod (selector ${selector || '<none>'})`)
        continue
      }
      const addresses = new Set<string>()
      for (const svc of context.gatewayServices) {
        if (Object.keys(svc.spec?.selector ?? {}).length === 0) continue
        if (!pods.some((pod) => pod.metadata.namespace === svc.metadata.namespace && selectsLabels(svc.spec?.selector, pod.metadata.labels))) continue
        const ingress = svc.status?.loadBalancer?.ingress ?? []
        for (const entry of ingress) if (entry.ip ?? entry.hostname) addresses.add((entry.ip ?? entry.hostname)!)
        if (ingress.length === 0 && svc.spec?.clusterIP && svc.spec.clusterIP !== 'None') addresses.add(svc.spec.clusterIP)
      }
      for (const server of (gateway.spec?.servers ?? []) as Array<{port?: {number?: number; protocol?: string}; hosts?: string[]}>) {
        const hosts = new Set<string>()
        for (const serverHost of server.hosts ?? []) {
          const slash = serverHost.indexOf('/')
          const scope = slash >= 0 ? serverHost.slice(0, slash) : '*'
          const pattern = slash >= 0 ? serverHost.slice(slash + 1) : serverHost
          if (scope !== '*' && (scope === '.' ? gateway.metadata.namespace : scope) !== vs.namespace) continue
          for (const vsHost of vs.hosts) {
            const common = hostsIntersect(pattern, vsHost)
            if (common) hosts.add(common)
          }
        }
        if (hosts.size === 0 || server.port?.number === undefined) continue
        exposure.push({
          gateway: kname(gateway.metadata),
          virtualService: kname(vs),
          hosts: [...hosts].sort(),
          port: server.port.number,
          protocol: String(server.port.protocol ?? 'HTTP').toUpperCase(),
          gatewayPods: pods.map((p) => kname(p.metadata)).sort(),
          addresses: [...addresses].sort(),
          reachesPod: vs.reachesPod,
        })
      }
    }
  }
  return exposure
}

/**
 * DestinationRule TLS settings clients use against what the pod's sidecar accepts. Unset means
 * auto mTLS (always compatible). DISABLE or SIMPLE/MUTUAL (non-Istio TLS) into a STRICT port is
 * refused; ISTIO_MUTUAL into a DISABLE port or into a pod without sidecar fails the handshake.
 */
export function destinationRuleTlsConflicts(service: DescribedService, mtls: EffectiveMtls | undefined): Array<{port: number; message: string}> {
  const dr = service.destinationRule
  if (!dr) return []
  const conflicts: Array<{port: number; message: string}> = []
  for (const port of service.ports) {
    const portMode = dr.portTlsModes.find((p) => p.port === port.port)?.mode ?? dr.tlsMode
    const modes = [...(portMode ? [{mode: portMode, where: ''}] : []), ...dr.subsets.filter((s) => s.tlsMode && s.matchesPod).map((s) => ({mode: s.tlsMode!, where: ` (subset ${s.name})`}))]
    for (const {mode, where} of modes) {
      const target = port.targetPort ?? port.port
      const prefix = `DestinationRule ${kname(dr)} sets TLS mode ${mode} for port ${port.port}${where}`
      if (!mtls) {
        if (mode === 'ISTIO_MUTUAL') conflicts.push({port: port.port, message: `${prefix} but the pod has no sidecar to terminate Istio mTLS`})
        continue
      }
      const server = mtlsModeForPort(mtls, target)
      const by = server.source.policy ? `PeerAuthentication ${server.source.policy}` : 'the default'
      if (server.mode === 'STRICT' && (mode === 'DISABLE' || mode === 'SIMPLE' || mode === 'MUTUAL')) {
        conflicts.push({port: port.port, message: `${prefix} but pod port ${target} requires Istio mTLS (STRICT from ${by}): clients' connections are refused`})
      } else if (server.mode === 'DISABLE' && mode === 'ISTIO_MUTUAL') {
        conflicts.push({port: port.port, message: `${prefix} but pod port ${target} accepts plaintext only (DISABLE from ${by}): the TLS handshake fails`})
      }
    }
  }
  return conflicts
}

/** The pod runs `pilot-agent proxy router` in its istio-proxy container (an ingress or egress gateway). */
export function isGatewayPod(pod: DescribePodInput): boolean {
  return (pod.spec?.containers ?? []).some((c) => {
    const words = [...(c.command ?? []), ...(c.args ?? [])]
    const proxy = words.indexOf('proxy')
    return c.name === 'istio-proxy' && proxy >= 0 && words.slice(proxy + 1).includes('router')
  })
}

function describePodItself(pod: DescribePodInput, dataplane: Dataplane, findings: Findings): DescribedPod {
  const subject = `Pod ${kname(pod.metadata)}`
  const meshed = isMeshedPod(pod)
  const phase = pod.status?.phase ?? 'Unknown'
  if (phase === 'Running') {
    for (const status of pod.status?.containerStatuses ?? []) {
      if (status.ready === false) findings.add('container-not-ready', subject, `Pod ${kname(pod.metadata)} Container ${status.name ?? '?'} NOT READY`)
    }
  }
  // An ambient pod has no sidecar yet is in the mesh: its node's ztunnel carries its traffic.
  if (!meshed && dataplane !== 'ambient') findings.add('pod-not-meshed', subject, `${kname(pod.metadata)} is not part of mesh; no Istio sidecar`)
  const revision = meshed ? podRevision(pod) : undefined
  return {
    name: pod.metadata.name,
    namespace: pod.metadata.namespace,
    phase,
    meshed,
    gateway: isGatewayPod(pod),
    ...(revision ? {revision} : {}),
    ...(pod.status?.podIP ? {ip: pod.status.podIP} : {}),
    labels: pod.metadata.labels ?? {},
    ports: (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({port: p.containerPort, ...(p.name ? {name: p.name} : {}), protocol: p.protocol ?? 'TCP', container: c.name ?? ''}))),
  }
}

function servicePodsOf(svc: ServiceInput, pods: readonly DescribePodInput[]): DescribePodInput[] {
  if (Object.keys(svc.spec?.selector ?? {}).length === 0) return []
  return pods.filter((p) => p.metadata.namespace === svc.metadata.namespace && (p.status?.phase ?? 'Running') === 'Running' && selectsLabels(svc.spec?.selector, p.metadata.labels))
}

function proxyStatus(context: DescribeContext): Array<{proxy: string; checked: boolean; reason?: string}> {
  return context.proxies.map((p) => ({proxy: p.proxy, checked: p.clusters !== undefined, ...(p.unavailable ? {reason: p.unavailable} : {})}))
}

function podTargetPorts(pod: DescribePodInput, services: readonly DescribedService[]): number[] {
  const ports = new Set<number>()
  for (const c of pod.spec?.containers ?? []) if (c.name !== 'istio-proxy') for (const p of c.ports ?? []) ports.add(p.containerPort)
  for (const s of services) for (const p of s.ports) if (p.targetPort !== undefined) ports.add(p.targetPort)
  return [...ports]
}

function addTlsConflicts(services: readonly DescribedService[], mtls: EffectiveMtls | undefined, findings: Findings): void {
  for (const service of services) {
    for (const conflict of destinationRuleTlsConflicts(service, mtls)) findings.add('mtls-conflict', `DestinationRule ${kname(service.destinationRule!)}`, conflict.message)
  }
}

/**
 * The `mtls-conflict` findings of a whole namespace (for checks such as `diagnose`): every Service
 * with a DestinationRule against the effective mTLS of each running pod it selects.
 */
export function mtlsConflicts(context: DescribeContext): DescribeWarning[] {
  const findings = new Findings()
  for (const svc of context.services) {
    const pods = servicePodsOf(svc, context.pods)
    for (const pod of pods.filter((p) => !isGatewayPod(p))) {
      const service = describeService(svc, {podsLabels: [pod.metadata.labels ?? {}], proxyPod: pod}, context, new Findings(), pods)
      if (!service.destinationRule) break
      const mtls = isMeshedPod(pod) ? effectiveMtls(pod.metadata, context.rootNamespace, context.resources.peerAuthentications, podTargetPorts(pod, [service])) : undefined
      addTlsConflicts([service], mtls, findings)
    }
  }
  return findings.warnings
}

/** `describe pod`: the pod, the Services selecting it and everything that routes to them. */
export function analyzePod(pod: DescribePodInput, context: DescribeContext): DescribePodAnalysis {
  const findings = new Findings()
  const {ambient, findings: ambientFindings} = describeAmbient(pod, context.ambient)
  const described = describePodItself(pod, ambient.dataplane, findings)
  for (const f of ambientFindings) findings.add(f.id, f.subject, f.message)
  const selecting = context.services
    .filter((svc) => svc.metadata.namespace === pod.metadata.namespace && Object.keys(svc.spec?.selector ?? {}).length > 0 && selectsLabels(svc.spec?.selector, pod.metadata.labels))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
  if (selecting.length === 0 && described.meshed) {
    findings.add('no-service-selects-pod', `Pod ${kname(pod.metadata)}`, `No Kubernetes Services select pod ${kname(pod.metadata)} (see https://istio.io/docs/setup/kubernetes/additional-setup/requirements/ )`)
  }
  const subject: Subject = {podsLabels: [pod.metadata.labels ?? {}], proxyPod: pod}
  const services = selecting.map((svc) => describeService(svc, subject, context, findings, servicePodsOf(svc, context.pods)))
  // A gateway terminates TLS per Gateway server: PeerAuthentication is a sidecar's inbound setting.
  const mtls = described.meshed && !described.gateway ? effectiveMtls(pod.metadata, context.rootNamespace, context.resources.peerAuthentications, podTargetPorts(pod, services)) : undefined
  if (!described.gateway) addTlsConflicts(services, mtls, findings)
  const exposure = services.flatMap((s) => describeExposure(s, context, findings))
  for (const service of services) checkRouteClusters(service, subject, context, findings)
  const authorizationPolicies = described.meshed ? applicableAuthorizationPolicies(pod.metadata, context.rootNamespace, context.resources.authorizationPolicies ?? []) : []
  const sidecar = described.meshed ? applicableSidecar(pod.metadata, context.rootNamespace, context.resources.sidecars ?? []) : undefined
  return {pod: described, ambient, services, authorizationPolicies, ...(sidecar ? {sidecar} : {}), ...(mtls ? {mtls} : {}), exposure, warnings: findings.warnings, proxies: proxyStatus(context)}
}

/**
 * `describe service`: as describe pod, for one Service; subsets match against all its running
 * pods, and the first meshed one (`proxyPod`) stands in for mTLS and the mesh proxy's clusters.
 */
export function analyzeService(svc: ServiceInput, proxyPod: DescribePodInput | undefined, context: DescribeContext): DescribeServiceAnalysis {
  const findings = new Findings()
  const pods = servicePodsOf(svc, context.pods)
  const subject: Subject = {podsLabels: pods.map((p) => p.metadata.labels ?? {}), proxyPod}
  if (pods.length === 0) findings.add('service-has-no-pods', `Service ${kname(svc.metadata)}`, `Service ${kname(svc.metadata)} has no running pods`)
  const service = describeService(svc, subject, context, findings, pods)
  const mtls = proxyPod && isMeshedPod(proxyPod) ? effectiveMtls(proxyPod.metadata, context.rootNamespace, context.resources.peerAuthentications, podTargetPorts(proxyPod, [service])) : undefined
  const namespaceLabels = context.ambient?.namespace?.metadata.labels
  const dataplanes = new Map(pods.map((p) => [p, ambientDataplane(p, namespaceLabels).dataplane]))
  if (pods.length > 0 && ![...dataplanes.values()].some((d) => d !== 'none')) findings.add('pod-not-meshed', `Service ${kname(svc.metadata)}`, `Service ${kname(svc.metadata)} has no Istio pods (${pods.length} pods in service)`)
  addTlsConflicts([service], mtls, findings)
  const exposure = describeExposure(service, context, findings)
  checkRouteClusters(service, subject, context, findings)
  return {
    service,
    pods: pods.map((p) => ({name: p.metadata.name, ready: (p.status?.containerStatuses ?? []).every((s) => s.ready !== false), meshed: isMeshedPod(p), dataplane: dataplanes.get(p)!})),
    ...(mtls ? {mtls} : {}),
    exposure,
    warnings: findings.warnings,
    proxies: proxyStatus(context),
  }
}
