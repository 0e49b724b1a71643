import {Flags} from '@oclif/core'
import {forEachLimited} from '../async.js'

import type {RunContext} from '../context.js'
import {MeshdbgError, usageError} from '../errors.js'
import {Scope} from '../scope.js'
import {snapshotContextNames} from '../snapshot/replay.js'
import {loadLive} from './load.js'

/**
 * Many clusters in one command: `--context` repeated or `--all-contexts` run the same per-cluster
 * work for each kubeconfig context with bounded concurrency, each under its own deadline and in
 * its own scope (its own session, token and port-forwards), and collect every outcome: a cluster
 * that fails is one entry among the others, never the end of the command.
 */

/** How many clusters are asked at once by default: enough to hide latency, few enough for a laptop. */
export const DEFAULT_CONTEXT_CONCURRENCY = 4

/** The flags a multi-cluster command declares; they replace the base command's single --context. */
export const multiContextFlags = {
  context: Flags.string({
    summary: 'Kubeconfig context to use; repeat it to ask several clusters (rows get a CONTEXT column).',
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'GLOBAL',
  }),
  'all-contexts': Flags.boolean({summary: 'Ask every context of the kubeconfig (sorted by name), as with --context repeated.', exclusive: ['context']}),
  'context-concurrency': Flags.integer({summary: 'How many clusters are asked at once with several contexts.', default: DEFAULT_CONTEXT_CONCURRENCY, min: 1}),
}

export type ContextOutcome<T> = {context: string; ok: true; value: T} | {context: string; ok: false; error: unknown}

/** A failed context as --json carries it. */
export interface ContextFailure {
  context: string
  kind: string
  message: string
}

/**
 * The contexts a command runs over: undefined for the ordinary single-context run (the base
 * command's behaviour, byte for byte), else the names given (duplicates dropped, order kept) or
 * every context of the kubeconfig.
 */
export async function selectContexts(base: RunContext, flags: {context?: string[]; 'all-contexts'?: boolean}): Promise<string[] | undefined> {
  if (flags['all-contexts']) {
    // Replaying a snapshot: the contexts it captured stand for the kubeconfig's.
    const names = base.snapshot === undefined ? (await loadLive()).kubeconfigContextNames({kubeconfig: base.kubeconfig}) : snapshotContextNames(base, base.snapshot)
    if (names.length === 0) throw usageError('--all-contexts: the kubeconfig has no contexts')
    return names
  }
  const given = [...new Set(flags.context ?? [])]
  return given.length > 1 ? given : undefined
}

/** The single context of an ordinary run (`--context` given once), for the base RunContext. */
export function singleContext(flags: {context?: string[]}): string | undefined {
  return flags.context?.[0]
}

export interface PerContextOptions {
  /** At most this many contexts at once. */
  concurrency: number
  /** Each context's own deadline (the command's --timeout). */
  timeoutMs: number
}

/**
 * Runs `work` once per context, `concurrency` at a time, in the order given; outcomes come back in
 * that order. Each run has its own deadline (its failure says which context timed out) and its own
 * scope, closed when its run ends; the base signal (Ctrl-C, the command's end) still stops all.
 */
export async function forEachContext<T>(base: RunContext, contexts: readonly string[], work: (ctx: RunContext) => Promise<T>, options: PerContextOptions): Promise<Array<ContextOutcome<T>>> {
  const outcomes: Array<ContextOutcome<T>> = new Array(contexts.length)
  await forEachLimited(contexts, options.concurrency, async (context, index) => {
    outcomes[index] = await runOne(base, context, work, options.timeoutMs)
  })
  return outcomes
}

async function runOne<T>(base: RunContext, context: string, work: (ctx: RunContext) => Promise<T>, timeoutMs: number): Promise<ContextOutcome<T>> {
  const controller = new AbortController()
  const onAbort = () => controller.abort(base.signal.reason)
  if (base.signal.aborted) onAbort()
  else base.signal.addEventListener('abort', onAbort, {once: true})
  const timer = setTimeout(() => controller.abort(new MeshdbgError('timeout', `timed out after ${timeoutMs / 1000}s (raise --timeout)`)), timeoutMs)
  timer.unref()
  const scope = new Scope()
  const ctx: RunContext = {
    ...base,
    context,
    signal: controller.signal,
    scope,
    note: (message) => base.note(`context ${context}: ${message}`),
    // Concurrent spinners would fight over one line: the caller spins once around all contexts.
    spin: (_text, promise) => promise,
  }
  try {
    return {context, ok: true, value: await work(ctx)}
  } catch (error) {
    return {context, ok: false, error: controller.signal.aborted && !base.signal.aborted ? controller.signal.reason : error}
  } finally {
    clearTimeout(timer)
    base.signal.removeEventListener('abort', onAbort)
    await scope.close()
  }
}

/** A failed context's error, one line, for stderr and --json. */
export function contextFailure(outcome: {context: string; error: unknown}): ContextFailure {
  const error = outcome.error
  const kind = error instanceof MeshdbgError ? error.kind : 'internal'
  const text = error instanceof MeshdbgError && error.hint ? `${error.message}. Hint: ${error.hint}` : error instanceof Error ? error.message : String(error)
  return {context: outcome.context, kind, message: text.replace(/\s*[\r\n]+\s*/g, ' ').trim()}
}

/**
 * The error a multi-context command ends with when some contexts failed (wholly, or one of their
 * istiods), after printing the others: the first failure's (in the order asked) kind and exit
 * code, so "cluster B is unreachable" exits 4 as it would alone; the message counts the contexts
 * that answered in full.
 */
export function partialContextsError(failures: ReadonlyArray<{context: string; error: unknown}>, total: number, result: unknown): MeshdbgError | undefined {
  if (failures.length === 0) return undefined
  const first = failures[0].error instanceof MeshdbgError ? failures[0].error : undefined
  const answered = `${total - new Set(failures.map((failure) => failure.context)).size} of ${total} contexts answered`
  return new MeshdbgError(first?.kind ?? 'internal', `incomplete (${answered}): context ${failures[0].context}: ${contextFailure(failures[0]).message}`, {exitCode: first?.exitCode, result})
}
