import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import {canSpin, createProgress, spinnerText, type ProgressStream} from '../../src/lib/spinner.js'

const TERMINAL = {TERM: 'xterm'}

/** A terminal that records what is drawn; cursor moves and line clears appear as <markers>. */
function fakeTerminal(columns: number | undefined): ProgressStream & {output: string[]} {
  const output: string[] = []
  const terminal = {
    isTTY: true,
    columns,
    output,
    write: (text: string) => output.push(text) > 0,
    cursorTo: () => output.push('<cursorTo>') > 0,
    moveCursor: () => output.push('<up>') > 0,
    clearLine: () => output.push('<clearLine>') > 0,
    once: () => terminal,
    removeListener: () => terminal,
  }
  return terminal as unknown as ProgressStream & {output: string[]}
}

const drawn = (terminal: {output: string[]}, text: string) => terminal.output.filter((chunk) => chunk.includes(text)).length
describe('canSpin', () => {
  it.each([
    ['a terminal of known width', {isTTY: true, columns: 80}, TERMINAL, true],
    ['a pty reporting 0 columns', {isTTY: true, columns: 0}, TERMINAL, false],
    ['an unknown width', {isTTY: true}, TERMINAL, false],
    ['not a terminal', {isTTY: false, columns: 80}, TERMINAL, false],
    ['TERM=dumb', {isTTY: true, columns: 80}, {TERM: 'dumb'}, false],
    ['CI', {isTTY: true, columns: 80}, {TERM: 'xterm', CI: 'true'}, false],
  ] as const)('%s: %s', (_name, stream, env, expected) => {
    expect(canSpin(stream, env)).toBe(expected)
  })
})

describe('spinnerText', () => {
  it('cuts the text so glyph, space and text leave the last column free', () => {
    expect(spinnerText('Fetching /config_dump from a-very-long-pod-name', 20)).toBe('Fetching /config_')
    expect(['⠋ ', ...spinnerText('x'.repeat(100), 20)].join('')).toHaveLength(19)
    expect(spinnerText('short', 20)).toBe('short')
  })

  it('turns control characters into spaces (a newline would break clearing the line)', () => {
    expect(spinnerText('a\nb\u001B]0;x\u0007', 80)).toBe('a b ]0;x ')
  })
})

describe('createProgress (ora underneath)', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  const running = () => new AbortController().signal

  it('draws while the work runs and clears the line after', async () => {
    const terminal = fakeTerminal(40)
    const progress = createProgress(terminal, {quiet: false, signal: running(), env: TERMINAL})
    let finish!: (value: string) => void
    const spinning = progress.spin('Fetching', new Promise<string>((resolve) => (finish = resolve)))
    await vi.dynamicImportSettled()
    vi.advanceTimersByTime(400)
    expect(drawn(terminal, 'Fetching')).toBeGreaterThan(1)
    finish('done')
    await expect(spinning).resolves.toBe('done')
    const afterStop = terminal.output.length
    vi.advanceTimersByTime(1000)
    expect(terminal.output).toHaveLength(afterStop)
    expect(terminal.output.slice(-3)).toContain('<clearLine>')
  })

  it('stops drawing when the deadline fires, although the work has not settled', async () => {
    const terminal = fakeTerminal(40)
    const deadline = new AbortController()
    const progress = createProgress(terminal, {quiet: false, signal: deadline.signal, env: TERMINAL})
    void progress.spin('Fetching', new Promise(() => {}))
    await vi.dynamicImportSettled()
    vi.advanceTimersByTime(200)
    deadline.abort()
    const written = terminal.output.length
    vi.advanceTimersByTime(1000)
    expect(terminal.output).toHaveLength(written)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps drawing in bounded steps when the terminal shrinks to 0 columns', async () => {
    const terminal = fakeTerminal(40)
    const progress = createProgress(terminal, {quiet: false, signal: running(), env: TERMINAL})
    void progress.spin('Fetching', new Promise(() => {}))
    await vi.dynamicImportSettled()
    ;(terminal as {columns?: number}).columns = 0
    const before = terminal.output.length
    // Each frame clears as many 1-column lines as the last frame had characters: finite.
    vi.advanceTimersByTime(400)
    const clears = terminal.output.slice(before).filter((chunk) => chunk === '<clearLine>').length
    expect(clears).toBeGreaterThan(0)
    expect(clears).toBeLessThan(200)
  })

  it('a note clears the spinner line, prints, and redraws after it', async () => {
    const terminal = fakeTerminal(40)
    const progress = createProgress(terminal, {quiet: false, signal: running(), env: TERMINAL})
    void progress.spin('Fetching', new Promise(() => {}))
    await vi.dynamicImportSettled()
    terminal.output.length = 0
    progress.note('istiod x: port 8080 refused\u001b]0;t\u0007')
    const note = terminal.output.indexOf('istiod x: port 8080 refused\\x1b]0;t\\x07\n')
    expect(note).toBeGreaterThan(0)
    expect(terminal.output.slice(0, note)).toContain('<clearLine>')
    expect(terminal.output.slice(note + 1).some((chunk) => chunk.includes('Fetching'))).toBe(true)
  })

  it('writes nothing with structured output, nor on a 0-column pty', async () => {
    for (const [terminal, quiet] of [[fakeTerminal(80), true], [fakeTerminal(0), false]] as const) {
      const progress = createProgress(terminal, {quiet, signal: running(), env: TERMINAL})
      await progress.spin('Fetching', Promise.resolve(1))
      expect(terminal.output).toEqual([])
    }
  })
})
