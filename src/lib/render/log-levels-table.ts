import {summarizeChanges, summarizeLevels} from '../envoy/log-levels.js'
import type {LogLevelsResult, PodLogLevels} from '../istio/log-levels-live.js'
import {tabRow, tabwrite} from './tabwriter.js'

/** `POD RESULT CHANGED` after a change, `POD LEVELS` for a read. */
export function renderLogLevelsTable(result: LogLevelsResult): string {
  const read = result.mode === 'read'
  const header = read ? 'POD\tLEVELS' : 'POD\tRESULT\tCHANGED'
  const rows = result.pods.map((pod) => {
    const name = `${pod.pod}.${pod.namespace}`
    if (read) return tabRow([name, pod.levels ? summarizeLevels(new Map(Object.entries(pod.levels))) : `${pod.result}: ${pod.error ?? ''}`])
    return tabRow([name, pod.result, changedCell(pod)])
  })
  return tabwrite([header, ...rows].map((line) => line + '\t'), {padding: 2}).replace(/ +$/gm, '')
}

function changedCell(pod: PodLogLevels): string {
  if (pod.result === 'failed' || pod.result === 'skipped') return shorten(pod.error ?? '-')
  if (!pod.changes || !pod.levels) return '-'
  const after = new Map(Object.entries(pod.levels))
  return summarizeChanges(pod.changes, after)
}

/** The full reason is in the error (and -o json); the table keeps one readable line. */
function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ')
  return line.length > 100 ? line.slice(0, 97) + '...' : line
}
