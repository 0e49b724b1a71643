import {readFile} from 'node:fs/promises'

import type {RunContext} from '../context.js'
import {MeshdbgError} from '../errors.js'
import {loadIstiodSyncz, type IstiodSelector} from '../istio/istiod.js'
import {mergeSyncStatus, SYNC_TYPES} from '../istio/sync-status.js'
import {applyManifests, parseManifests} from '../kube/apply.js'
import {runDiagnose, type DiagnoseRequest, type DiagnoseResult} from './diagnose.js'
import type {Check} from './types.js'

/**
 * `meshdbg demo`: the catalog stories on the simulated mesh, diagnosed, fixed and diagnosed
 * again, through the same code as on a cluster (the kubeconfig is the simulator's). The mesh is
 * started by the caller; this module only talks to it through the Kubernetes API.
 */

export interface DemoStep {
  /** What a user would type for this step. */
  command: string
  /** A diagnose step's findings. */
  diagnosis?: DiagnoseResult
  /** An apply step's kubectl-style lines. */
  applied?: string[]
  /** How long istiod took to push the change and the proxy to acknowledge it. */
  syncedAfterMs?: number
}

export interface DemoPlan {
  /** The workload diagnosed, and its namespace. */
  target: string
  namespace: string
  /** Fix manifests, applied one at a time with a diagnosis after each (paths to read, names to show). */
  fixes: Array<{path: string; shown: string}>
}

export interface DemoHooks {
  step(step: DemoStep, checks: readonly Check[] | undefined, last: boolean): void
}

const ISTIOD: IstiodSelector = {istioNamespace: 'istio-system'}
/** How often the wait for a push asks istiod's syncz. */
const POLL_MS = 250

/** The proxy's `*_sent` nonces in istiod's syncz: they change when istiod pushes to it. */
function sentNonces(texts: readonly string[], proxy: string): string {
  for (const text of texts) {
    let entries: unknown
    try {
      entries = JSON.parse(text)
    } catch {
      continue
    }
    if (!Array.isArray(entries)) continue
    const entry = entries.find((candidate) => candidate && typeof candidate === 'object' && (candidate as {proxy?: unknown}).proxy === proxy) as Record<string, unknown> | undefined
    if (!entry) continue
    const resources = entry.resources && typeof entry.resources === 'object' ? Object.values(entry.resources as Record<string, {sent?: unknown}>).map((resource) => resource?.sent) : []
    return JSON.stringify([Object.entries(entry).filter(([key]) => key.endsWith('_sent')), resources])
  }
  return ''
}

async function pushState(ctx: RunContext, proxy: string): Promise<{nonces: string; synced: boolean}> {
  const {sources} = await loadIstiodSyncz(ctx, ISTIOD)
  const row = mergeSyncStatus(sources, {now: Date.now()}).find((candidate) => candidate.proxy === proxy)
  const synced = row !== undefined && SYNC_TYPES.every((type) => ['SYNCED', 'NOT SENT', 'IGNORED'].includes(row.types[type].state))
  return {nonces: sentNonces(sources.map((source) => source.text), proxy), synced}
}

/** Waits until istiod has pushed something new to the proxy and the proxy acknowledged all of it. */
async function waitForPush(ctx: RunContext, proxy: string, before: string): Promise<number> {
  const started = Date.now()
  for (;;) {
    const state = await pushState(ctx, proxy)
    if (state.nonces !== before && state.synced) return Date.now() - started
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer)
        reject(new MeshdbgError('timeout', `istiod did not push the fix to ${proxy} and see it acknowledged in time (raise --timeout)`))
      }
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener('abort', onAbort)
        resolve()
      }, POLL_MS)
      if (ctx.signal.aborted) onAbort()
      else ctx.signal.addEventListener('abort', onAbort, {once: true})
    })
  }
}

export interface DemoResult {
  steps: DemoStep[]
  /** The last diagnosis found nothing failing. */
  healthy: boolean
}

/** Diagnose, then per fix: apply, wait for the push, diagnose again. */
export async function runDemo(ctx: RunContext, plan: DemoPlan, hooks: DemoHooks): Promise<DemoResult> {
  const steps: DemoStep[] = []
  const request: DiagnoseRequest = {
    target: plan.target,
    only: [],
    skip: [],
    sinceMs: 5 * 60_000,
    concurrency: 8,
    checkTimeoutMs: 10_000,
    istioNamespace: ISTIOD.istioNamespace,
  }
  const diagnoseCommand = `meshdbg diagnose ${plan.target} -n ${plan.namespace}`
  const diagnose = async (last: boolean) => {
    const {result, checks} = await runDiagnose(ctx, request)
    const step: DemoStep = {command: diagnoseCommand, diagnosis: result}
    steps.push(step)
    hooks.step(step, checks, last)
    return result
  }
  let diagnosis = await diagnose(plan.fixes.length === 0)
  for (const [index, fix] of plan.fixes.entries()) {
    const proxy = diagnosis.proxies[0]
    const before = (await pushState(ctx, proxy)).nonces
    const objects = parseManifests(await readFile(fix.path, 'utf8'), fix.shown)
    const applied = await applyManifests(ctx, objects, plan.namespace)
    const syncedAfterMs = await waitForPush(ctx, proxy, before)
    const step: DemoStep = {command: `kubectl apply -f ${fix.shown}`, applied, syncedAfterMs}
    steps.push(step)
    hooks.step(step, undefined, false)
    diagnosis = await diagnose(index === plan.fixes.length - 1)
  }
  return {steps, healthy: diagnosis.counts.fail === 0 && diagnosis.counts.error === 0}
}
