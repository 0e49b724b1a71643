import type {EcdsSummary} from '../envoy/ecds.js'
import {tabRow, tabwrite} from './tabwriter.js'

/** `proxy-config ecds` (istioctl padding 5). */
export function renderEcdsTable(rows: readonly EcdsSummary[]): string {
  return tabwrite(['ECDS NAME\tTYPE', ...rows.map((row) => tabRow([row.name, row.type]))], {padding: 5})
}
