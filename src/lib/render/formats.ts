import {createRequire} from 'node:module'

import {badDataError} from '../errors.js'

// `yaml` is loaded on first use: most runs print tables, and importing it costs ~30 ms of startup.
const requireModule = createRequire(import.meta.url)
const loadYaml = (): typeof import('yaml') => requireModule('yaml') as typeof import('yaml')

const isStackOverflow = (error: unknown): boolean => error instanceof RangeError && /call stack/i.test(error.message)

/** `-o json`: 2-space JSON with a trailing newline. */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) + '\n'
  } catch (error) {
    // JSON.stringify recurses once per level and overflows the stack past a few thousand levels;
    // a dump that JSON.parse accepted (it does not recurse) is still printed, by a loop.
    if (!isStackOverflow(error)) throw error
    return stringifyJsonIteratively(value) + '\n'
  }
}

/**
 * JSON.stringify(value, null, 2) for JSON data (no toJSON, no replacer), with an explicit stack
 * instead of recursion, so any depth JSON.parse can produce is printable.
 */
export function stringifyJsonIteratively(value: unknown): string {
  interface Frame {
    entries: Array<[key: string | undefined, value: unknown]>
    next: number
    indent: string
    close: string
  }
  const out: string[] = []
  const stack: Frame[] = []
  const open = (item: unknown, indent: string): void => {
    if (item === null || typeof item !== 'object') {
      out.push(JSON.stringify(item) ?? 'null')
    } else if (Array.isArray(item)) {
      if (item.length === 0) out.push('[]')
      else {
        out.push('[')
        stack.push({entries: item.map((element): [undefined, unknown] => [undefined, element]), next: 0, indent: indent + '  ', close: ']'})
      }
    } else {
      const entries = Object.entries(item).filter(([, member]) => member !== undefined && typeof member !== 'function' && typeof member !== 'symbol')
      if (entries.length === 0) out.push('{}')
      else {
        out.push('{')
        stack.push({entries, next: 0, indent: indent + '  ', close: '}'})
      }
    }
  }
  open(value, '')
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]
    if (frame.next === frame.entries.length) {
      stack.pop()
      out.push('\n' + frame.indent.slice(2) + frame.close)
      continue
    }
    const [key, member] = frame.entries[frame.next++]
    out.push((frame.next > 1 ? ',\n' : '\n') + frame.indent + (key === undefined ? '' : JSON.stringify(key) + ': '))
    open(member, frame.indent)
  }
  try {
    return out.join('')
  } catch (error) {
    if (error instanceof RangeError) throw badDataError(`the data is too large to print as JSON (${depthOf(value)} levels deep, over JavaScript's maximum string length)`)
    throw error
  }
}

/** Nesting depth of objects and arrays, measured without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0
  const pending: Array<[unknown, number]> = [[value, 0]]
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!
    if (item === null || typeof item !== 'object') continue
    deepest = Math.max(deepest, depth + 1)
    for (const member of Object.values(item)) pending.push([member, depth + 1])
  }
  return deepest
}

/**
 * Characters `yaml` leaves raw even inside double quotes that YAML 1.1 readers (PyYAML, go-yaml v2)
 * misread there: DEL, the C1 controls, U+FFFE/U+FFFF are outside 1.1's printable set (the stream is
 * refused); NEL, U+2028 and U+2029 are 1.1 line breaks (folded into a space); a BOM is dropped.
 * Written as escapes, every reader accepts them.
 */
const MUST_ESCAPE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g
/**
 * Strings that must be double-quoted so those escapes can apply, and strings with a tab, which
 * `yaml` prints plain (valid YAML 1.2) but PyYAML's scanner rejects in a plain scalar.
 */
const NEEDS_DOUBLE_QUOTES = /[\t\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/

/** `=` is YAML 1.1's "value key" type, which PyYAML's safe loader refuses to construct. */
const VALUE_KEY = '='

const escapeCharacter = (char: string): string => {
  const code = char.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`
}

/**
 * A number JavaScript writes in exponent form (`1e+21`, `1e-7`) is a float in YAML 1.2 but a
 * string for YAML 1.1 readers, whose float pattern needs a dot and a signed exponent; written with
 * a mantissa dot (`1.0e+21`) it is the same float for both.
 */
const exponentFloat = {
  identify: (value: unknown) => typeof value === 'number' && Number.isFinite(value) && String(value).includes('e'),
  default: true,
  tag: 'tag:yaml.org,2002:float',
  // Never matches: this tag only writes; reading leaves floats to the schema's own tags.
  test: /(?!)/,
  resolve: (text: string) => Number(text),
  stringify: ({value}: {value: unknown}) => {
    const [mantissa, exponent] = String(value).split('e')
    return `${mantissa.includes('.') ? mantissa : mantissa + '.0'}e${exponent.startsWith('-') ? exponent : '+' + exponent.replace('+', '')}`
  },
}

/**
 * `-o yaml`: block style, 2-space indent, sequences not indented under their key (the layout
 * kubectl and istioctl print), strings quoted only when needed, where "needed" is judged by YAML
 * 1.2 and YAML 1.1 together (`compat`), so PyYAML, go-yaml v2 and kubectl-style tooling load back
 * exactly the JSON data: `2022-12-08T11:03:53Z`, `yes`, `on`, `y`, `1_000`, `0o17`, `~` stay strings.
 */
export function toYaml(value: unknown): string {
  try {
    return stringifyYaml(value)
  } catch (error) {
    // `yaml` recurses several frames per level and overflows the stack at several hundred; its
    // output would be unreadable anyway, so say so and point at the format that prints it.
    if (!isStackOverflow(error)) throw error
    throw badDataError(`the data is nested too deeply to print as YAML (${depthOf(value)} levels); -o json prints it`)
  }
}

function stringifyYaml(value: unknown): string {
  const YAML = loadYaml()
  const doc = new YAML.Document(value, {
    aliasDuplicateObjects: false,
    compat: 'yaml-1.1',
    customTags: (tags) => [exponentFloat, ...tags],
  })
  let quoted = false
  YAML.visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && (NEEDS_DOUBLE_QUOTES.test(node.value) || node.value === VALUE_KEY)) {
        node.type = 'QUOTE_DOUBLE'
        quoted = true
      }
    },
  })
  const text = doc.toString({indent: 2, indentSeq: false, lineWidth: 0, minContentWidth: 0})
  // Such characters can only occur inside the double-quoted scalars forced above.
  return quoted ? text.replace(MUST_ESCAPE, escapeCharacter) : text
}

export function renderStructured(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? toJson(value) : toYaml(value)
}
