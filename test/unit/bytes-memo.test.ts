import {describe, expect, it} from 'vitest'

import {BytesMemo, TextMemo} from '../../src/lib/bytes-memo.js'

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

  it('keeps the first value for a text kept twice', () => {
    const memo = new BytesMemo<string>(64)
    memo.keep(bytes('same'), 'first')
    memo.keep(bytes('same'), 'second')
    expect(memo.lookup(bytes('same'))).toBe('first')
  })
})

describe('TextMemo', () => {
  it('finds a value by the exact text of a byte range; past its budget it starts again', () => {
    const memo = new TextMemo<number>(20)
    const buffer = bytes('__{"name":"a"}__')
    memo.set(TextMemo.keyOf(buffer, 2, 14), 1)
    expect(memo.get(TextMemo.keyOf(bytes('{"name":"a"}'), 0, 12))).toBe(1)
    expect(memo.get(TextMemo.keyOf(bytes('{"name":"b"}'), 0, 12))).toBeUndefined()
    // Bytes that are not UTF-8 text are keys like any other: one character per byte.
    memo.set(TextMemo.keyOf(Buffer.from([0xff, 0xfe]), 0, 2), 2)
    expect(memo.get(TextMemo.keyOf(Buffer.from([0xff, 0xfe]), 0, 2))).toBe(2)
    expect(memo.get(TextMemo.keyOf(Buffer.from([0xff, 0xfd]), 0, 2))).toBeUndefined()
    // 12 + 2 bytes kept; 12 more pass the budget of 20: the old texts go.
    memo.set(TextMemo.keyOf(bytes('{"name":"c"}'), 0, 12), 3)
    expect(memo.get(TextMemo.keyOf(bytes('{"name":"c"}'), 0, 12))).toBe(3)
    expect(memo.get(TextMemo.keyOf(bytes('{"name":"a"}'), 0, 12))).toBeUndefined()
    // A text bigger than the budget is not kept.
    memo.set('x'.repeat(21), 4)
    expect(memo.get('x'.repeat(21))).toBeUndefined()
  })
})
