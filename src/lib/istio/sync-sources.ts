import type {RunContext} from '../context.js'
import {usageError} from '../errors.js'
import {readInputText, type InputText} from '../input.js'
import {fetchAdminFromPod, resolveTargetPod} from '../kube/index.js'
import {fetchAgentSyncz} from './agent.js'
import {loadIstiodSyncz, proxyIdOf, queryIstiod, queryProxyIstiod, type IstiodFailure, type IstiodSelector} from './istiod.js'
import {clockOf} from '../snapshot/replay.js'
import {
  istiodNameFromFile,
  mergeSyncStatus,
  parseAdszWatches,
  unknownSubscriptions,
  withSubscriptions,
  type SyncSource,
  type SyncState,
  type SyncStatusRow,
} from './sync-status.js'

/** What the data sources need from the command's flags. */
export interface SyncSourceFlags {
  file?: string[]
  'istio-namespace': string
  revision?: string
  token?: string
  /** The raw `-n` (no kubeconfig default), as istioctl filters. */
  namespace?: string
}

/**
 * One response per istiod: from `-f` files, else live: `/debug/syncz` of every Running istiod
 * (`-i`, `-r`) through a port-forward, in parallel. ISTIOD is then the istiod pod's name.
 */
export async function loadSyncSources(ctx: RunContext, flags: SyncSourceFlags): Promise<{sources: SyncSource[]; failures: IstiodFailure[]}> {
  if (!flags.file || flags.file.length === 0) {
    return loadIstiodSyncz(ctx, {istioNamespace: flags['istio-namespace'], revision: flags.revision, token: flags.token, namespace: flags.namespace})
  }
  if (flags.file.filter((file) => file === '-').length > 1) throw usageError('only one -f can read stdin ("-")')
  const sources: SyncSource[] = []
  for (const file of flags.file) {
    const input = await readInputText(file, ctx.signal)
    sources.push({istiod: file === '-' ? 'stdin' : istiodNameFromFile(file), text: input.text, origin: input.origin})
  }
  return {sources, failures: []}
}

export interface CollectedSyncStatus {
  /** Merged, filtered (-n) and sorted rows. */
  rows: SyncStatusRow[]
  /** How many istiods (or files) answered. */
  answered: number
  /** istiod replicas that failed while others answered. */
  failures: IstiodFailure[]
}

/**
 * The sync-status table's rows, from files or live. With `--fail-on not-sent`, rows from istiods
 * whose syncz does not say which types a proxy watches (before 1.23) get it from the same
 * istiods' `/debug/adsz` watches, so a type the proxy never subscribed to does not trip the check.
 */
export async function collectSyncStatus(ctx: RunContext, flags: SyncSourceFlags, options: {failOn?: ReadonlySet<SyncState>; now?: number} = {}): Promise<CollectedSyncStatus> {
  const loaded = await loadSyncSources(ctx, flags)
  let rows = mergeSyncStatus(loaded.sources, {now: options.now ?? clockOf(ctx), namespace: flags.namespace})
  if (options.failOn?.has('NOT SENT')) {
    const unknown = unknownSubscriptions(rows)
    if (unknown.length > 0 && (!flags.file || flags.file.length === 0)) rows = await addSubscriptions(ctx, rows, unknown, flags)
    const stillUnknown = unknownSubscriptions(rows).length
    if (stillUnknown > 0) ctx.note(`--fail-on not-sent: for ${stillUnknown} ${stillUnknown === 1 ? 'proxy' : 'proxies'} istiod did not say which types ${stillUnknown === 1 ? 'it watches' : 'they watch'} (no syncz "resources" map, before Istio 1.23; no /debug/adsz): their NOT SENT counts`)
  }
  return {rows, answered: loaded.sources.length, failures: loaded.failures}
}

/** Each istiod's adsz watches applied to its rows; an istiod that cannot say is noted and skipped. */
async function addSubscriptions(ctx: RunContext, rows: SyncStatusRow[], unknown: readonly SyncStatusRow[], flags: SyncSourceFlags): Promise<SyncStatusRow[]> {
  const selector = selectorOf(flags)
  const istiods = [...new Set(unknown.map((row) => row.istiod))]
  const answers = await Promise.allSettled(istiods.map((name) => queryIstiod(ctx, {name, namespace: flags['istio-namespace']}, '/debug/adsz', selector)))
  let result = rows
  answers.forEach((answer, index) => {
    try {
      if (answer.status === 'rejected') throw answer.reason
      if (answer.value.status !== 200) throw new Error(`HTTP ${answer.value.status}`)
      result = withSubscriptions(result, istiods[index], parseAdszWatches(answer.value.text, `istiod ${istiods[index]} /debug/adsz`))
    } catch (error) {
      if (ctx.signal.aborted) throw error
      ctx.note(`istiod ${istiods[index]}: no /debug/adsz watches (${messageOf(error)})`)
    }
  })
  return result
}

export interface DiffSourceFlags {
  'diff-istiod'?: string
  'diff-envoy'?: string
  'istio-namespace': string
  revision?: string
  token?: string
  'proxy-admin-port'?: number
}

/**
 * istiod's view of one proxy and the proxy's own config dump: from files, or live for a target:
 * istiod's `/debug/config_dump?proxyID=<pod>.<ns>` from the replica the proxy is connected to, and
 * the pod's Envoy `/config_dump`, fetched in parallel.
 */
export async function loadDiffSources(ctx: RunContext, target: string | undefined, flags: DiffSourceFlags): Promise<{istiod: InputText; envoy: InputText} | {ztunnel: string}> {
  const istiodFile = flags['diff-istiod']
  const envoyFile = flags['diff-envoy']
  if (target !== undefined) {
    if (istiodFile !== undefined || envoyFile !== undefined) throw usageError('sync-status: give either a proxy or --diff-istiod/--diff-envoy files, not both')
    const pod = await resolveTargetPod(ctx, target)
    const proxyId = proxyIdOf(pod)
    if (isZtunnelPod(pod.pod)) return {ztunnel: proxyId}
    const path = `/debug/config_dump?proxyID=${encodeURIComponent(proxyId)}`
    const [istiod, envoy] = await Promise.all([
      queryProxyIstiod(ctx, selectorOf(flags), path, proxyId),
      fetchAdminFromPod(ctx, pod, 'config_dump', {proxyAdminPort: flags['proxy-admin-port']}),
    ])
    return {istiod: {text: istiod.text, origin: `istiod ${istiod.istiod} config_dump of ${proxyId}`}, envoy}
  }
  if (istiodFile === undefined || envoyFile === undefined) {
    throw usageError('the proxy diff needs both --diff-istiod FILE and --diff-envoy FILE')
  }
  if (istiodFile === '-' && envoyFile === '-') throw usageError('only one of --diff-istiod and --diff-envoy can read stdin')
  return {istiod: await readInputText(istiodFile, ctx.signal), envoy: await readInputText(envoyFile, ctx.signal)}
}

/**
 * A ztunnel runs the ztunnel image in its istio-proxy container (manifests/charts/ztunnel): it is
 * not Envoy, so there is no config_dump to compare with istiod's.
 */
function isZtunnelPod(pod: {spec?: {containers?: Array<{name?: string; image?: string}>}}): boolean {
  return (pod.spec?.containers ?? []).some((c) => c.name === 'istio-proxy' && /(^|\/)ztunnel(:|@|$)/.test(c.image ?? ''))
}

function selectorOf(flags: {'istio-namespace': string; revision?: string; token?: string}): IstiodSelector {
  return {istioNamespace: flags['istio-namespace'], revision: flags.revision, token: flags.token}
}

/**
 * One proxy's sync status as its own pilot-agent sees it (15004 `/debug/syncz`, Istio 1.11-1.24):
 * the ClientConfigs the agent's istiod returns, kept to that proxy. 1.25+ agents have no 15004
 * (nothing listens): then istiod's `/debug/syncz` (every replica) for that proxy, with a note on
 * stderr. An agent that answers 503/504 is up but cannot reach istiod: that is the error.
 */
export async function loadAgentSyncSources(ctx: RunContext, target: string, flags: SyncSourceFlags): Promise<{sources: SyncSource[]; proxy: string}> {
  const pod = await resolveTargetPod(ctx, target)
  const proxy = proxyIdOf(pod)
  const answer = await fetchAgentSyncz(ctx, pod)
  if (answer.available) return {sources: [{istiod: `pilot-agent ${proxy}`, text: answer.text, origin: answer.origin}], proxy}
  ctx.note(`pilot-agent of ${proxy} has no XDS debug port ${answer.port} (removed in Istio 1.25): asking istiod instead`)
  const {sources, failures} = await loadIstiodSyncz(ctx, {...selectorOf(flags), namespace: pod.namespace})
  for (const failure of failures) ctx.note(`istiod ${failure.istiod} left out: ${messageOf(failure.error)}`)
  return {sources, proxy}
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
