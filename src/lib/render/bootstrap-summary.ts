import type {BootstrapSummary} from '../envoy/bootstrap.js'
import {tabRow, tabwrite} from './tabwriter.js'

/**
 * `proxy-config bootstrap -o short`, and the first section of `proxy-config all` (padding 1).
 * Istio lines are left out when empty; the Envoy line is always there. It has no NAME column,
 * so `all` prints it unchanged.
 */
export function renderBootstrapSummary(summary: BootstrapSummary): string {
  const lines: string[] = []
  if (summary.istioVersion !== '') lines.push(tabRow(['Istio Version:', summary.istioVersion]))
  if (summary.istioProxyVersion !== '') lines.push(tabRow(['Istio Proxy Version:', summary.istioProxyVersion]))
  lines.push(tabRow(['Envoy Version:', summary.envoyVersion]))
  return tabwrite(lines, {padding: 1})
}
