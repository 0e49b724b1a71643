import type {EcdsSummary} from '../envoy/ecds.js'
import {tabwrite} from './tabwriter.js'

/** `proxy-config ecds` (istioctl padding 5). */
export function renderEcdsTable(rows: readonly EcdsSummary[]): string {
  return tabwrite(['ECDS NAME\tTYPE', ...rows.map((row) => `${row.name}\t${row.type}`)], {padding: 5})
}
