// The writable resources of the fake apiserver: Istio's networking and security kinds, Services,
// Pods, Endpoints and EndpointSlices. list / get / create / update / patch (merge, strategic merge,
// JSON patch) / delete / watch with resourceVersions, shaped like kube-apiserver's answers, so
// `kubectl apply -f`, `kubectl delete -f` and `kubectl get vs,dr -A` work unchanged.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {fakeUid, makePod} from './objects.js'
import {readBody, sendJson} from './http-json.js'
import {podJson, serviceJson} from './kube-objects.js'
import type {IstioConfig, Scenario, SimObject, SimPod, SimService} from './model.js'
import {PatchError, jsonPatch, mergePatch, strategicMergePatch} from './patch.js'
import {SelectorError, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector} from './selectors.js'
import type {MeshStore} from './store.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Column {name: string; type?: string; format?: string; priority?: number; cell: (o: J, now: number) => unknown}

export interface ResourceDef {
  resource: string
  kind: string
  group: string
  shortNames?: string[]
  categories?: string[]
  columns: Column[]
  /** Every object of this kind, as served (apiVersion set by the caller). */
  list(s: Scenario): J[]
  /** Stores `obj` (already validated and stamped) into the model. */
  put(s: Scenario, obj: J): void
  remove(s: Scenario, namespace: string, name: string): void
  /** Fields a client may not change after creation (beyond metadata), with kube's message. */
  immutable?(before: J, after: J): string | undefined
  /** Fills what the apiserver or its controllers would (cluster IPs, pod IPs, injection). */
  admit?(s: Scenario, obj: J, existing: J | undefined): J
}

export function age(created: string | undefined, now: number): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(created ?? '')) / 1000))
  if (!Number.isFinite(seconds)) return '<unknown>'
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) return `${minutes}m${seconds % 60 ? `${seconds % 60}s` : ''}`
  if (minutes < 180) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours}h`
  const days = Math.floor(hours / 24)
  return days < 8 && hours % 24 ? `${days}d${hours % 24}h` : `${days}d`
}

const NAME: Column = {name: 'Name', format: 'name', cell: (o) => o.metadata.name}
const AGE: Column = {name: 'Age', type: 'date', cell: (o, now) => age(o.metadata.creationTimestamp, now)}
const jsonCell = (v: unknown) => (v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v))

export const stampNow = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

function istioDef(resource: string, kind: string, group: 'networking.istio.io' | 'security.istio.io', shortNames: string[] | undefined, columns: Column[]): ResourceDef {
  return {
    resource, kind, group, shortNames,
    // As in Istio's CRDs (manifests/charts/base/crds/crd-all.gen.yaml).
    categories: ['istio-io', group === 'networking.istio.io' ? 'networking-istio-io' : 'security-istio-io'],
    columns: [NAME, ...columns, AGE],
    list: (s) => s.istioConfigs.filter((c) => c.kind === kind) as unknown as J[],
    put: (s, obj) => {
      const i = s.istioConfigs.findIndex((c) => c.kind === kind && c.metadata.namespace === obj.metadata.namespace && c.metadata.name === obj.metadata.name)
      if (i >= 0) s.istioConfigs[i] = obj as IstioConfig
      else s.istioConfigs.push(obj as IstioConfig)
    },
    remove: (s, ns, name) => {
      s.istioConfigs = s.istioConfigs.filter((c) => !(c.kind === kind && c.metadata.namespace === ns && c.metadata.name === name))
    },
    admit: (_s, obj) => ({spec: {}, ...obj}),
  }
}

function freeAddress(used: Set<string>, prefix: string, from: number): string {
  for (let i = from; i < 65_000; i++) {
    const ip = `${prefix}.${(i >> 8) & 255}.${i & 255}`
    if (!used.has(ip)) return ip
  }
  throw new Error('simulator: address pool exhausted')
}

export function serviceFromJson(obj: J): SimService {
  const spec = obj.spec ?? {}
  return {
    name: obj.metadata.name,
    namespace: obj.metadata.namespace,
    uid: obj.metadata.uid,
    labels: obj.metadata.labels ?? {},
    annotations: obj.metadata.annotations,
    selector: spec.selector && Object.keys(spec.selector).length ? spec.selector : undefined,
    clusterIP: spec.clusterIP,
    type: spec.type ?? 'ClusterIP',
    ports: ((spec.ports ?? []) as J[]).map((p) => ({
      ...(p.name ? {name: p.name} : {}),
      port: Number(p.port),
      targetPort: typeof p.targetPort === 'number' ? p.targetPort : /^\d+$/.test(String(p.targetPort ?? '')) ? Number(p.targetPort) : Number(p.port),
      ...(typeof p.targetPort === 'string' && !/^\d+$/.test(p.targetPort) ? {targetPortName: p.targetPort} : {}),
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol ? {appProtocol: p.appProtocol} : {}),
    })),
    creationTimestamp: obj.metadata.creationTimestamp,
    resourceVersion: obj.metadata.resourceVersion,
  }
}

/** A pod written through the API: scheduled, given an IP and, where the namespace asks for it, a sidecar (the injector's job). */
export function podFromJson(s: Scenario, obj: J, existing: SimPod | undefined): SimPod {
  const spec = obj.spec ?? {}
  const ns = obj.metadata.namespace
  const annotations: Record<string, string> = {...obj.metadata.annotations}
  const containers = ((spec.containers ?? []) as J[]).map((c) => ({
    name: c.name, image: c.image, ...(c.args ? {args: c.args} : {}),
    ...(c.ports ? {ports: (c.ports as J[]).map((p) => ({containerPort: Number(p.containerPort), ...(p.name ? {name: p.name} : {}), protocol: p.protocol ?? 'TCP'}))} : {}),
  }))
  const ownProxy = containers.find((c) => c.name === 'istio-proxy')
  // Gateways run `proxy router`, waypoints `proxy waypoint` (istio-discovery/files/waypoint.yaml): both own their istio-proxy.
  const router = ['router', 'waypoint'].includes((ownProxy?.args ?? [])[1] ?? '')
  // A gateway runs istio-proxy as its own container; a sidecar's is the injector's to add.
  const app = router ? containers : containers.filter((c) => c.name !== 'istio-proxy')
  const hasProxy = ownProxy !== undefined
  const nsLabels = s.namespaces.find((n) => n.name === ns)?.labels ?? {}
  const podLabels = obj.metadata.labels ?? {}
  // pkg/kube/inject/webhook.go injectRequired: namespace istio-injection=enabled (or istio.io/rev),
  // unless the pod opts out with sidecar.istio.io/inject=false.
  const inject = hasProxy || ((nsLabels['istio-injection'] === 'enabled' || nsLabels['istio.io/rev'] !== undefined) &&
    annotations['sidecar.istio.io/inject'] !== 'false' && podLabels['sidecar.istio.io/inject'] !== 'false')
  const istiods = s.pods.filter((p) => p.istiod).map((p) => p.name).sort()
  const load = (name: string) => s.pods.filter((p) => p.proxy?.istiod === name).length
  const istiod = existing?.proxy?.istiod ?? [...istiods].sort((a, b) => load(a) - load(b))[0]
  const version = s.live?.istioVersion ?? s.pods.find((p) => p.istiod)?.istiod?.version ?? '1.17.8'
  const adminPort = Number(/proxyAdminPort:\s*(\d+)/.exec(annotations['proxy.istio.io/config'] ?? '')?.[1] ?? 15000)
  const ip = existing?.ip ?? freeAddress(new Set(s.pods.map((p) => p.ip)), '10.10', 256 + 2)
  const pod = makePod({
    name: obj.metadata.name, namespace: ns, labels: podLabels, annotations, ip, serviceAccount: spec.serviceAccountName ?? 'default', app,
    proxy: inject ? {kind: router ? 'router' : 'sidecar', istioVersion: version, adminPort,
      agentDebugPort: versionBelow(version, 25), istiod} : undefined,
    owner: ((obj.metadata.ownerReferences as J[] | undefined) ?? []).map((o) => ({kind: String(o.kind), name: String(o.name), apiVersion: String(o.apiVersion)}))[0],
  })
  pod.uid = obj.metadata.uid
  pod.creationTimestamp = obj.metadata.creationTimestamp
  pod.resourceVersion = obj.metadata.resourceVersion
  if (existing) {
    pod.logs = existing.logs
  }
  return pod
}

export function versionBelow(version: string, minor: number): boolean {
  const [major, min] = version.split('.').map(Number)
  return major === 1 && min < minor
}

function endpointsOf(s: Scenario, svc: SimService): J {
  const pods = svc.selector ? s.pods.filter((p) => p.namespace === svc.namespace && p.ip && p.phase === 'Running' && Object.entries(svc.selector!).every(([k, v]) => p.labels[k] === v)) : []
  const address = (p: SimPod) => ({ip: p.ip, nodeName: p.nodeName, targetRef: {kind: 'Pod', namespace: p.namespace, name: p.name, uid: p.uid}})
  const ready = pods.filter((p) => p.ready)
  const notReady = pods.filter((p) => !p.ready)
  return {
    kind: 'Endpoints', apiVersion: 'v1',
    metadata: {name: svc.name, namespace: svc.namespace, uid: fakeUid(`ep/${svc.namespace}/${svc.name}`), resourceVersion: svc.resourceVersion ?? String(2100 + svc.name.length), creationTimestamp: svc.creationTimestamp, labels: svc.labels},
    subsets: pods.length ? [{...(ready.length ? {addresses: ready.map(address)} : {}), ...(notReady.length ? {notReadyAddresses: notReady.map(address)} : {}),
      ports: svc.ports.map((p) => ({...(p.name ? {name: p.name} : {}), port: p.targetPort, protocol: p.protocol ?? 'TCP'}))}] : undefined,
  }
}

function sliceOf(s: Scenario, svc: SimService): J {
  const ep = endpointsOf(s, svc)
  const pods = svc.selector ? s.pods.filter((p) => p.namespace === svc.namespace && p.ip && p.phase === 'Running' && Object.entries(svc.selector!).every(([k, v]) => p.labels[k] === v)) : []
  return {
    kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1',
    metadata: {name: `${svc.name}-${fakeUid(`eps/${svc.namespace}/${svc.name}`).slice(0, 5)}`, generateName: `${svc.name}-`, namespace: svc.namespace, uid: fakeUid(`eps/${svc.namespace}/${svc.name}`), resourceVersion: ep.metadata.resourceVersion, creationTimestamp: svc.creationTimestamp,
      labels: {...svc.labels, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': svc.name},
      ownerReferences: [{apiVersion: 'v1', kind: 'Service', name: svc.name, uid: svc.uid, controller: true, blockOwnerDeletion: true}]},
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({addresses: [p.ip], conditions: {ready: p.ready, serving: p.ready, terminating: false}, nodeName: p.nodeName, targetRef: {kind: 'Pod', namespace: p.namespace, name: p.name, uid: p.uid}})),
    ports: svc.ports.map((p) => ({...(p.name ? {name: p.name} : {}), port: p.targetPort, protocol: p.protocol ?? 'TCP'})),
  }
}

const ports = (o: J) => ((o.spec?.ports ?? []) as J[]).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>'

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io'

export const RESOURCES: ResourceDef[] = [
  // Gateway API Gateways (waypoints): kept with their status as written, since the simulator runs
  // no gateway controller (the scenario states what Istio's would have set).
  {
    resource: 'gateways', kind: 'Gateway', group: GATEWAY_API_GROUP, shortNames: ['gtw'], categories: ['gateway-api'],
    columns: [NAME, {name: 'Class', cell: (o) => o.spec?.gatewayClassName}, {name: 'Address', cell: (o) => o.status?.addresses?.[0]?.value ?? null},
      {name: 'Programmed', cell: (o) => ((o.status?.conditions ?? []) as J[]).find((c) => c.type === 'Programmed')?.status ?? 'Unknown'}, AGE],
    list: (s) => (s.gatewayApiGateways ?? []) as J[],
    put: (s, obj) => {
      s.gatewayApiGateways = [...(s.gatewayApiGateways ?? []).filter((g) => !(g.metadata.namespace === obj.metadata.namespace && g.metadata.name === obj.metadata.name)), obj as SimObject]
    },
    remove: (s, ns, name) => {
      s.gatewayApiGateways = (s.gatewayApiGateways ?? []).filter((g) => !(g.metadata.namespace === ns && g.metadata.name === name))
    },
  },
  istioDef('virtualservices', 'VirtualService', 'networking.istio.io', ['vs'], [
    {name: 'Gateways', type: 'string', cell: (o) => jsonCell(o.spec?.gateways)}, {name: 'Hosts', type: 'string', cell: (o) => jsonCell(o.spec?.hosts)}]),
  istioDef('destinationrules', 'DestinationRule', 'networking.istio.io', ['dr'], [{name: 'Host', type: 'string', cell: (o) => jsonCell(o.spec?.host)}]),
  istioDef('gateways', 'Gateway', 'networking.istio.io', ['gw'], []),
  istioDef('serviceentries', 'ServiceEntry', 'networking.istio.io', ['se'], [
    {name: 'Hosts', type: 'string', cell: (o) => jsonCell(o.spec?.hosts)}, {name: 'Location', type: 'string', cell: (o) => jsonCell(o.spec?.location)}, {name: 'Resolution', type: 'string', cell: (o) => jsonCell(o.spec?.resolution)}]),
  istioDef('sidecars', 'Sidecar', 'networking.istio.io', undefined, []),
  istioDef('peerauthentications', 'PeerAuthentication', 'security.istio.io', ['pa'], [{name: 'Mode', type: 'string', cell: (o) => jsonCell(o.spec?.mtls?.mode)}]),
  istioDef('authorizationpolicies', 'AuthorizationPolicy', 'security.istio.io', undefined, []),
  istioDef('requestauthentications', 'RequestAuthentication', 'security.istio.io', ['ra'], []),
  {
    resource: 'services', kind: 'Service', group: '', shortNames: ['svc'], categories: ['all'],
    columns: [NAME, {name: 'Type', cell: (o) => o.spec.type}, {name: 'Cluster-IP', cell: (o) => o.spec.clusterIP}, {name: 'External-IP', cell: (o) => o.status?.loadBalancer?.ingress?.[0]?.ip ?? '<none>'},
      {name: 'Port(s)', cell: ports}, AGE, {name: 'Selector', priority: 1, cell: (o) => Object.entries(o.spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'}],
    list: (s) => s.services.map(serviceJson) as J[],
    put: (s, obj) => {
      const svc = serviceFromJson(obj)
      const i = s.services.findIndex((x) => x.namespace === svc.namespace && x.name === svc.name)
      if (i >= 0) s.services[i] = svc
      else s.services.push(svc)
    },
    remove: (s, ns, name) => {
      s.services = s.services.filter((x) => !(x.namespace === ns && x.name === name))
    },
    immutable: (before, after) => (after.spec?.clusterIP && after.spec.clusterIP !== before.spec?.clusterIP ? 'spec.clusterIP: Invalid value: "' + after.spec.clusterIP + '": field is immutable' : undefined),
    admit: (s, obj, existing) => {
      const spec = {...obj.spec}
      spec.clusterIP ??= existing?.spec?.clusterIP ?? freeAddress(new Set(s.services.map((x) => x.clusterIP)), '10.96', 50 * 256 + 10)
      return {...obj, spec}
    },
  },
  {
    resource: 'pods', kind: 'Pod', group: '', shortNames: ['po'], categories: ['all'],
    columns: [NAME, {name: 'Ready', cell: (o) => `${((o.status?.containerStatuses ?? []) as J[]).filter((c) => c.ready).length}/${o.spec.containers.length}`},
      {name: 'Status', cell: (o) => o.status?.phase}, {name: 'Restarts', type: 'integer', cell: (o) => ((o.status?.containerStatuses ?? []) as J[]).reduce((n, c) => n + (c.restartCount ?? 0), 0)}, AGE,
      {name: 'IP', priority: 1, cell: (o) => o.status?.podIP ?? '<none>'}, {name: 'Node', priority: 1, cell: (o) => o.spec.nodeName ?? '<none>'}],
    list: (s) => s.pods.map((p) => podJson(p, s)) as J[],
    put: (s, obj) => {
      const i = s.pods.findIndex((x) => x.namespace === obj.metadata.namespace && x.name === obj.metadata.name)
      const pod = podFromJson(s, obj, i >= 0 ? s.pods[i] : undefined)
      if (i >= 0) s.pods[i] = pod
      else s.pods.push(pod)
    },
    remove: (s, ns, name) => {
      s.pods = s.pods.filter((x) => !(x.namespace === ns && x.name === name))
    },
    // pkg/apis/core/validation: a pod's spec is immutable apart from images and a few fields.
    immutable: (before, after) => {
      const shape = (o: J) => JSON.stringify(((o.spec?.containers ?? []) as J[]).filter((c) => c.name !== 'istio-proxy').map((c) => ({name: c.name, ports: (c.ports ?? []).map((p: J) => Number(p.containerPort))})))
      return after.spec && shape(before) !== shape(after) ? 'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)' : undefined
    },
  },
  {
    resource: 'endpoints', kind: 'Endpoints', group: '', shortNames: ['ep'],
    columns: [NAME, {name: 'Endpoints', cell: (o) => ((o.subsets ?? []) as J[]).flatMap((ss) => ((ss.addresses ?? []) as J[]).flatMap((a) => ((ss.ports ?? []) as J[]).map((p) => `${a.ip}:${p.port}`))).join(',') || '<none>'}, AGE],
    list: (s) => [...s.services.filter((svc) => svc.selector).map((svc) => endpointsOf(s, svc)), ...(s.manualEndpoints ?? []) as J[]],
    put: (s, obj) => {
      s.manualEndpoints = [...(s.manualEndpoints ?? []).filter((e) => !(e.metadata.namespace === obj.metadata.namespace && e.metadata.name === obj.metadata.name)), obj as SimObject]
    },
    remove: (s, ns, name) => {
      s.manualEndpoints = (s.manualEndpoints ?? []).filter((e) => !(e.metadata.namespace === ns && e.metadata.name === name))
    },
  },
  {
    resource: 'endpointslices', kind: 'EndpointSlice', group: 'discovery.k8s.io',
    columns: [NAME, {name: 'AddressType', cell: (o) => o.addressType}, {name: 'Ports', cell: (o) => ((o.ports ?? []) as J[]).map((p) => p.port).join(',') || '<unset>'},
      {name: 'Endpoints', cell: (o) => ((o.endpoints ?? []) as J[]).flatMap((e) => e.addresses).join(',') || '<unset>'}, AGE],
    list: (s) => s.services.filter((svc) => svc.selector).map((svc) => sliceOf(s, svc)),
    // Slices are the endpointslice controller's: written ones would be overwritten at once.
    put: () => undefined,
    remove: () => undefined,
  },
]

export function resourceDef(group: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.resource === resource)
}

export interface WriteContext {
  scenario: Scenario
  store: MeshStore
  /** Versions served per group (Istio's CRDs grow `v1` in 1.22). */
  versions(group: string): string[]
  now(): number
}

function status(code: number, reason: string, message: string, details?: J): J {
  return {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? {details} : {}), code}
}



const qualified = (def: ResourceDef) => (def.group ? `${def.resource}.${def.group}` : def.resource)

function table(def: ResourceDef, items: J[], now: number, resourceVersion: string): J {
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {resourceVersion},
    columnDefinitions: def.columns.map((c) => ({name: c.name, type: c.type ?? 'string', format: c.format ?? '', description: '', priority: c.priority ?? 0})),
    rows: items.map((o) => ({cells: def.columns.map((c) => c.cell(o, now)), object: {kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata}})),
  }
}

/**
 * Serves one request on a managed resource; `false` when this module does not handle it (pods
 * GET and subresources stay with the read-only handlers in apiserver.ts).
 */
export async function handleResource(ctx: WriteContext, req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams): Promise<boolean> {
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?$/.exec(path)
  if (!m) return false
  const [, coreVersion, groupName, groupVersion, ns, resource, name] = m
  const group = coreVersion ? '' : groupName
  const version = coreVersion ?? groupVersion
  const def = resourceDef(group, resource)
  if (!def) return false
  const method = req.method ?? 'GET'
  if (def.resource === 'pods' && method === 'GET') return false
  if (group && !ctx.versions(group).includes(version)) {
    sendJson(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'))
    return true
  }
  const apiVersion = group ? `${group}/${version}` : version
  const s = ctx.scenario
  const served = (o: J): J => ({...o, apiVersion, kind: def.kind})
  const find = (namespace: string, n: string) => def.list(s).find((o) => o.metadata.namespace === namespace && o.metadata.name === n)
  const notFound = (n: string) => sendJson(res, 404, status(404, 'NotFound', `${qualified(def)} "${n}" not found`, {name: n, ...(group ? {group} : {}), kind: def.resource}))
  const wantsTable = /as=Table/.test(String(req.headers.accept ?? ''))

  if (method === 'GET' && !name) {
    let items = def.list(s).filter((o) => !ns || o.metadata.namespace === ns)
    try {
      const labels = q.get('labelSelector') ? parseLabelSelector(q.get('labelSelector')!) : []
      const fields = q.get('fieldSelector') ? parseFieldSelector(q.get('fieldSelector')!) : []
      items = items.filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o, ['metadata.name', 'metadata.namespace']))
    } catch (error) {
      if (!(error instanceof SelectorError)) throw error
      sendJson(res, 400, status(400, 'BadRequest', error.message))
      return true
    }
    const key = (o: J) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`
    items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    if (q.get('watch') === 'true' || q.get('watch') === '1') {
      watch(ctx, def, req, res, items.map(served), ns, q)
      return true
    }
    if (wantsTable) sendJson(res, 200, table(def, items, ctx.now(), ctx.store.resourceVersion))
    else sendJson(res, 200, {kind: `${def.kind}List`, apiVersion, metadata: {resourceVersion: ctx.store.resourceVersion}, items: items.map((o) => {
      const {kind: _k, apiVersion: _a, ...rest} = o
      return rest
    })})
    return true
  }
  if (!ns) {
    sendJson(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'))
    return true
  }
  const existing = name ? find(ns, name) : undefined
  if (method === 'GET') {
    if (!existing) notFound(name!)
    else if (wantsTable) sendJson(res, 200, table(def, [existing], ctx.now(), ctx.store.resourceVersion))
    else sendJson(res, 200, served(existing))
    return true
  }
  if (method === 'DELETE') {
    if (!existing) {
      notFound(name!)
      return true
    }
    const rv = ctx.store.next()
    def.remove(s, ns, name!)
    const gone = served({...existing, metadata: {...existing.metadata, resourceVersion: rv}})
    ctx.store.emit({type: 'DELETED', resource: def.resource, namespace: ns, name: name!, object: gone, resourceVersion: rv})
    // Custom resources answer with the deleted object; built-in kinds (without finalizers) do too.
    sendJson(res, 200, gone)
    return true
  }
  if (!['POST', 'PUT', 'PATCH'].includes(method)) {
    sendJson(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'))
    return true
  }
  if (def.resource === 'endpointslices') {
    sendJson(res, 405, status(405, 'MethodNotAllowed', 'the simulator derives EndpointSlices from Services and Pods (the endpointslice controller\'s job)'))
    return true
  }
  const text = await readBody(req)
  let body: J
  try {
    body = JSON.parse(text || 'null') as J
  } catch (error) {
    sendJson(res, 400, status(400, 'BadRequest', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (${(error as Error).message})`))
    return true
  }
  let next: J
  if (method === 'PATCH') {
    if (!existing) {
      notFound(name!)
      return true
    }
    const type = String(req.headers['content-type'] ?? '').split(';')[0]
    try {
      if (type === 'application/merge-patch+json') next = mergePatch(existing, body) as J
      else if (type === 'application/json-patch+json') next = jsonPatch(existing, body) as J
      else if (type === 'application/strategic-merge-patch+json' && !group) next = strategicMergePatch(existing, body) as J
      else {
        sendJson(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json${group ? '' : ', application/strategic-merge-patch+json'}`))
        return true
      }
    } catch (error) {
      if (!(error instanceof PatchError)) throw error
      sendJson(res, 422, status(422, 'Invalid', error.message))
      return true
    }
    if (body?.metadata?.resourceVersion === undefined) next.metadata = {...next.metadata, resourceVersion: existing.metadata.resourceVersion}
  } else {
    next = body
    if (!next || typeof next !== 'object' || Array.isArray(next)) {
      sendJson(res, 400, status(400, 'BadRequest', 'the body of the request was not an object'))
      return true
    }
  }
  next.metadata ??= {}
  next.metadata.namespace ??= ns
  if (next.metadata.namespace !== ns) {
    sendJson(res, 400, status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'))
    return true
  }
  if (next.kind !== undefined && next.kind !== def.kind) {
    sendJson(res, 400, status(400, 'BadRequest', `the API version in the data (${next.apiVersion}) does not match the expected API version (${apiVersion})`))
    return true
  }
  if (method === 'POST') {
    if (!next.metadata.name && next.metadata.generateName) next.metadata.name = `${next.metadata.generateName}${fakeUid(`${Date.now()}/${Math.random()}`).slice(0, 5)}`
    if (!next.metadata.name) {
      sendJson(res, 422, status(422, 'Invalid', `${def.kind} "" is invalid: metadata.name: Required value: name or generateName is required`))
      return true
    }
    if (find(ns, next.metadata.name)) {
      sendJson(res, 409, status(409, 'AlreadyExists', `${qualified(def)} "${next.metadata.name}" already exists`, {name: next.metadata.name, ...(group ? {group} : {}), kind: def.resource}))
      return true
    }
  } else {
    if (next.metadata.name !== name) {
      sendJson(res, 400, status(400, 'BadRequest', `the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`))
      return true
    }
    if (!existing) {
      notFound(name!)
      return true
    }
    if (next.metadata.resourceVersion && next.metadata.resourceVersion !== existing.metadata.resourceVersion) {
      sendJson(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {name, ...(group ? {group} : {}), kind: def.resource}))
      return true
    }
    const invalid = def.immutable?.(existing, next)
    if (invalid) {
      sendJson(res, 422, status(422, 'Invalid', `${def.kind} "${name}" is invalid: ${invalid}`, {name, ...(group ? {group} : {}), kind: def.resource}))
      return true
    }
  }
  if (q.get('dryRun') === 'All') {
    sendJson(res, method === 'POST' ? 201 : 200, served(next))
    return true
  }
  const rv = ctx.store.next()
  // Status belongs to controllers (the model derives it), never to the writer.
  const {status: _status, ...withoutStatus} = next
  let stored: J = {
    ...withoutStatus,
    apiVersion, kind: def.kind,
    metadata: {
      ...next.metadata,
      uid: existing?.metadata.uid ?? fakeUid(`${def.resource}/${ns}/${next.metadata.name}/${rv}`),
      creationTimestamp: existing?.metadata.creationTimestamp ?? stampNow(),
      resourceVersion: rv,
      ...(group ? {generation: existing ? (JSON.stringify(existing.spec) === JSON.stringify(next.spec) ? existing.metadata.generation ?? 1 : (existing.metadata.generation ?? 1) + 1) : 1} : {}),
    },
  }
  if (def.admit) stored = def.admit(s, stored, existing)
  def.put(s, stored)
  const after = find(ns, stored.metadata.name) ?? stored
  ctx.store.emit({type: existing ? 'MODIFIED' : 'ADDED', resource: def.resource, namespace: ns, name: stored.metadata.name, object: served(after), resourceVersion: rv})
  sendJson(res, existing ? 200 : 201, served(after))
  return true
}

/** `?watch=true`: the current objects as ADDED, then every change, one JSON event per line. */
function watch(ctx: WriteContext, def: ResourceDef, req: IncomingMessage, res: ServerResponse, current: J[], ns: string | undefined, q: URLSearchParams): void {
  res.writeHead(200, {'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private'})
  const since = q.get('resourceVersion')
  // From a given resourceVersion only later changes are sent; without one, the state first.
  if (!since || since === '0') for (const o of current) res.write(`${JSON.stringify({type: 'ADDED', object: o})}\n`)
  let fieldReqs: ReturnType<typeof parseFieldSelector> = []
  try {
    fieldReqs = q.get('fieldSelector') ? parseFieldSelector(q.get('fieldSelector')!) : []
  } catch {
    fieldReqs = []
  }
  const unsubscribe = ctx.store.subscribe((event) => {
    if (event.resource !== def.resource || (ns && event.namespace !== ns)) return
    if (!matchesFields(fieldReqs, event.object, ['metadata.name', 'metadata.namespace'])) return
    res.write(`${JSON.stringify({type: event.type, object: event.object})}\n`)
  })
  const timeout = Number(q.get('timeoutSeconds') ?? '')
  const timer = Number.isFinite(timeout) && timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined
  const stop = () => {
    unsubscribe()
    if (timer) clearTimeout(timer)
  }
  req.on('close', stop)
  res.on('close', stop)
}
