// Kubernetes label and field selectors, as the API server applies them to a list (replay answers
// `?labelSelector=` and `?fieldSelector=` from recorded lists). Grammar: k8s.io/apimachinery
// pkg/labels/selector.go (=, ==, !=, in, notin, exists, !exists) and pkg/fields/selector.go.

export type LabelRequirement =
  | {key: string; op: 'eq' | 'ne'; value: string}
  | {key: string; op: 'in' | 'notin'; values: string[]}
  | {key: string; op: 'exists' | 'absent'}

/** The requirements of a selector string, or undefined when it does not parse. */
export function parseLabelSelector(text: string): LabelRequirement[] | undefined {
  const requirements: LabelRequirement[] = []
  // Commas separate requirements, except inside the parentheses of a set.
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const char of text) {
    if (char === '(') depth += 1
    if (char === ')') depth -= 1
    if (char === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += char
  }
  parts.push(current)
  for (const raw of parts) {
    const part = raw.trim()
    if (part === '') continue
    let match = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part)
    if (match) {
      requirements.push({key: match[1], op: match[2] as 'in' | 'notin', values: match[3].split(',').map((value) => value.trim())})
      continue
    }
    match = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(part)
    if (match) {
      requirements.push({key: match[1], op: match[2] === '!=' ? 'ne' : 'eq', value: match[3]})
      continue
    }
    match = /^(!?)\s*([^\s=!(),]+)$/.exec(part)
    if (match) {
      requirements.push({key: match[2], op: match[1] ? 'absent' : 'exists'})
      continue
    }
    return undefined
  }
  return requirements
}

export function matchesLabelSelector(labels: Readonly<Record<string, string>>, requirements: readonly LabelRequirement[]): boolean {
  return requirements.every((requirement) => {
    const has = Object.hasOwn(labels, requirement.key)
    const value = labels[requirement.key]
    switch (requirement.op) {
      case 'eq':
        return has && value === requirement.value
      case 'ne':
        return !has || value !== requirement.value
      case 'in':
        return has && requirement.values.includes(value)
      case 'notin':
        return !has || !requirement.values.includes(value)
      case 'exists':
        return has
      case 'absent':
        return !has
    }
  })
}

/** `a.b=v,c!=w` against an object's fields (a missing field reads as ""). */
export function matchesFieldSelector(object: Record<string, unknown>, selector: string): boolean {
  return selector
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .every((part) => {
      const match = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part)
      if (!match) return false
      let value: unknown = object
      for (const key of match[1].split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined
      const text = value === undefined || value === null ? '' : String(value)
      return match[2] === '!=' ? text !== match[3] : text === match[3]
    })
}
