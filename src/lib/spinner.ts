/**
 * Progress on stderr: notes, and one spinner line while a request runs.
 *
 * meshdbg draws its own one-line spinner instead of using ora: ora sizes its output by dividing by
 * the terminal width, and on a pty that reports 0 columns (some CI runners, `kubectl exec -t`,
 * `script`) it loops forever clearing lines, at 100% CPU, deaf to --timeout and SIGTERM (its
 * cursor handling installs a JavaScript signal handler that the busy loop never lets run). Here a
 * frame is truncated to the width, so clearing it is always one `\r` plus erase-line; the timer is
 * unref'd, so it never keeps the process alive; no signal handler is installed and stdin is left
 * alone, so Ctrl-C and SIGTERM keep their default effect; and the deadline stops the drawing.
 */

import {escapeTerminal} from './render/escape.js'

export interface ProgressStream {
  readonly isTTY?: boolean
  readonly columns?: number
  write(text: string): unknown
}

export interface ProgressOptions {
  /** Structured output (--json, -o json|yaml): no notes, no spinner. */
  readonly quiet: boolean
  /** The command's deadline: when it fires the spinner stops drawing at once. */
  readonly signal: AbortSignal
  readonly env?: NodeJS.ProcessEnv
}

export interface Progress {
  note(message: string): void
  spin<R>(text: string, work: Promise<R>): Promise<R>
}

const UNICODE_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
// The Linux virtual console has no braille glyphs.
const ASCII_FRAMES = ['-', '\\', '|', '/']
const FRAME_MS = 80
const CLEAR_LINE = '\r\u001B[K'

/**
 * A spinner only on a terminal whose width is known and positive, that understands escape codes
 * (TERM != dumb), outside CI.
 */
export function canSpin(stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const columns = stream.columns
  return stream.isTTY === true && typeof columns === 'number' && Number.isInteger(columns) && columns > 0 && env.TERM !== 'dumb' && !env.CI
}

/** One frame: spinner glyph and text, cut to fit one line of `columns` (the last column left free). */
export function spinnerFrame(glyph: string, text: string, columns: number): string {
  // A control character (a newline from a peer's name) would break the one-line layout.
  // eslint-disable-next-line no-control-regex
  const line = `${glyph} ${text.replace(/[\u0000-\u001F\u007F-\u009F]/g, ' ')}`
  const chars = [...line]
  return chars.length < columns ? line : chars.slice(0, Math.max(0, columns - 1)).join('')
}

export function createProgress(stream: ProgressStream, options: ProgressOptions): Progress {
  const env = options.env ?? process.env
  const frames = env.TERM === 'linux' ? ASCII_FRAMES : UNICODE_FRAMES
  let drawn = false
  let active: {text: string; index: number; timer: NodeJS.Timeout} | undefined

  const clear = () => {
    if (drawn) stream.write(CLEAR_LINE)
    drawn = false
  }
  const draw = () => {
    if (!active) return
    // The terminal may have been resized (even to 0 columns) since the spinner started.
    if (!canSpin(stream, env)) return clear()
    stream.write(CLEAR_LINE + spinnerFrame(frames[active.index++ % frames.length], active.text, stream.columns!))
    drawn = true
  }
  const stop = () => {
    if (!active) return
    clearInterval(active.timer)
    active = undefined
    clear()
  }

  return {
    note(message) {
      if (options.quiet) return
      clear()
      stream.write(escapeTerminal(message) + '\n')
      draw()
    },
    async spin(text, work) {
      // One spinner at a time: a nested or concurrent spin leaves the first one on screen.
      if (options.quiet || active || options.signal.aborted || !canSpin(stream, env)) return work
      const timer = setInterval(draw, FRAME_MS)
      timer.unref()
      active = {text, index: 0, timer}
      options.signal.addEventListener('abort', stop, {once: true})
      draw()
      try {
        return await work
      } finally {
        options.signal.removeEventListener('abort', stop)
        stop()
      }
    },
  }
}
