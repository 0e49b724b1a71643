import {describe, expect, it} from 'vitest'

import {camelName} from '../../src/lib/envoy/fields.js'
import {ByteSink, JsonScanner, projection, ScanDoubt} from '../../src/lib/envoy/json-scan.js'

/** A deterministic PRNG, so a failure is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `text` placed at byte offset `shift` of a larger buffer, so strings cross 4-byte words at every alignment. */
function scannerAt(text: string, shift: number): {scanner: JsonScanner; start: number} {
  const whole = Buffer.from(' '.repeat(shift) + text, 'utf8')
  return {scanner: new JsonScanner(whole.subarray(shift)), start: 0}
}

describe('JsonScanner', () => {
  it('finds the end of strings with quotes, backslashes and multi-byte characters at any alignment', () => {
    const next = rng(7)
    const alphabet = ['a', 'b', '"', '\\', '\\\\', '\\"', '/', 'é', '☃', '😀', '\n', ' ', '{', '}', '[', ']', ',', ':']
    for (let round = 0; round < 400; round++) {
      let raw = ''
      const length = Math.floor(next() * 40)
      for (let i = 0; i < length; i++) raw += alphabet[Math.floor(next() * alphabet.length)]
      const value = {s: raw, n: [raw, {k: raw}], t: 1}
      const text = JSON.stringify(value) + ' ,"after"'
      for (let shift = 0; shift < 4; shift++) {
        const {scanner} = scannerAt(text, shift)
        const end = scanner.skipValue(0)
        expect(end).toBe(Buffer.byteLength(JSON.stringify(value)))
        expect(scanner.parse(0, end)).toEqual(value)
      }
    }
  })

  it('skips containers indented with runs of spaces of every length, at any alignment', () => {
    for (let indent = 0; indent < 12; indent++) {
      const value = {a: [1, {b: 'x  y'}], c: {d: null}}
      const text = JSON.stringify(value, null, ' '.repeat(indent)) + ' '.repeat(indent) + ',"after"'
      for (let shift = 0; shift < 4; shift++) {
        const {scanner} = scannerAt(text, shift)
        expect(scanner.skipValue(0)).toBe(JSON.stringify(value, null, ' '.repeat(indent)).length)
      }
    }
  })

  it('projects only the named members, in both spellings, last one winning like JSON.parse', () => {
    const keep = projection({name: true, filter_metadata: {istio: {config: true}}}, camelName)
    const text = '{"name": "a", "big": {"x": [1, 2, {"name": "deep"}]}, "filterMetadata": {"istio": {"config": "c", "other": 1}}, "n\\u0061me": "b\\u00e9"}'
    const {scanner} = scannerAt(text, 1)
    expect(scanner.project(0, keep)).toEqual({name: 'b\u00e9', filterMetadata: {istio: {config: 'c'}}})
    expect(scanner.endOfLast()).toBe(Buffer.byteLength(text))
    // Arrays are projected element by element; other values come back as they are.
    const list = '[{"name": 1, "x": 2}, null, "s", [{"name": -2.5e3}]]'
    expect(new JsonScanner(Buffer.from(list)).project(0, keep)).toEqual([{name: 1}, null, 's', [{name: -2500}]])
  })

  it('writes a projection as JSON text that parses to exactly what project() builds', () => {
    const keep = projection({name: true, filter_metadata: {istio: {config: true}}, list: {name: true}}, camelName)
    const texts = [
      '{"name": "a", "big": {"x": [1, 2, {"name": "deep"}]}, "filterMetadata": {"istio": {"config": "c", "other": 1}}, "n\\u0061me": "b\\u00e9"}',
      '{"list": [{"name": -2.5e3, "x": 1}, null, "s", [{"name": {"k": [1, "]"]}}]], "name": "x\\"y☃", "name": 1e400}',
      '{}',
      '[{"name": 0}, {"other": {}}, 3]',
    ]
    for (const text of texts) {
      for (let shift = 0; shift < 4; shift++) {
        const {scanner} = scannerAt(text, shift)
        const out = new ByteSink(4)
        expect(scanner.projectText(0, keep, out)).toBe(Buffer.byteLength(text))
        expect(JSON.parse(Buffer.from(out.take()).toString('utf8'))).toEqual(scanner.project(0, keep))
      }
    }
  })

  it('keeps whole values exactly as JSON.parse gives them: nested, escaped, literals, __proto__, deep', () => {
    const next = rng(11)
    const scalars = [0, -0.5, 1e400, 12345678901234567890, -2.5e-3, true, false, null, '', 'a"b\\c', 'é☃😀', '\u0001', 'x/y']
    const randomValue = (depth: number): unknown => {
      const pick = next()
      if (depth > 3 || pick < 0.4) return scalars[Math.floor(next() * scalars.length)]
      if (pick < 0.7) return Array.from({length: Math.floor(next() * 4)}, () => randomValue(depth + 1))
      const object: Record<string, unknown> = {}
      for (let k = Math.floor(next() * 4); k > 0; k--) object[['a', 'b', 'c', 'n\u0061me', '1', '0'][Math.floor(next() * 6)]] = randomValue(depth + 1)
      return object
    }
    const keep = projection({keep: true}, camelName)
    const texts: string[] = []
    for (let round = 0; round < 200; round++) texts.push(JSON.stringify({other: randomValue(0), keep: randomValue(0)}, null, round % 3))
    texts.push('{"keep": {"a": 1, "a": 2, "__proto__": {"x": 1}, "b": [ ]}}', '{"keep": [{"__proto__": null}]}', '{"keep": {"d\\u0061": 1, "x": { }}}')
    texts.push(`{"keep": ${'['.repeat(100)}1${']'.repeat(100)}}`, `{"keep": ${'{"a": '.repeat(100)}true${'}'.repeat(100)}}`)
    for (const text of texts) {
      const expected = (JSON.parse(text) as {keep: unknown}).keep
      const {scanner} = scannerAt(text, texts.indexOf(text) % 4)
      const object = scanner.project(0, keep) as {keep: unknown}
      expect(scanner.endOfLast()).toBe(Buffer.byteLength(text))
      expect(JSON.stringify(object.keep)).toBe(JSON.stringify(expected))
      expect(object.keep).toEqual(expected)
    }
    const proto = (new JsonScanner(Buffer.from(texts.at(-5)!)).project(0, keep) as {keep: object}).keep
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype)
    expect(Object.keys(proto)).toEqual(['a', '__proto__', 'b'])
  })

  it.each(['{"keep": {"a": 1,}}', '{"keep": [1,]}', '{"keep": {"a\nb": 1}}', '{"keep": {"a": tru}}', '{"keep": {"a": "x\ty"}}', '{"keep": {"a" 1}}', '{"keep": [1 2]}', '{"keep": {"a": 01}}'])('doubts a kept value JSON.parse refuses: %j', (text) => {
    expect(() => JSON.parse(text)).toThrow()
    expect(() => new JsonScanner(Buffer.from(text)).project(0, projection({keep: true}, camelName))).toThrow(ScanDoubt)
  })

  it.each(['{"a": "unterminated', '{"a" 1}', '{"a": 1,}x', '{"a": [1, 2}', '{"a": ]'])('doubts %j', (text) => {
    const scanner = new JsonScanner(Buffer.from(text))
    expect(() => scanner.project(0, projection({a: true}, camelName))).toThrow(ScanDoubt)
  })

  describe('splitElements and walkRange', () => {
    const list = Array.from({length: 60}, (_, i) => ({cluster: {name: `c${i}`, hosts: [{a: i}, {b: '},\n {'}], tags: []}}))
    const layouts: Array<[string, string]> = [
      ['Envoy (1 space)', JSON.stringify({configs: [{x: list}]}, null, 1)],
      ['jq (2 spaces)', JSON.stringify({configs: [{x: list}]}, null, 2)],
      ['tabs', JSON.stringify({configs: [{x: list}]}, null, '\t')],
      ['CRLF', JSON.stringify({configs: [{x: list}]}, null, 1).replaceAll('\n', '\r\n')],
      ['compact', JSON.stringify({configs: [{x: list}]})],
    ]

    /** The elements of the array at `at`, found range by range, with every range verified. */
    const walk = (scanner: JsonScanner, at: number, rangeBytes: number) => {
      const ranges: Array<[number, number]> = []
      const end = scanner.splitElements(at, rangeBytes, (begin, stop) => ranges.push([begin, stop]))
      const elements: unknown[] = []
      for (const [begin, stop] of ranges) {
        scanner.walkRange(begin, stop, (value) => {
          const valueEnd = scanner.skipValue(value)
          elements.push(scanner.parse(value, valueEnd))
          return valueEnd
        })
      }
      return {ranges, end, elements}
    }

    it.each(layouts)('splits a list into verified ranges of whole elements (%s)', (_, text) => {
      const scanner = new JsonScanner(Buffer.from(text))
      const at = text.indexOf('[', text.indexOf('"x"'))
      const {ranges, end, elements} = walk(scanner, at, 300)
      expect(elements).toEqual(list)
      expect(ranges.length).toBeGreaterThan(5)
      expect(text[end - 1]).toBe(']')
      expect(text.slice(end).replace(/\s/g, '')).toBe('}]}')
      // One range when the list is smaller than a range; none for an empty list.
      expect(walk(scanner, at, 1 << 30).ranges).toHaveLength(1)
      const empty = new JsonScanner(Buffer.from('[ \n ]'))
      expect(walk(empty, 0, 1)).toEqual({ranges: [], end: 5, elements: []})
    })

    it.each<[string, string]>([
      // An element holding a list printed at the list's own indentation: its "},\n {" is found as a boundary.
      ['an inner list at the same indentation', '{\n"x": [\n {\n  "a": [\n {\n },\n {\n }\n]\n },\n {\n  "b": 1\n },\n {\n  "c": 2\n }\n]}'],
      // A line closing an inner list with the outer list's indentation: taken for the list's end.
      ['an inner list closed at the list\'s indentation', '{\n"x": [\n {\n  "b": 1\n },\n {\n  "a": [1\n]\n },\n {\n  "c": 2\n }\n]}'],
    ])('doubts ranges that do not chain exactly (%s)', (_, text) => {
      expect(JSON.parse(text)).toBeTruthy()
      const scanner = new JsonScanner(Buffer.from(text))
      expect(() => walk(scanner, text.indexOf('['), 1)).toThrow(ScanDoubt)
    })

    it('doubts a range that ends in a trailing comma or runs past its stop', () => {
      const scanner = new JsonScanner(Buffer.from('[{}, {},]'))
      expect(() => scanner.walkRange(1, 8, (at) => scanner.skipValue(at))).toThrow(ScanDoubt)
      expect(() => scanner.walkRange(1, 3, (at) => scanner.skipValue(at))).toThrow(ScanDoubt)
      expect(() => scanner.walkRange(1, 5, (at) => scanner.skipValue(at))).not.toThrow()
    })
  })
})
