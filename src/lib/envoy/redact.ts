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

/** A copy of `value` without key material (copied only along the paths that had some). */
export function redactKeyMaterial<T>(value: T): Redaction<T> {
  let count = 0
  const walk = (node: Json, underKey: boolean): Json => {
    if (node === null || typeof node !== 'object') return node
    if (Array.isArray(node)) {
      let copy: Json[] | undefined
      for (let i = 0; i < node.length; i++) {
        const child = walk(node[i], underKey)
        if (child !== node[i]) (copy ??= [...node])[i] = child
      }
      return copy ?? node
    }
    let copy: Record<string, Json> | undefined
    for (const key of Object.keys(node)) {
      const child = node[key]
      let replaced: Json
      if (underKey && MATERIAL.has(key) && typeof child === 'string') {
        if (ALREADY_REDACTED.has(child)) continue
        replaced = REDACTED
        count++
      } else {
        replaced = walk(child, underKey || KEY_HOLDERS.has(key))
      }
      if (replaced !== child) (copy ??= {...node})[key] = replaced
    }
    return copy ?? node
  }
  const redacted = walk(value, false) as T
  return {value: redacted, count}
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
