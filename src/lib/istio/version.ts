import type {RunContext} from '../context.js'
import {clockOf} from '../snapshot/replay.js'
import {fetchFromPod} from '../kube/index.js'
import {ISTIOD_MONITORING_PORT, listRunningIstiods, loadIstiodSyncz, type IstiodSelector} from './istiod.js'
import {mergeSyncStatus} from './sync-status.js'

/**
 * `meshdbg version`'s cluster half, as `istioctl version` gathers it: each Running istiod's own
 * version (`/version` on its monitoring port, else the tag of its discovery image) and the proxies'
 * Istio versions as istiod reports them in /debug/syncz, counted per version.
 */

export interface ControlPlaneVersion {
  /** The istiod pod. */
  istiod: string
  /** Its `istio.io/rev` label ("default" when unlabelled). */
  revision: string
  /** The Istio version, e.g. "1.24.2" (`unknown` when neither source tells). */
  version: string
  /** The build string istiod printed (`1.24.2-<git sha>-Clean`), when it answered. */
  build?: string
  /** Where the version came from. */
  source: 'version-endpoint' | 'image'
}

export interface DataPlaneVersion {
  /** The proxies' ISTIO_VERSION as istiod reports it ("unknown" when empty). */
  version: string
  proxies: number
}

interface IstiodPodInfo {
  name: string
  namespace: string
  revision: string
  image?: string
}

/** istiod's own answer or text from its pod spec: printable, one line, bounded. */
export function cleanVersionText(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 120)
}

/**
 * The body of istiod's `/version`: `<version>-<git sha>[-dirty]-<status>` (istioctl's reading:
 * the last two dash-separated parts are the revision and status), or a JSON BuildInfo.
 */
export function parseIstiodVersion(body: string): {version: string; build: string} | undefined {
  const text = cleanVersionText(body)
  if (text === '') return undefined
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(body) as {clientVersion?: {version?: unknown}; version?: unknown}
      const version = parsed.clientVersion?.version ?? parsed.version
      return typeof version === 'string' && version !== '' ? {version: cleanVersionText(version), build: text} : undefined
    } catch {
      return undefined
    }
  }
  const parts = text.split('-')
  if (parts.length < 3) return {version: text, build: text}
  const dirty = parts[parts.length - 2] === 'dirty'
  return {version: parts.slice(0, parts.length - (dirty ? 3 : 2)).join('-'), build: text}
}

/** `docker.io/istio/pilot:1.24.2-distroless` -> `1.24.2-distroless`; digests and untagged images tell nothing. */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined
  const withoutDigest = image.split('@')[0]
  const slash = withoutDigest.lastIndexOf('/')
  const colon = withoutDigest.lastIndexOf(':')
  return colon > slash ? cleanVersionText(withoutDigest.slice(colon + 1)) || undefined : undefined
}

/** Proxies per Istio version, each proxy once (a proxy reported by two replicas counts once). */
export function countProxyVersions(rows: ReadonlyArray<{proxy: string; version: string}>): DataPlaneVersion[] {
  const byVersion = new Map<string, Set<string>>()
  for (const row of rows) {
    const version = cleanVersionText(row.version.replace(/\*$/, '')) || 'unknown'
    byVersion.set(version, (byVersion.get(version) ?? new Set()).add(row.proxy))
  }
  return [...byVersion].map(([version, proxies]) => ({version, proxies: proxies.size})).sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0))
}

async function listIstiodPods(ctx: RunContext, selector: IstiodSelector): Promise<IstiodPodInfo[]> {
  const namespace = selector.istioNamespace
  const {pods} = await listRunningIstiods(ctx, selector)
  return pods
    .map((pod) => ({
      name: pod.metadata?.name ?? '',
      namespace: pod.metadata?.namespace ?? namespace,
      revision: pod.metadata?.labels?.['istio.io/rev'] || 'default',
      image: (pod.spec?.containers ?? []).find((container) => container.name === 'discovery')?.image ?? pod.spec?.containers?.[0]?.image,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

async function istiodVersion(ctx: RunContext, pod: IstiodPodInfo): Promise<ControlPlaneVersion> {
  try {
    const response = await fetchFromPod(ctx, pod, ISTIOD_MONITORING_PORT, '/version', {acceptStatus: 'any'})
    const parsed = response.status === 200 ? parseIstiodVersion(response.text) : undefined
    if (parsed) return {istiod: pod.name, revision: pod.revision, version: parsed.version, build: parsed.build, source: 'version-endpoint'}
  } catch (error) {
    // The deadline is the command's: past it, no fallback is worth printing as an answer.
    if (ctx.signal.aborted) throw error
  }
  return {istiod: pod.name, revision: pod.revision, version: imageTag(pod.image) ?? 'unknown', source: 'image'}
}

/** Every Running istiod's version, in pod-name order. None running: an empty list. */
export async function loadControlPlaneVersions(ctx: RunContext, selector: IstiodSelector): Promise<ControlPlaneVersion[]> {
  const pods = await listIstiodPods(ctx, selector)
  return Promise.all(pods.map((pod) => istiodVersion(ctx, pod)))
}

/** The proxies connected to the selected istiods, counted per Istio version. */
export async function loadDataPlaneVersions(ctx: RunContext, selector: IstiodSelector): Promise<DataPlaneVersion[]> {
  const {sources, failures} = await loadIstiodSyncz(ctx, selector)
  for (const failure of failures) ctx.note(`istiod ${failure.istiod} left out of the data plane count: ${failure.error instanceof Error ? failure.error.message : String(failure.error)}`)
  return countProxyVersions(mergeSyncStatus(sources, {now: clockOf(ctx)}))
}
