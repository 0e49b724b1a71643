// Which stats a sidecar's Envoy creates: the stats_matcher inclusion list Istio writes into its
// bootstrap (tools/packaging/common/envoy_bootstrap.json, pkg/bootstrap/config.go getStatsOptions).
// Envoy never creates a stat the matcher rejects, so /stats cannot answer it: by default a
// sidecar has no per-cluster stats but xds-grpc's (its membership gauges included).
import type {SimPod} from './model.js'

// pkg/bootstrap/config.go: always appended to what the annotation (or ProxyConfig) asks for.
const REQUIRED_PREFIXES = ['cluster_manager', 'listener_manager', 'server', 'cluster.xds-grpc', 'wasm']
const REQUIRED_SUFFIXES = ['rbac.allowed', 'rbac.denied', 'shadow_allowed', 'shadow_denied']
const REQUIRED_REGEXPS = [String.raw`vhost\..*\.route\..*`]

/** The annotations a pod may set its own patterns with (they replace ProxyConfig's, never the required ones). */
export const STATS_INCLUSION_ANNOTATIONS = {
  prefixes: 'sidecar.istio.io/statsInclusionPrefixes',
  suffixes: 'sidecar.istio.io/statsInclusionSuffixes',
  regexps: 'sidecar.istio.io/statsInclusionRegexps',
} as const

export type StatsPattern = {prefix: string} | {suffix: string} | {safe_regex: {regex: string}}

/** The bootstrap's `stats_matcher.inclusion_list.patterns`, in the template's order. */
export function statsInclusionPatterns(pod: SimPod): StatsPattern[] {
  const chosen = (key: keyof typeof STATS_INCLUSION_ANNOTATIONS, required: string[]) => {
    const annotation = pod.annotations[STATS_INCLUSION_ANNOTATIONS[key]] ?? ''
    // `{pod_ip}` stands for each of the pod's IPs (substituteValues).
    return [...(annotation === '' ? [] : annotation.split(',')), ...required].flatMap((value) => (value.includes('{pod_ip}') ? [value.replaceAll('{pod_ip}', pod.ip)] : [value]))
  }
  return [
    {prefix: 'reporter='},
    ...chosen('prefixes', REQUIRED_PREFIXES).map((prefix) => ({prefix})),
    ...chosen('suffixes', REQUIRED_SUFFIXES).map((suffix) => ({suffix})),
    ...chosen('regexps', REQUIRED_REGEXPS).map((regex) => ({safe_regex: {regex}})),
    {prefix: 'component'},
    {prefix: 'istio'},
  ]
}

/** Envoy's StatsMatcher for an inclusion list: a stat exists when any pattern matches its full name (a safe_regex matches it whole). */
export function statsMatcher(patterns: readonly StatsPattern[]): (name: string) => boolean {
  const prefixes = patterns.flatMap((p) => ('prefix' in p ? [p.prefix] : []))
  const suffixes = patterns.flatMap((p) => ('suffix' in p ? [p.suffix] : []))
  const regexps = patterns.flatMap((p) => {
    if (!('safe_regex' in p)) return []
    try {
      return [new RegExp(`^(?:${p.safe_regex.regex})$`)]
    } catch {
      // Envoy refuses such a bootstrap; the simulator only drops the pattern.
      return []
    }
  })
  return (name) => prefixes.some((prefix) => name.startsWith(prefix)) || suffixes.some((suffix) => name.endsWith(suffix)) || regexps.some((regex) => regex.test(name))
}
