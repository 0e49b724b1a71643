/**
 * Progress on stderr: notes, and one ora spinner line while a request runs.
 *
 * ora sizes its output by dividing by the stream's width: on a pty that reports 0 columns (some CI
 * runners, `kubectl exec -t`, `script`) its line-clearing loop never ends, at 100% CPU, deaf to
 * --timeout and SIGTERM (its hide-cursor hook installs a JavaScript signal handler that the loop
 * never lets run). So ora starts only on a terminal of known, positive width (`canSpin`), sees a
 * width of at least 1 should the terminal shrink while it spins, never hides the cursor (no signal
 * handler: Ctrl-C and SIGTERM keep their default effect), leaves stdin alone, and is stopped by the
 * deadline even when the work it shows never settles.
 */

import {escapeTerminal} from './render/escape.js'

/** A terminal stream: what canSpin reads and what ora calls to draw and clear its line. */
export type ProgressStream = Pick<NodeJS.WriteStream, 'isTTY' | 'columns' | 'write' | 'cursorTo' | 'moveCursor' | 'clearLine' | 'once' | 'removeListener'>

export interface ProgressOptions {
  /** Structured output (--json, -o json|yaml): no notes, no spinner. */
  readonly quiet: boolean
  /** The command's deadline: when it fires the spinner stops drawing at once. */
  readonly signal: AbortSignal
  readonly env?: NodeJS.ProcessEnv
  /** Colour the spinner glyph (off with NO_COLOR, --no-color, TERM=dumb). */
  readonly color?: boolean
}

export interface Progress {
  note(message: string): void
  spin<R>(text: string, work: Promise<R>): Promise<R>
}

/**
 * A spinner only on a terminal whose width is known and positive, that understands escape codes
 * (TERM != dumb), outside CI.
 */
export function canSpin(stream: Pick<ProgressStream, 'isTTY' | 'columns'>, env: NodeJS.ProcessEnv = process.env): boolean {
  const columns = stream.columns
  return stream.isTTY === true && typeof columns === 'number' && Number.isInteger(columns) && columns > 0 && env.TERM !== 'dumb' && !env.CI
}

/**
 * The spinner's text on one line: control characters (a newline from a peer's name) as spaces, cut
 * so that glyph, space and text leave the last of `columns` free and never wrap.
 */
export function spinnerText(text: string, columns: number): string {
  // eslint-disable-next-line no-control-regex
  const chars = [...text.replace(/[\u0000-\u001F\u007F-\u009F]/g, ' ')]
  return chars.slice(0, Math.max(0, columns - 3)).join('')
}

/** The slice of ora this module drives (a structural type: ora is loaded only when a spinner starts). */
interface Spinner {
  start(): unknown
  stop(): unknown
  clear(): unknown
  render(): unknown
}

/**
 * The stream as ora sees it: the same terminal, whose width never reads below 1 (a pty resized to 0
 * columns mid-spin must not start ora's endless clearing loop).
 */
function widthAtLeastOne(stream: ProgressStream): NodeJS.WriteStream {
  return new Proxy(stream, {
    get(target, property) {
      if (property === 'columns') return Math.max(1, target.columns ?? 0)
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as unknown as NodeJS.WriteStream
}

export function createProgress(stream: ProgressStream, options: ProgressOptions): Progress {
  const env = options.env ?? process.env
  let active: Spinner | undefined

  const stop = () => {
    active?.stop()
    active = undefined
  }

  return {
    note(message) {
      if (options.quiet) return
      active?.clear()
      stream.write(escapeTerminal(message) + '\n')
      active?.render()
    },
    async spin(text, work) {
      // One spinner at a time: a nested or concurrent spin leaves the first one on screen.
      if (options.quiet || active || options.signal.aborted || !canSpin(stream, env)) return work
      const {default: ora} = await import('ora')
      if (active || options.signal.aborted) return work
      active = ora({
        // Cut to the width when it starts, so a frame is one line and clearing it is one line.
        text: spinnerText(text, stream.columns!),
        stream: widthAtLeastOne(stream),
        color: options.color === false ? false : 'cyan',
        hideCursor: false,
        discardStdin: false,
        isEnabled: true,
      })
      active.start()
      options.signal.addEventListener('abort', stop, {once: true})
      try {
        return await work
      } finally {
        options.signal.removeEventListener('abort', stop)
        stop()
      }
    },
  }
}
