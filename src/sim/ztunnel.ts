// Ambient mode in the simulated mesh: a `ztunnel` DaemonSet in the root namespace (one pod per
// node), and each ztunnel's /config_dump derived per request from the model, in the dump shape of a
// chosen ztunnel version. Rules follow istio/istio pilot/pkg/serviceregistry/kube/controller/ambient
// (workloads.go, services.go, authorization.go: what istiod sends ztunnel over WDS/WADS) and
// istio/ztunnel src/admin.rs, src/state.rs (how ztunnel prints it).
import {fakeUid, makePod} from './objects.js'
import type {IstioConfig, Scenario, SimContainer, SimPod, SimService} from './model.js'

/** The `ambient` section of a scenario's Simulation document. */
export interface AmbientSpec {
  /** ztunnel's version: selects the dump shape (1.21 stores, 1.22 maps, 1.23 lists, 1.26 rootCerts). Default: the control plane's. */
  ztunnelVersion?: string
  /** Node names; one ztunnel pod runs on each (default two: ambient-worker, ambient-worker2). */
  nodes?: string[]
  /** Pod name to node; other pods go round-robin over the nodes in the order they are listed. */
  placement?: Record<string, string>
  /** Per identity `namespace/serviceAccount`: the certificate's remaining life (`30m`, `2h`, `3d`) or state. */
  certificates?: Record<string, {expiresIn?: string; state?: string}>
  /** Connections ztunnels hold: from a pod to a `service.namespace:port`. */
  connections?: Array<{from: string; to: string}>
  /** Nodes whose ztunnel has not acknowledged istiod's last WDS push (syncz STALE). */
  staleZtunnels?: string[]
}

/** What a ztunnel pod keeps between requests: its log filter (tracing Targets). */
export interface ZtunnelPodState {
  version: string
  /** tracing target to level (`hickory_server::server` is off by default), and the default level. */
  targets: Record<string, string>
  defaultLevel: string
}

/** ztunnel's start-up filter (src/telemetry.rs default_filter). */
export function defaultZtunnelLog(): Pick<ZtunnelPodState, 'targets' | 'defaultLevel'> {
  return {targets: {'hickory_server::server': 'off'}, defaultLevel: 'info'}
}

const minor = (version: string): number => Number(version.split('.')[1] ?? 0)

function durationMs(text: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim())
  if (!match) throw new Error(`ambient.certificates: invalid expiresIn "${text}" (use 30m, 2h, 3d)`)
  return Number(match[1]) * {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[match[2] as 's' | 'm' | 'h' | 'd']
}

/** Adds the ztunnel DaemonSet and its pods, and places every other pod on a node. */
export function addAmbient(s: Scenario, spec: AmbientSpec): void {
  const nodes = spec.nodes && spec.nodes.length > 0 ? spec.nodes : ['ambient-worker', 'ambient-worker2']
  const version = spec.ztunnelVersion ?? s.live?.istioVersion ?? '1.30.0'
  const hostIp = (node: string) => `172.18.0.${2 + nodes.indexOf(node)}`
  let next = 0
  for (const pod of s.pods) {
    const node = spec.placement?.[pod.name] ?? nodes[next++ % nodes.length]
    pod.nodeName = node
    pod.hostIP = hostIp(node)
  }
  const root = s.meshConfig.rootNamespace
  const labels = {app: 'ztunnel'}
  const container: SimContainer = {name: 'istio-proxy', image: `docker.io/istio/ztunnel:${version}`, args: ['proxy', 'ztunnel'],
    ports: [{containerPort: 15020, name: 'ztunnel-stats', protocol: 'TCP'}]}
  s.workloads.push({kind: 'DaemonSet', name: 'ztunnel', namespace: root, uid: fakeUid(`ds/${root}/ztunnel`), labels, selector: labels, replicas: nodes.length,
    templateLabels: labels, serviceAccount: 'ztunnel', containers: [container], creationTimestamp: s.now})
  s.serviceAccounts.push({name: 'ztunnel', namespace: root})
  for (const node of nodes) {
    const name = `ztunnel-${fakeUid(`ztunnel/${node}`).replace(/[^a-z]/g, '').slice(0, 5).padEnd(5, 'x')}`
    const pod = makePod({name, namespace: root, labels: {...labels, 'controller-revision-hash': '7d9f8c6b5', 'pod-template-generation': '1'}, ip: hostIp(node),
      serviceAccount: 'ztunnel', app: [container], owner: {kind: 'DaemonSet', name: 'ztunnel', apiVersion: 'apps/v1'}, node})
    pod.hostIP = hostIp(node)
    pod.creationTimestamp = s.now
    pod.ztunnel = {version, ...defaultZtunnelLog()}
    s.pods.push(pod)
  }
  s.ambient = {version, certificates: spec.certificates ?? {}, connections: spec.connections ?? [], staleZtunnels: spec.staleZtunnels ?? []}
}

/** The scenario's ambient settings once loaded (model.ts `Scenario.ambient`). */
export interface AmbientSettings {
  version: string
  certificates: NonNullable<AmbientSpec['certificates']>
  connections: NonNullable<AmbientSpec['connections']>
  staleZtunnels: string[]
}

type J = Record<string, unknown>

/** istio.io/dataplane-mode=ambient on the namespace (or the pod), not opted out with `none`, no sidecar. */
export function isAmbientEnrolled(s: Pick<Scenario, 'namespaces'>, pod: SimPod): boolean {
  if (pod.proxy || pod.ztunnel || pod.istiod) return false
  const podMode = pod.labels['istio.io/dataplane-mode']
  if (podMode === 'none') return false
  if (podMode === 'ambient') return true
  return s.namespaces.find((n) => n.name === pod.namespace)?.labels['istio.io/dataplane-mode'] === 'ambient'
}

const workloadUid = (s: Scenario, pod: SimPod) => `${s.clusterId}//Pod/${pod.namespace}/${pod.name}`
const hostname = (svc: SimService) => `${svc.name}.${svc.namespace}.svc.cluster.local`
const selects = (svc: SimService, pod: SimPod) =>
  svc.namespace === pod.namespace && svc.selector !== undefined && Object.keys(svc.selector).length > 0 && Object.entries(svc.selector).every(([k, v]) => pod.labels[k] === v)

/** istio.io/use-waypoint on the object, else on its namespace: the waypoint Service it names, if it exists. */
function waypointOf(s: Scenario, namespace: string, labels: Record<string, string>): SimService | undefined {
  const name = labels['istio.io/use-waypoint'] ?? s.namespaces.find((n) => n.name === namespace)?.labels['istio.io/use-waypoint']
  if (!name || name === 'none') return undefined
  return s.services.find((svc) => svc.namespace === namespace && svc.name === name)
}

function runningPods(s: Scenario): SimPod[] {
  return s.pods.filter((p) => p.phase === 'Running' && p.ip && !p.ztunnel && p.namespace !== 'kube-system')
}

function workloadJson(s: Scenario, pod: SimPod): J {
  const enrolled = isAmbientEnrolled(s, pod)
  const waypoint = enrolled ? waypointOf(s, pod.namespace, pod.labels) : undefined
  const owner = pod.owner?.kind === 'ReplicaSet' ? pod.owner.name.replace(/-[a-z0-9]+$/, '') : pod.owner?.name
  return {
    uid: workloadUid(s, pod),
    workloadIps: [pod.ip],
    ...(waypoint ? {waypoint: {destination: `/${waypoint.clusterIP}`, hboneMtlsPort: 15008}} : {}),
    protocol: enrolled ? 'HBONE' : 'TCP',
    name: pod.name,
    namespace: pod.namespace,
    trustDomain: s.meshConfig.trustDomain,
    serviceAccount: pod.serviceAccount,
    workloadName: owner ?? pod.name,
    workloadType: pod.owner?.kind === 'ReplicaSet' ? 'deployment' : pod.owner ? pod.owner.kind.toLowerCase() : 'pod',
    canonicalName: pod.labels['service.istio.io/canonical-name'] ?? pod.labels.app ?? owner ?? pod.name,
    canonicalRevision: pod.labels['service.istio.io/canonical-revision'] ?? pod.labels.version ?? 'latest',
    node: pod.nodeName,
    status: pod.ready ? 'Healthy' : 'Unhealthy',
    clusterId: s.clusterId,
  }
}

function serviceJson(s: Scenario, svc: SimService, pods: readonly SimPod[], legacy: boolean): J {
  const waypoint = waypointOf(s, svc.namespace, svc.labels)
  const ports = Object.fromEntries(svc.ports.map((p) => [String(p.port), p.targetPort]))
  const endpoints = Object.fromEntries(pods.filter((pod) => selects(svc, pod)).map((pod) => [`${workloadUid(s, pod)}:/${pod.ip}`, {
    workloadUid: workloadUid(s, pod), service: `${svc.namespace}/${hostname(svc)}`, address: `/${pod.ip}`, port: ports,
  }]))
  return {
    name: svc.name,
    namespace: svc.namespace,
    hostname: hostname(svc),
    [legacy ? 'addresses' : 'vips']: [`/${svc.clusterIP}`],
    ports,
    endpoints,
    ...(waypoint && waypoint !== svc ? {waypoint: {destination: `/${waypoint.clusterIP}`, hboneMtlsPort: 15008}} : {}),
    subjectAltNames: [],
    ipFamilies: 'IPv4',
  }
}

/** AuthorizationPolicies ztunnel enforces: ALLOW/DENY without targetRefs (those bind to waypoints), L4 fields only. */
function policyJson(s: Scenario, policy: IstioConfig): J | undefined {
  const spec = policy.spec as {action?: string; selector?: unknown; targetRef?: unknown; targetRefs?: unknown; rules?: Array<{from?: J[]; to?: J[]}>}
  const action = spec.action ?? 'ALLOW'
  if ((action !== 'ALLOW' && action !== 'DENY') || spec.targetRef || spec.targetRefs) return undefined
  const exact = (values: unknown) => (Array.isArray(values) ? values.map((v) => ({Exact: String(v)})) : undefined)
  const rules = (spec.rules ?? []).map((rule) => {
    const clauses: J[][] = []
    for (const from of rule.from ?? []) {
      const source = (from.source ?? {}) as {principals?: unknown; namespaces?: unknown; ipBlocks?: unknown}
      clauses.push([{...(source.principals ? {principals: exact(source.principals)} : {}), ...(source.namespaces ? {namespaces: exact(source.namespaces)} : {}), ...(source.ipBlocks ? {sourceIps: source.ipBlocks} : {})}])
    }
    for (const to of rule.to ?? []) {
      const ports = ((to.operation ?? {}) as {ports?: unknown[]}).ports
      if (ports) clauses.push([{destinationPorts: ports.map(Number)}])
    }
    return clauses
  })
  return {
    name: policy.metadata.name,
    namespace: policy.metadata.namespace,
    scope: policy.metadata.namespace === s.meshConfig.rootNamespace ? 'Global' : spec.selector ? 'WorkloadSelector' : 'Namespace',
    action: action === 'ALLOW' ? 'Allow' : 'Deny',
    rules,
  }
}

/** A deterministic decimal serial per identity (ztunnel prints serials in decimal). */
function serialOf(seed: string): string {
  return BigInt(`0x${fakeUid(seed).replace(/-/g, '')}`).toString(10)
}

const rfc3339 = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
const PEM = '-----BEGIN CERTIFICATE-----\nTUVTSERCRyBTSU1VTEFURUQgQ0VSVElGSUNBVEU=\n-----END CERTIFICATE-----\n'

function certificatesJson(s: Scenario, local: readonly SimPod[], now: number): Array<{identity: string; state: string; leaf?: J; root: J}> {
  const identities = [...new Set(local.map((p) => `${p.namespace}/${p.serviceAccount}`))].sort()
  const root = {pem: PEM, serialNumber: serialOf('root-ca'), validFrom: rfc3339(now - 30 * 86_400_000), expirationTime: rfc3339(now + 3650 * 86_400_000)}
  return identities.map((key) => {
    const [ns, sa] = key.split('/')
    const knob = s.ambient?.certificates[key]
    const identity = `spiffe://${s.meshConfig.trustDomain}/ns/${ns}/sa/${sa}`
    const state = knob?.state ?? 'Available'
    if (state !== 'Available') return {identity, state, root}
    // Workload certificates last 24h and are renewed at half-life; an expiresIn knob ages one.
    const expires = now + (knob?.expiresIn ? durationMs(knob.expiresIn) : 23 * 3_600_000)
    return {identity, state, root, leaf: {pem: PEM, serialNumber: serialOf(identity), validFrom: rfc3339(expires - 86_400_000), expirationTime: rfc3339(expires)}}
  })
}

/** Connections of the `connections` knob that this ztunnel (its node's workloads) holds. */
function workloadStateJson(s: Scenario, node: string, local: readonly SimPod[], pods: readonly SimPod[]): J {
  const states: Record<string, {state: string; info: J; connections: {inbound: J[]; outbound: J[]}}> = {}
  for (const pod of local) {
    states[pod.uid] = {state: 'Up', info: {name: pod.name, namespace: pod.namespace, serviceAccount: pod.serviceAccount, trustDomain: s.meshConfig.trustDomain}, connections: {inbound: [], outbound: []}}
  }
  s.ambient?.connections.forEach((connection, i) => {
    const from = pods.find((p) => p.name === connection.from)
    const [host, port] = connection.to.split(':')
    const [svcName, svcNs] = host.split('.')
    const svc = s.services.find((x) => x.name === svcName && x.namespace === svcNs)
    const servicePort = svc?.ports.find((p) => String(p.port) === port)
    const target = svc ? pods.find((p) => selects(svc, p)) : undefined
    if (!from || !svc || !servicePort || !target) return
    const src = `${from.ip}:${41000 + i * 2}`
    const hbone = isAmbientEnrolled(s, target)
    if (from.nodeName === node && states[from.uid]) {
      states[from.uid].connections.outbound.push({src, originalDst: `${svc.clusterIP}:${port}`, actualDst: hbone ? `${target.ip}:15008` : `${target.ip}:${servicePort.targetPort}`, protocol: hbone ? 'HBONE' : 'TCP'})
    }
    if (target.nodeName === node && states[target.uid] && hbone) {
      states[target.uid].connections.inbound.push({src, originalDst: hostname(svc), actualDst: `${target.ip}:${servicePort.targetPort}`, protocol: 'HBONE'})
    }
  })
  return states
}

/**
 * The ztunnel's /config_dump in its version's shape (see src/lib/ztunnel/dump.ts for the shapes):
 * every running workload and service of the cluster (ztunnel learns all of them), the policies it
 * enforces, and the certificates and connections of the enrolled workloads on its own node.
 */
export function ztunnelConfigDump(s: Scenario, ztunnel: SimPod, now: number): J {
  const version = ztunnel.ztunnel?.version ?? '1.30.0'
  const m = minor(version)
  const pods = runningPods(s)
  const local = pods.filter((p) => p.nodeName === ztunnel.nodeName && isAmbientEnrolled(s, p))
  const workloads = pods.map((p) => workloadJson(s, p))
  const services = s.services.filter((svc) => svc.clusterIP && svc.clusterIP !== 'None').map((svc) => serviceJson(s, svc, pods, m < 22))
  const policies = s.istioConfigs.filter((c) => c.kind === 'AuthorizationPolicy').map((c) => policyJson(s, c)).filter((p): p is J => p !== undefined)
  const certs = certificatesJson(s, local, now)
  const byAddress = (items: J[], key: (item: J) => string) => Object.fromEntries(items.map((item) => [key(item), item]))
  const vipKey = (svc: J) => ((svc.vips ?? svc.addresses) as string[])[0]
  const version_ = {version, istioVersion: version}
  if (m < 22) {
    const snake = (c: J) => ({pem: c.pem, serial_number: c.serialNumber, valid_from: c.validFrom, expiration_time: c.expirationTime})
    return {
      by_addr: byAddress(workloads, (w) => `/${(w.workloadIps as string[])[0]}`),
      by_uid: byAddress(workloads, (w) => String(w.uid)),
      by_vip: byAddress(services, vipKey),
      certificates: certs.map((c) => ({identity: c.identity, state: c.state, ca_cert: c.leaf ? [snake(c.root)] : [], cert_chain: c.leaf ? [snake(c.leaf)] : []})),
      version: version_,
    }
  }
  const certificates = certs.map((c) => {
    if (!c.leaf) return {identity: c.identity, state: c.state, certChain: [], ...(m >= 26 ? {rootCerts: []} : {})}
    return m >= 26 ? {identity: c.identity, state: c.state, certChain: [c.leaf], rootCerts: [c.root]} : {identity: c.identity, state: c.state, certChain: [c.leaf, c.root]}
  })
  if (m === 22) {
    return {
      workloads: byAddress(workloads, (w) => `/${(w.workloadIps as string[])[0]}`),
      services: byAddress(services, vipKey),
      policies: byAddress(policies, (p) => `${p.namespace}/${p.name}`),
      certificates,
      version: version_,
    }
  }
  // 1.23 on: lists sorted by ztunnel (services by hostname, workloads by UID, policies by key).
  const sortBy = (items: J[], key: (item: J) => string) => [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
  return {
    services: sortBy(services, (svc) => String(svc.hostname)),
    workloads: sortBy(workloads, (w) => String(w.uid)),
    policies: sortBy(policies, (p) => `${p.namespace}/${p.name}`),
    certificates,
    workloadState: workloadStateJson(s, ztunnel.nodeName, local, pods),
    version: version_,
  }
}
