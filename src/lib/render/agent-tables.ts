import type {DnsEntry} from '../istio/agent.js'
import {tabRow, tabwrite} from './tabwriter.js'

/** The DNS proxy's name table: HOSTNAME SHORTNAME NAMESPACE REGISTRY ADDRESSES. */
export function renderNameTable(entries: readonly DnsEntry[]): string {
  const lines = [['HOSTNAME', 'SHORTNAME', 'NAMESPACE', 'REGISTRY', 'ADDRESSES']]
  for (const entry of entries) lines.push([entry.hostname, entry.shortname ?? '', entry.namespace ?? '', entry.registry ?? '', entry.ips.join(',')])
  return tabwrite(lines.map(tabRow), {padding: 3})
}
