import type {RunContext} from '../context.js'
import {MeshdbgError, usageError} from '../errors.js'
import {fetchFromPod} from '../kube/index.js'
import {proxyIdOf} from './istiod.js'

/** pilot-agent's status server (health, merged metrics, DNS table). */
export const AGENT_STATUS_PORT = 15020
/** pilot-agent's XDS debug tap, Istio 1.11-1.24 only. */
export const AGENT_DEBUG_PORT = 15004

export interface DnsEntry {
  hostname: string
  shortname?: string
  namespace?: string
  registry?: string
  ips: string[]
  altHosts?: string[]
}

/** The agent's 15004 `/debug/syncz` body, or why there is none: its port is gone (Istio 1.25+). */
export type AgentSynczAnswer =
  | {available: true; text: string; origin: string}
  | {available: false; port: number; error: MeshdbgError}

// Every error status comes back to us: only a connection nothing accepts means "no 15004".
const ANY_ERROR_STATUS = Array.from({length: 200}, (_, index) => 400 + index)

/**
 * What the proxy's pilot-agent gets from its istiod (port 15004 `/debug/syncz`, Istio 1.11-1.24).
 * A refused or closed connection is the usual 1.25+ agent without the port: `available: false`,
 * with the error to throw for callers that have no fallback. An HTTP answer other than 200 means
 * the agent is up: 503 (its proxy has no XDS connection to istiod) and 504 (istiod did not answer
 * in time) throw as themselves (exit 4), like any other status.
 */
export async function fetchAgentSyncz(ctx: RunContext, pod: {name: string; namespace: string}): Promise<AgentSynczAnswer> {
  const proxy = proxyIdOf(pod)
  let answer
  try {
    answer = await ctx.spin(`Asking the pilot-agent of ${proxy} for /debug/syncz`, fetchFromPod(ctx, pod, AGENT_DEBUG_PORT, '/debug/syncz', {acceptStatus: ANY_ERROR_STATUS}))
  } catch (error) {
    if (!(error instanceof MeshdbgError) || error.kind !== 'connection') throw error
    return {
      available: false,
      port: AGENT_DEBUG_PORT,
      error: new MeshdbgError('connection', `the pilot-agent of ${proxy} does not answer on port ${AGENT_DEBUG_PORT} (its XDS debug tap was removed in Istio 1.25)`, {
        hint: `ask istiod instead: meshdbg sync-status ${proxy} --agent falls back to it, or meshdbg sync-status -n ${pod.namespace} (every istiod replica)`,
      }),
    }
  }
  if (answer.status !== 200) {
    const body = answer.text.trim().replace(/\s+/g, ' ').slice(0, 120)
    const meaning = answer.status === 503 ? 'its proxy is not connected to istiod' : answer.status === 504 ? 'istiod did not answer it in time' : 'unexpected answer'
    throw new MeshdbgError('connection', `the pilot-agent of ${proxy} answered HTTP ${answer.status} on :${AGENT_DEBUG_PORT}/debug/syncz: ${meaning}${body ? ` (${body})` : ''}`, {
      hint: answer.status === 503 || answer.status === 504 ? 'the proxy has no working XDS connection to istiod: see its istio-proxy logs and meshdbg sync-status' : undefined,
    })
  }
  return {available: true, text: answer.text, origin: `pilot-agent ${proxy} :${AGENT_DEBUG_PORT}/debug/syncz`}
}

/** `--match`: `/regex/flags` is a regular expression, anything else a substring. */
export function metricMatcher(spec: string): (line: string) => boolean {
  const regex = /^\/(.+)\/([a-z]*)$/.exec(spec)
  if (!regex) return (line) => line.includes(spec)
  let pattern: RegExp
  try {
    pattern = new RegExp(regex[1], regex[2])
  } catch (error) {
    throw usageError(`--match: invalid regular expression ${spec}: ${(error as Error).message}`)
  }
  return (line) => pattern.test(line)
}

/**
 * Prometheus text lines kept by `matches` (all without one): matching samples, each family's
 * `# HELP`/`# TYPE` lines before its first kept sample.
 */
export function filterMetrics(text: string, matches?: (line: string) => boolean): string[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  if (!matches) return lines
  const kept: string[] = []
  let comments: string[] = []
  let family = ''
  for (const line of lines) {
    if (line.startsWith('#')) {
      // Envoy writes only # TYPE, the agent # HELP and # TYPE: a new name starts a new family.
      const name = /^# (?:HELP|TYPE) (\S+)/.exec(line)?.[1]
      if (name !== undefined && name !== family) {
        comments = []
        family = name
      }
      comments.push(line)
      continue
    }
    if (!matches(line)) continue
    kept.push(...comments, line)
    comments = []
  }
  return kept
}

/** The entries of a NameTable (`{table: {host: {ips, registry, shortname, namespace, altHosts}}}`), by hostname. */
export function nameTableEntries(body: unknown): DnsEntry[] {
  const table = (body as {table?: Record<string, Record<string, unknown>>} | null)?.table ?? {}
  return Object.entries(table)
    .map(([hostname, entry]): DnsEntry => ({
      hostname,
      ...(typeof entry.shortname === 'string' ? {shortname: entry.shortname} : {}),
      ...(typeof entry.namespace === 'string' ? {namespace: entry.namespace} : {}),
      ...(typeof entry.registry === 'string' ? {registry: entry.registry} : {}),
      ips: Array.isArray(entry.ips) ? entry.ips.map(String) : [],
      ...(Array.isArray(entry.altHosts) ? {altHosts: entry.altHosts.map(String)} : {}),
    }))
    .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0))
}
