import {chainDestinationText, chainMatchText, type ListenerSummary} from '../envoy/listeners.js'
import {tabwriteRows} from './tabwriter.js'

export interface ListenerTableOptions {
  /** One row per filter chain with MATCH and DESTINATION (default, as istioctl's --verbose=true); else one row per listener with TYPE. */
  verbose?: boolean
  /** The NAME column (`listener/<name>`) that `proxy-config all` adds in front. */
  withName?: boolean
}

/** `proxy-config listener`, laid out as istioctl's (tabwriter padding 1). */
export function renderListenerTable(rows: readonly ListenerSummary[], options: ListenerTableOptions = {}): string {
  const verbose = options.verbose ?? true
  const named = (row: ListenerSummary, cells: string[]): string[] => (options.withName ? [`listener/${row.name}`, ...cells] : cells)
  const header = verbose ? ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'] : ['ADDRESSES', 'PORT', 'TYPE']
  const lines: string[][] = [options.withName ? ['NAME', ...header] : header]
  for (const row of rows) {
    const addresses = row.additionalAddresses.length === 0 ? row.address : [row.address, ...row.additionalAddresses].join(',')
    if (!verbose) {
      lines.push(named(row, [addresses, String(row.port), row.type]))
      continue
    }
    for (const chain of row.chains) lines.push(named(row, [addresses, String(row.port), chainMatchText(chain.match), chainDestinationText(chain.destination)]))
  }
  return tabwriteRows(lines, {padding: 1})
}
