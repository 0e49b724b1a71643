/**
 * A port of the layout rules of Go's text/tabwriter (left-aligned, padchar ' ', no flags), which
 * istioctl uses for every proxy-config table. Runbooks parse these tables with awk, so the bytes
 * must match: cells are '\t'-terminated; the text after a line's last tab belongs to no column
 * and is never padded; widths are computed per column block (a run of consecutive lines that all
 * have a terminated cell at that index), so trailing spaces are kept exactly as Go writes them.
 */
import {escapeTerminal, HAS_UNSAFE_BESIDES_TAB} from './escape.js'

export interface TabwriterOptions {
  /** Spaces added to the widest cell of a column block. */
  padding: number
  /** Minimum column width (before padding is compared). */
  minwidth?: number
}

function runeCount(text: string): number {
  let count = 0
  for (const _ of text) count++
  return count
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/

/**
 * One line of cells for `tabwrite`, each cell escaped first, so a tab in a value cannot add a
 * column (tabwrite escapes every other control itself).
 */
export function tabRow(cells: readonly string[]): string {
  return cells.map(escapeTerminal).join('\t')
}

// Printable ASCII: nothing for escapeTerminal to change, and one column per character.
// eslint-disable-next-line no-control-regex
const NOT_PLAIN = /[^\x20-\x7e]/

/**
 * `tabwrite(rows.map(tabRow), options)`, byte for byte, without joining each row into a line and
 * splitting it again: for the tables of `proxy-config all` on a large dump (~10^5 rows), one test
 * per cell is all the usual printable-ASCII table costs before it is laid out.
 */
export function tabwriteRows(rows: ReadonlyArray<readonly string[]>, options: TabwriterOptions): string {
  const cells: string[][] = new Array(rows.length)
  let ascii = true
  let uniform = true
  const columns = rows.length === 0 ? 0 : rows[0].length
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]
    if (row.length !== columns) uniform = false
    const line: string[] = new Array(row.length)
    for (let j = 0; j < row.length; j++) {
      let cell = row[j]
      if (NOT_PLAIN.test(cell)) {
        cell = escapeTerminal(cell)
        if (ascii && NON_ASCII.test(cell)) ascii = false
      }
      line[j] = cell
    }
    cells[i] = line
  }
  if (ascii && uniform) return uniformAsciiTable(cells, options.padding, options.minwidth ?? 0)
  return tabwrite(
    cells.map((line) => line.join('\t')),
    options,
  )
}

/**
 * Formats lines (each without its trailing newline, cells separated by '\t') and returns the
 * text with a newline after every line. Every cell is escaped (see escape.ts) before it is
 * measured, so a control character in a name can neither reach the terminal nor start a row.
 */
export function tabwrite(lines: readonly string[], options: TabwriterOptions): string {
  // One test per line instead of one per cell: lines are nearly always clean.
  const cells: string[][] = lines.map((line) => (HAS_UNSAFE_BESIDES_TAB.test(line) ? line.split('\t').map(escapeTerminal) : line.split('\t')))
  // Go counts runes (code points), not UTF-16 units; tables are nearly always ASCII, so check once.
  const ascii = !lines.some((line) => NON_ASCII.test(line))
  const minwidth = options.minwidth ?? 0
  if (ascii && cells.every((line) => line.length === cells[0].length)) return uniformAsciiTable(cells, options.padding, minwidth)
  const width: (text: string) => number = ascii ? (text) => text.length : runeCount
  const out: string[] = []
  const widths: number[] = []

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = cells[i]
      const padded = Math.min(widths.length, line.length - 1)
      let text = ''
      for (let j = 0; j < padded; j++) {
        const cell = line[j]
        text += cell + ' '.repeat(Math.max(0, widths[j] - width(cell)))
      }
      for (let j = padded; j < line.length; j++) text += line[j]
      out.push(text)
    }
  }

  // Mirrors tabwriter.format(): recursion over column blocks.
  const format = (line0: number, line1: number): void => {
    const column = widths.length
    let start = line0
    for (let current = line0; current < line1; current++) {
      if (column >= cells[current].length - 1) continue
      writeLines(start, current)
      start = current
      let blockWidth = minwidth
      for (; current < line1; current++) {
        const line = cells[current]
        if (column >= line.length - 1) break
        const w = width(line[column]) + options.padding
        if (w > blockWidth) blockWidth = w
      }
      widths.push(blockWidth)
      format(start, current)
      widths.pop()
      start = current
      // Like Go, the outer increment skips the line that ended the block: it has no cell here.
    }
    writeLines(start, line1)
  }

  format(0, cells.length)
  return out.length === 0 ? '' : out.join('\n') + '\n'
}

/**
 * tabwrite for the usual table: ASCII, every line with the same number of cells, so each column is
 * one block spanning all lines (what format() computes then). Written straight into one buffer:
 * for the 80,000 lines of `proxy-config all` on a large dump, several times faster than building
 * each line as a string.
 */
function uniformAsciiTable(cells: readonly string[][], padding: number, minwidth: number): string {
  const padded = cells.length === 0 ? 0 : cells[0].length - 1
  const widths: number[] = new Array(padded).fill(minwidth)
  let size = 0
  for (const line of cells) {
    for (let j = 0; j < padded; j++) widths[j] = Math.max(widths[j], line[j].length + padding)
    size += line[padded].length + 1
  }
  for (const width of widths) size += width * cells.length
  // Buffer's own latin1 methods, without write()'s and toString()'s argument checks (~10^5 calls).
  const out = Buffer.allocUnsafe(size) as Buffer & {latin1Write(text: string, at: number): number; latin1Slice(begin: number, end: number): string}
  let at = 0
  for (const line of cells) {
    for (let j = 0; j < padded; j++) {
      const end = at + widths[j]
      at += out.latin1Write(line[j], at)
      out.fill(0x20, at, end)
      at = end
    }
    at += out.latin1Write(line[padded], at)
    out[at++] = 0x0a
  }
  return out.latin1Slice(0, at)
}
