// Scenarios as data: a YAML stream of ordinary Kubernetes and Istio manifests (Namespace, Service,
// Deployment, Pod, ServiceAccount, ConfigMap and the Istio kinds) plus one `Simulation` document
// for what a cluster would decide on its own (istiod replicas, pod names and IPs, versions) and the
// knobs of the live mesh (push debounce, ACK delays, NACKs, STALE proxies, pod latency).
import {createRequire} from 'node:module'
import {fakeUid, makeDeployment, makePod, makeReplicaSet, proxyContainer} from './objects.js'
import type {IstioConfig, ProxyBehaviour, Scenario, SimContainer, SimObject, SimPod, SimWorkload} from './model.js'
import {podFromJson, serviceFromJson, stampNow} from './resources.js'
import type {TrafficSpec} from './traffic.js'
import {addAmbient, type AmbientSpec} from './ztunnel.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export class ScenarioError extends Error {}

/** The `Simulation` document (apiVersion sim.meshdbg.io/v1). */
export interface SimulationSpec {
  istioVersion?: string
  clusterId?: string
  meshConfig?: Partial<Scenario['meshConfig']>
  /** istiod pod names (and IPs) in the root namespace; proxies spread over them unless pinned. */
  istiods?: Array<{name: string; ip?: string}>
  debounceMs?: number
  ackDelayMs?: number
  /** Per Deployment (`namespace/name`): the pods it runs, by name, with IP and istiod when pinned. */
  deployments?: Record<string, {pods: PinnedPod[]}>
  /** Per pod (`name` or `name.namespace`): how its proxy answers pushes, its latency. */
  proxies?: Record<string, ProxyBehaviour & {istioVersion?: string}>
  /** Requests replayed in turn for the access logs: `from` a pod name or `external` (through the ingress gateway). */
  traffic?: TrafficSpec[]
  /** One scripted request every this many ms (default 1637): the access logs' rate. */
  requestIntervalMs?: number
  /** Ambient mode: a ztunnel DaemonSet, nodes, certificate and connection knobs (src/sim/ztunnel.ts). */
  ambient?: AmbientSpec
}

/** A pod of a Deployment as the cluster placed it: `phase: Pending` is an unscheduled pod (no node, no IP). */
interface PinnedPod {name: string; ip?: string; istiod?: string; ready?: boolean; phase?: 'Running' | 'Pending'}

const ISTIO_GROUPS = ['networking.istio.io', 'security.istio.io']

function containersOf(spec: J): SimContainer[] {
  return ((spec?.containers ?? []) as J[]).map((c) => ({name: c.name, image: c.image, ...(c.args ? {args: c.args} : {}),
    ...(c.ports ? {ports: (c.ports as J[]).map((p) => ({containerPort: Number(p.containerPort), ...(p.name ? {name: p.name} : {}), protocol: p.protocol ?? 'TCP'}))} : {})}))
}

/** Parses a scenario file's text into a live Scenario (pure apart from the clock for timestamps). */
export function loadScenario(text: string, name = 'file'): Scenario {
  return scenarioFromManifests(parseManifests(text), name)
}

/** The objects of a YAML stream of manifests (a `List` contributes its items). */
export function parseManifests(text: string): J[] {
  // Loaded on first use: a simulator started from the pre-parsed catalog (catalog.ts) never needs it.
  const {parseAllDocuments} = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  const objects: J[] = []
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new ScenarioError(`invalid YAML: ${doc.errors[0].message.split('\n')[0]}`)
    const value = doc.toJS() as J | null
    if (value === null || value === undefined) continue
    if (typeof value !== 'object' || !value.kind || !value.apiVersion) throw new ScenarioError('every document needs apiVersion and kind')
    if (value.kind === 'List') objects.push(...(value.items as J[]))
    else objects.push(value)
  }
  return objects
}

/** A live Scenario from parsed manifests (it shares their nested objects: pass fresh ones). */
export function scenarioFromManifests(objects: J[], name: string): Scenario {
  const sim: SimulationSpec = objects.find((o) => o.kind === 'Simulation')?.spec ?? {}
  const istioVersion = sim.istioVersion ?? '1.17.8'
  const created = stampNow()
  const meshConfig = {accessLogEncoding: 'TEXT' as const, rootNamespace: 'istio-system', trustDomain: 'cluster.local', ...sim.meshConfig}
  const s: Scenario = {
    name, now: created, clusterId: sim.clusterId ?? 'Kubernetes', meshConfig,
    namespaces: [], pods: [], workloads: [], services: [], configMaps: [], serviceAccounts: [], istioConfigs: [],
    live: {debounceMs: sim.debounceMs ?? 100, ackDelayMs: sim.ackDelayMs ?? 0, proxies: sim.proxies ?? {}, istioVersion, traffic: sim.traffic ?? [], ...(sim.requestIntervalMs ? {requestIntervalMs: sim.requestIntervalMs} : {})},
  }
  const ensureNs = (ns: string, labels: Record<string, string> = {}) => {
    const existing = s.namespaces.find((n) => n.name === ns)
    if (existing) Object.assign(existing.labels, labels)
    else s.namespaces.push({name: ns, labels})
  }
  for (const ns of ['default', 'kube-system', meshConfig.rootNamespace]) ensureNs(ns)
  for (const o of objects.filter((x) => x.kind === 'Namespace')) ensureNs(o.metadata.name, o.metadata.labels ?? {})

  // istiod: a Deployment in the root namespace, one pod per listed replica.
  const istiods = sim.istiods ?? [{name: 'istiod-7d4f8c9b5d-abcde'}]
  const istiodLabels = {app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default'}
  const discovery: SimContainer = {name: 'discovery', image: `docker.io/istio/pilot:${istioVersion}`, args: ['discovery', '--monitoringAddr=:15014', '--log_output_level=default:info', '--domain', 'cluster.local'],
    ports: [{containerPort: 8080, protocol: 'TCP'}, {containerPort: 15010, protocol: 'TCP'}, {containerPort: 15017, protocol: 'TCP'}]}
  const istiodDeploy = makeDeployment('istiod', meshConfig.rootNamespace, istiodLabels, [discovery], 'istiod', istiods.length)
  const hash = /^istiod-([a-z0-9]+)-[a-z0-9]+$/.exec(istiods[0].name)?.[1] ?? '7d4f8c9b5d'
  const istiodRs = makeReplicaSet(istiodDeploy, hash)
  s.workloads.push(istiodDeploy, istiodRs)
  istiods.forEach((i, n) => {
    const pod = makePod({name: i.name, namespace: meshConfig.rootNamespace, labels: {...istiodLabels, 'pod-template-hash': hash}, annotations: {'sidecar.istio.io/inject': 'false'},
      ip: i.ip ?? `10.10.0.${5 + n}`, serviceAccount: 'istiod', app: [discovery], owner: {kind: 'ReplicaSet', name: istiodRs.name, apiVersion: 'apps/v1'}})
    pod.istiod = {version: istioVersion, revision: 'default'}
    pod.creationTimestamp = created
    s.pods.push(pod)
  })
  s.serviceAccounts.push({name: 'default', namespace: meshConfig.rootNamespace}, {name: 'istiod', namespace: meshConfig.rootNamespace})

  for (const o of objects) {
    const ns = o.metadata?.namespace ?? 'default'
    const meta = {...o.metadata, namespace: ns, uid: fakeUid(`${o.kind}/${ns}/${o.metadata?.name}`), creationTimestamp: created, resourceVersion: '1000'}
    const group = String(o.apiVersion).split('/')[0]
    if (ISTIO_GROUPS.includes(group)) {
      s.istioConfigs.push({...o, metadata: {...meta, generation: 1}, spec: o.spec ?? {}} as IstioConfig)
    } else if (group === 'gateway.networking.k8s.io' && o.kind === 'Gateway') {
      s.gatewayApiGateways = [...(s.gatewayApiGateways ?? []), {...o, apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: {...meta, generation: 1}, spec: o.spec ?? {}} as SimObject]
    } else if (o.kind === 'Service') {
      s.services.push(serviceFromJson({...o, metadata: meta, spec: {...o.spec, clusterIP: o.spec?.clusterIP ?? `10.96.${100 + s.services.length}.${10 + s.services.length}`}}))
    } else if (o.kind === 'ServiceAccount') {
      s.serviceAccounts.push({name: o.metadata.name, namespace: ns})
    } else if (o.kind === 'ConfigMap') {
      s.configMaps.push({...o, apiVersion: 'v1', kind: 'ConfigMap', metadata: meta})
    } else if (o.kind === 'Pod') {
      addPod(s, {...o, metadata: meta}, sim)
    } else if (o.kind === 'Deployment') {
      addDeployment(s, {...o, metadata: meta}, sim, created)
    } else if (!['Namespace', 'Simulation'].includes(o.kind)) {
      throw new ScenarioError(`${o.kind} ${ns}/${o.metadata?.name}: the simulator models Namespace, Service, ServiceAccount, ConfigMap, Pod, Deployment, Gateway API Gateways and Istio's networking and security kinds`)
    }
  }
  if (!s.services.some((x) => x.name === 'kubernetes' && x.namespace === 'default')) {
    s.services.unshift(serviceFromJson({metadata: {name: 'kubernetes', namespace: 'default', uid: fakeUid('svc/default/kubernetes'), labels: {component: 'apiserver', provider: 'kubernetes'}, creationTimestamp: created},
      spec: {clusterIP: '10.96.0.1', ports: [{name: 'https', port: 443, targetPort: 6443}]}}))
  }
  // istiod's chart always installs MeshConfig as ConfigMap "istio" in its namespace
  // (manifests/charts/istio-control/istio-discovery/templates/configmap.yaml).
  if (!s.configMaps.some((c) => c.metadata.name === 'istio' && c.metadata.namespace === meshConfig.rootNamespace)) {
    const mesh = `accessLogFile: /dev/stdout\naccessLogEncoding: ${meshConfig.accessLogEncoding}\nrootNamespace: ${meshConfig.rootNamespace}\ntrustDomain: ${meshConfig.trustDomain}\n`
    s.configMaps.push({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'istio', namespace: meshConfig.rootNamespace, labels: {'istio.io/rev': 'default'}, creationTimestamp: created}, data: {mesh, meshNetworks: 'networks: {}'}} as SimObject)
  }
  for (const ns of s.namespaces) if (!s.serviceAccounts.some((a) => a.namespace === ns.name && a.name === 'default')) s.serviceAccounts.push({name: 'default', namespace: ns.name})
  if (sim.ambient) addAmbient(s, sim.ambient)
  return s
}

function addPod(s: Scenario, obj: J, sim: SimulationSpec, pinned?: PinnedPod): SimPod {
  const pod = podFromJson(s, obj, undefined)
  if (pinned?.ip) pod.ip = pinned.ip
  if (pinned?.ready === false) pod.ready = false
  if (pinned?.phase === 'Pending') Object.assign(pod, {phase: 'Pending', ready: false, ip: '', hostIP: '', nodeName: ''})
  const knobs = sim.proxies?.[`${pod.name}.${pod.namespace}`] ?? sim.proxies?.[pod.name]
  if (pod.proxy) {
    if (pinned?.istiod) pod.proxy.istiod = pinned.istiod
    if (knobs?.istioVersion) {
      const from = `proxyv2:${pod.proxy.istioVersion}`
      pod.proxy.istioVersion = knobs.istioVersion
      pod.proxy.agentDebugPort = Number(knobs.istioVersion.split('.')[1]) < 25
      // The injector stamps the proxy image of the revision that injected the pod.
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) c.image = c.image.replace(from, `proxyv2:${knobs.istioVersion}`)
    }
  }
  s.pods.push(pod)
  return pod
}

/** A Deployment becomes its ReplicaSet and pods (named by the Simulation section, or generated). */
function addDeployment(s: Scenario, obj: J, sim: SimulationSpec, created: string): void {
  const ns = obj.metadata.namespace
  const template = obj.spec?.template ?? {}
  const labels = template.metadata?.labels ?? {}
  const containers = containersOf(template.spec)
  const router = containers.some((c) => c.name === 'istio-proxy' && ['router', 'waypoint'].includes((c.args ?? [])[1] ?? ''))
  const deploy: SimWorkload = makeDeployment(obj.metadata.name, ns, obj.metadata.labels ?? labels, containers, template.spec?.serviceAccountName ?? 'default', obj.spec?.replicas ?? 1, template.metadata?.annotations)
  deploy.selector = obj.spec?.selector?.matchLabels ?? labels
  deploy.creationTimestamp = created
  const pinned = sim.deployments?.[`${ns}/${obj.metadata.name}`]?.pods
  const hash = pinned?.[0] ? pinned[0].name.slice(obj.metadata.name.length + 1).split('-')[0] : fakeUid(`rs/${ns}/${obj.metadata.name}`).replace(/-/g, '').slice(0, 10)
  const rs = makeReplicaSet(deploy, hash)
  rs.creationTimestamp = created
  s.workloads.push(deploy, rs)
  const count = pinned?.length ?? deploy.replicas
  for (let i = 0; i < count; i++) {
    const p = pinned?.[i]
    const name = p?.name ?? `${rs.name}-${fakeUid(`pod/${ns}/${rs.name}/${i}`).slice(0, 5)}`
    const podContainers = router ? [proxyContainerLike(containers, s.live!.istioVersion)] : containers
    addPod(s, {apiVersion: 'v1', kind: 'Pod', metadata: {name, namespace: ns, labels: {...labels, 'pod-template-hash': hash}, annotations: template.metadata?.annotations ?? {},
      uid: fakeUid(`pod/${ns}/${name}`), creationTimestamp: created, ownerReferences: [{apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.name}]},
    spec: {...template.spec, containers: podContainers}}, sim, p)
  }
}

/** A gateway's own istio-proxy container keeps its manifest's args and gains the proxy ports. */
function proxyContainerLike(containers: SimContainer[], version: string): SimContainer {
  const own = containers.find((c) => c.name === 'istio-proxy')!
  const base = proxyContainer(version, 'router')
  return {...base, ...own, ports: [...(own.ports ?? []), ...(base.ports ?? []).filter((p) => !(own.ports ?? []).some((q) => q.containerPort === p.containerPort))]}
}
