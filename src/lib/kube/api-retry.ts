/**
 * Retries of idempotent API server requests (GETs and port-forward upgrades), as client-go does:
 * after a 429 once Retry-After has passed, and once after a connection reset (an API server or a
 * load balancer dropping an idle keep-alive connection). The command's deadline bounds the waits.
 */

/** Why a failed attempt may be tried again. */
export type RetryVerdict = {kind: 'throttled'; retryAfterMs: number} | {kind: 'reset'} | undefined

/** 429s retried per request; client-go allows 10, a CLI with a deadline needs fewer. */
export const MAX_THROTTLED_RETRIES = 5
/** A Retry-After above this is capped: the deadline would end the wait anyway. */
const MAX_RETRY_AFTER_MS = 30_000
const DEFAULT_RETRY_AFTER_MS = 1000

/** Retry-After in ms: delta-seconds or an HTTP date (RFC 9110), else 1 s. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number {
  const value = (Array.isArray(header) ? header[0] : header)?.trim()
  if (!value) return DEFAULT_RETRY_AFTER_MS
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now
  if (!Number.isFinite(ms)) return DEFAULT_RETRY_AFTER_MS
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms))
}

/** A connection reset before any answer: safe to send an idempotent request again. */
export function isConnectionReset(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as {code?: unknown}).code
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return true
    current = (current as {cause?: unknown}).cause
  }
  return false
}

/**
 * Runs `attempt` until it succeeds or `verdict` says its failure is final: at most
 * MAX_THROTTLED_RETRIES waits for 429s and one retry after a reset. An abort of `signal` during a
 * wait ends it with the last failure (the caller turns that into its deadline error).
 */
export async function retryIdempotent<T>(signal: AbortSignal, attempt: () => Promise<T>, verdict: (error: unknown) => RetryVerdict): Promise<T> {
  let throttled = 0
  let resets = 0
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      const why = signal.aborted ? undefined : verdict(error)
      if (why?.kind === 'throttled' && throttled < MAX_THROTTLED_RETRIES) {
        throttled++
        if (!(await pause(why.retryAfterMs, signal))) throw error
        continue
      }
      if (why?.kind === 'reset' && resets < 1) {
        resets++
        continue
      }
      throw error
    }
  }
}

/** Waits `ms`; false when the signal aborted first. */
function pause(ms: number, shared: AbortSignal): Promise<boolean> {
  // Its own linked signal: many requests waiting at once must not pile listeners on the shared one.
  const signal = AbortSignal.any([shared])
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false)
    const timer = setTimeout(() => finish(true), ms)
    const onAbort = () => finish(false)
    function finish(elapsed: boolean) {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      resolve(elapsed)
    }
    signal.addEventListener('abort', onAbort, {once: true})
  })
}
