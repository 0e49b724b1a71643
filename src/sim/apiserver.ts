// The Kubernetes REST surface of the fake apiserver.
import {createHmac} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {readBody, sendJson} from './http-json.js'
import {podJson, serviceJson, workloadJson} from './kube-objects.js'
import type {Scenario, SimWorkload} from './model.js'
import {GATEWAY_API_GROUP, RESOURCES, handleResource, versionBelow, type WriteContext} from './resources.js'
import type {MeshStore} from './store.js'
import {SelectorError, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector} from './selectors.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export function status(code: number, reason: string, message: string, details?: J): J {
  return {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? {details} : {}), code}
}

export function notFound(resource: string, name: string, group = ''): J {
  return status(404, 'NotFound', `${resource}${group ? '.' + group : ''} "${name}" not found`, {name, ...(group ? {group} : {}), kind: resource})
}


const WORKLOADS: Record<string, {kind: SimWorkload['kind']; group: 'apps' | 'batch'}> = {
  deployments: {kind: 'Deployment', group: 'apps'}, statefulsets: {kind: 'StatefulSet', group: 'apps'}, daemonsets: {kind: 'DaemonSet', group: 'apps'},
  replicasets: {kind: 'ReplicaSet', group: 'apps'}, jobs: {kind: 'Job', group: 'batch'},
}

function resourceList(groupVersion: string, resources: Array<[string, string, boolean, string[]?, string[]?]>): J {
  return {kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: resources.map(([name, kind, namespaced, shortNames, categories]) => ({
    name, singularName: name.includes('/') ? '' : kind.toLowerCase(), namespaced, kind, verbs: name.includes('/') ? ['get', 'create'] : ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], ...(shortNames ? {shortNames} : {}), ...(categories ? {categories} : {}),
  }))}
}

/**
 * Versions of Istio's API groups a control plane of `istioVersion` installs (CRDs in
 * manifests/charts/base/crds/crd-all.gen.yaml: `v1` arrived in 1.22), preferred first.
 */
export function istioGroupVersions(group: string, istioVersion: string): string[] {
  const v1 = !versionBelow(istioVersion, 22)
  if (group === 'networking.istio.io') return [...(v1 ? ['v1'] : []), 'v1beta1', 'v1alpha3']
  if (group === 'security.istio.io') return [...(v1 ? ['v1'] : []), 'v1beta1']
  return []
}

/** `gatewayApi`: the Gateway API CRDs are installed (ambient needs them for waypoints; Istio does not install them). */
export function discoveryDoc(path: string, istioVersion: string, gatewayApi = false): J | undefined {
  const groups: Array<[string, string[]]> = [['apps', ['v1']], ['batch', ['v1']], ['discovery.k8s.io', ['v1']],
    ['networking.istio.io', istioGroupVersions('networking.istio.io', istioVersion)], ['security.istio.io', istioGroupVersions('security.istio.io', istioVersion)],
    ...(gatewayApi ? [[GATEWAY_API_GROUP, ['v1']] as [string, string[]]] : [])]
  const groupJson = ([name, versions]: [string, string[]]) => ({name, versions: versions.map((v) => ({groupVersion: `${name}/${v}`, version: v})), preferredVersion: {groupVersion: `${name}/${versions[0]}`, version: versions[0]}})
  if (path === '/api') return {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: '172.18.0.2:6443'}]}
  if (path === '/apis') return {kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupJson)}
  if (path === '/api/v1') {
    return resourceList('v1', [['namespaces', 'Namespace', false, ['ns']], ['pods', 'Pod', true, ['po'], ['all']], ['pods/log', 'Pod', true], ['pods/portforward', 'PodPortForwardOptions', true],
      ['services', 'Service', true, ['svc'], ['all']], ['endpoints', 'Endpoints', true, ['ep']], ['configmaps', 'ConfigMap', true, ['cm']], ['serviceaccounts', 'ServiceAccount', true, ['sa']], ['serviceaccounts/token', 'TokenRequest', true]])
  }
  if (path === '/apis/apps/v1') return resourceList('apps/v1', [['deployments', 'Deployment', true, ['deploy'], ['all']], ['statefulsets', 'StatefulSet', true, ['sts'], ['all']], ['daemonsets', 'DaemonSet', true, ['ds'], ['all']], ['replicasets', 'ReplicaSet', true, ['rs'], ['all']]])
  if (path === '/apis/batch/v1') return resourceList('batch/v1', [['jobs', 'Job', true, undefined, ['all']]])
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path)
  const group = m && groups.find(([name]) => name === m[1])
  if (!m || !group) return undefined
  if (!m[2]) return {kind: 'APIGroup', apiVersion: 'v1', ...groupJson(group)}
  if (!group[1].includes(m[2])) return undefined
  return resourceList(`${m[1]}/${m[2]}`, RESOURCES.filter((r) => r.group === m[1]).map((r) => [r.resource, r.kind, true, r.shortNames, r.categories]))
}

/**
 * OpenAPI v3 documents, reduced to what kubectl reads: the index of group versions and, per group
 * version, a PATCH operation per kind declaring the `fieldValidation` parameter, so kubectl leaves
 * validation to the server (cli-runtime query_param_verifier_v3.go) instead of downloading schemas.
 * No schemas: kubectl then builds strategic merge patches from its compiled-in types.
 */
export function openApiV3(path: string, istioVersion: string): J | undefined {
  const groupVersions = [['', 'v1'], ['discovery.k8s.io', 'v1'], ...['networking.istio.io', 'security.istio.io'].flatMap((g) => istioGroupVersions(g, istioVersion).map((v) => [g, v]))]
  const key = ([g, v]: string[]) => (g ? `apis/${g}/${v}` : `api/${v}`)
  if (path === '/openapi/v3') return {paths: Object.fromEntries(groupVersions.map((gv) => [key(gv), {serverRelativeURL: `/openapi/v3/${key(gv)}?hash=${istioVersion.replace(/\./g, '')}`}]))}
  const gv = groupVersions.find((x) => path === `/openapi/v3/${key(x)}`)
  if (!gv) return undefined
  const paths: J = {}
  for (const def of RESOURCES.filter((r) => r.group === gv[0])) {
    paths[`/${key(gv)}/namespaces/{namespace}/${def.resource}/{name}`] = {patch: {
      operationId: `patch${def.kind}`,
      parameters: [{name: 'fieldValidation', in: 'query', schema: {type: 'string', uniqueItems: true}}, {name: 'dryRun', in: 'query', schema: {type: 'string', uniqueItems: true}}],
      requestBody: {content: {'application/json-patch+json': {schema: {type: 'object'}}, 'application/merge-patch+json': {schema: {type: 'object'}}}},
      'x-kubernetes-action': 'patch',
      'x-kubernetes-group-version-kind': {group: gv[0], version: gv[1], kind: def.kind},
    }}
  }
  return {openapi: '3.0.0', info: {title: 'Kubernetes', version: 'v1.32.2'}, paths, components: {schemas: {}}}
}

export interface ApiContext {
  scenario: Scenario
  store: MeshStore
  issuedTokens: Set<string>
  serveLog(req: IncomingMessage, res: ServerResponse, namespace: string, pod: string, query: URLSearchParams): void
}

function listOf(kind: string, apiVersion: string, items: J[]): J {
  return {kind: `${kind}List`, apiVersion, metadata: {resourceVersion: '123456'}, items: items.map(({kind: _k, apiVersion: _a, ...rest}) => rest)}
}


function fakeJwt(sub: string, audiences: string[], exp: number): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const head = b64({alg: 'RS256', kid: 'sim'})
  const body = b64({aud: audiences, exp, iat: exp - 3600, iss: 'https://kubernetes.default.svc.cluster.local', sub})
  const sig = createHmac('sha256', 'meshdbg-sim').update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}

export async function handleRest(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const path = url.pathname.replace(/\/+$/, '') || '/'
  const q = url.searchParams
  const s = ctx.scenario
  const method = req.method ?? 'GET'

  if (path === '/version') {
    return sendJson(res, 200, {major: '1', minor: '32', gitVersion: 'v1.32.2', gitCommit: '67a30c0adcf52bd3f56ff0893ce19966be12991f', gitTreeState: 'clean', buildDate: '2025-02-12T21:19:47Z', goVersion: 'go1.23.6', compiler: 'gc', platform: 'linux/amd64'})
  }
  const istioVersion = s.pods.find((p) => p.istiod)?.istiod?.version ?? s.live?.istioVersion ?? '1.17.8'
  const doc = discoveryDoc(path, istioVersion, s.ambient !== undefined) ?? openApiV3(path, istioVersion)
  if (doc) return sendJson(res, 200, doc)
  if (path === '/healthz' || path === '/readyz' || path === '/livez') {
    res.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8'})
    return void res.end('ok')
  }

  let labelReqs
  let fieldReqs
  try {
    labelReqs = q.get('labelSelector') ? parseLabelSelector(q.get('labelSelector')!) : []
    fieldReqs = q.get('fieldSelector') ? parseFieldSelector(q.get('fieldSelector')!) : []
  } catch (error) {
    if (error instanceof SelectorError) return sendJson(res, 400, status(400, 'BadRequest', error.message))
    throw error
  }
  const filterItems = (items: J[], fieldNames: string[]) => {
    try {
      return items.filter((o) => matchesLabels(labelReqs, o.metadata.labels) && matchesFields(fieldReqs, o, fieldNames))
    } catch (error) {
      if (error instanceof SelectorError) return error
      throw error
    }
  }
  const wantsTable = /as=Table/.test(String(req.headers.accept ?? ''))
  const respondList = (kind: string, apiVersion: string, items: J[], fieldNames: string[] = ['metadata.name', 'metadata.namespace']) => {
    const filtered = filterItems(items, fieldNames)
    if (filtered instanceof SelectorError) return sendJson(res, 400, status(400, 'BadRequest', filtered.message))
    // etcd key order: /registry/<resource>/<namespace>/<name>
    const key = (o: J) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`
    filtered.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    if (wantsTable && kind === 'Pod') return sendJson(res, 200, podTable(filtered, s.live ? new Date().toISOString() : s.now))
    return sendJson(res, 200, listOf(kind, apiVersion, filtered))
  }
  const writeCtx: WriteContext = {scenario: s, store: ctx.store, versions: (group) => (group === 'discovery.k8s.io' ? ['v1'] : group === GATEWAY_API_GROUP ? (s.ambient ? ['v1'] : []) : istioGroupVersions(group, istioVersion)),
    now: () => (s.live ? Date.now() : Date.parse(s.now))}
  if (await handleResource(writeCtx, req, res, path, q)) return
  const forbiddenVerb = () => sendJson(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'))

  // Core v1
  let m = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(path)
  if (m) {
    if (method !== 'GET') return forbiddenVerb()
    const nsJson = (n: {name: string; labels: Record<string, string>}) => ({kind: 'Namespace', apiVersion: 'v1', metadata: {name: n.name, uid: `ns-${n.name}`, resourceVersion: '100', creationTimestamp: '2025-05-01T07:46:00Z', labels: {...n.labels, 'kubernetes.io/metadata.name': n.name}}, spec: {finalizers: ['kubernetes']}, status: {phase: 'Active'}})
    if (!m[1]) return respondList('Namespace', 'v1', s.namespaces.map(nsJson), ['metadata.name', 'status.phase'])
    const ns = s.namespaces.find((n) => n.name === m![1])
    return ns ? sendJson(res, 200, nsJson(ns)) : sendJson(res, 404, notFound('namespaces', m[1]))
  }

  m = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?(pods|services|configmaps|serviceaccounts)(?:\/([^/]+))?(?:\/(log|portforward|token))?$/.exec(path)
  if (m) {
    const [, ns, resource, name, sub] = m
    if (sub === 'log' && ns && name) {
      if (method !== 'GET') return forbiddenVerb()
      if (!s.pods.some((p) => p.namespace === ns && p.name === name)) return sendJson(res, 404, notFound('pods', name))
      return ctx.serveLog(req, res, ns, name, q)
    }
    if (sub === 'portforward' && ns && name) {
      if (!s.pods.some((p) => p.namespace === ns && p.name === name)) return sendJson(res, 404, notFound('pods', name))
      return sendJson(res, 400, status(400, 'BadRequest', 'Upgrade request required'))
    }
    if (sub === 'token' && resource === 'serviceaccounts' && ns && name) {
      if (method !== 'POST') return forbiddenVerb()
      if (!s.serviceAccounts.some((a) => a.namespace === ns && a.name === name)) return sendJson(res, 404, notFound('serviceaccounts', name))
      const body = JSON.parse((await readBody(req)) || '{}') as J
      const audiences: string[] = body.spec?.audiences ?? ['https://kubernetes.default.svc.cluster.local']
      const seconds: number = body.spec?.expirationSeconds ?? 3600
      const exp = Math.floor(Date.now() / 1000) + seconds
      const token = fakeJwt(`system:serviceaccount:${ns}:${name}`, audiences, exp)
      ctx.issuedTokens.add(token)
      return sendJson(res, 201, {kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: {name, namespace: ns, creationTimestamp: null}, spec: {audiences, expirationSeconds: seconds, boundObjectRef: null}, status: {token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z')}})
    }
    if (sub) return sendJson(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'))
    if (method !== 'GET') return forbiddenVerb()
    const inNs = <T extends {namespace?: string}>(items: T[]) => (ns ? items.filter((i) => i.namespace === ns) : items)
    let items: J[]
    let kind: string
    let fields = ['metadata.name', 'metadata.namespace']
    switch (resource) {
      case 'pods':
        items = inNs(s.pods).map((p) => podJson(p, s))
        kind = 'Pod'
        fields = [...fields, 'status.phase', 'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'spec.restartPolicy', 'spec.schedulerName']
        break
      case 'services':
        items = inNs(s.services).map(serviceJson)
        kind = 'Service'
        break
      case 'configmaps':
        items = s.configMaps.filter((c) => !ns || c.metadata.namespace === ns).map((c) => ({...c, metadata: {uid: `cm-${c.metadata.name}`, resourceVersion: '500', creationTimestamp: '2025-05-01T07:46:00Z', ...c.metadata}}))
        kind = 'ConfigMap'
        break
      default:
        items = inNs(s.serviceAccounts).map((a) => ({kind: 'ServiceAccount', apiVersion: 'v1', metadata: {name: a.name, namespace: a.namespace, uid: `sa-${a.namespace}-${a.name}`, resourceVersion: '300', creationTimestamp: '2025-05-01T07:46:00Z'}}))
        kind = 'ServiceAccount'
    }
    if (name) {
      const found = ns ? items.find((i) => i.metadata.name === name && i.metadata.namespace === ns) : undefined
      if (found && wantsTable && resource === 'pods') return sendJson(res, 200, podTable([found], s.live ? new Date().toISOString() : s.now))
      return found ? sendJson(res, 200, found) : sendJson(res, 404, notFound(resource, name))
    }
    return respondList(kind, 'v1', items, fields)
  }

  m = /^\/apis\/(apps|batch)\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?(?:\/(scale|status))?$/.exec(path)
  if (m) {
    const [, group, ns, resource, name, sub] = m
    const w = WORKLOADS[resource]
    if (!w || w.group !== group || sub) return sendJson(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'))
    if (method !== 'GET') return forbiddenVerb()
    const items: J[] = s.workloads.filter((x) => x.kind === w.kind && (!ns || x.namespace === ns)).map((x) => workloadJson(x, s))
    if (name) {
      const found = items.find((i) => i.metadata.name === name)
      return found ? sendJson(res, 200, found) : sendJson(res, 404, notFound(resource, name, group))
    }
    return respondList(w.kind, `${group}/v1`, items)
  }

  return sendJson(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'))
}

/** `kubectl get pods` asks for a server-side Table (`Accept: ...;as=Table;v=v1;g=meta.k8s.io`). */
export function podTable(pods: J[], now: string): J {
  const age = (created: string) => {
    const seconds = Math.max(0, Math.floor((Date.parse(now) - Date.parse(created)) / 1000))
    return seconds >= 86400 ? `${Math.floor(seconds / 86400)}d` : seconds >= 3600 ? `${Math.floor(seconds / 3600)}h` : `${Math.floor(seconds / 60)}m`
  }
  const col = (name: string, priority = 0, format = '') => ({name, type: name === 'Restarts' ? 'integer' : 'string', format, description: '', priority})
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {resourceVersion: '123456'},
    columnDefinitions: [col('Name', 0, 'name'), col('Ready'), col('Status'), col('Restarts'), col('Age'), col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
    rows: pods.map((p) => {
      const statuses: J[] = p.status.containerStatuses ?? []
      const ready = statuses.filter((c) => c.ready).length
      const reason = p.status.phase === 'Pending' && !p.spec.nodeName ? 'Pending' : p.status.phase
      return {
        cells: [p.metadata.name, `${ready}/${p.spec.containers.length}`, reason, statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0), age(p.metadata.creationTimestamp), p.status.podIP ?? '<none>', p.spec.nodeName ?? '<none>', '<none>', '<none>'],
        object: {kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: p.metadata},
      }
    }),
  }
}
