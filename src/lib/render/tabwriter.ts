/**
 * A port of the layout rules of Go's text/tabwriter (left-aligned, padchar ' ', no flags), which
 * istioctl uses for every proxy-config table. Runbooks parse these tables with awk, so the bytes
 * must match: cells are '\t'-terminated; the text after a line's last tab belongs to no column
 * and is never padded; widths are computed per column block (a run of consecutive lines that all
 * have a terminated cell at that index), so trailing spaces are kept exactly as Go writes them.
 */
export interface TabwriterOptions {
  /** Spaces added to the widest cell of a column block. */
  padding: number
  /** Minimum column width (before padding is compared). */
  minwidth?: number
}

function cellWidth(text: string): number {
  // Go counts runes (code points), not UTF-16 units.
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(text)) return text.length
  let count = 0
  for (const _ of text) count++
  return count
}

/**
 * Formats lines (each without its trailing newline, cells separated by '\t') and returns the
 * text with a newline after every line.
 */
export function tabwrite(lines: readonly string[], options: TabwriterOptions): string {
  const cells: string[][] = lines.map((line) => line.split('\t'))
  const widthsOf: number[][] = cells.map((line) => line.map(cellWidth))
  const minwidth = options.minwidth ?? 0
  const out: string[] = []
  const widths: number[] = []

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = cells[i]
      const lineWidths = widthsOf[i]
      let text = ''
      for (let j = 0; j < line.length; j++) {
        text += line[j]
        if (j < widths.length && j < line.length - 1) {
          const pad = widths[j] - lineWidths[j]
          if (pad > 0) text += ' '.repeat(pad)
        }
      }
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
      let width = minwidth
      for (; current < line1; current++) {
        const line = cells[current]
        if (column >= line.length - 1) break
        const w = widthsOf[current][column] + options.padding
        if (w > width) width = w
      }
      widths.push(width)
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
