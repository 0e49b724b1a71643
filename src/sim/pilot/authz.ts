// HTTP RBAC filters from AuthorizationPolicies, after pilot/pkg/security/authz/builder/builder.go
// and its golden files (pilot/pkg/security/authz/builder/testdata/http/*-out.yaml, Istio 1.17):
// CUSTOM becomes shadow rules (`istio-ext-authz-ns[..]`) plus an ext_authz filter, then DENY, then
// ALLOW; policy keys `ns[<ns>]-policy[<name>]-rule[<i>]`; a rule-less ALLOW policy denies all.
import type {IstioConfig, SimPod} from '../model.js'
import {type PushContext, labelsMatch} from './context.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The policies that apply to a workload: its namespace's and the root namespace's, by selector. */
export function policiesFor(ctx: PushContext, pod: SimPod): IstioConfig[] {
  return ctx.configs.filter((c) => c.kind === 'AuthorizationPolicy' &&
    (c.metadata.namespace === pod.namespace || c.metadata.namespace === ctx.rootNamespace) &&
    labelsMatch(((c.spec.selector as J | undefined)?.matchLabels ?? {}) as Record<string, string>, pod.labels))
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
}

/** builder/matcher: `*` suffix is a prefix, `*` prefix a suffix, `*` alone presence. */
function stringMatch(v: string): J {
  if (v === '*') return {safe_regex: {regex: '.+'}}
  if (v.endsWith('*')) return {prefix: v.slice(0, -1)}
  if (v.startsWith('*')) return {suffix: v.slice(1)}
  return {exact: v}
}

const orRules = (rules: J[]) => ({or_rules: {rules}})
const orIds = (ids: J[]) => ({or_ids: {ids}})

function permission(to: J[] | undefined): J {
  const rules: J[] = []
  for (const t of to ?? []) {
    const op = t.operation ?? {}
    if (op.hosts?.length) rules.push(orRules(op.hosts.map((h: string) => ({header: {name: ':authority', string_match: {...stringMatch(h), ignore_case: true}}}))))
    if (op.methods?.length) rules.push(orRules(op.methods.map((m: string) => ({header: {name: ':method', exact_match: m}}))))
    if (op.paths?.length) rules.push(orRules(op.paths.map((p: string) => ({url_path: {path: stringMatch(p)}}))))
    if (op.ports?.length) rules.push(orRules(op.ports.map((p: string) => ({destination_port: Number(p)}))))
    if (op.notPaths?.length) rules.push({not_rule: orRules(op.notPaths.map((p: string) => ({url_path: {path: stringMatch(p)}})))})
    if (op.notMethods?.length) rules.push({not_rule: orRules(op.notMethods.map((m: string) => ({header: {name: ':method', exact_match: m}})))})
  }
  return {and_rules: {rules: rules.length ? rules : [{any: true}]}}
}

function principal(from: J[] | undefined, trustDomain: string): J {
  const ids: J[] = []
  const peer = (p: string) => ({filter_state: {key: 'io.istio.peer_principal', string_match: stringMatch(p === '*' ? '*' : `spiffe://${p}`)}})
  const requestPrincipal = (p: string) => ({metadata: {filter: 'istio_authn', path: [{key: 'request.auth.principal'}], value: {string_match: stringMatch(p)}}})
  for (const f of from ?? []) {
    const src = f.source ?? {}
    if (src.principals?.length) ids.push(orIds(src.principals.map(peer)))
    if (src.namespaces?.length) ids.push(orIds(src.namespaces.map((n: string) => ({filter_state: {key: 'io.istio.peer_principal', string_match: {safe_regex: {regex: `.*/ns/${n}/.*`}}}}))))
    if (src.requestPrincipals?.length) ids.push(orIds(src.requestPrincipals.map(requestPrincipal)))
    if (src.notPrincipals?.length) ids.push({not_id: orIds(src.notPrincipals.map(peer))})
    if (src.notRequestPrincipals?.length) ids.push({not_id: orIds(src.notRequestPrincipals.map(requestPrincipal))})
    if (src.ipBlocks?.length) ids.push(orIds(src.ipBlocks.map((b: string) => ({direct_remote_ip: {address_prefix: b.split('/')[0], prefix_len: Number(b.split('/')[1] ?? 32)}}))))
  }
  void trustDomain
  return {and_ids: {ids: ids.length ? ids : [{any: true}]}}
}

function policiesOf(list: IstioConfig[], prefix: string, trustDomain: string): J {
  const out: J = {}
  for (const ap of list) {
    const rules = ap.spec.rules as J[] | undefined
    if (!rules || rules.length === 0) {
      // allow-nil-rule-out.yaml: no rules matches nothing; deny-empty-rule-out.yaml: `- {}` matches all.
      out[`${prefix}ns[${ap.metadata.namespace}]-policy[${ap.metadata.name}]-rule[0]`] = {permissions: [{not_rule: {any: true}}], principals: [{not_id: {any: true}}]}
      continue
    }
    rules.forEach((rule, i) => {
      out[`${prefix}ns[${ap.metadata.namespace}]-policy[${ap.metadata.name}]-rule[${i}]`] = {permissions: [permission(rule.to)], principals: [principal(rule.from, trustDomain)]}
    })
  }
  return out
}

const RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC'

/** The HTTP filters, in the order builder.go emits them (policies: the workload's by selector unless given, as for waypoints). */
export function rbacFilters(ctx: PushContext, pod: SimPod, extAuthzCluster: (provider: string) => string | undefined, policies = policiesFor(ctx, pod)): J[] {
  const of = (action: string) => policies.filter((p) => String(p.spec.action ?? 'ALLOW') === action)
  const filters: J[] = []
  const custom = of('CUSTOM')
  if (custom.length) {
    const provider = String((custom[0].spec.provider as J | undefined)?.name ?? '')
    filters.push({name: 'envoy.filters.http.rbac', typed_config: {'@type': RBAC, shadow_rules: {action: 'DENY', policies: policiesOf(custom, 'istio-ext-authz-', ctx.trustDomain)}, shadow_rules_stat_prefix: 'istio_ext_authz_'}})
    const cluster = extAuthzCluster(provider)
    filters.push({name: 'envoy.filters.http.ext_authz', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
      ...(cluster ? {http_service: {server_uri: {uri: `http://${cluster.split('|')[3]}`, cluster, timeout: '600s'}, authorization_request: {}, authorization_response: {}}} : {}),
      failure_mode_allow: false, status_on_error: {code: 'Forbidden'}, transport_api_version: 'V3',
      filter_enabled_metadata: {filter: 'envoy.filters.http.rbac', path: [{key: 'istio_ext_authz_shadow_effective_policy_id'}], value: {string_match: {prefix: 'istio-ext-authz'}}}}})
  }
  const deny = of('DENY')
  // deny-empty-rule-out.yaml: 1.17 labels DENY rules with the allow dry-run prefix.
  if (deny.length) filters.push({name: 'envoy.filters.http.rbac', typed_config: {'@type': RBAC, rules: {action: 'DENY', policies: policiesOf(deny, '', ctx.trustDomain)}, shadow_rules_stat_prefix: 'istio_dry_run_allow_'}})
  const allow = of('ALLOW')
  if (allow.length) filters.push({name: 'envoy.filters.http.rbac', typed_config: {'@type': RBAC, rules: {policies: policiesOf(allow, '', ctx.trustDomain)}, shadow_rules_stat_prefix: 'istio_dry_run_allow_'}})
  return filters
}

/** Evaluates a request against the workload's policies the way Envoy's RBAC filters would. */
export interface RequestFacts {path: string; method: string; principal?: string; requestPrincipal?: string; sourceNamespace?: string; port: number}

function matchString(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false
  if (pattern === '*') return value.length > 0
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1))
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1))
  return pattern === value
}

function ruleMatches(rule: J, r: RequestFacts): boolean {
  const to = (rule.to as J[] | undefined) ?? []
  const from = (rule.from as J[] | undefined) ?? []
  const opOk = to.length === 0 || to.some((t) => {
    const op = t.operation ?? {}
    return (!op.paths || op.paths.some((p: string) => matchString(p, r.path))) && (!op.methods || op.methods.includes(r.method)) &&
      (!op.ports || op.ports.map(Number).includes(r.port)) && (!op.notPaths || !op.notPaths.some((p: string) => matchString(p, r.path)))
  })
  const srcOk = from.length === 0 || from.some((f) => {
    const s = f.source ?? {}
    return (!s.principals || s.principals.some((p: string) => matchString(p, r.principal))) && (!s.namespaces || s.namespaces.includes(r.sourceNamespace)) &&
      (!s.requestPrincipals || s.requestPrincipals.some((p: string) => matchString(p, r.requestPrincipal))) &&
      (!s.notRequestPrincipals || !s.notRequestPrincipals.some((p: string) => matchString(p, r.requestPrincipal)))
  })
  return opOk && srcOk
}

/** CUSTOM, then DENY, then ALLOW (with any ALLOW policy, a request matching none is denied). */
export function authorize(ctx: PushContext, pod: SimPod, r: RequestFacts): {allowed: true} | {allowed: false; details: string; flag: '-' | 'UAEX'} {
  const policies = policiesFor(ctx, pod)
  const matched = (p: IstioConfig) => ((p.spec.rules as J[] | undefined) ?? []).findIndex((rule) => ruleMatches(rule, r))
  for (const p of policies.filter((x) => x.spec.action === 'CUSTOM')) if (matched(p) >= 0) return {allowed: false, details: 'ext_authz_denied', flag: 'UAEX'}
  for (const p of policies.filter((x) => x.spec.action === 'DENY')) {
    const i = matched(p)
    if (i >= 0) return {allowed: false, details: `rbac_access_denied_matched_policy[ns[${p.metadata.namespace}]-policy[${p.metadata.name}]-rule[${i}]]`, flag: '-'}
  }
  const allow = policies.filter((x) => (x.spec.action ?? 'ALLOW') === 'ALLOW')
  if (allow.length && !allow.some((p) => matched(p) >= 0)) return {allowed: false, details: 'rbac_access_denied_matched_policy[none]', flag: '-'}
  return {allowed: true}
}
