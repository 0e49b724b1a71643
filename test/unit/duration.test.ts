import {describe, expect, it} from 'vitest'

import {normaliseBooleanAssignments} from '../../src/lib/base-command.js'
import {MAX_TIMER_MS, MAX_TIMER_TEXT, parseDuration, parseTimerDuration} from '../../src/lib/duration.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['3s', 3000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['10', 10_000],
  ])('%s = %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', 'soon', '5 s', '3x', 's'])('rejects %j as a usage error', (text) => {
    expect(() => parseDuration(text, 'timeout')).toThrow(/invalid --timeout/)
  })
})

describe('normaliseBooleanAssignments', () => {
  it('rewrites istioctl-style --flag=true|false for boolean flags only', () => {
    const booleans = new Map([
      ['verbose', true],
      ['no-color', false],
    ])
    expect(normaliseBooleanAssignments(['--verbose=false', '--verbose=true', '--name=false', 'x', '--no-color=false', '--no-color=true'], booleans)).toEqual([
      '--no-verbose',
      '--verbose',
      '--name=false',
      'x',
      '--no-color',
    ])
  })
})

describe('parseTimerDuration', () => {
  it('takes up to setTimeout\'s limit, and 0', () => {
    expect(parseTimerDuration(MAX_TIMER_TEXT, 'timeout')).toBeLessThanOrEqual(MAX_TIMER_MS)
    expect(parseTimerDuration(MAX_TIMER_TEXT, 'timeout')).toBeGreaterThan(MAX_TIMER_MS - 1000)
    expect(parseTimerDuration('0', 'timeout')).toBe(0)
  })

  it.each(['596h31m24s', '600h', '2147484s', '99999999999999999999h'])('rejects %s, which would overflow setTimeout and fire at once', (text) => {
    expect(() => parseTimerDuration(text, 'duration')).toThrow(`--duration "${text}" is too long: the maximum is 596h31m23s`)
  })
})
