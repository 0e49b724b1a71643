import {AMBIENT_SYNC_TYPES, SYNC_TYPES, type SyncState, type SyncStatusRow, type SyncTypeStatus} from '../istio/sync-status.js'
import {escapeTerminal} from './escape.js'
import {tabwrite} from './tabwriter.js'

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

const IGNORED_STATUS: SyncTypeStatus = {state: 'IGNORED', display: 'IGNORED', typeUrl: ''}

/** The status cells of a row: Envoy's five types, then WDS and WADS when the table has ztunnels (IGNORED for Envoy proxies). */
function statusesOf(row: SyncStatusRow, ambient: boolean): SyncTypeStatus[] {
  return [...SYNC_TYPES.map((type) => row.types[type]), ...(ambient ? AMBIENT_SYNC_TYPES.map((type) => row.ambientTypes?.[type] ?? IGNORED_STATUS) : [])]
}

function cellsOf(row: SyncStatusRow, ambient: boolean, wide: boolean, context: boolean): string[] {
  const cells = [...(context ? [row.context ?? ''] : []), row.proxy, row.clusterId, ...statusesOf(row, ambient).map((s) => s.display), row.istiod, row.version]
  // Escaped here, not only by tabwrite: the colour pass below measures these same cells.
  return (wide ? [...cells, row.proxyType ?? '-', nackText(row)] : cells).map(escapeTerminal)
}

/** The wide table's NACK column: each rejected type's message, on one line (tabs and newlines would break the layout). */
function nackText(row: SyncStatusRow): string {
  const rejected: Array<[string, SyncTypeStatus]> = [...SYNC_TYPES.map((type) => [type, row.types[type]] as [string, SyncTypeStatus]), ...Object.entries(row.ambientTypes ?? {})]
  const messages = rejected.filter(([, status]) => status.error).map(([type, status]) => `${type}: ${status.error}`)
  // eslint-disable-next-line no-control-regex
  return messages.length === 0 ? '-' : messages.join('; ').replace(/[\u0000-\u001F\u007F-\u009F\s]+/g, ' ').trim()
}

/**
 * The per-type table Istio 1.17 users know (`NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION`),
 * laid out by the tabwriter port with istioctl's padding; `contextColumn` puts each row's kubeconfig
 * context first; `WDS WADS` follow ECDS when a ztunnel is listed (as istioctl 1.30 appends the extra
 * types it sees); -o wide adds `TYPE` (istiod's proxy type) and `NACK`. Colour is applied after
 * layout, so escape codes never count towards column widths.
 */
export function renderSyncStatusTable(rows: readonly SyncStatusRow[], options: {color?: boolean; wide?: boolean; contextColumn?: boolean} = {}): string {
  const wide = Boolean(options.wide)
  const context = Boolean(options.contextColumn)
  const ambient = rows.some((row) => row.ambientTypes !== undefined)
  // CONTEXT leads only when several clusters are in play, so one cluster's table stays istioctl's.
  const header = [...(context ? ['CONTEXT'] : []), 'NAME', 'CLUSTER', ...SYNC_TYPES, ...(ambient ? AMBIENT_SYNC_TYPES : []), 'ISTIOD', 'VERSION', ...(wide ? ['TYPE', 'NACK'] : [])]
  const firstStatus = FIRST_STATUS + (context ? 1 : 0)
  const cells = [header, ...rows.map((row) => cellsOf(row, ambient, wide, context))]
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
    const statuses = statusesOf(rows[i], ambient)
    for (let t = statuses.length - 1; t >= 0; t--) {
      const start = widths.slice(0, firstStatus + t).reduce((sum, w) => sum + w, 0)
      chars.splice(start, statuses[t].display.length, ANSI[statuses[t].state] + statuses[t].display + RESET)
    }
    lines[i + 1] = chars.join('')
  }
  return lines.join('\n')
}
