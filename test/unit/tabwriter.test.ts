import {describe, expect, it} from 'vitest'

import {tabRow, tabwrite, tabwriteRows} from '../../src/lib/render/tabwriter.js'

describe('tabwrite (Go text/tabwriter layout)', () => {
  it('pads every terminated cell to the column width plus padding and never pads the last cell', () => {
    expect(tabwrite(['A\tBB\tlast', 'CCC\tD\tx'], {padding: 2})).toBe('A    BB  last\nCCC  D   x\n')
  })

  it('keeps trailing spaces when the last cell is empty', () => {
    expect(tabwrite(['NAME\tTYPE\t', 'a\tSTATIC\t'], {padding: 5})).toBe('NAME     TYPE       \na        STATIC     \n')
  })

  it('computes widths per column block: a line with fewer cells ends the block', () => {
    const out = tabwrite(['aaaa\tb\tc', 'x\ty', 'long-cell\tz\tw'], {padding: 1})
    // Column 0 spans all three lines; column 1 is only terminated on lines 1 and 3, which are
    // separated by line 2, so each forms its own block.
    expect(out).toBe('aaaa      b c\nx         y\nlong-cell z w\n')
  })

  it('flushes at a line without tabs', () => {
    expect(tabwrite(['a\tb', 'plain', 'cccc\td'], {padding: 1})).toBe('a b\nplain\ncccc d\n')
  })

  it('counts code points, not UTF-16 units', () => {
    expect(tabwrite(['é\tx', 'ab\ty'], {padding: 1})).toBe('é  x\nab y\n')
  })

  it('escapes controls in cells of a uniform table before measuring them (the one-block fast path)', () => {
    expect(tabwrite(['a\x1b\tb', 'cc\td\n'], {padding: 1})).toBe('a\\x1b b\ncc    d\\n\n')
    expect(tabwrite(['a\x1b\tb', 'cc\td\n', '\u202e\t'], {padding: 1})).toBe('a\\x1b  b\ncc     d\\n\n\\u202e \n')
    expect(tabwrite([], {padding: 1})).toBe('')
  })

  it('honours minwidth', () => {
    expect(tabwrite(['a\tb'], {padding: 1, minwidth: 4})).toBe('a   b\n')
  })

  it('renders nothing for no lines', () => {
    expect(tabwrite([], {padding: 5})).toBe('')
  })

  it('tabwriteRows lays out cells exactly as tabwrite of the tabRow lines', () => {
    let seed = 11
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
    const pieces = ['a', 'bb', 'cluster/x', '', ' ', '-', '\t', '\n', '\x1b[31m', '\u202e', 'é', '日本', '😀', '\x7f', '|9080|']
    const cell = () => Array.from({length: Math.floor(next() * 4)}, () => pieces[Math.floor(next() * pieces.length)]).join('')
    for (let round = 0; round < 300; round++) {
      const columns = 1 + Math.floor(next() * 5)
      // Mostly uniform tables, sometimes rows of other lengths (column blocks), sometimes plain ASCII only.
      const ragged = next() < 0.3
      const plain = next() < 0.4
      const rows = Array.from({length: Math.floor(next() * 6)}, () =>
        Array.from({length: ragged ? 1 + Math.floor(next() * 5) : columns}, () => (plain ? 'x'.repeat(Math.floor(next() * 9)) : cell())),
      )
      for (const padding of [1, 5]) expect(tabwriteRows(rows, {padding})).toBe(tabwrite(rows.map(tabRow), {padding}))
    }
  })
})
