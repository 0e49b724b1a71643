import type {CertificateRow, RootComparison} from '../envoy/certs.js'
import {tabRow, tabwrite} from './tabwriter.js'

/**
 * `meshdbg certs`: one row per certificate, each secret's chain in order. `wide` adds NOT BEFORE,
 * SUBJECT and ISSUER. No rows prints the header only.
 */
export function renderCertificateTable(rows: readonly CertificateRow[], options: {wide?: boolean} = {}): string {
  const header = ['RESOURCE', 'CHAIN', 'ROLE', 'IDENTITY', 'SERIAL NUMBER', ...(options.wide ? ['NOT BEFORE'] : []), 'NOT AFTER', 'TIME LEFT', 'STATE', ...(options.wide ? ['SUBJECT', 'ISSUER'] : [])]
  const lines = [header.join('\t')]
  for (const row of rows) {
    const chain = `${row.position}/${row.chainLength}${row.signedByNext === false ? ' (not signed by next)' : ''}`
    lines.push(tabRow([
      row.resource, chain, row.role, row.identity, row.serialNumber,
      ...(options.wide ? [row.notBefore] : []), row.notAfter, row.timeLeft, row.state,
      ...(options.wide ? [row.subject, row.issuer] : []),
    ]))
  }
  return tabwrite(lines, {padding: 3})
}

/** `certs --compare-root A B`: every root with the side(s) that trust it. */
export function renderRootComparison(comparison: RootComparison, first: string, second: string): string {
  const lines = [['TRUSTED BY', 'SUBJECT', 'SERIAL NUMBER', 'NOT AFTER', 'SHA-256'].join('\t')]
  const add = (side: string, roots: RootComparison['shared']) => {
    for (const root of roots) lines.push(tabRow([side, root.subject, root.serialNumber, root.notAfter, root.sha256]))
  }
  add('both', comparison.shared)
  add(`only ${first}`, comparison.onlyFirst)
  add(`only ${second}`, comparison.onlySecond)
  return tabwrite(lines, {padding: 3})
}
