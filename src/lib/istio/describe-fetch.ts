// The I/O of `describe`: the pod or Service, its namespace's Services and pods, the Istio resources
// (through the Kubernetes API, cluster-wide or, when that is forbidden, the relevant namespaces),
// MeshConfig's root namespace, the gateway pods the routes go through, and the clusters each
// involved proxy accepted. Everything that can be missing (a CRD not installed, a proxy that does
// not answer) becomes a note and a narrower answer, not a failure.
import type {RunContext} from '../context.js'
import {collectClusters, parseConfigDumpInput, section} from '../envoy/configdump.js'
import {arrayField, field, stringField} from '../envoy/fields.js'
import {AdminPath} from '../envoy/source.js'
import {isMeshdbgError, notFoundError, usageError} from '../errors.js'
import {fetchAdminFromPod, getKubeJson, openKube, resolveTargetPod} from '../kube/index.js'
import {isMeshedPod, parseTarget, sortForLogs} from '../kube/target-spec.js'
import {
  type DescribeContext,
  type DescribePodInput,
  type IstioObject,
  type IstioResources,
  type ProxyClusters,
  type ServiceInput,
  kname,
  virtualServiceConcerns,
  selectsLabels,
  virtualServiceGateways,
} from './describe.js'
import {fetchAmbientContext} from './describe-ambient-fetch.js'

export interface DescribeFetchOptions {
  /** Where istiod and the `istio` MeshConfig ConfigMap live (-i). */
  istioNamespace: string
  proxyAdminPort?: number
}

interface KubeList<T> {
  items?: T[]
}

const ISTIO_KINDS = [
  ['virtualServices', 'networking.istio.io', 'virtualservices', 'VirtualServices'],
  ['destinationRules', 'networking.istio.io', 'destinationrules', 'DestinationRules'],
  ['gateways', 'networking.istio.io', 'gateways', 'Gateways'],
  ['peerAuthentications', 'security.istio.io', 'peerauthentications', 'PeerAuthentications'],
  ['authorizationPolicies', 'security.istio.io', 'authorizationpolicies', 'AuthorizationPolicies'],
  ['sidecars', 'networking.istio.io', 'sidecars', 'Sidecars'],
] as const

// v1beta1 is served by every Istio from 1.8 on (v1 only from 1.22), and holds the same fields.
const ISTIO_VERSION = 'v1beta1'

const enc = encodeURIComponent

/** A list that may be absent (404: the CRD is not installed) or forbidden cluster-wide. */
async function listIstioKind(ctx: RunContext, group: string, plural: string, label: string, fallback: () => Promise<readonly string[]>): Promise<IstioObject[]> {
  const base = `/apis/${group}/${ISTIO_VERSION}`
  try {
    return (await getKubeJson<KubeList<IstioObject>>(ctx, `${label} in all namespaces`, `${base}/${plural}`)).items ?? []
  } catch (error) {
    if (!isMeshdbgError(error)) throw error
    if (error.kind === 'not-found') {
      ctx.note(`${label} are not served (${group}/${ISTIO_VERSION} ${plural}: is Istio installed?): left out`)
      return []
    }
    if (error.kind !== 'forbidden') throw error
  }
  const fallbackNamespaces = await fallback()
  ctx.note(`listing ${label} in all namespaces is forbidden: only namespaces ${fallbackNamespaces.join(', ')} were read`)
  const lists = await Promise.all(fallbackNamespaces.map(async (ns) => {
    try {
      return (await getKubeJson<KubeList<IstioObject>>(ctx, `${label} in namespace "${ns}"`, `${base}/namespaces/${enc(ns)}/${plural}`)).items ?? []
    } catch (error) {
      if (isMeshdbgError(error) && (error.kind === 'forbidden' || error.kind === 'not-found')) {
        ctx.note(`${error.message}: left out`)
        return []
      }
      throw error
    }
  }))
  return lists.flat()
}

/**
 * The Istio kinds describe reads, cluster-wide; when that is forbidden, in the namespaces
 * `fallback` gives (the workload's and the root namespace); a kind not served (CRD not installed)
 * is empty, with a note.
 */
export async function listIstioResources(ctx: RunContext, fallback: () => Promise<readonly string[]>): Promise<IstioResources> {
  const lists = await Promise.all(ISTIO_KINDS.map(([, group, plural, label]) => listIstioKind(ctx, group, plural, label, fallback)))
  return Object.fromEntries(ISTIO_KINDS.map(([key], i) => [key, lists[i]])) as unknown as IstioResources
}

/** MeshConfig's rootNamespace from the `istio` ConfigMap; Istio's default (the istio namespace) without it. */
export async function rootNamespaceOf(ctx: RunContext, istioNamespace: string): Promise<string> {
  try {
    const configMap = await getKubeJson<{data?: Record<string, string>}>(ctx, `ConfigMap "istio" in namespace "${istioNamespace}"`, `/api/v1/namespaces/${enc(istioNamespace)}/configmaps/istio`)
    // rootNamespace is a top-level scalar of the mesh YAML: no YAML parser needed for it.
    const line = /^rootNamespace:\s*["']?([a-z0-9-]+)["']?\s*$/m.exec(configMap.data?.mesh ?? '')
    return line?.[1] ?? istioNamespace
  } catch (error) {
    if (!isMeshdbgError(error) || (error.kind !== 'not-found' && error.kind !== 'forbidden')) throw error
    ctx.note(`${error.message}: mesh-wide policies are read from the root namespace "${istioNamespace}"`)
    return istioNamespace
  }
}

async function listInNamespace<T>(ctx: RunContext, resource: 'pods' | 'services', namespace: string): Promise<T[]> {
  return (await getKubeJson<KubeList<T>>(ctx, `${resource} in namespace "${namespace}"`, `/api/v1/namespaces/${enc(namespace)}/${resource}`)).items ?? []
}

/** The clusters a proxy accepted, or why they could not be read (a note, and the check is skipped). */
async function proxyClusters(ctx: RunContext, pod: DescribePodInput, proxyAdminPort: number | undefined): Promise<ProxyClusters> {
  const proxy = kname(pod.metadata)
  try {
    const text = await fetchAdminFromPod(ctx, {name: pod.metadata.name, namespace: pod.metadata.namespace, pod: pod as never}, AdminPath.clusters, {proxyAdminPort, spinner: false})
    const dump = parseConfigDumpInput(text, {only: ['Clusters']})
    const clusters = collectClusters(dump).map((c) => stringField(c, 'name'))
    const warming = arrayField(section(dump, 'Clusters'), 'dynamic_warming_clusters').map((entry) => stringField(field(entry, 'cluster'), 'name'))
    return {proxy, clusters, ...(warming.length > 0 ? {warming} : {})}
  } catch (error) {
    if (!isMeshdbgError(error) || error.kind === 'timeout') throw error
    ctx.note(`${proxy}: ${error.message}: its clusters are not checked against the routes`)
    return {proxy, unavailable: error.message}
  }
}

/**
 * Everything but the proxies, for the Services `pickServices` takes from the namespace's list: the
 * Gateways their VirtualServices use decide which gateway pods and Services are read.
 */
async function gather(ctx: RunContext, namespace: string, options: DescribeFetchOptions, pickServices: (services: ServiceInput[]) => ServiceInput[]): Promise<{picked: ServiceInput[]; context: DescribeContext}> {
  const rootNamespace = rootNamespaceOf(ctx, options.istioNamespace)
  // Awaited below; when a list fails first, its failure is the command's and this one is moot.
  rootNamespace.catch(() => undefined)
  const [services, pods, resources] = await Promise.all([
    listInNamespace<ServiceInput>(ctx, 'services', namespace),
    listInNamespace<DescribePodInput>(ctx, 'pods', namespace),
    listIstioResources(ctx, async () => [...new Set([namespace, await rootNamespace])]),
  ])
  const picked = pickServices(services)
  const hosts = new Set(picked.map((svc) => `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`))
  const gatewayRefs = new Set<string>()
  for (const vs of resources.virtualServices) {
    if (![...hosts].some((host) => virtualServiceConcerns(vs, host))) continue
    for (const ref of virtualServiceGateways(vs)) if (ref !== 'mesh') gatewayRefs.add(ref)
  }
  const selectors = new Map<string, Record<string, string>>()
  for (const ref of gatewayRefs) {
    const [ns, name] = ref.split('/', 2)
    const gateway = resources.gateways.find((g) => g.metadata.namespace === ns && g.metadata.name === name)
    const selector = (gateway?.spec?.selector ?? {}) as Record<string, string>
    // A Gateway without selector applies to every gateway: the pods carrying the `istio` label
    // Istio's gateway charts set (the analysis keeps those running `proxy router`).
    if (gateway) selectors.set(Object.keys(selector).length > 0 ? Object.entries(selector).map(([k, v]) => `${k}=${v}`).sort().join(',') : 'istio', selector)
  }
  const gatewayPods = (await Promise.all([...selectors.keys()].map(async (selector) => {
    try {
      return (await getKubeJson<KubeList<DescribePodInput>>(ctx, `gateway pods (${selector})`, `/api/v1/pods?labelSelector=${enc(selector)}`)).items ?? []
    } catch (error) {
      if (!isMeshdbgError(error) || error.kind !== 'forbidden') throw error
      const root = await rootNamespace
      ctx.note(`${error.message}: gateway pods are looked for in namespace "${root}" only`)
      return (await getKubeJson<KubeList<DescribePodInput>>(ctx, `gateway pods (${selector})`, `/api/v1/namespaces/${enc(root)}/pods?labelSelector=${enc(selector)}`)).items ?? []
    }
  }))).flat()
  const uniqueGatewayPods = [...new Map(gatewayPods.map((p) => [kname(p.metadata), p])).values()]
  const gatewayNamespaces = [...new Set(uniqueGatewayPods.map((p) => p.metadata.namespace))]
  const gatewayServices = (await Promise.all(gatewayNamespaces.map((ns) => (ns === namespace ? services : listInNamespace<ServiceInput>(ctx, 'services', ns))))).flat()
  return {picked, context: {resources, services, pods, gatewayPods: uniqueGatewayPods, gatewayServices, rootNamespace: await rootNamespace, proxies: []}}
}

/** Reads the proxies whose clusters the routes need: `own` (a mesh client) and the gateways'. */
async function readProxies(ctx: RunContext, context: DescribeContext, own: DescribePodInput | undefined, options: DescribeFetchOptions): Promise<void> {
  const pods = [...(own && isMeshedPod(own) ? [own] : []), ...context.gatewayPods.filter((p) => p.status?.phase === 'Running' && isMeshedPod(p))]
  const unique = [...new Map(pods.map((p) => [kname(p.metadata), p])).values()]
  // The pod's own admin port flag applies to it only; gateways use their annotation or 15000.
  context.proxies = await ctx.spin(`Reading the clusters of ${unique.length} prox${unique.length === 1 ? 'y' : 'ies'}`,
    Promise.all(unique.map((pod) => proxyClusters(ctx, pod, pod === own ? options.proxyAdminPort : undefined))))
}

export async function fetchPodDescribeInput(ctx: RunContext, target: string, options: DescribeFetchOptions): Promise<{pod: DescribePodInput; context: DescribeContext}> {
  const resolved = await resolveTargetPod(ctx, target, {requireProxy: false})
  const pod = resolved.pod as unknown as DescribePodInput
  const {picked, context} = await gather(ctx, resolved.namespace, options, (services) =>
    services.filter((svc) => Object.keys(svc.spec?.selector ?? {}).length > 0 && selectsLabels(svc.spec?.selector, pod.metadata.labels)))
  const [ambient] = await Promise.all([
    fetchAmbientContext(ctx, {namespace: resolved.namespace, pod, services: picked, istioNamespace: options.istioNamespace}),
    readProxies(ctx, context, pod, options),
  ])
  context.ambient = ambient
  return {pod, context}
}

/** `SVC`, `svc/SVC` or either with `.namespace`: the Service, the pods it selects, and the proxy standing for them. */
export async function fetchServiceDescribeInput(ctx: RunContext, argument: string, options: DescribeFetchOptions): Promise<{service: ServiceInput; proxyPod?: DescribePodInput; context: DescribeContext}> {
  const spec = parseTarget(argument.includes('/') ? argument : `svc/${argument}`)
  if (spec.kind !== 'service') throw usageError(`invalid service "${argument}": expected SVC, svc/SVC or SVC.NAMESPACE`)
  const namespace = spec.namespace ?? (await openKube(ctx)).namespace
  const {picked, context} = await gather(ctx, namespace, options, (services) => services.filter((svc) => svc.metadata.name === spec.name))
  const service = picked[0]
  if (!service) throw notFoundError(`service "${spec.name}" not found in namespace "${namespace}"`)
  const selector = service.spec?.selector ?? {}
  const candidates = Object.keys(selector).length === 0 ? [] : context.pods.filter((p) => p.status?.phase === 'Running' && isMeshedPod(p) && selectsLabels(selector, p.metadata.labels))
  // kubectl's logs order: a Running, Ready pod that has been ready longest stands for the service.
  const proxyPod = sortForLogs(candidates)[0]
  if (proxyPod) ctx.note(`svc/${spec.name}: reading the proxy of pod ${kname(proxyPod.metadata)}`)
  const [ambient] = await Promise.all([
    fetchAmbientContext(ctx, {namespace, services: [service], istioNamespace: options.istioNamespace}),
    readProxies(ctx, context, proxyPod, options),
  ])
  context.ambient = ambient
  return {service, ...(proxyPod ? {proxyPod} : {}), context}
}
