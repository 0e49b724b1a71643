import {stringify as yamlStringify} from 'yaml'

/** `-o json`: 2-space JSON with a trailing newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
}

/**
 * `-o yaml`: block style, 2-space indent, sequences not indented under their key (the layout
 * kubectl and istioctl print), strings quoted only when needed.
 */
export function toYaml(value: unknown): string {
  return yamlStringify(value, {
    indent: 2,
    indentSeq: false,
    lineWidth: 0,
    minContentWidth: 0,
    aliasDuplicateObjects: false,
  })
}

export type OutputFormat = 'short' | 'table' | 'json' | 'yaml' | 'wide'

export function renderStructured(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? toJson(value) : toYaml(value)
}
