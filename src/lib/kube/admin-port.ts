import {parse as parseYaml} from 'yaml'

import type {RunContext} from '../context.js'
import type {ResolvedPod} from './resolve.js'

export const DEFAULT_PROXY_ADMIN_PORT = 15000
export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config'

export interface AdminPortChoice {
  port: number
  /** Where the port came from, for --verbose notes. */
  source: 'flag' | 'annotation' | 'default'
  /** Set when an annotation was present but unusable (the default is used instead). */
  warning?: string
}

/**
 * Envoy's admin port for a pod: the flag, else `proxyAdminPort` from the pod's
 * `proxy.istio.io/config` annotation (a ProxyConfig in YAML or JSON), else 15000. No
 * `sidecar.istio.io/*` annotation sets the admin port (Istio only reads it from ProxyConfig).
 */
export function chooseAdminPort(flagPort: number | undefined, annotations: Readonly<Record<string, string>> | undefined): AdminPortChoice {
  if (flagPort !== undefined) return {port: flagPort, source: 'flag'}
  const text = annotations?.[PROXY_CONFIG_ANNOTATION]
  if (text === undefined || text.trim() === '') return {port: DEFAULT_PROXY_ADMIN_PORT, source: 'default'}
  let config: unknown
  try {
    config = parseYaml(text)
  } catch (error) {
    return {
      port: DEFAULT_PROXY_ADMIN_PORT,
      source: 'default',
      warning: `ignoring unparsable ${PROXY_CONFIG_ANNOTATION} annotation (${firstLine((error as Error).message)}); using admin port ${DEFAULT_PROXY_ADMIN_PORT}`,
    }
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    return {port: DEFAULT_PROXY_ADMIN_PORT, source: 'default'}
  }
  const record = config as Record<string, unknown>
  const raw = record.proxyAdminPort ?? record.proxy_admin_port
  if (raw === undefined || raw === null) return {port: DEFAULT_PROXY_ADMIN_PORT, source: 'default'}
  const port = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65_535) return {port, source: 'annotation'}
  return {
    port: DEFAULT_PROXY_ADMIN_PORT,
    source: 'default',
    warning: `ignoring proxyAdminPort ${JSON.stringify(raw)} in ${PROXY_CONFIG_ANNOTATION} (not a port number); using ${DEFAULT_PROXY_ADMIN_PORT}`,
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim()
}

/** The admin port of a resolved pod (see chooseAdminPort); an unusable annotation is noted once here. */
export function adminPortOf(ctx: RunContext, resolved: Pick<ResolvedPod, 'name' | 'namespace' | 'pod'>, proxyAdminPort: number | undefined): AdminPortChoice {
  const choice = chooseAdminPort(proxyAdminPort, resolved.pod.metadata?.annotations)
  if (choice.warning) ctx.note(`Warning: pod ${resolved.name}.${resolved.namespace}: ${choice.warning}`)
  return choice
}
