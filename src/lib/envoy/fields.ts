/**
 * Envoy's admin API prints proto field names in snake_case; istiod's debug endpoints and some
 * istioctl fixtures print protobuf JSON in lowerCamelCase. Every reader goes through `field` so
 * both spellings work without rewriting the (possibly 300 MB) tree.
 */
export type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const camelCache = new Map<string, string>()

export function camelName(snake: string): string {
  let camel = camelCache.get(snake)
  if (camel === undefined) {
    camel = snake.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase())
    camelCache.set(snake, camel)
  }
  return camel
}

/** Reads a proto field by its snake_case name, accepting the lowerCamelCase spelling too. */
export function field(obj: Json, snake: string): Json {
  if (obj === null || typeof obj !== 'object') return undefined
  const value = obj[snake]
  if (value !== undefined) return value
  return obj[camelName(snake)]
}

/** Follows a path of snake_case field names. */
export function path(obj: Json, ...names: string[]): Json {
  let current = obj
  for (const name of names) {
    current = field(current, name)
    if (current === undefined || current === null) return undefined
  }
  return current
}

export function arrayField(obj: Json, snake: string): Json[] {
  const value = field(obj, snake)
  return Array.isArray(value) ? value : []
}

export function stringField(obj: Json, snake: string): string {
  const value = field(obj, snake)
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value)
}

/** Proto int fields arrive as numbers, or as strings for 64-bit values; absent means 0. */
export function numberField(obj: Json, snake: string): number {
  const value = field(obj, snake)
  if (typeof value === 'number') return value
  if (typeof value === 'string' && value !== '') {
    const n = Number(value)
    return Number.isFinite(n) ? n : 0
  }
  return 0
}

/**
 * Proto enums arrive as names, as numbers, or not at all (absent = value 0). `names` lists the
 * enum's values in number order.
 */
export function enumField(obj: Json, snake: string, names: readonly string[]): string {
  const value = field(obj, snake)
  if (typeof value === 'string') return value
  if (typeof value === 'number') return names[value] ?? String(value)
  return names[0]
}

/** A proto UInt32Value wrapper: a number, a numeric string, or `{value}`; undefined when absent. */
export function uint32Value(value: Json): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number') return value
  if (typeof value === 'string') return value !== '' && Number.isFinite(Number(value)) ? Number(value) : undefined
  if (typeof value === 'object') return numberField(value, 'value')
  return undefined
}
