import type {EdsEndpointRow, HostEndpointRow} from '../envoy/endpoints.js'
import {tabwriteRows} from './tabwriter.js'

/** `proxy-config endpoint` from `/clusters?format=json` (istioctl padding 5). */
export function renderHostEndpointTable(rows: readonly HostEndpointRow[]): string {
  const lines = [['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER']]
  for (const row of rows) {
    const endpoint = row.port === 0 ? row.address : `${row.address}:${row.port}`
    lines.push([endpoint, row.status, row.failedOutlierCheck ? 'FAILED' : 'OK', row.cluster])
  }
  return tabwriteRows(lines, {padding: 5})
}

/**
 * EDS endpoints from an `?include_eds` dump (istioctl's `eds`, padding 5). `withName` gives the
 * `endpoint/<name>` cells that `proxy-config all` prints.
 */
export function renderEdsEndpointTable(edsRows: readonly EdsEndpointRow[], options: {withName?: boolean} = {}): string {
  const lines = [['NAME', 'STATUS', 'LOCALITY', 'CLUSTER']]
  for (const row of edsRows) {
    // The NAME cell: every address of the endpoint, joined with ",".
    const name = row.addresses.join(',')
    lines.push([options.withName ? `endpoint/${name}` : name, row.status, row.locality, row.cluster])
  }
  return tabwriteRows(lines, {padding: 5})
}
