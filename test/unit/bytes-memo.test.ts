import {describe, expect, it} from 'vitest'

import {BytesMemo} from '../../src/lib/bytes-memo.js'

const bytes = (text: string) => Buffer.from(text, 'utf8')

describe('BytesMemo', () => {
  it('finds a value by bytes equal to those it was read from, anywhere in a buffer, and by nothing else', () => {
    const memo = new BytesMemo<string>(1024)
    memo.keep(bytes('xx{"cluster":"version-v1"}yy'), 'v1', 2, 26)
    expect(memo.lookup(bytes('{"cluster":"version-v1"}'))).toBe('v1')
    expect(memo.lookup(bytes('__{"cluster":"version-v1"}'), 2)).toBe('v1')
    // Same length, one byte apart; a prefix; a longer text.
    expect(memo.lookup(bytes('{"cluster":"version-v2"}'))).toBeUndefined()
    expect(memo.lookup(bytes('{"cluster":"version-v1'))).toBeUndefined()
    expect(memo.lookup(bytes('{"cluster":"version-v1"} '))).toBeUndefined()
    memo.keep(bytes('{"cluster":"version-v2"}'), 'v2')
    expect([memo.lookup(bytes('{"cluster":"version-v1"}')), memo.lookup(bytes('{"cluster":"version-v2"}'))]).toEqual(['v1', 'v2'])
  })

  it('keeps a copy: the caller may reuse its buffer', () => {
    const memo = new BytesMemo<number>(64)
    const buffer = bytes('abcdef')
    memo.keep(buffer, 1)
    buffer.write('zzzzzz')
    expect(memo.lookup(bytes('abcdef'))).toBe(1)
    expect(memo.lookup(buffer)).toBeUndefined()
  })

  it('holds at most its budget: a text overwrites the oldest ones; too big or empty a text is not kept', () => {
    const memo = new BytesMemo<string>(10)
    memo.keep(bytes('aaaa'), 'a')
    memo.keep(bytes('bbbb'), 'b')
    expect(memo.lookup(bytes('aaaa'))).toBe('a')
    // No room after b: written from the start, over a.
    memo.keep(bytes('ccc'), 'c')
    expect([memo.lookup(bytes('aaaa')), memo.lookup(bytes('bbbb')), memo.lookup(bytes('ccc'))]).toEqual([undefined, 'b', 'c'])
    // Fits after c (3..7), over b (4..8).
    memo.keep(bytes('dddd'), 'd')
    expect([memo.lookup(bytes('bbbb')), memo.lookup(bytes('ccc')), memo.lookup(bytes('dddd'))]).toEqual([undefined, 'c', 'd'])
    memo.keep(bytes('e'.repeat(11)), 'e')
    memo.keep(bytes(''), 'empty')
    expect([memo.lookup(bytes('e'.repeat(11))), memo.lookup(bytes(''))]).toEqual([undefined, undefined])
    expect(memo.lookup(bytes('dddd'))).toBe('d')
  })

  it('tells whether a kept text starts at a place, until the text is overwritten', () => {
    const memo = new BytesMemo<string>(8)
    const a = memo.keep(bytes('aaaa'), 'a')!
    expect(a.value).toBe('a')
    expect(memo.keep(bytes('aaaa'), 'again')).toBe(a)
    expect(memo.startsAt(a, bytes('xxaaaayy'), 2)).toBe(true)
    expect(memo.startsAt(a, bytes('xxaaabyy'), 2)).toBe(false)
    expect(memo.startsAt(a, bytes('xxaaa'), 2)).toBe(false)
    memo.keep(bytes('bbbb'), 'b')
    expect(memo.startsAt(a, bytes('aaaa'), 0)).toBe(true)
    // Written over a: its place now holds other text, which must not pass for a's.
    const c = memo.keep(bytes('cccc'), 'c')!
    expect(a.dropped).toBe(true)
    expect(memo.startsAt(a, bytes('cccc'), 0)).toBe(false)
    expect(memo.startsAt(c, bytes('cccc'), 0)).toBe(true)
    expect(memo.keep(bytes('too long for it'), 'x')).toBeUndefined()
  })

  it('keeps the first value for a text kept twice', () => {
    const memo = new BytesMemo<string>(64)
    memo.keep(bytes('same'), 'first')
    memo.keep(bytes('same'), 'second')
    expect(memo.lookup(bytes('same'))).toBe('first')
  })
})
