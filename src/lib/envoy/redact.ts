import {configDumpFromJson, type ConfigDump} from './configdump.js'
import type {Json} from './fields.js'

/**
 * Envoy's admin API redacts private keys in /config_dump, but a dump from anywhere else (istiod's
 * view of a proxy, a file a colleague saved from a test harness, a Struct-typed config Envoy cannot
 * see into) can carry them inline. meshdbg never prints key material: every dump it prints, in any
 * format, goes through `redactKeyMaterial` first.
 *
 * Key material is the inline value (`inline_bytes`, `inline_string`, `inline_secret`) of a data
 * source under a `private_key` or a TLS `password`, or anywhere under a `generic_secret` or
 * `session_ticket_keys`, in snake_case or lowerCamelCase. File names and environment variable
 * names are references, not material, and are kept. Values Envoy already redacted are kept as they
 * are (so `-o json` of an admin dump stays byte for byte Envoy's) and not counted.
 */

export const REDACTED = '[redacted]'

const KEY_HOLDERS = new Set(['private_key', 'privateKey', 'password', 'generic_secret', 'genericSecret', 'session_ticket_keys', 'sessionTicketKeys'])
const MATERIAL = new Set(['inline_bytes', 'inlineBytes', 'inline_string', 'inlineString', 'inline_secret', 'inlineSecret'])
/** What Envoy prints for a redacted field: the string, or base64 of it for `bytes` fields. */
const ALREADY_REDACTED = new Set([REDACTED, Buffer.from(REDACTED).toString('base64')])

export interface Redaction<T> {
  /** The value with key material replaced; the very same object when there was none. */
  value: T
  /** How many values were replaced. */
  count: number
}

interface Visit {
  node: Json
  underKey: boolean
  parent?: Visit
  key?: string | number
}

/**
 * A copy of `value` without key material (copied only along the paths that had some).
 *
 * Iterative, not recursive: a dump from another tool can nest thousands of levels, deeper than the
 * call stack, and `-o json` still prints it. First find the key material (explicit stack, each
 * visit linked to its parent), then copy the containers along each path from the root.
 */
export function redactKeyMaterial<T>(value: T): Redaction<T> {
  const found: Visit[] = []
  const stack: Visit[] = [{node: value as Json, underKey: false}]
  while (stack.length > 0) {
    const visit = stack.pop()!
    const {node, underKey} = visit
    if (node === null || typeof node !== 'object') continue
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) stack.push({node: node[i], underKey, parent: visit, key: i})
      continue
    }
    for (const key of Object.keys(node)) {
      const child = node[key]
      if (underKey && MATERIAL.has(key) && typeof child === 'string') {
        if (!ALREADY_REDACTED.has(child)) found.push({node: child, underKey, parent: visit, key})
      } else {
        stack.push({node: child, underKey: underKey || KEY_HOLDERS.has(key), parent: visit, key})
      }
    }
  }
  if (found.length === 0) return {value, count: 0}

  const copies = new Map<object, Record<string | number, Json>>()
  const copyOf = (node: Json): Record<string | number, Json> => {
    let copy = copies.get(node as object)
    if (!copy) copies.set(node as object, (copy = (Array.isArray(node) ? [...node] : {...(node as Record<string, Json>)}) as Record<string | number, Json>))
    return copy
  }
  for (const leaf of found) {
    const steps: Visit[] = []
    for (let step: Visit | undefined = leaf; step.parent; step = step.parent) steps.push(step)
    let container = copyOf(steps.at(-1)!.parent!.node)
    for (let i = steps.length - 1; i > 0; i--) {
      const next = copyOf(steps[i].node)
      container[steps[i].key!] = next as Json
      container = next
    }
    container[leaf.key!] = REDACTED
  }
  return {value: copyOf(value as Json) as T, count: found.length}
}

/** A parsed config dump without key material (the same dump when it had none). */
export function redactConfigDump(dump: ConfigDump): Redaction<ConfigDump> {
  const {value: raw, count} = redactKeyMaterial(dump.raw)
  return {value: count === 0 ? dump : configDumpFromJson(raw, dump.origin), count}
}

/** The stderr line that says key material was left out. */
export function redactionNote(count: number): string {
  return `redacted ${count} private key${count === 1 ? '' : 's'} (meshdbg never prints key material; they show as "${REDACTED}")`
}
