import type {BootstrapSummary} from '../envoy/bootstrap.js'
import {tabwrite} from './tabwriter.js'

/**
 * `proxy-config bootstrap -o short`, and the first section of `proxy-config all` (padding 1).
 * Istio lines are left out when empty; the Envoy line is always there. It has no NAME column,
 * so `all` prints it unchanged.
 */
export function renderBootstrapSummary(summary: BootstrapSummary): string {
  const lines: string[] = []
  if (summary.istioVersion !== '') lines.push(`Istio Version:\t${summary.istioVersion}`)
  if (summary.istioProxyVersion !== '') lines.push(`Istio Proxy Version:\t${summary.istioProxyVersion}`)
  lines.push(`Envoy Version:\t${summary.envoyVersion}`)
  return tabwrite(lines, {padding: 1})
}
