/** Istio's naming conventions inside Envoy config, as istioctl derives its columns from them. */

export interface SubsetKey {
  direction: string
  port: number
  subset: string
  hostname: string
}

/**
 * `direction|port|subset|hostname` (model.ParseSubsetKey). Only names with more than three
 * `|`-separated parts are parsed; an unparseable port is 0; extra parts leave hostname empty.
 */
export function parseSubsetKey(name: string): SubsetKey | undefined {
  const parts = name.split('|')
  if (parts.length <= 3) return undefined
  const port = /^-?\d+$/.test(parts[1]) ? Number.parseInt(parts[1], 10) : 0
  return {
    direction: parts[0],
    port: Number.isFinite(port) ? port : 0,
    subset: parts[2],
    hostname: parts.length === 4 ? parts[3] : '',
  }
}

/**
 * The DESTINATION RULE / VIRTUAL SERVICE column from `filter_metadata.istio.config`:
 * `/apis/networking.istio.io/<v>/namespaces/<ns>/<kind>/<name>` → `name.ns`; that prefix with
 * another piece count → ""; anything else (including "") → `<unknown>`; absent → "".
 */
export function istioConfigName(configPath: string | undefined): string {
  if (configPath === undefined) return ''
  if (!configPath.startsWith('/apis/networking.istio.io/')) return '<unknown>'
  const pieces = configPath.split('/')
  if (pieces.length !== 8) return ''
  return `${pieces[7]}.${pieces[5]}`
}
