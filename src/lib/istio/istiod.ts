import type {V1Pod, V1PodList} from '@kubernetes/client-node'

import type {RunContext} from '../context.js'
import {MeshdbgError, notFoundError} from '../errors.js'
import {callKube, fetchFromPod, getKubeJson, type KubeSession} from '../kube/index.js'
import {sortForLogs} from '../kube/target-spec.js'
import type {SyncSource} from './sync-status.js'

/**
 * istiod's HTTP debug API, read through port-forwards: which istiod pods there are, and one debug
 * path from one or every replica. 8080 answers loopback (a port-forward) without auth; when it is
 * refused or closed, 15014 serves the same handlers behind a bearer token (audience istio-ca).
 */

export const ISTIOD_HTTP_PORT = 8080
export const ISTIOD_MONITORING_PORT = 15014
export const ISTIO_CA_AUDIENCE = 'istio-ca'
/** istiod's answer (404) for a proxyID connected to another replica. */
export const NOT_CONNECTED_TEXT = 'Proxy not connected to this Pilot instance'

export interface IstiodSelector {
  /** `-i/--istio-namespace`. */
  istioNamespace: string
  /** `-r/--revision`: only istiods labelled `istio.io/rev=<revision>` (all revisions when absent). */
  revision?: string
  /** `--token`: the bearer token for 15014 (default: a TokenRequest for `default` in istioNamespace). */
  token?: string
}

export interface IstiodQuery extends IstiodSelector {
  /** A debug path with its query, e.g. `/debug/syncz`. */
  path: string
  /** Every replica (in parallel), or only the first Running one in kubectl's logs order. */
  all: boolean
}

export interface IstiodResponse {
  /** The istiod pod name. */
  istiod: string
  status: number
  text: string
}

export interface IstiodPod {
  name: string
  namespace: string
}

/** Every status: the callers decide what 404 (proxy elsewhere) or 409 (feature off) mean. */
const TOKEN_KEY = Symbol.for('meshdbg.istiod.token')
const TOKEN_TTL_SECONDS = 3600

/** Running istiod pods (`app=istiod`, plus `istio.io/rev` with a revision), as the API lists them. */
export async function listRunningIstiods(ctx: RunContext, selector: IstiodSelector): Promise<{pods: V1Pod[]; labelSelector: string}> {
  const namespace = selector.istioNamespace
  const labelSelector = `app=istiod${selector.revision ? `,istio.io/rev=${selector.revision}` : ''}`
  const query = new URLSearchParams({labelSelector, fieldSelector: 'status.phase=Running'})
  const list = await getKubeJson<V1PodList>(ctx, `istiod pods in namespace "${namespace}"`, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?${query}`)
  const pods = (list.items ?? []).filter((pod) => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp)
  return {pods, labelSelector}
}

/** Running istiod pods in kubectl's logs order; none is a not-found error saying where it looked. */
export async function findIstiods(ctx: RunContext, selector: IstiodSelector): Promise<IstiodPod[]> {
  const namespace = selector.istioNamespace
  const {pods: running, labelSelector} = await listRunningIstiods(ctx, selector)
  if (running.length === 0) {
    const revision = selector.revision ? ` of revision "${selector.revision}"` : ''
    throw notFoundError(`no running istiod pods${revision} in namespace "${namespace}" (label ${labelSelector})`, selector.revision
      ? 'check the revision (kubectl get pods -A -l app=istiod --show-labels)'
      : 'pass -i/--istio-namespace with the namespace istiod runs in')
  }
  return sortForLogs(running).map((pod) => ({name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? namespace}))
}

/** One debug path from the first Running istiod, or from every replica in parallel (`all`). */
export async function queryIstiods(ctx: RunContext, query: IstiodQuery): Promise<IstiodResponse[]> {
  const {responses, failures} = await queryIstiodsSettled(ctx, query)
  // The first failure in pod order, not in arrival order: the same cluster state gives the same error.
  if (failures.length > 0) throw failures[0].error
  return responses
}

export interface IstiodFailure {
  istiod: string
  error: unknown
}

/** Like queryIstiods, but one replica failing does not hide the others' answers. */
export async function queryIstiodsSettled(ctx: RunContext, query: IstiodQuery): Promise<{responses: IstiodResponse[]; failures: IstiodFailure[]}> {
  const istiods = await findIstiods(ctx, query)
  const chosen = query.all ? istiods : istiods.slice(0, 1)
  const settled = await ctx.spin(
    `Asking ${chosen.length === 1 ? chosen[0].name : `${chosen.length} istiods`} for ${query.path.split('?')[0]}`,
    Promise.allSettled(chosen.map((pod) => queryIstiod(ctx, pod, query.path, query))),
  )
  const responses: IstiodResponse[] = []
  const failures: IstiodFailure[] = []
  settled.forEach((outcome, index) => {
    if (outcome.status === 'fulfilled') responses.push(outcome.value)
    else failures.push({istiod: chosen[index].name, error: outcome.reason})
  })
  return {responses, failures}
}

/**
 * One debug path from one istiod: 8080 first (loopback, no auth); if nothing answers there, or it
 * wants credentials, 15014 with a bearer token. Any HTTP status is returned except 401/403 on
 * 15014, which become errors that say which permission is missing.
 */
export async function queryIstiod(ctx: RunContext, pod: IstiodPod, path: string, selector: IstiodSelector): Promise<IstiodResponse> {
  let why: string
  let firstFailure: MeshdbgError | undefined
  try {
    const response = await fetchFromPod(ctx, pod, ISTIOD_HTTP_PORT, path, {acceptStatus: 'any'})
    if (response.status !== 401 && response.status !== 403) return {istiod: pod.name, ...response}
    why = `answered HTTP ${response.status}`
  } catch (error) {
    // Refused, closed or reset: istiod may listen on 8080 elsewhere than loopback, or not at all.
    if (!(error instanceof MeshdbgError) || error.kind !== 'connection') throw error
    firstFailure = error
    why = 'did not answer'
  }
  ctx.note(`istiod ${pod.name}: port ${ISTIOD_HTTP_PORT} ${why}; using port ${ISTIOD_MONITORING_PORT} with a bearer token`)
  const token = await istiodToken(ctx, pod, selector)
  let response
  try {
    response = await fetchFromPod(ctx, pod, ISTIOD_MONITORING_PORT, path, {acceptStatus: 'any', headers: {authorization: `Bearer ${token}`}})
  } catch (error) {
    if (firstFailure && error instanceof MeshdbgError && error.kind === 'connection') {
      throw new MeshdbgError('connection', `istiod ${pod.name}: neither debug port answered (${ISTIOD_HTTP_PORT}: ${firstFailure.message}; ${ISTIOD_MONITORING_PORT}: ${error.message})`)
    }
    throw error
  }
  if (response.status === 401) throw unauthorized(pod, path, selector, firstFailure !== undefined)
  if (response.status === 403) throw forbidden(pod, path)
  return {istiod: pod.name, ...response}
}

function unauthorized(pod: IstiodPod, path: string, selector: IstiodSelector, httpPortDown: boolean): MeshdbgError {
  const whose = selector.token === undefined ? `the token of service account "default" in "${pod.namespace}" (audience ${ISTIO_CA_AUDIENCE})` : 'the token given with --token (MESHDBG_ISTIOD_TOKEN)'
  return new MeshdbgError('forbidden', `istiod ${pod.name} rejected ${whose} for ${path.split('?')[0]} on port ${ISTIOD_MONITORING_PORT} (401 Unauthorized)`, {
    hint: `istiod accepts Kubernetes service-account tokens with audience "${ISTIO_CA_AUDIENCE}": pass --token "$(kubectl create token default -n ${pod.namespace} --audience ${ISTIO_CA_AUDIENCE})"${httpPortDown ? `, or make port ${ISTIOD_HTTP_PORT} reachable (loopback needs no token)` : ''}`,
  })
}

function forbidden(pod: IstiodPod, path: string): MeshdbgError {
  return new MeshdbgError('forbidden', `istiod ${pod.name} refused ${path.split('?')[0]} on port ${ISTIOD_MONITORING_PORT} (403 Forbidden): the token's identity may not read this debug endpoint`, {
    hint: `Istio 1.27.6, 1.28.4 and 1.29+ (ENABLE_DEBUG_ENDPOINT_AUTH) let only service accounts of the system namespace ("${pod.namespace}") or of DEBUG_ENDPOINT_AUTH_ALLOWED_NAMESPACES read debug endpoints other than config_dump, edsz and ndsz: use a token of a service account in "${pod.namespace}"`,
  })
}

/** The bearer token for an istiod's port 15014: --token, else a TokenRequest (once per command). */
export async function istiodToken(ctx: RunContext, pod: IstiodPod, selector: Pick<IstiodSelector, 'token'>): Promise<string> {
  return selector.token ?? istioCaToken(ctx, pod.namespace)
}

/** A TokenRequest for `default` in the istio namespace, audience istio-ca (as istioctl), once per command. */
async function istioCaToken(ctx: RunContext, namespace: string): Promise<string> {
  const tokens = ctx.scope.memo(TOKEN_KEY, () => new Map<string, Promise<string>>())
  let token = tokens.get(namespace)
  if (!token) {
    token = requestToken(ctx, namespace)
    tokens.set(namespace, token)
  }
  return token
}

async function requestToken(ctx: RunContext, namespace: string): Promise<string> {
  const what = `a token for service account "default" in namespace "${namespace}"`
  let response
  try {
    response = await callKube(ctx, what, (session: KubeSession) =>
      session.core().createNamespacedServiceAccountToken(
        {name: 'default', namespace, body: {spec: {audiences: [ISTIO_CA_AUDIENCE], expirationSeconds: TOKEN_TTL_SECONDS}}},
        session.callOptions(),
      ),
    )
  } catch (error) {
    if (error instanceof MeshdbgError && error.kind === 'forbidden') {
      throw new MeshdbgError('forbidden', `forbidden to create ${what} (needed to read istiod's debug port ${ISTIOD_MONITORING_PORT})`, {
        hint: `your Kubernetes user needs "create" on "serviceaccounts/token" in namespace "${namespace}"; or pass --token with a token for audience ${ISTIO_CA_AUDIENCE}`,
      })
    }
    if (error instanceof MeshdbgError && error.kind === 'not-found') {
      throw notFoundError(`service account "default" not found in namespace "${namespace}" (needed for a token for istiod's port ${ISTIOD_MONITORING_PORT})`, `pass --token with a token for audience ${ISTIO_CA_AUDIENCE}`)
    }
    throw error
  }
  const token = response.status?.token
  if (!token) throw new MeshdbgError('bad-data', `the Kubernetes API returned no token for ${what}`)
  return token
}

function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim() !== '') ?? '').trim().slice(0, 200)
}

/** A non-200 answer as a one-line error (exit 4). */
export function istiodStatusError(response: IstiodResponse, path: string): MeshdbgError {
  const detail = firstLine(response.text)
  const hint = response.status === 404 && !path.includes('proxyID=')
    ? 'istiod registers no HTTP debug handlers when ENABLE_DEBUG_ON_HTTP=false (then they are reachable over xDS only, which meshdbg does not speak)'
    : undefined
  return new MeshdbgError('connection', `istiod ${response.istiod} answered HTTP ${response.status} for ${path.split('?')[0]}${detail ? `: ${detail}` : ''}`, {hint})
}

/** True when this answer is about the proxy asked for (not istiod's "connected elsewhere" 404). */
export function knowsProxy(response: IstiodResponse): boolean {
  return response.status === 200 && !response.text.startsWith(NOT_CONNECTED_TEXT)
}

/**
 * A proxy-scoped path (`?proxyID=`) asked of every replica in parallel; the answer of the first
 * (in pod order) that has the proxy connected. None: not found (exit 3); another failure: exit 4.
 */
export async function queryProxyIstiod(ctx: RunContext, selector: IstiodSelector, path: string, proxyId: string, knows: (response: IstiodResponse) => boolean = knowsProxy): Promise<IstiodResponse> {
  const responses = await queryIstiods(ctx, {...selector, path, all: true})
  const found = responses.find((response) => knows(response))
  if (found) return found
  const failed = responses.find((response) => response.status !== 200 && response.status !== 404)
  if (failed) throw istiodStatusError(failed, path)
  throw notFoundError(`no istiod knows proxy "${proxyId}" (asked ${responses.map((response) => response.istiod).join(', ')})`, 'is its sidecar running and connected? see meshdbg sync-status')
}

/**
 * Every istiod's `/debug/syncz` (filtered server-side by `namespace` where istiod supports it). A
 * replica that fails is reported in `failures` while the others' rows still count; all failing
 * is an error.
 */
export async function loadIstiodSyncz(ctx: RunContext, selector: IstiodSelector & {namespace?: string}): Promise<{sources: SyncSource[]; failures: IstiodFailure[]}> {
  const path = `/debug/syncz${selector.namespace ? `?namespace=${encodeURIComponent(selector.namespace)}` : ''}`
  const {responses, failures} = await queryIstiodsSettled(ctx, {...selector, path, all: true})
  const sources: SyncSource[] = []
  for (const response of responses) {
    if (response.status === 200) sources.push({istiod: response.istiod, text: response.text, origin: `istiod ${response.istiod} /debug/syncz`})
    else failures.push({istiod: response.istiod, error: istiodStatusError(response, path)})
  }
  if (sources.length === 0 && failures.length > 0) throw failures[0].error
  return {sources, failures}
}

/** `<pod>.<namespace>` as istiod names proxies. */
export function proxyIdOf(pod: {name: string; namespace: string}): string {
  return `${pod.name}.${pod.namespace}`
}

/** The istiod debug views `meshdbg istiod` offers, by the name the user types. */
export const ISTIOD_ENDPOINTS = {
  syncz: {path: '/debug/syncz', proxy: 'none', summary: 'xDS sync status of every connected proxy (flat list)'},
  adsz: {path: '/debug/adsz', proxy: 'optional', summary: 'connected proxies, their metadata and watches'},
  edsz: {path: '/debug/edsz', proxy: 'required', summary: 'the endpoints (ClusterLoadAssignments) istiod sends one proxy'},
  registryz: {path: '/debug/registryz', proxy: 'none', summary: 'the service registry'},
  configz: {path: '/debug/configz', proxy: 'none', summary: 'the Istio and Gateway API config istiod holds'},
  authorizationz: {path: '/debug/authorizationz', proxy: 'none', summary: 'authorization policies by namespace'},
  'push-status': {path: '/debug/push_status', proxy: 'none', summary: 'the last push\'s problems (conflicts, services without instances...)'},
  'config-dump': {path: '/debug/config_dump', proxy: 'required', summary: 'the config istiod would send one proxy'},
  instances: {path: '/debug/instancesz', proxy: 'none', summary: 'service instances per proxy'},
} as const

export type IstiodEndpoint = keyof typeof ISTIOD_ENDPOINTS

/** The request path of an endpoint, with `proxyID` and (syncz) `namespace`. */
export function istiodEndpointPath(endpoint: IstiodEndpoint, options: {proxy?: string; namespace?: string}): string {
  const spec = ISTIOD_ENDPOINTS[endpoint]
  const query = new URLSearchParams()
  if (options.proxy !== undefined && spec.proxy !== 'none') query.set('proxyID', options.proxy)
  if (endpoint === 'syncz' && options.namespace) query.set('namespace', options.namespace)
  const text = query.toString()
  return text === '' ? spec.path : `${spec.path}?${text}`
}
