// The slice of istiod's PushContext the simulator's generators read: services, config by kind and
// the lookups istiod does (DestinationRule for a host, VirtualServices for a gateway or the mesh,
// the effective PeerAuthentication of a workload port, the Sidecar of a workload). Pure.
import type {IstioConfig, Scenario, SimPod, SimService, SimServicePort} from '../model.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export interface PushContext {
  services: SimService[]
  pods: SimPod[]
  configs: IstioConfig[]
  rootNamespace: string
  trustDomain: string
  clusterId: string
  accessLogEncoding: 'TEXT' | 'JSON'
  extensionProviders: Record<string, {service: string; port: number}>
  namespaces: Scenario['namespaces']
  /** Gateway API Gateways (waypoints read their `istio.io/waypoint-for`). */
  gateways: NonNullable<Scenario['gatewayApiGateways']>
}

export function pushContext(s: Scenario): PushContext {
  return {services: s.services, pods: s.pods, configs: s.istioConfigs, rootNamespace: s.meshConfig.rootNamespace, trustDomain: s.meshConfig.trustDomain, clusterId: s.clusterId, accessLogEncoding: s.meshConfig.accessLogEncoding, extensionProviders: s.meshConfig.extensionProviders ?? {}, namespaces: s.namespaces, gateways: s.gatewayApiGateways ?? []}
}

export function socket(address: string, port: number): J {
  return {socket_address: {address, port_value: port}}
}

export const fqdn = (svc: SimService) => `${svc.name}.${svc.namespace}.svc.cluster.local`

/**
 * pilot/pkg/model/virtualservice.go resolveVirtualServiceShortnames / host.Name: a short host is
 * qualified with the config's namespace; anything with a dot is taken as written.
 */
export function resolveHost(h: string, namespace: string): string {
  if (h === '*' || h.includes('.')) return h
  return `${h}.${namespace}.svc.cluster.local`
}

/** pkg/config/protocol + kube/conversion.go ConvertProtocol: appProtocol, then the port name prefix. */
export function portProtocol(p: SimServicePort): 'HTTP' | 'HTTP2' | 'GRPC' | 'HTTPS' | 'TLS' | 'TCP' | 'UNSUPPORTED' {
  const raw = (p.appProtocol ?? (p.name ?? '').split('-')[0]).toLowerCase()
  switch (raw) {
    case 'http': return 'HTTP'
    case 'http2': case 'grpc-web': return 'HTTP2'
    case 'grpc': return 'GRPC'
    case 'https': return 'HTTPS'
    case 'tls': return 'TLS'
    case 'tcp': case 'mongo': case 'mysql': case 'redis': return 'TCP'
    default: return 'UNSUPPORTED'
  }
}

export const isHttp = (p: SimServicePort) => ['HTTP', 'HTTP2', 'GRPC'].includes(portProtocol(p))

export const labelsMatch = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v)

export function podsOfService(ctx: PushContext, svc: SimService, subsetLabels?: Record<string, string>): SimPod[] {
  if (!svc.selector) return []
  return ctx.pods.filter((p) => p.namespace === svc.namespace && p.phase === 'Running' && p.ip !== '' && labelsMatch(svc.selector, p.labels) && labelsMatch(subsetLabels, p.labels))
}

export function servicesOfPod(ctx: PushContext, pod: SimPod): SimService[] {
  return ctx.services.filter((s) => s.namespace === pod.namespace && s.selector && labelsMatch(s.selector, pod.labels))
}

const byKind = (ctx: PushContext, kind: string) => ctx.configs.filter((c) => c.kind === kind)

/**
 * pilot/pkg/model/push_context.go getDestinationRule: the proxy's own namespace first, then the
 * service's namespace, then the root namespace (exportTo is not modelled: everything is exported).
 */
export function destinationRuleFor(ctx: PushContext, proxyNamespace: string, svc: SimService): IstioConfig | undefined {
  const host = fqdn(svc)
  const rules = byKind(ctx, 'DestinationRule').filter((dr) => resolveHost(String(dr.spec.host ?? ''), dr.metadata.namespace) === host)
  return rules.find((r) => r.metadata.namespace === proxyNamespace) ?? rules.find((r) => r.metadata.namespace === svc.namespace) ?? rules.find((r) => r.metadata.namespace === ctx.rootNamespace)
}

/**
 * VirtualServices bound to `gateway` ("mesh" for sidecars). A VirtualService without `gateways`
 * binds to "mesh" only (networking/v1alpha3 VirtualService.gateways); a gateway name without a
 * namespace is the VirtualService's namespace.
 */
export function virtualServicesFor(ctx: PushContext, gateway: string): IstioConfig[] {
  return byKind(ctx, 'VirtualService').filter((vs) => {
    const gws = (vs.spec.gateways as string[] | undefined) ?? ['mesh']
    return gws.some((g) => (g === 'mesh' ? gateway === 'mesh' : (g.includes('/') ? g : `${vs.metadata.namespace}/${g}`) === gateway))
  }).sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '') || `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
}

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE'

/**
 * pilot/pkg/security/authn/v1beta1/policy_applier.go composePeerAuthentication: the workload
 * policy (selector) over the namespace policy over the mesh (root namespace) policy; UNSET inherits;
 * a port-level setting of the workload policy wins for that port. Default PERMISSIVE.
 */
export function mtlsMode(ctx: PushContext, pod: SimPod, port: number): MtlsMode {
  const pas = byKind(ctx, 'PeerAuthentication')
  const selectorOf = (pa: IstioConfig) => (pa.spec.selector as J | undefined)?.matchLabels as Record<string, string> | undefined
  const mesh = pas.find((pa) => pa.metadata.namespace === ctx.rootNamespace && !selectorOf(pa))
  const namespace = pas.find((pa) => pa.metadata.namespace === pod.namespace && pod.namespace !== ctx.rootNamespace && !selectorOf(pa))
  const workload = pas.filter((pa) => pa.metadata.namespace === pod.namespace && selectorOf(pa) && labelsMatch(selectorOf(pa), pod.labels))
    .sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? ''))[0]
  let mode: MtlsMode = 'PERMISSIVE'
  for (const pa of [mesh, namespace, workload]) {
    const m = (pa?.spec.mtls as J | undefined)?.mode as string | undefined
    if (m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE') mode = m
  }
  const portLevel = ((workload?.spec.portLevelMtls as J | undefined)?.[String(port)] as J | undefined)?.mode as string | undefined
  if (portLevel === 'STRICT' || portLevel === 'PERMISSIVE' || portLevel === 'DISABLE') mode = portLevel
  return mode
}

/**
 * pilot/pkg/model/sidecar.go: the Sidecar resource that applies to a workload: its namespace's one
 * selecting it, else its namespace's one without selector, else the root namespace's.
 */
function sidecarFor(ctx: PushContext, pod: SimPod): IstioConfig | undefined {
  const sidecars = byKind(ctx, 'Sidecar')
  const selectorOf = (sc: IstioConfig) => (sc.spec.workloadSelector as J | undefined)?.labels as Record<string, string> | undefined
  return sidecars.find((x) => x.metadata.namespace === pod.namespace && selectorOf(x) && labelsMatch(selectorOf(x), pod.labels)) ??
    sidecars.find((x) => x.metadata.namespace === pod.namespace && !selectorOf(x)) ??
    sidecars.find((x) => x.metadata.namespace === ctx.rootNamespace && !selectorOf(x))
}

/**
 * Proxies with the same key see the same outbound config: istiod computes one SidecarScope per
 * namespace default and per Sidecar resource (pilot/pkg/model/sidecar.go, push_context.go
 * sidecarIndex), and the outbound clusters and routes it builds from it depend on nothing else of
 * the proxy (pilot/pkg/networking/core/v1alpha3/cluster.go BuildClusters; httproute.go
 * buildSidecarOutboundHTTPRouteConfig), which is why its XdsCache can share them between proxies.
 */
export function sidecarScopeKey(ctx: PushContext, pod: SimPod): string {
  const sc = sidecarFor(ctx, pod)
  return `${pod.namespace}\n${sc ? `${sc.metadata.namespace}/${sc.metadata.name}` : ''}`
}

/**
 * The services a proxy gets clusters and routes for: its Sidecar's egress hosts `ns/host` ("." is
 * the Sidecar's namespace, "*" any) narrow them; without a Sidecar, all.
 */
export function sidecarScope(ctx: PushContext, pod: SimPod): (svc: SimService) => boolean {
  const sc = sidecarFor(ctx, pod)
  if (!sc) return () => true
  const hosts = ((sc.spec.egress as J[] | undefined) ?? []).flatMap((e) => (e.hosts as string[] | undefined) ?? [])
  const rules = hosts.map((h) => {
    const [ns, host] = h.includes('/') ? h.split('/', 2) : ['*', h]
    return {ns: ns === '.' ? sc.metadata.namespace : ns, host}
  })
  const hostMatches = (pattern: string, name: string) => pattern === '*' || pattern === name || (pattern.startsWith('*.') && name.endsWith(pattern.slice(1)))
  return (svc) => rules.some((r) => (r.ns === '*' || r.ns === svc.namespace) && (r.ns === '~' ? false : hostMatches(r.host, fqdn(svc))))
}

/** Duration strings of Istio's API (`0.5s`, `500ms`, `1m`) in Envoy's JSON form (`0.500s`). */
export function envoyDuration(d: string | undefined): string | undefined {
  if (d === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d.trim())
  if (!m) return d
  const seconds = Number(m[1]) * ({ms: 0.001, s: 1, m: 60, h: 3600} as const)[m[2] as 'ms' | 's' | 'm' | 'h']
  return Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(3).replace(/0+$/, '')}s`
}

export function durationMs(d: string | undefined): number | undefined {
  const e = envoyDuration(d)
  return e === undefined ? undefined : Number(e.slice(0, -1)) * 1000
}
