// Kubernetes label and field selectors (k8s.io/apimachinery/pkg/labels and fields syntax).

export type LabelRequirement =
  | {key: string; op: 'eq' | 'neq'; value: string}
  | {key: string; op: 'in' | 'notin'; values: string[]}
  | {key: string; op: 'exists' | 'notexists'}

export class SelectorError extends Error {}

function splitTopLevel(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += ch
  }
  parts.push(current)
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/

export function parseLabelSelector(text: string): LabelRequirement[] {
  return splitTopLevel(text).map((part) => {
    let m = /^!\s*(\S+)$/.exec(part)
    if (m) return {key: check(m[1]), op: 'notexists'}
    m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part)
    if (m) return {key: check(m[1]), op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim())}
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part)
    if (m) return {key: check(m[1]), op: m[2] === '!=' ? 'neq' : 'eq', value: m[3]}
    if (KEY.test(part)) return {key: part, op: 'exists'}
    throw new SelectorError(`unable to parse requirement: found '${part}', expected: identifier`)
  })
}

function check(key: string): string {
  if (!KEY.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}"`)
  return key
}

export function matchesLabels(requirements: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key)
    switch (r.op) {
      case 'eq': return has && l[r.key] === r.value
      case 'neq': return !has || l[r.key] !== r.value
      case 'in': return has && r.values.includes(l[r.key])
      case 'notin': return !has || !r.values.includes(l[r.key])
      case 'exists': return has
      case 'notexists': return !has
    }
  })
}

export interface FieldRequirement {field: string; op: 'eq' | 'neq'; value: string}

export function parseFieldSelector(text: string): FieldRequirement[] {
  return splitTopLevel(text).map((part) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(part)
    if (!m) throw new SelectorError(`invalid selector: '${part}'; can't understand '${part}'`)
    return {field: m[1].trim(), op: m[2] === '!=' ? 'neq' : 'eq', value: m[3].trim()}
  })
}

/** Reads a dotted field path (`status.phase`, `metadata.name`) from a JSON object. */
export function matchesFields(requirements: FieldRequirement[], obj: Record<string, unknown>, supported: string[]): boolean {
  return requirements.every((r) => {
    if (!supported.includes(r.field)) throw new SelectorError(`field label not supported: ${r.field}`)
    let v: unknown = obj
    for (const piece of r.field.split('.')) v = (v as Record<string, unknown> | undefined)?.[piece]
    const s = v === undefined || v === null ? '' : String(v)
    return r.op === 'eq' ? s === r.value : s !== r.value
  })
}
