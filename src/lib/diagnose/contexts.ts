import type {RunContext} from '../context.js'
import {MeshdbgError} from '../errors.js'
import {forEachContext, type ContextOutcome, type PerContextOptions} from '../kube/contexts.js'
import {dumpReaderFor} from './dump-readers.js'
import {runDiagnose, type DiagnoseContextSummary, type DiagnoseRequest, type DiagnoseResult} from './diagnose.js'
import {CHECKS} from './registry.js'
import {countFindings, orderFindings, selectChecks} from './run.js'
import type {Check, Finding} from './types.js'

/**
 * `diagnose` over several clusters (--context repeated, --all-contexts): each context diagnosed on
 * its own (its own deadline, session and port-forwards, kube/contexts.ts), the findings merged
 * into one result that says which context each came from. A context that cannot be diagnosed is
 * one finding among the others, so the exit code is the worst over every cluster.
 */

/** The id and heading of the finding that stands for a whole context that could not be diagnosed. */
export const CLUSTER_CHECK = {id: 'cluster', group: 'Cluster'} as const

/** Diagnoses every context; throws only when no context had anything to diagnose (as one cluster would, exit 3). */
export async function diagnoseContexts(base: RunContext, contexts: readonly string[], request: DiagnoseRequest, options: PerContextOptions): Promise<{result: DiagnoseResult; checks: Check[]}> {
  // Checked once, before any cluster: an unknown --check id is a usage error, not one finding per context.
  const checks = selectChecks(CHECKS, request.only, request.skip)
  // One dump reader for every context: contexts diagnosed at once must not each start their workers.
  const dumpReader = dumpReaderFor(Number.POSITIVE_INFINITY)
  try {
    const outcomes = await base.spin(`Diagnosing ${contexts.length} contexts`, forEachContext(base, contexts, async (ctx) => (await runDiagnose(ctx, request, dumpReader)).result, options))
    return {result: mergeContextOutcomes(outcomes, checks), checks}
  } finally {
    await dumpReader.close()
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

/**
 * One result from every context's: findings tagged with their context and ordered as one run's
 * (worst first, then check, then target; a tie keeps the contexts' order). A failed context
 * becomes an ERROR `cluster` finding, except "nothing to diagnose there" (the workload runs in
 * some clusters only), which is a WARN; when that is true of every context the first one's
 * not-found error is thrown instead.
 */
export function mergeContextOutcomes(outcomes: ReadonlyArray<ContextOutcome<DiagnoseResult>>, checks: readonly Check[]): DiagnoseResult {
  const summaries: DiagnoseContextSummary[] = []
  const findings: Finding[] = []
  const proxies: string[] = []
  for (const outcome of outcomes) {
    if (outcome.ok) {
      const own = outcome.value.findings.map((finding) => ({...finding, context: outcome.context}))
      findings.push(...own)
      proxies.push(...outcome.value.proxies)
      summaries.push({context: outcome.context, proxies: outcome.value.proxies, counts: outcome.value.counts})
      continue
    }
    const error = outcome.error instanceof MeshdbgError ? outcome.error : undefined
    const kind = error?.kind ?? 'internal'
    const message = oneLine(outcome.error instanceof Error ? outcome.error.message : String(outcome.error))
    const nothingThere = kind === 'not-found' || kind === 'not-meshed'
    const finding: Finding = {
      ...CLUSTER_CHECK,
      severity: nothingThere ? 'warn' : 'error',
      target: outcome.context,
      context: outcome.context,
      message: nothingThere ? `nothing to diagnose: ${message}` : `not diagnosed: ${message}`,
      ...(error?.hint ? {hint: oneLine(error.hint)} : {}),
    }
    findings.push(finding)
    summaries.push({context: outcome.context, proxies: [], counts: countFindings([finding]), error: {kind, message}})
  }
  const first = outcomes[0]
  if (first && outcomes.every((outcome) => !outcome.ok && outcome.error instanceof MeshdbgError && ['not-found', 'not-meshed'].includes(outcome.error.kind))) {
    const error = (first as {error: MeshdbgError}).error
    throw new MeshdbgError(error.kind, `no context has anything to diagnose: context ${first.context}: ${error.message}`, {hint: error.hint})
  }
  return {proxies, checks: checks.map((check) => check.id), counts: countFindings(findings), findings: orderFindings(findings, checks), contexts: summaries}
}
