// The simulated mesh: plain mutable data. Every Kubernetes object, Envoy dump and istiod answer is
// derived from it on request, so a test can change the model and see the change on the wire.

export type XdsType = 'cds' | 'lds' | 'rds' | 'eds' | 'ecds'
/** How istiod's view of one xDS type for one proxy should read. */
export type SyncState = 'SYNCED' | 'NOT_SENT' | 'STALE' | 'STALE_NEVER_ACKED' | 'ERROR'

export interface ContainerPort {
  containerPort: number
  name?: string
  protocol?: 'TCP' | 'UDP'
}

export interface SimContainer {
  name: string
  image: string
  args?: string[]
  ports?: ContainerPort[]
}

export interface SimProxy {
  kind: 'sidecar' | 'router'
  istioVersion: string
  /** Envoy admin port (annotation `proxy.istio.io/config` proxyAdminPort or default 15000). */
  adminPort: number
  /** pilot-agent XDS debug tap on 15004 (Istio 1.11-1.24). */
  agentDebugPort: boolean
  /** istiod pod name this proxy is connected to. */
  istiod?: string
  sync?: Partial<Record<XdsType, SyncState>>
  /** NACK text when a type is in ERROR state. */
  syncError?: string
  serviceAccount: string
}

export interface SimPod {
  name: string
  namespace: string
  uid: string
  labels: Record<string, string>
  annotations: Record<string, string>
  phase: 'Running' | 'Pending' | 'Succeeded' | 'Failed' | 'Unknown'
  ready: boolean
  ip: string
  hostIP: string
  nodeName: string
  serviceAccount: string
  creationTimestamp: string
  restarts: number
  containers: SimContainer[]
  initContainers?: SimContainer[]
  owner?: {kind: string; name: string; apiVersion: string}
  proxy?: SimProxy
  /** Marks a ztunnel pod (ambient mode): its admin server on 15000 (src/sim/ztunnel-admin.ts). */
  ztunnel?: import('./ztunnel.js').ZtunnelPodState
  /** Marks an istiod pod (serves 8080/15014 debug). */
  istiod?: {version: string; revision: string}
  /** Scripted log lines per container (without timestamps). */
  logs?: Record<string, string[]>
  /** Set once the object was written through the API (otherwise a fixed value is served). */
  resourceVersion?: string
}

export interface SimWorkload {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Job'
  name: string
  namespace: string
  uid: string
  labels: Record<string, string>
  selector: Record<string, string>
  replicas: number
  templateLabels: Record<string, string>
  templateAnnotations?: Record<string, string>
  serviceAccount: string
  containers: SimContainer[]
  creationTimestamp: string
  owner?: {kind: string; name: string; apiVersion: string}
}

export interface SimServicePort {
  name?: string
  port: number
  targetPort: number
  /** A named targetPort (resolved against each pod's container ports); `targetPort` is then the port. */
  targetPortName?: string
  protocol?: 'TCP' | 'UDP'
  /** `appProtocol`, which Istio prefers over the port name for protocol selection. */
  appProtocol?: string
}

export interface SimService {
  name: string
  namespace: string
  uid: string
  labels: Record<string, string>
  selector?: Record<string, string>
  clusterIP: string
  type?: 'ClusterIP' | 'LoadBalancer' | 'NodePort'
  ports: SimServicePort[]
  creationTimestamp: string
  annotations?: Record<string, string>
  resourceVersion?: string
}

export interface SimObject {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown}
  [k: string]: unknown
}

export interface IstioConfig {
  apiVersion: string // e.g. networking.istio.io/v1
  kind: 'VirtualService' | 'DestinationRule' | 'Gateway' | 'PeerAuthentication' | 'AuthorizationPolicy' | 'RequestAuthentication' | string
  metadata: {name: string; namespace: string; uid?: string; resourceVersion?: string; creationTimestamp?: string; labels?: Record<string, string>; annotations?: Record<string, string>; generation?: number}
  spec: Record<string, unknown>
}

export interface Scenario {
  name: string
  /** Fixed "now" for every generated timestamp, so outputs are deterministic. */
  now: string
  clusterId: string
  meshConfig: {accessLogEncoding: 'TEXT' | 'JSON'; rootNamespace: string; trustDomain: string
    /** MeshConfig extensionProviders (envoyExtAuthzHttp): name to the service it calls. */
    extensionProviders?: Record<string, {service: string; port: number}>}
  namespaces: Array<{name: string; labels: Record<string, string>}>
  pods: SimPod[]
  workloads: SimWorkload[]
  services: SimService[]
  configMaps: SimObject[]
  serviceAccounts: Array<{name: string; namespace: string}>
  istioConfigs: IstioConfig[]
  /** Proxies istiod has connected that have no pod in this API server (remote clusters, VMs). */
  remoteProxies?: import('./sync.js').ConnectedProxy[]
  /** Cache Envoy dumps per pod (large generated meshes); the catalog regenerates on each request. */
  cacheDumps?: boolean
  /**
   * A live mesh: istiod pushes generated config on every change and each proxy serves what it
   * acknowledged (src/sim/xds.ts). Without it, every answer is derived from the model per request
   * and `SimProxy.sync` scripts istiod's view.
   */
  live?: LiveSettings
  /** Endpoints objects written through the API (for Services without a selector). */
  manualEndpoints?: SimObject[]
  /** Gateway API Gateways (gateway.networking.k8s.io/v1, e.g. waypoints), served when `ambient` is set. */
  gatewayApiGateways?: SimObject[]
  /** Ambient mode (a ztunnel DaemonSet), from the Simulation's `ambient` section. */
  ambient?: import('./ztunnel.js').AmbientSettings
  /** The running xDS state of a live mesh (set by the simulator; absent in plain data). */
  xds?: XdsView
}

/** What a live mesh's xDS server answers for: Envoy's accepted config and istiod's current one. */
export interface XdsView {
  /** What the proxy's Envoy runs (the last config it ACKed per type); undefined: not connected. */
  envoyView(pod: SimPod): import('./envoy-config.js').MeshView | undefined
  /** What istiod would send the proxy now. */
  istiodView(pod: SimPod): import('./envoy-config.js').MeshView | undefined
  /** istiod's version of each type's last push (`version_info`) and when Envoy applied it. */
  versions(pod: SimPod): {envoy: Partial<Record<XdsType, {version: string; at: string}>>} | undefined
  /** istiod's nonces per type for this proxy; undefined when it is not connected. */
  status(pod: SimPod): Partial<Record<XdsType, {sent?: string; acked?: string; error?: string; sentAt: string}>> | undefined
  /** Shifts every push and answer into the past so the newest push happened `ageMs` ago. */
  setLastPushAge(ageMs: number): void
}

/** How one proxy answers pushes in a live mesh. */
export interface ProxyBehaviour {
  /** Milliseconds between a push and its ACK (default `LiveSettings.ackDelayMs`). */
  ackDelayMs?: number
  /** xDS types this proxy rejects, with the error text it NACKs with (keeps the previous config). */
  nack?: Partial<Record<XdsType, string>>
  /** xDS types whose pushes (after the first) this proxy never answers (istiod shows STALE). */
  stale?: XdsType[]
  /** xDS types this proxy has never acknowledged since it connected (STALE, never acknowledged). */
  neverAck?: XdsType[]
  /** Milliseconds this pod's application takes to answer (story 2's slow pod). */
  latencyMs?: number
  /** This proxy's workload certificate, when not the default one (src/sim/mesh-ca.ts). */
  certificate?: import('./mesh-ca.js').CertificateKnob
  /** Envoy's server state and warming gauges, when not LIVE with nothing warming (src/sim/envoy-state.ts). */
  envoy?: import('./envoy-state.js').EnvoyStateKnob
}

export interface LiveSettings {
  /** istiod's debounce before a push (PILOT_DEBOUNCE_AFTER, 100 ms by default). */
  debounceMs: number
  ackDelayMs: number
  /** Per pod (`name` or `name.namespace`). */
  proxies: Record<string, ProxyBehaviour>
  /** Istio version of proxies injected into pods created through the API. */
  istioVersion: string
  /** Requests the access logs replay, in turn, through the proxies' accepted config (src/sim/traffic.ts). */
  traffic?: import('./traffic.js').TrafficSpec[]
  /** One scripted request every this many ms, before the scenario loaded and after (src/sim/log-timeline.ts). */
  requestIntervalMs?: number
}
