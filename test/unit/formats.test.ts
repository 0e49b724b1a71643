import {spawnSync} from 'node:child_process'

import {describe, expect, it} from 'vitest'
import YAML from 'yaml'

import {isMeshdbgError} from '../../src/lib/errors.js'
import {stringifyJsonIteratively, toJson, toYaml} from '../../src/lib/render/formats.js'

/** Strings that YAML 1.1 readers (PyYAML, go-yaml v2) or 1.2 readers resolve to something else when plain. */
export const TRICKY_STRINGS = [
  '2022-12-08T11:03:53.361Z', '2022-12-08', '2001-12-14 21:59:43.10 -5', 'yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N',
  'YES', 'Off', 'true', 'True', 'FALSE', 'null', 'Null', 'NULL', '~', '', '1_000', '0o17', '017', '0x1F', '0b101',
  '1:20', '190:20:30', '1e3', '1E3', '.5', '+1', '-1', '.inf', '-.Inf', '.NaN', '.nan', '<<', '=', '1.0', '12.',
  '0.1_0', '-0', '+.5', ' lead', 'trail ', 'multi\nline', 'tab\there', '\ttab', 'x\u2028y', 'x\u2029y', 'a\u0085b',
  'c\u007fd', 'c\u0090d', '\ufeffbom', 'mid\ufeff', '\uffff', 'a\ufffeb', 'ctl\u0001', '1,000', '3:25:45', 'a: b',
  '- x', '#c', '!x', '&a', '*a', '|', '>', '?', '---', '...', 'x #y', 'a\r\nb', 'trailing\n', 'emoji \u{1F600}',
]

const trickyData = {
  values: TRICKY_STRINGS,
  keys: Object.fromEntries(TRICKY_STRINGS.map((text) => [text, [text]])),
  numbers: [0, 1, -1, 0.5, 1e21, -1e21, 1e-7, -2.5e-8, 1.7976931348623157e308, 5e-324, true, false, null],
}

/** PyYAML's safe_load (a YAML 1.1 reader) of `text`, as JSON; undefined when python3 or PyYAML is missing. */
function loadWithPyYaml(text: string): unknown {
  const probe = spawnSync('python3', ['-c', 'import yaml'], {encoding: 'utf8'})
  if (probe.status !== 0) {
    console.log('notice: python3 with PyYAML not found; the PyYAML round trip is skipped')
    return undefined
  }
  const script = 'import sys,yaml,json; sys.stdout.write(json.dumps(yaml.safe_load(sys.stdin.buffer.read().decode("utf-8"))))'
  const result = spawnSync('python3', ['-c', script], {input: text, encoding: 'utf8'})
  expect(result.stderr).toBe('')
  return JSON.parse(result.stdout)
}

describe('toYaml', () => {
  it('loads back to exactly the JSON data with YAML 1.1 and 1.2 readers', () => {
    const text = toYaml(trickyData)
    const expected = JSON.parse(toJson(trickyData))
    expect(YAML.parse(text, {version: '1.1'})).toEqual(expected)
    expect(YAML.parse(text, {version: '1.2'})).toEqual(expected)
    expect(YAML.parse(text, {schema: 'yaml-1.1'})).toEqual(expected)
  })

  it('loads back to exactly the JSON data with PyYAML', () => {
    const loaded = loadWithPyYaml(toYaml(trickyData))
    if (loaded !== undefined) expect(loaded).toEqual(JSON.parse(toJson(trickyData)))
  })

  it('quotes timestamps and 1.1 booleans, and keeps the kubectl layout', () => {
    expect(toYaml({last_updated: '2022-12-08T11:03:53.361Z', flag: 'on', list: ['yes', 'plain']})).toBe(
      'last_updated: "2022-12-08T11:03:53.361Z"\nflag: "on"\nlist:\n- "yes"\n- plain\n',
    )
  })

  it('writes exponent floats with a mantissa dot (a YAML 1.1 float)', () => {
    expect(toYaml([1e21, 1e-7, 1.5e-8])).toBe('- 1.0e+21\n- 1.0e-7\n- 1.5e-8\n')
  })

  it('escapes what YAML 1.1 misreads inside double quotes', () => {
    expect(toYaml(['x\u2028y', 'c\u007fd', 'a\tb'])).toBe('- "x\\u2028y"\n- "c\\x7fd"\n- "a\\tb"\n')
  })

  it('refuses data nested too deeply for the YAML writer with a one-line bad-data error', () => {
    let deep: unknown = 'x'
    for (let level = 0; level < 1000; level++) deep = {a: deep}
    let caught: unknown
    try {
      toYaml(deep)
    } catch (error) {
      caught = error
    }
    expect(isMeshdbgError(caught) && caught.exitCode).toBe(6)
    expect((caught as Error).message).toBe('the data is nested too deeply to print as YAML (1000 levels); -o json prints it')
  })
})

describe('toJson', () => {
  it('the iterative writer prints what JSON.stringify prints', () => {
    const samples: unknown[] = [
      trickyData,
      {a: [], b: {}, c: [[], [{}], {d: [1, 'two', null, true]}], e: undefined, f: [undefined, () => 1], g: Number.NaN},
      [],
      {},
      'text',
      42,
      null,
    ]
    for (const sample of samples) expect(stringifyJsonIteratively(sample)).toBe(JSON.stringify(sample, null, 2))
  })

  it('prints data nested deeper than JSON.stringify can recurse', () => {
    const depth = 7000
    let deep: unknown = 'x'
    for (let level = 0; level < depth; level++) deep = [deep]
    expect(() => JSON.stringify(deep, null, 2)).toThrow(RangeError)
    const lines = toJson(deep).split('\n')
    expect(lines).toHaveLength(2 * depth + 2)
    expect(lines[depth]).toBe(' '.repeat(2 * depth) + '"x"')
    expect(lines.at(-2)).toBe(']')
  })
})
