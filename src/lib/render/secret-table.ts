import {showTrustDomain, type SecretRow} from '../envoy/secrets.js'
import {tabRow, tabwrite} from './tabwriter.js'

/**
 * `proxy-config secret` (istioctl: minwidth 0, tabwidth 5, padding 5). TRUST DOMAIN is appended
 * only when every row has one. `withName` gives the `secret/<name>` cells of `proxy-config all`.
 * No rows prints the header only.
 */
export function renderSecretTable(rows: readonly SecretRow[], options: {withName?: boolean} = {}): string {
  const trustDomain = showTrustDomain(rows)
  const header = ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE']
  if (trustDomain) header.push('TRUST DOMAIN')
  const lines = [header.join('\t')]
  for (const row of rows) {
    const cells = [options.withName ? `secret/${row.name}` : row.name, row.type, row.status, String(row.valid), row.serialNumber, row.notAfter, row.notBefore]
    if (trustDomain) cells.push(row.trustDomain)
    lines.push(tabRow(cells))
  }
  return tabwrite(lines, {padding: 5})
}
