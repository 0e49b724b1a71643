import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import {canSpin, createProgress, spinnerFrame, type ProgressStream} from '../../src/lib/spinner.js'

const TERMINAL = {TERM: 'xterm'}

function fakeTerminal(columns: number | undefined): ProgressStream & {output: string[]} {
  const output: string[] = []
  return {isTTY: true, columns, output, write: (text: string) => output.push(text)}
}

describe('canSpin', () => {
  it.each([
    ['a terminal of known width', {isTTY: true, columns: 80}, TERMINAL, true],
    ['a pty reporting 0 columns', {isTTY: true, columns: 0}, TERMINAL, false],
    ['an unknown width', {isTTY: true}, TERMINAL, false],
    ['not a terminal', {isTTY: false, columns: 80}, TERMINAL, false],
    ['TERM=dumb', {isTTY: true, columns: 80}, {TERM: 'dumb'}, false],
    ['CI', {isTTY: true, columns: 80}, {TERM: 'xterm', CI: 'true'}, false],
  ] as const)('%s: %s', (_name, stream, env, expected) => {
    expect(canSpin({...stream, write: () => true}, env)).toBe(expected)
  })
})

describe('spinnerFrame', () => {
  it('cuts the line to leave the last column free, so it never wraps', () => {
    expect(spinnerFrame('⠋', 'Fetching /config_dump from a-very-long-pod-name', 20)).toBe('⠋ Fetching /config_')
    expect([...spinnerFrame('⠋', 'x'.repeat(100), 20)]).toHaveLength(19)
    expect(spinnerFrame('⠋', 'short', 20)).toBe('⠋ short')
  })

  it('turns control characters into spaces (a newline would break clearing the line)', () => {
    expect(spinnerFrame('-', 'a\nb\u001B]0;x\u0007', 80)).toBe('- a b ]0;x ')
  })
})

describe('createProgress', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('draws while the work runs and clears the line after', async () => {
    const terminal = fakeTerminal(40)
    const progress = createProgress(terminal, {quiet: false, signal: new AbortController().signal, env: TERMINAL})
    let finish!: (value: string) => void
    const running = progress.spin('Fetching', new Promise<string>((resolve) => (finish = resolve)))
    vi.advanceTimersByTime(200)
    expect(terminal.output.filter((text) => text.includes('Fetching')).length).toBeGreaterThan(1)
    finish('done')
    await expect(running).resolves.toBe('done')
    expect(terminal.output.at(-1)).toBe('\r\u001B[K')
  })

  it('stops drawing when the deadline fires, although the work has not settled', async () => {
    const terminal = fakeTerminal(40)
    const deadline = new AbortController()
    const progress = createProgress(terminal, {quiet: false, signal: deadline.signal, env: TERMINAL})
    void progress.spin('Fetching', new Promise(() => {}))
    vi.advanceTimersByTime(200)
    deadline.abort()
    const written = terminal.output.length
    expect(terminal.output.at(-1)).toBe('\r\u001B[K')
    vi.advanceTimersByTime(1000)
    expect(terminal.output).toHaveLength(written)
  })

  it('stops drawing when the terminal shrinks to 0 columns', async () => {
    const terminal = fakeTerminal(40)
    const progress = createProgress(terminal, {quiet: false, signal: new AbortController().signal, env: TERMINAL})
    void progress.spin('Fetching', new Promise(() => {}))
    ;(terminal as {columns?: number}).columns = 0
    vi.advanceTimersByTime(80)
    const written = terminal.output.length
    expect(terminal.output.at(-1)).toBe('\r\u001B[K')
    vi.advanceTimersByTime(1000)
    expect(terminal.output).toHaveLength(written)
  })

  it('a note clears the spinner line, prints, and redraws below it', async () => {
    const terminal = fakeTerminal(40)
    const progress = createProgress(terminal, {quiet: false, signal: new AbortController().signal, env: TERMINAL})
    void progress.spin('Fetching', new Promise(() => {}))
    terminal.output.length = 0
    progress.note('istiod x: port 8080 refused')
    expect(terminal.output.slice(0, 2)).toEqual(['\r\u001B[K', 'istiod x: port 8080 refused\n'])
    expect(terminal.output[2]).toMatch(/Fetching$/)
  })

  it('writes nothing with structured output, nor on a 0-column pty', async () => {
    for (const [terminal, quiet] of [[fakeTerminal(80), true], [fakeTerminal(0), false]] as const) {
      const progress = createProgress(terminal, {quiet, signal: new AbortController().signal, env: TERMINAL})
      await progress.spin('Fetching', Promise.resolve(1))
      expect(terminal.output).toEqual([])
    }
  })
})
