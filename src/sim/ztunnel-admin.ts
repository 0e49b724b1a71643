// A ztunnel pod's admin server (port 15000), after istio/ztunnel src/admin.rs: GET /config_dump and
// POST /logging with ztunnel's own syntax (`level=info`, `level=ztunnel::proxy=debug,info`,
// `&reset`) and its answers: "current log level is …", 400 "Invalid level provided: …" (an
// istioctl-style `access:debug` gets exactly that), 405 for other methods.
import type {IncomingMessage} from 'node:http'

import type {Scenario, SimPod} from './model.js'
import {defaultZtunnelLog, ztunnelConfigDump, type ZtunnelPodState} from './ztunnel.js'

type Send = (code: number, body: string, contentType?: string) => void

const HELP_STRING = `
usage: POST /logging\t\t\t\t\t\t(To list current level)
usage: POST /logging?level=<level>\t\t\t\t(To change global levels)
usage: POST /logging?level={mod1}:{level1},{mod2}:{level2}\t(To change specific mods' logging level)

hint: loglevel:\terror|warn|info|debug|trace|off
hint: mod_name:\tthe module name, i.e. ztunnel::proxy
`

const BARE_LEVELS = ['off', 'error', 'warn', 'info', 'debug', 'trace']

/** tracing's LevelFilter::from_str: a name in any case, or 0 (off) to 5 (trace). */
function levelFilter(text: string): string | undefined {
  if (/^[0-5]$/.test(text)) return BARE_LEVELS[Number(text)]
  const lower = text.toLowerCase()
  return BARE_LEVELS.includes(lower) ? lower : undefined
}

/** One directive of tracing_subscriber's Targets: `level` or `target=level` (a bare target means trace). */
function parseDirective(text: string): {target?: string; level: string} | undefined {
  const parts = text.split('=')
  if (parts.length > 2 || text.includes('[')) return undefined
  if (parts.length === 1) {
    const level = levelFilter(text)
    return level ? {level} : {target: text, level: 'trace'}
  }
  const level = levelFilter(parts[1])
  return level && parts[0] !== '' ? {target: parts[0], level} : undefined
}

/** admin.rs validate_log_level: bare levels (exactly, lowercase) or `target=level` clauses. */
function validLevel(level: string): boolean {
  return level.split(',').every((clause) => BARE_LEVELS.includes(clause) || (clause.includes('=') && parseDirective(clause) !== undefined))
}

/** Targets' Display: the most specific (longest) targets first, then the default level. */
function describe(state: ZtunnelPodState): string {
  const targets = Object.entries(state.targets).sort(([a], [b]) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0))
  return [...targets.map(([target, level]) => `${target}=${level}`), state.defaultLevel].join(',')
}

/** telemetry.rs set_level: the new directives over the current filter (or over the default one on reset). */
function apply(state: ZtunnelPodState, level: string, reset: boolean): void {
  if (reset) Object.assign(state, defaultZtunnelLog())
  for (const clause of level.split(',').filter(Boolean)) {
    const directive = parseDirective(clause)!
    if (directive.target === undefined) state.defaultLevel = directive.level
    else state.targets = {...state.targets, [directive.target]: directive.level}
  }
}

export function handleZtunnelAdmin(pod: SimPod, scenario: Scenario, req: IncomingMessage, send: Send): void {
  const url = new URL(req.url ?? '/', 'http://x')
  const state = pod.ztunnel!
  if (url.pathname === '/config_dump') {
    return send(200, `${JSON.stringify(ztunnelConfigDump(scenario, pod, Date.now()), null, 2)}\n`, 'application/json')
  }
  if (url.pathname === '/logging') {
    if (req.method !== 'POST') return send(405, `Invalid HTTP method\n ${HELP_STRING}`)
    const level = url.searchParams.get('level')
    const reset = url.searchParams.has('reset')
    if (!level && !reset) return send(200, `current log level is ${describe(state)}\n`)
    if (level && !validLevel(level)) return send(400, `Invalid level provided: ${level}\n${HELP_STRING}`)
    apply(state, level ?? '', reset)
    return send(200, `current log level is ${describe(state)}\n`)
  }
  send(404, '')
}
