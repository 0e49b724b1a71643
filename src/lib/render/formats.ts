import {createRequire} from 'node:module'

// `yaml` is loaded on first use: most runs print tables, and importing it costs ~30 ms of startup.
const requireModule = createRequire(import.meta.url)
const loadYaml = (): typeof import('yaml') => requireModule('yaml') as typeof import('yaml')

/** `-o json`: 2-space JSON with a trailing newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
}

/**
 * `-o yaml`: block style, 2-space indent, sequences not indented under their key (the layout
 * kubectl and istioctl print), strings quoted only when needed.
 */
export function toYaml(value: unknown): string {
  return loadYaml().stringify(value, {
    indent: 2,
    indentSeq: false,
    lineWidth: 0,
    minContentWidth: 0,
    aliasDuplicateObjects: false,
  })
}


export function renderStructured(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? toJson(value) : toYaml(value)
}
