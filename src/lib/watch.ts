import type {RunContext} from './context.js'
import {waitFor} from './async.js'
import {MeshdbgError} from './errors.js'
import {Scope} from './scope.js'

/**
 * `--watch`: poll, show, wait, until Ctrl-C. Each poll runs under its own deadline and in its own
 * scope (its own Kubernetes session and port-forwards, closed when the poll ends), so one slow or
 * failed poll is reported and the next one starts clean. SIGINT/SIGTERM end the loop normally:
 * the command then returns and exits 0.
 */

/** A watch line's time stamp: UTC to the second, as `watch` and kubectl events print it. */
export function watchStamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z')
}

/** The first line of a redrawn watch screen, as watch(1) heads its own. */
export function watchHeading(command: string, interval: string, contextCount?: number): string {
  return `Every ${interval}: meshdbg ${command}${contextCount === undefined ? '' : ` (${contextCount} contexts)`}    ${watchStamp()}  (Ctrl-C to stop)\n`
}

/**
 * Reports a poll's problems (notes, a failed poll) without a TTY: a lasting problem is said once,
 * not at every poll, and said again only when it changes.
 */
export function problemReporter(notice: (line: string) => void): (lines: string[]) => void {
  let shown = ''
  return (lines) => {
    const text = lines.join('\n')
    if (text !== shown && text !== '') for (const line of lines) notice(`${watchStamp()} ${line}`)
    shown = text
  }
}

export interface WatchOptions<T> {
  /** Time between the end of one poll and the start of the next. */
  intervalMs: number
  /** Each poll's deadline (the command's --timeout). */
  pollTimeoutMs: number
  /** One poll: everything it opens goes into `ctx.scope`; it must honour `ctx.signal`. */
  poll: (ctx: RunContext) => Promise<T>
  /** A poll's result (`previous`: the last successful one, undefined at first). */
  onResult: (value: T, previous: T | undefined) => void
  /** A poll that failed or timed out; the loop goes on. */
  onError: (error: unknown) => void
  /** Ends the loop besides SIGINT/SIGTERM (tests, a caller's own condition). */
  signal?: AbortSignal
  /** The process to listen on for SIGINT/SIGTERM (a parameter so tests need not signal themselves). */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>
}

export async function watchLoop<T>(base: RunContext, options: WatchOptions<T>): Promise<void> {
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  const signals = options.signals ?? process
  signals.on('SIGINT', onSignal)
  signals.on('SIGTERM', onSignal)
  const external = options.signal
  const onExternal = () => stop.abort()
  if (external?.aborted) stop.abort()
  external?.addEventListener('abort', onExternal, {once: true})
  let previous: T | undefined
  try {
    while (!stop.signal.aborted) {
      const outcome = await pollOnce(base, options, stop.signal)
      if (stop.signal.aborted) break
      if (outcome.ok) {
        options.onResult(outcome.value, previous)
        previous = outcome.value
      } else {
        options.onError(outcome.error)
      }
      await waitFor(options.intervalMs, stop.signal)
    }
  } finally {
    signals.off('SIGINT', onSignal)
    signals.off('SIGTERM', onSignal)
    external?.removeEventListener('abort', onExternal)
  }
}

async function pollOnce<T>(base: RunContext, options: WatchOptions<T>, stop: AbortSignal): Promise<{ok: true; value: T} | {ok: false; error: unknown}> {
  const controller = new AbortController()
  const onStop = () => controller.abort(new MeshdbgError('timeout', 'watch stopped'))
  stop.addEventListener('abort', onStop, {once: true})
  const timer = setTimeout(() => controller.abort(new MeshdbgError('timeout', `poll timed out after ${options.pollTimeoutMs / 1000}s (raise --timeout)`)), options.pollTimeoutMs)
  timer.unref()
  const scope = new Scope()
  try {
    return {ok: true, value: await options.poll({...base, signal: controller.signal, scope, spin: (_text, work) => work})}
  } catch (error) {
    return {ok: false, error: controller.signal.aborted ? controller.signal.reason : error}
  } finally {
    clearTimeout(timer)
    stop.removeEventListener('abort', onStop)
    await scope.close()
  }
}

const HIDE_CURSOR = '\u001B[?25l'
const SHOW_CURSOR = '\u001B[?25h'
const HOME = '\u001B[H'
const CLEAR_SCREEN = '\u001B[2J'
const CLEAR_LINE_END = '\u001B[K'
const CLEAR_BELOW = '\u001B[J'

/**
 * A redrawn screen on a TTY without flicker: the screen is cleared once, then every frame is one
 * write that goes home, overwrites each line (clearing what an older, longer line left) and clears
 * below. The cursor is hidden while watching and shown again on close, also when the process exits
 * some other way.
 */
export class TtyScreen {
  private started = false
  private readonly restore = () => this.out.write(SHOW_CURSOR)

  constructor(private readonly out: Pick<NodeJS.WriteStream, 'write'>) {}

  draw(text: string): void {
    const body = text.replace(/\n$/, '').split('\n').map((line) => line + CLEAR_LINE_END).join('\n')
    const prefix = this.started ? HOME : HIDE_CURSOR + CLEAR_SCREEN + HOME
    if (!this.started) process.once('exit', this.restore)
    this.started = true
    this.out.write(prefix + body + '\n' + CLEAR_BELOW)
  }

  close(): void {
    if (!this.started) return
    process.off('exit', this.restore)
    this.restore()
  }
}
