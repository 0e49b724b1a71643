import type {Json} from '../envoy/fields.js'
import {redactKeyMaterial, redactionNote} from '../envoy/redact.js'
import {renderStructured, toJson, toYaml} from './formats.js'

/**
 * `-o json|yaml` of anything taken from a config dump or a debug view: key material redacted
 * (redact.ts), with one line on stderr through `warn` when any was. Everything else stays exact.
 */
export function renderDump(value: unknown, format: 'json' | 'yaml', warn: (message: string) => void): string {
  const {value: safe, count} = redactKeyMaterial(value)
  if (count > 0) warn(redactionNote(count))
  return renderStructured(safe, format)
}

/**
 * A whole dump: `-o json` prints the text as fetched (Envoy's own layout) unless key material had
 * to be taken out, in which case it is re-serialised from the redacted tree.
 */
export function renderDumpText(text: string, raw: Json, format: 'json' | 'yaml', warn: (message: string) => void): string {
  const {value: safe, count} = redactKeyMaterial(raw)
  if (count > 0) warn(redactionNote(count))
  if (format === 'yaml') return toYaml(safe)
  if (count > 0) return toJson(safe)
  return text.endsWith('\n') ? text : text + '\n'
}
