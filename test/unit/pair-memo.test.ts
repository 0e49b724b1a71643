import {describe, expect, it} from 'vitest'

import {pairMemo} from '../../src/lib/pair-memo.js'

describe('pairMemo', () => {
  it('computes once per pair of objects (undefined included), apart for any other pair', () => {
    const memo = pairMemo()
    const [a, b, c] = [{}, [], {}]
    let calls = 0
    const count = (value: unknown) => () => (calls++, value)
    expect(memo(a, b, count('ab'))).toBe('ab')
    expect(memo(a, b, count('again'))).toBe('ab')
    expect(memo(b, a, count('ba'))).toBe('ba')
    expect(memo(a, c, count(undefined))).toBeUndefined()
    expect(memo(a, c, count('later'))).toBeUndefined()
    expect(calls).toBe(3)
  })
})
