/**
 * A structural JSON scanner over raw bytes: finds where values begin and end (tracking strings,
 * escapes and nesting depth) without building them, so a command can decode only the parts of a
 * 150 MB config dump it needs, in any layout (any whitespace, CRLF, compact, any key order).
 *
 * It checks structure (quotes, brackets, separators at the levels it walks), not every byte of
 * skipped values. Anything it does not expect throws ScanDoubt: the caller then parses the whole
 * input with JSON.parse, so results and error messages never depend on the scanner.
 */

/** The scanner is unsure (unexpected byte, unterminated value, ...): use a full parse instead. */
export class ScanDoubt extends Error {
  constructor(at: number) {
    super(`unexpected JSON structure at byte ${at}`)
  }
}

// Byte classes outside strings: 1 quote, 2 opening bracket, 3 closing bracket.
const OUTSIDE = new Uint8Array(256)
OUTSIDE[0x22] = 1
OUTSIDE[0x7b] = 2
OUTSIDE[0x5b] = 2
OUTSIDE[0x7d] = 3
OUTSIDE[0x5d] = 3

const QUOTE = 0x22
/** Nesting that decode() builds itself; deeper values are handed to JSON.parse whole (its own recursion is not the call stack's). */
const DECODE_DEPTH = 64
const BACKSLASH = 0x5c
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/**
 * Which members to keep of the objects at one position (through arrays: each element is projected
 * alike): `true` keeps the whole value, a nested Projection keeps part of it. Build with
 * `projection()`, which adds the lowerCamelCase spelling of every name, as `field()` reads both.
 */
export interface Projection {
  readonly names: readonly string[]
  /** The names as bytes, matched against member names without decoding them. */
  readonly keys: readonly Buffer[]
  /** `"name":` as bytes, for projections written as JSON text (projectText). */
  readonly members: readonly Buffer[]
  readonly subs: ReadonlyArray<Projection | true>
}

export interface ProjectionSpec {
  readonly [snake: string]: ProjectionSpec | true
}

export function projection(spec: ProjectionSpec, camel: (snake: string) => string): Projection {
  const names: string[] = []
  const subs: Array<Projection | true> = []
  for (const [name, sub] of Object.entries(spec)) {
    const value = sub === true ? true : projection(sub, camel)
    for (const spelling of new Set([name, camel(name)])) {
      names.push(spelling)
      subs.push(value)
    }
  }
  return {names, keys: names.map((name) => Buffer.from(name, 'utf8')), members: names.map((name) => Buffer.from(`${JSON.stringify(name)}:`, 'utf8')), subs}
}

/**
 * A growing byte buffer that projectText writes JSON text to. Its bytes can be transferred to
 * another thread (take()), which then parses them with JSON.parse.
 */
export class ByteSink {
  private buffer: Uint8Array
  private length = 0

  constructor(capacity = 1 << 16) {
    this.buffer = new Uint8Array(capacity)
  }

  private reserve(count: number): void {
    if (this.length + count <= this.buffer.length) return
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + count))
    grown.set(this.buffer.subarray(0, this.length))
    this.buffer = grown
  }

  byte(c: number): void {
    this.reserve(1)
    this.buffer[this.length++] = c
  }

  /** Appends `source[begin, end)`. */
  append(source: Uint8Array, begin: number, end: number): void {
    const count = end - begin
    this.reserve(count)
    const target = this.buffer
    let at = this.length
    // Most copies are names and short values: a loop beats creating a subarray for set().
    if (count < 48) for (let k = begin; k < end; k++) target[at++] = source[k]
    else target.set(source.subarray(begin, end), at)
    this.length += count
  }

  /**
   * The bytes written, in a buffer of their own (nothing else is kept alive by transferring it);
   * the sink is then empty and reuses its buffer (allocating one per task would leave megabytes of
   * off-heap garbage that a worker allocating little else rarely collects).
   */
  take(): Uint8Array {
    const bytes = this.buffer.slice(0, this.length)
    this.length = 0
    return bytes
  }
}

/** Buffer's own decoders, without toString()'s argument checks (a projection decodes ~10^5 short values). */
interface FastSlices {
  latin1Slice(begin: number, end: number): string
  utf8Slice(begin: number, end: number): string
}

export class JsonScanner {
  readonly bytes: Buffer
  /** Where the value read by the last project() call ended. */
  private end = 0
  // Strings are skipped 4 bytes at a time through an aligned 32-bit view (most bytes of a dump are
  // inside strings): `shift` is the first byte offset of `bytes` that is word-aligned.
  private readonly words: Int32Array
  private readonly shift: number

  constructor(bytes: Buffer) {
    this.bytes = bytes
    const alignedStart = (bytes.byteOffset + 3) & ~3
    this.shift = alignedStart - bytes.byteOffset
    const count = Math.max(0, (bytes.byteOffset + bytes.length - alignedStart) >> 2)
    this.words = new Int32Array(bytes.buffer, alignedStart, count)
  }

  skipSpace(i: number): number {
    const b = this.bytes
    while (isSpace(b[i])) i++
    return i
  }

  /** `i` is just past an opening quote; returns the index just past the closing one. */
  skipStringBody(i: number): number {
    const b = this.bytes
    const n = b.length
    const words = this.words
    const shift = this.shift
    for (;;) {
      if (((i - shift) & 3) === 0) {
        // Skip whole words holding neither '"' nor '\' (the classic has-zero-byte test on v ^ pattern;
        // it can flag a word wrongly, never miss one, and flagged words are then read byte by byte).
        let j = (i - shift) >> 2
        const count = words.length
        while (j < count) {
          const v = words[j]
          const q = v ^ 0x22222222
          const e = v ^ 0x5c5c5c5c
          if ((((q - 0x01010101) & ~q) | ((e - 0x01010101) & ~e)) & 0x80808080) break
          j++
        }
        i = (j << 2) + shift
      }
      if (i >= n) throw new ScanDoubt(n)
      const c = b[i++]
      if (c === QUOTE) return i
      if (c === BACKSLASH) i++
    }
  }

  /** `i` is at an opening bracket; returns the index just past its matching closing bracket. */
  skipContainer(i: number): number {
    const b = this.bytes
    const n = b.length
    let depth = 0
    while (i < n) {
      const c = b[i++]
      const kind = OUTSIDE[c]
      if (kind === 0) {
        // Indentation (pretty-printed dumps are a third spaces): whole aligned words of spaces at once.
        if (c === 0x20 && b[i] === 0x20 && ((i - this.shift) & 3) === 0) {
          const words = this.words
          let j = (i - this.shift) >> 2
          while (j < words.length && words[j] === 0x20202020) j++
          i = (j << 2) + this.shift
        }
        continue
      }
      if (kind === 1) i = this.skipStringBody(i)
      else if (kind === 2) depth++
      else if (--depth === 0) return i
    }
    throw new ScanDoubt(n)
  }

  /** `i` is at the first byte of a value; returns the index just past it. */
  skipValue(i: number): number {
    const b = this.bytes
    const c = b[i]
    if (c === QUOTE) return this.skipStringBody(i + 1)
    if (c === 0x7b || c === 0x5b) return this.skipContainer(i)
    // A number, true, false or null: up to the next separator (JSON.parse checks it when kept).
    let k = i
    for (;;) {
      const d = b[k]
      if (d === undefined || d === 0x2c || d === 0x7d || d === 0x5d || isSpace(d)) break
      k++
    }
    if (k === i) throw new ScanDoubt(i)
    return k
  }

  /** Decodes a member name: the bytes between the quotes at [begin, end). */
  private key(begin: number, end: number): string {
    const b = this.bytes
    for (let k = begin; k < end; k++) {
      const c = b[k]
      // JSON.parse refuses raw control characters in strings: so does the scanner.
      if (c < 0x20) throw new ScanDoubt(k)
      if (c === BACKSLASH) return JSON.parse((b as unknown as FastSlices).utf8Slice(begin - 1, end + 1)) as string
      if (c >= 0x80) return (b as unknown as FastSlices).utf8Slice(begin, end)
    }
    return (b as unknown as FastSlices).latin1Slice(begin, end)
  }

  /**
   * Walks the object whose '{' is at `i`: calls `member(name, valueStart)` for each member, which
   * returns where that value ends. Returns the index just past the '}'.
   */
  members(i: number, member: (name: string, valueStart: number) => number): number {
    const b = this.bytes
    if (b[i] !== 0x7b) throw new ScanDoubt(i)
    i = this.skipSpace(i + 1)
    if (b[i] === 0x7d) return i + 1
    for (;;) {
      if (b[i] !== QUOTE) throw new ScanDoubt(i)
      const keyEnd = this.skipStringBody(i + 1)
      const name = this.key(i + 1, keyEnd - 1)
      i = this.skipSpace(keyEnd)
      if (b[i] !== 0x3a) throw new ScanDoubt(i)
      i = this.skipSpace(i + 1)
      i = this.skipSpace(member(name, i))
      const c = b[i++]
      if (c === 0x7d) return i
      if (c !== 0x2c) throw new ScanDoubt(i - 1)
      i = this.skipSpace(i)
    }
  }

  /** Walks the array whose '[' is at `i`: `element(valueStart)` returns where that value ends. */
  elements(i: number, element: (valueStart: number) => number): number {
    const b = this.bytes
    if (b[i] !== 0x5b) throw new ScanDoubt(i)
    i = this.skipSpace(i + 1)
    if (b[i] === 0x5d) return i + 1
    for (;;) {
      i = this.skipSpace(element(i))
      const c = b[i++]
      if (c === 0x5d) return i
      if (c !== 0x2c) throw new ScanDoubt(i - 1)
      i = this.skipSpace(i)
    }
  }

  /**
   * Splits the array whose '[' is at `i` into ranges of whole elements of about `rangeBytes` each,
   * calling `range(begin, stop)` in order: `begin` is the first byte of the range's first element,
   * `stop` the first byte of the next range's first element, or the array's ']' for the last range.
   * Returns the index just past the ']'.
   *
   * A pretty-printed array (each closing bracket on a line of its own) is split without walking it:
   * the bytes from the line break before the first element's closing bracket to the second element's
   * opening one (e.g. `\n    },\n    {`), searched natively, mark further element boundaries, and the
   * array's indentation before ']' marks its end. A line break is never inside a JSON string, so a
   * match is a `}`, `,`, `{` outside strings, but not necessarily at this array's level (odd
   * indentation): whoever walks the ranges (walkRange) verifies that the elements chain exactly from
   * each `begin` to its `stop`, and throws ScanDoubt otherwise. Other layouts (compact JSON) are walked
   * element by element here, as before.
   */
  splitElements(i: number, rangeBytes: number, range: (begin: number, stop: number) => void): number {
    const b = this.bytes
    if (b[i] !== 0x5b) throw new ScanDoubt(i)
    const first = this.skipSpace(i + 1)
    if (b[first] !== 0x5d) {
      const firstEnd = this.skipValue(first)
      const after = this.skipSpace(firstEnd)
      const second = b[after] === 0x2c ? this.skipSpace(after + 1) : -1
      const boundary = second > 0 ? this.linePattern(firstEnd - 1, second + 1) : undefined
      const close = boundary && this.closingLine(i)
      const closeAt = close ? b.indexOf(close, second) : -1
      const stop = closeAt < 0 ? -1 : closeAt + close!.length - 1
      if (boundary && stop > second) {
        let begin = first
        for (;;) {
          const match = begin + rangeBytes < stop ? b.indexOf(boundary, begin + rangeBytes) : -1
          const next = match + boundary.length - 1
          if (match < 0 || next >= stop) break
          range(begin, next)
          begin = next
        }
        range(begin, stop)
        return stop + 1
      }
    }
    let begin = -1
    const end = this.elements(i, (element) => {
      if (begin < 0) begin = element
      else if (element - begin >= rangeBytes) {
        range(begin, element)
        begin = element
      }
      return this.skipValue(element)
    })
    if (begin >= 0) range(begin, end - 1)
    return end
  }

  /**
   * The bytes from the line break before the closing bracket at `close` to `end` (exclusive), if
   * that bracket is the first thing on its line and the two elements are containers alike.
   */
  private linePattern(close: number, end: number): Buffer | undefined {
    const b = this.bytes
    const open = b[end - 1]
    if (!((open === 0x7b && b[close] === 0x7d) || (open === 0x5b && b[close] === 0x5d))) return undefined
    let k = close - 1
    while (k >= 0 && (b[k] === 0x20 || b[k] === 0x09 || b[k] === 0x0d)) k--
    return k >= 0 && b[k] === 0x0a ? Buffer.from(b.subarray(k, end)) : undefined
  }

  /** `\n`, the indentation of the line holding the '[' (or '{') at `i`, then its closing bracket: where a pretty printer closes it. */
  private closingLine(i: number, close = ']'): Buffer | undefined {
    const b = this.bytes
    const lineStart = b.lastIndexOf(0x0a, i) + 1
    if (lineStart === 0) return undefined
    let k = lineStart
    while (b[k] === 0x20 || b[k] === 0x09) k++
    return Buffer.concat([b.subarray(lineStart - 1, k), Buffer.from(close)])
  }

  /**
   * Where a pretty printer would have ended the object or array at `i` (just past its closing
   * bracket, the first one on a line indented as the line holding `i`), found by a native search;
   * undefined when the text is not laid out so. Unverified: a guess for whoever can check it
   * (RouteConfigMemo compares the guessed range with text whose extent a walk proved).
   */
  prettyEnd(i: number): number | undefined {
    const open = this.bytes[i]
    if (open !== 0x7b && open !== 0x5b) return undefined
    const close = this.closingLine(i, open === 0x7b ? '}' : ']')
    if (close === undefined) return undefined
    const at = this.bytes.indexOf(close, i)
    return at < 0 ? undefined : at + close.length
  }

  /**
   * Walks the elements of a range from splitElements: calls `element(valueStart)` for each (it
   * returns where that value ends) and checks that they chain exactly from `begin` to `stop`
   * (the next element's first byte after a comma, or the array's ']'); ScanDoubt otherwise.
   */
  walkRange(begin: number, stop: number, element: (valueStart: number) => number): void {
    const b = this.bytes
    let i = begin
    for (;;) {
      i = this.skipSpace(element(i))
      const c = b[i]
      if (c === 0x5d && i === stop) return
      if (c !== 0x2c) throw new ScanDoubt(i)
      i = this.skipSpace(i + 1)
      if (i === stop && b[i] !== 0x5d) return
      if (i >= stop) throw new ScanDoubt(i)
    }
  }

  /** JSON.parse of the bytes [begin, end); a syntax error is a doubt (the full parse reports it). */
  parse(begin: number, end: number): unknown {
    try {
      return JSON.parse((this.bytes as unknown as FastSlices).utf8Slice(begin, end))
    } catch {
      throw new ScanDoubt(begin)
    }
  }

  /**
   * The value at [begin, end), decoded like JSON.parse: strings without escapes and numbers
   * directly (most kept values are names), everything else through JSON.parse.
   */
  value(begin: number, end: number): unknown {
    const b = this.bytes
    const c = b[begin]
    if (c === QUOTE) {
      let ascii = true
      let k = begin + 1
      for (; k < end - 1; k++) {
        const d = b[k]
        if (d === BACKSLASH || d < 0x20) break
        if (d >= 0x80) ascii = false
      }
      if (k === end - 1) return ascii ? (b as unknown as FastSlices).latin1Slice(begin + 1, k) : (b as unknown as FastSlices).utf8Slice(begin + 1, k)
    } else if (c === 0x74 && end - begin === 4 && b[begin + 1] === 0x72 && b[begin + 2] === 0x75 && b[begin + 3] === 0x65) {
      return true
    } else if (c === 0x66 && end - begin === 5 && b[begin + 1] === 0x61 && b[begin + 2] === 0x6c && b[begin + 3] === 0x73 && b[begin + 4] === 0x65) {
      return false
    } else if (c === 0x6e && end - begin === 4 && b[begin + 1] === 0x75 && b[begin + 2] === 0x6c && b[begin + 3] === 0x6c) {
      return null
    } else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      // The JSON number grammar is a subset of Number()'s; anything else falls to JSON.parse.
      const text = (b as unknown as FastSlices).latin1Slice(begin, end)
      if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(text)) return Number(text)
    }
    return this.parse(begin, end)
  }

  /** Which of `keep`'s names the member name at [begin, end) (between its quotes) is; -1 for none. */
  private keptName(begin: number, end: number, keep: Projection): number {
    const b = this.bytes
    const length = end - begin
    const keys = keep.keys
    next: for (let k = 0; k < keys.length; k++) {
      const key = keys[k]
      if (key.length !== length) continue
      for (let j = 0; j < length; j++) if (b[begin + j] !== key[j]) continue next
      return k
    }
    // A name spelled with escapes ("n\u0061me") can still be a kept one.
    for (let j = begin; j < end; j++) if (b[j] === BACKSLASH) return keep.names.indexOf(this.key(begin, end))
    return -1
  }

  /**
   * The value at `i` with only the members `keep` names (objects in arrays alike), each kept
   * member exactly as JSON.parse gives it; a repeated name keeps the last, as JSON.parse does.
   * `endOfLast()` then tells where the value ended.
   */
  project(i: number, keep: Projection): unknown {
    const b = this.bytes
    const c = b[i]
    if (c === 0x7b) {
      // members(), inlined: this walks every object of a projected section.
      const object: Record<string, unknown> = {}
      i = this.skipSpace(i + 1)
      if (b[i] === 0x7d) {
        this.end = i + 1
        return object
      }
      for (;;) {
        if (b[i] !== QUOTE) throw new ScanDoubt(i)
        const keyEnd = this.skipStringBody(i + 1)
        const kept = this.keptName(i + 1, keyEnd - 1, keep)
        i = this.skipSpace(keyEnd)
        if (b[i] !== 0x3a) throw new ScanDoubt(i)
        i = this.skipSpace(i + 1)
        if (kept < 0) {
          i = this.skipValue(i)
        } else {
          const sub = keep.subs[kept]
          object[keep.names[kept]] = sub === true ? this.decode(i, 0) : this.project(i, sub)
          i = this.end
        }
        i = this.skipSpace(i)
        const d = b[i++]
        if (d === 0x7d) break
        if (d !== 0x2c) throw new ScanDoubt(i - 1)
        i = this.skipSpace(i)
      }
      this.end = i
      return object
    }
    if (c === 0x5b) {
      const array: unknown[] = []
      this.end = this.elements(i, (at) => {
        array.push(this.project(at, keep))
        return this.end
      })
      return array
    }
    const end = this.skipValue(i)
    this.end = end
    return this.value(i, end)
  }

  /**
   * The whole value at `i`, exactly as JSON.parse gives it, built while walking it (kept members
   * are mostly small objects, a host's address or health status: slicing each to a string for
   * JSON.parse cost more than the walk). `endOfLast()` then tells where it ended. A `__proto__`
   * member (an assignment would set the prototype, JSON.parse makes a member) and nesting deeper
   * than DECODE_DEPTH go through JSON.parse. Its member loop repeats project()'s rather than
   * sharing one with a callback: this is the scanner's hot path, where a call per member would add up.
   */
  private decode(i: number, depth: number): unknown {
    const b = this.bytes
    const c = b[i]
    if ((c === 0x7b || c === 0x5b) && depth >= DECODE_DEPTH) {
      const end = this.skipValue(i)
      this.end = end
      return this.parse(i, end)
    }
    if (c === 0x7b) {
      const start = i
      const object: Record<string, unknown> = {}
      i = this.skipSpace(i + 1)
      if (b[i] === 0x7d) {
        this.end = i + 1
        return object
      }
      for (;;) {
        if (b[i] !== QUOTE) throw new ScanDoubt(i)
        const keyEnd = this.skipStringBody(i + 1)
        const name = this.key(i + 1, keyEnd - 1)
        if (name === '__proto__') {
          const end = this.skipValue(start)
          this.end = end
          return this.parse(start, end)
        }
        i = this.skipSpace(keyEnd)
        if (b[i] !== 0x3a) throw new ScanDoubt(i)
        object[name] = this.decode(this.skipSpace(i + 1), depth + 1)
        i = this.skipSpace(this.end)
        const d = b[i++]
        if (d === 0x7d) break
        if (d !== 0x2c) throw new ScanDoubt(i - 1)
        i = this.skipSpace(i)
      }
      this.end = i
      return object
    }
    if (c === 0x5b) {
      const array: unknown[] = []
      i = this.skipSpace(i + 1)
      if (b[i] === 0x5d) {
        this.end = i + 1
        return array
      }
      for (;;) {
        array.push(this.decode(i, depth + 1))
        i = this.skipSpace(this.end)
        const d = b[i++]
        if (d === 0x5d) break
        if (d !== 0x2c) throw new ScanDoubt(i - 1)
        i = this.skipSpace(i)
      }
      this.end = i
      return array
    }
    const end = this.skipValue(i)
    this.end = end
    return this.value(i, end)
  }

  /**
   * project(), written as JSON text to `out` instead of built as objects: kept values are copied
   * byte for byte (JSON.parse of the text gives exactly what project() gives, and a value
   * project() would doubt makes that JSON.parse fail). Returns the index just past the value.
   * This is what worker threads send back: a fraction of the bytes, parsed natively in one go.
   */
  projectText(i: number, keep: Projection, out: ByteSink): number {
    const b = this.bytes
    const c = b[i]
    if (c === 0x7b) {
      out.byte(0x7b)
      let first = true
      i = this.skipSpace(i + 1)
      if (b[i] === 0x7d) {
        out.byte(0x7d)
        return i + 1
      }
      for (;;) {
        if (b[i] !== QUOTE) throw new ScanDoubt(i)
        const keyEnd = this.skipStringBody(i + 1)
        const kept = this.keptName(i + 1, keyEnd - 1, keep)
        i = this.skipSpace(keyEnd)
        if (b[i] !== 0x3a) throw new ScanDoubt(i)
        i = this.skipSpace(i + 1)
        if (kept < 0) {
          i = this.skipValue(i)
        } else {
          if (!first) out.byte(0x2c)
          first = false
          const member = keep.members[kept]
          out.append(member, 0, member.length)
          const sub = keep.subs[kept]
          if (sub === true) {
            const end = this.skipValue(i)
            out.append(b, i, end)
            i = end
          } else {
            i = this.projectText(i, sub, out)
          }
        }
        i = this.skipSpace(i)
        const d = b[i++]
        if (d === 0x7d) break
        if (d !== 0x2c) throw new ScanDoubt(i - 1)
        i = this.skipSpace(i)
      }
      out.byte(0x7d)
      return i
    }
    if (c === 0x5b) {
      out.byte(0x5b)
      let first = true
      const end = this.elements(i, (at) => {
        if (!first) out.byte(0x2c)
        first = false
        return this.projectText(at, keep, out)
      })
      out.byte(0x5d)
      return end
    }
    const end = this.skipValue(i)
    out.append(b, i, end)
    return end
  }

  endOfLast(): number {
    return this.end
  }
}
