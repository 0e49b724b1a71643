import type {ClusterSummary} from '../envoy/clusters.js'
import {tabwriteRows} from './tabwriter.js'

/**
 * proxy-config tables, laid out exactly as istioctl's (see tabwriter.ts). `namePrefix` turns on
 * the NAME column that `proxy-config all` adds (`cluster/<name>`).
 */
export function renderClusterTable(rows: readonly ClusterSummary[], options: {withName?: boolean} = {}): string {
  const header = ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']
  const lines: string[][] = [options.withName ? ['NAME', ...header] : header]
  for (const row of rows) {
    const cells = row.parsed
      ? [row.fqdn, String(row.port), row.subset === '' ? '-' : row.subset, row.direction, row.type, row.destinationRule]
      : [row.fqdn, '-', '-', '-', row.type, row.destinationRule]
    lines.push(options.withName ? [`cluster/${row.name}`, ...cells] : cells)
  }
  return tabwriteRows(lines, {padding: 5})
}
