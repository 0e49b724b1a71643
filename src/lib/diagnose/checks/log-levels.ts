import {ENVOY_LEVELS, normaliseLevel} from '../../envoy/log-levels.js'
import {shellArg} from '../../render/shell-quote.js'
import type {Check} from '../types.js'

const rank = (level: string): number => {
  const known = normaliseLevel(level)
  return known === undefined ? ENVOY_LEVELS.length : ENVOY_LEVELS.indexOf(known)
}

/**
 * Loggers more verbose than the proxy started with (debug or trace left on after an
 * investigation): they cost CPU and flood the log. The start-up levels are the pod's own
 * (sidecar.istio.io/logLevel and componentLogLevel, else the injected arguments, else warning).
 */
export const logLevelsCheck: Check = {
  id: 'log-levels',
  group: 'Proxy',
  title: 'no logger left more verbose than the proxy started with',
  async run(facts) {
    const loggers = await facts.logLevels()
    const start = facts.pod.startLevels
    const startOf = (name: string): string => start.loggers.find((logger) => logger.name === name)?.level ?? start.level ?? 'warning'
    const raised = [...loggers].filter(([name, level]) => rank(level) < rank(startOf(name)) && rank(level) <= ENVOY_LEVELS.indexOf('debug'))
    if (raised.length === 0) return [{severity: 'pass', message: `every logger at its start-up level or quieter (${start.level ?? 'warning'})`}]
    const byLevel = new Map<string, string[]>()
    for (const [name, level] of raised) byLevel.set(level, [...(byLevel.get(level) ?? []), name])
    const words = [...byLevel].map(([level, names]) => `${names.length === loggers.size ? 'all' : names.length} logger${names.length === 1 ? '' : 's'} at ${level} (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''})`)
    return [{
      severity: 'warn',
      message: `${words.join(', ')}: above the start-up level ${start.level ?? 'warning'}`,
      hint: 'debug logging left on after an investigation costs CPU and floods the log',
      command: `meshdbg log ${shellArg(facts.pod.id, '<pod>')} --reset`,
      evidence: raised.map(([name, level]) => `${name}: ${level}`),
    }]
  },
}
