import {SYNC_TYPES, type SyncState, type SyncStatusRow} from '../istio/sync-status.js'
import {escapeTerminal} from './escape.js'
import {tabwrite} from './tabwriter.js'

const HEADER = ['NAME', 'CLUSTER', ...SYNC_TYPES, 'ISTIOD', 'VERSION']
const PADDING = 5
/** Index of the first status column (CDS). */
const FIRST_STATUS = 2

const ANSI: Readonly<Record<SyncState, string>> = {
  SYNCED: '\u001B[32m',
  'NOT SENT': '\u001B[2m',
  STALE: '\u001B[33m',
  'STALE (Never Acknowledged)': '\u001B[33m',
  ERROR: '\u001B[31m',
  IGNORED: '\u001B[2m',
}
const RESET = '\u001B[0m'

function cellsOf(row: SyncStatusRow, wide: boolean, context: boolean): string[] {
  const cells = [...(context ? [row.context ?? ''] : []), row.proxy, row.clusterId, ...SYNC_TYPES.map((type) => row.types[type].display), row.istiod, row.version]
  // Escaped here, not only by tabwrite: the colour pass below measures these same cells.
  return (wide ? [...cells, nackText(row)] : cells).map(escapeTerminal)
}

/** The wide table's NACK column: each rejected type's message, on one line (tabs and newlines would break the layout). */
function nackText(row: SyncStatusRow): string {
  const messages = SYNC_TYPES.filter((type) => row.types[type].error).map((type) => `${type}: ${row.types[type].error}`)
  // eslint-disable-next-line no-control-regex
  return messages.length === 0 ? '-' : messages.join('; ').replace(/[\u0000-\u001F\u007F-\u009F\s]+/g, ' ').trim()
}

/**
 * The per-type table Istio 1.17 users know (`NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION`),
 * laid out by the tabwriter port with istioctl's padding; `contextColumn` puts each row's kubeconfig
 * context first. Colour is applied after layout, so
 * escape codes never count towards column widths.
 */
export function renderSyncStatusTable(rows: readonly SyncStatusRow[], options: {color?: boolean; wide?: boolean; contextColumn?: boolean} = {}): string {
  const wide = Boolean(options.wide)
  const context = Boolean(options.contextColumn)
  // CONTEXT leads only when several clusters are in play, so one cluster's table stays istioctl's.
  const header = [...(context ? ['CONTEXT'] : []), ...HEADER, ...(wide ? ['NACK'] : [])]
  const firstStatus = FIRST_STATUS + (context ? 1 : 0)
  const cells = [header, ...rows.map((row) => cellsOf(row, wide, context))]
  const text = tabwrite(
    cells.map((line) => line.join('\t')),
    {padding: PADDING},
  )
  if (!options.color || rows.length === 0) return text
  // Every line has the same number of cells, so they form one column block: each column's width is
  // its widest cell plus the padding, exactly as the tabwriter computed it.
  const widths = header.map((_, column) => Math.max(...cells.map((line) => [...line[column]].length)) + PADDING)
  const lines = text.split('\n')
  for (let i = 0; i < rows.length; i++) {
    // Code points, as the tabwriter counts them.
    const chars = [...lines[i + 1]]
    for (let t = SYNC_TYPES.length - 1; t >= 0; t--) {
      const start = widths.slice(0, firstStatus + t).reduce((sum, w) => sum + w, 0)
      const status = rows[i].types[SYNC_TYPES[t]]
      chars.splice(start, status.display.length, ANSI[status.state] + status.display + RESET)
    }
    lines[i + 1] = chars.join('')
  }
  return lines.join('\n')
}
