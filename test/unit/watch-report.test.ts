import {describe, expect, it} from 'vitest'

import {problemReporter, watchHeading, watchStamp} from '../../src/lib/watch.js'

describe('watch helpers shared by sync-status and diagnose --watch', () => {
  it('a lasting problem is said once, again only when it changes, and again after it cleared', () => {
    const said: string[] = []
    const report = problemReporter((line) => said.push(line.replace(/^\S+ /, '')))
    report(['istiod-a: timed out'])
    report(['istiod-a: timed out'])
    report([])
    report(['istiod-a: timed out', 'context west: refused'])
    report(['istiod-a: timed out', 'context west: refused'])
    report([])
    report(['istiod-a: timed out'])
    expect(said).toEqual(['istiod-a: timed out', 'istiod-a: timed out', 'context west: refused', 'istiod-a: timed out'])
  })

  it('stamps lines in UTC to the second and heads the screen like watch(1)', () => {
    expect(watchStamp(new Date('2026-12-03T21:07:20.123Z'))).toBe('2026-12-03T21:07:20Z')
    expect(watchHeading('diagnose', '5s')).toMatch(/^Every 5s: meshdbg diagnose    \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  \(Ctrl-C to stop\)\n$/)
    expect(watchHeading('sync-status', '2s', 3)).toMatch(/^Every 2s: meshdbg sync-status \(3 contexts\)    \S+Z  \(Ctrl-C to stop\)\n$/)
  })
})
