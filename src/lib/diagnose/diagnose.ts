import type {RunContext} from '../context.js'
import {ExitCode, MeshdbgError} from '../errors.js'
import {CHECKS} from './registry.js'
import {countFindings, runChecks, selectChecks, type DiagnoseCounts} from './run.js'
import {dumpReaderFor, type DumpReader} from './dump-readers.js'
import {liveFacts, resolveDiagnosePods, type DiagnoseTargets} from './live.js'
import type {ResolvedPod} from '../kube/index.js'
import type {Check, Finding} from './types.js'

export interface DiagnoseRequest extends DiagnoseTargets {
  only: string[]
  skip: string[]
  sinceMs: number
  concurrency: number
  checkTimeoutMs: number
  istioNamespace: string
  revision?: string
  token?: string
  proxyAdminPort?: number
}

export interface DiagnoseResult {
  /** The proxies diagnosed, `<pod>.<namespace>` (with several contexts: every context's, in context order; see `contexts`). */
  proxies: string[]
  /** The ids of the checks that ran. */
  checks: string[]
  counts: DiagnoseCounts
  /** Worst first: severity, then the check's relevance (causes before symptoms), then proxy. */
  findings: Finding[]
  /** Only with several contexts: each context's proxies and counts, or why it could not be diagnosed. */
  contexts?: DiagnoseContextSummary[]
}

export interface DiagnoseContextSummary {
  context: string
  proxies: string[]
  counts: DiagnoseCounts
  /** The context could not be diagnosed (unreachable, forbidden, timed out, nothing to diagnose): its one `cluster` finding says why. */
  error?: {kind: string; message: string}
}

/** Newest access-log lines read per proxy: enough for minutes of a busy gateway, bounded memory at 500 pods. */
const MAX_LOG_LINES = 5000

/** Resolves the proxies, runs the chosen checks on them and returns the ordered findings. */
export async function runDiagnose(ctx: RunContext, request: DiagnoseRequest, sharedReader?: DumpReader): Promise<{result: DiagnoseResult; checks: Check[]}> {
  const checks = selectChecks(CHECKS, request.only, request.skip)
  const pods = await resolveDiagnosePods(ctx, request)
  // A reader shared by several contexts' runs is closed by whoever made it.
  if (sharedReader) return diagnosePods(ctx, request, checks, pods, sharedReader)
  const dumpReader = dumpReaderFor(pods.length)
  try {
    return await diagnosePods(ctx, request, checks, pods, dumpReader)
  } finally {
    await dumpReader.close()
  }
}

async function diagnosePods(ctx: RunContext, request: DiagnoseRequest, checks: Check[], pods: ResolvedPod[], dumpReader: DumpReader): Promise<{result: DiagnoseResult; checks: Check[]}> {
  const proxies = liveFacts(ctx, pods, {
    dumpReader,
    istioNamespace: request.istioNamespace,
    revision: request.revision,
    token: request.token,
    sinceMs: request.sinceMs,
    proxyAdminPort: request.proxyAdminPort,
    maxLogLines: MAX_LOG_LINES,
    readsAgent: checks.some((check) => check.id === 'readiness'),
  })
  const now = Date.now()
  const findings = await ctx.spin(
    `Running ${checks.length} checks on ${pods.length === 1 ? `${pods[0].name}.${pods[0].namespace}` : `${pods.length} proxies`}`,
    runChecks(checks, proxies, {concurrency: request.concurrency, checkTimeoutMs: request.checkTimeoutMs, signal: ctx.signal, sinceMs: request.sinceMs, now}),
  )
  return {
    result: {proxies: proxies.map((proxy) => proxy.id), checks: checks.map((check) => check.id), counts: countFindings(findings), findings},
    checks,
  }
}

export const FAIL_ON = ['warn', 'fail'] as const

/**
 * The exit the findings call for, as an error carrying the result (printed first): 11 when a
 * check failed or could not run, 10 for warnings with `--fail-on warn`, none otherwise.
 */
export function diagnoseOutcome(result: DiagnoseResult, failOn: (typeof FAIL_ON)[number]): MeshdbgError | undefined {
  const {counts} = result
  if (counts.fail > 0 || counts.error > 0) {
    const first = result.findings[0]
    return new MeshdbgError('problems-found', `${counts.fail} check${counts.fail === 1 ? '' : 's'} failed${counts.error > 0 ? `, ${counts.error} could not run` : ''}: ${first.id} on ${targetLabel(first)}: ${first.message}`, {exitCode: ExitCode.checksFailed, result})
  }
  if (failOn === 'warn' && counts.warn > 0) {
    const first = result.findings[0]
    return new MeshdbgError('problems-found', `${counts.warn} warning${counts.warn === 1 ? '' : 's'}: ${first.id} on ${targetLabel(first)}: ${first.message}`, {result})
  }
  return undefined
}

/** A finding's target as lines name it: with several contexts, its context too. */
export function targetLabel(finding: Finding): string {
  if (finding.context === undefined) return finding.target
  return finding.target === finding.context ? `context ${finding.context}` : `${finding.target} (context ${finding.context})`
}
