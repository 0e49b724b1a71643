import {byteCompare} from '../compare.js'
import {collectListenerEntries, type ConfigDump} from '../envoy/configdump.js'
import {arrayField, enumField, field, numberField, stringField, uint32Value, type Json} from '../envoy/fields.js'
import {HTTP_CONNECTION_MANAGER} from '../envoy/listeners.js'

/** Table order of the ACTION column (istioctl's), then names in byte order. */
export const AUTHZ_ACTIONS = ['DENY', 'ALLOW', 'LOG', 'CUSTOM'] as const
export type AuthzAction = (typeof AUTHZ_ACTIONS)[number]
/** `envoy.config.rbac.v3.RBAC.Action`, in enum-number order (absent = ALLOW). */
const RBAC_ACTIONS = ['ALLOW', 'DENY', 'LOG'] as const
type RbacAction = (typeof RBAC_ACTIONS)[number]

/** istioctl's name for an RBAC filter whose rules hold no policy (it matches nothing). */
export const ANONYMOUS_POLICY = '_anonymous_match_nothing_'
const EXT_AUTHZ_PREFIX = 'istio-ext-authz-'

const LEGACY_HTTP_CONNECTION_MANAGER = 'envoy.http_connection_manager'
const HTTP_RBAC = 'envoy.filters.http.rbac'
const NETWORK_RBAC = 'envoy.filters.network.rbac'
const HTTP_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC'
const NETWORK_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC'

// Unanchored and greedy, as istioctl's: the first ns[...]-policy[...]-rule[...] in the key.
const POLICY_KEY = /(?:istio-ext-authz-)?ns\[(.+)\]-policy\[(.+)\]-rule\[(.+)\]/

export interface PolicyKey {
  /** `<policy>.<namespace>`; for a key that is not Istio's form, the key itself. */
  name: string
  /** The rule index inside the policy ("" when the key did not parse). */
  rule: string
  /** False when the key is not `ns[<ns>]-policy[<name>]-rule[<i>]` (written by something other than istiod). */
  parsed: boolean
}

/**
 * istioctl names an unparseable key "" and counts every such key as one rule of one policy; we
 * keep the raw key as the name, so each one is visible and counted on its own.
 */
export function parsePolicyKey(key: string): PolicyKey {
  const match = POLICY_KEY.exec(key)
  if (!match) return {name: key, rule: '', parsed: false}
  return {name: `${match[2]}.${match[1]}`, rule: match[3], parsed: true}
}

export type AuthzLayer = 'HTTP' | 'TCP'

/** What one RBAC filter (HTTP or network) enforces. */
export interface RbacFilterFacts {
  layer: AuthzLayer
  /** `rules.action`; undefined when the filter has no `rules` (it then enforces nothing, e.g. ext-authz shadow-only filters). */
  action?: RbacAction
  /** Keys of `rules.policies`. Empty with an action set: the filter matches nothing. */
  enforced: PolicyKey[]
  /** `shadow_rules.policies` keys starting `istio-ext-authz-`: the CUSTOM (ext-authz) policies. */
  custom: PolicyKey[]
  /** Other shadow keys: dry-run policies (`istio.io/dry-run`), only logged and counted by Envoy. */
  dryRun: PolicyKey[]
  /** `shadow_rules.action` of the dry-run keys. */
  dryRunAction?: RbacAction
  /** `rules.policies` as configured (key -> Policy), for --verbose and --check. */
  policies: Record<string, Json>
  /** `shadow_rules.policies` as configured (CUSTOM and dry-run). */
  shadowPolicies: Record<string, Json>
}

export interface AuthzChain {
  /** Position of the listener in the dump (names can be empty or repeated on static listeners). */
  listenerIndex: number
  listener: string
  /** The listener's socket address and port ("" and 0 for internal listeners). */
  address: string
  port: number
  /** False for `static_listeners` (bootstrap-defined). */
  dynamic: boolean
  /** The listener's `default_filter_chain` (used when no filter_chain_match matches). */
  defaultChain: boolean
  /** `filter_chain_match.destination_port`, when the chain is for one port (e.g. virtualInbound's per-port chains). */
  destinationPort?: number
  /** `filter_chain_match.transport_protocol` ("tls" for mTLS chains, "raw_buffer" for plaintext), when set. */
  transportProtocol?: string
  /** The listener's `traffic_direction` is INBOUND (a sidecar's virtualInbound). */
  inbound: boolean
  filters: RbacFilterFacts[]
}

/** Proto UInt32Value: a bare number in proto JSON; `{value: n}` tolerated. */

function policyMap(rules: Json): Record<string, Json> {
  const policies = field(rules, 'policies')
  return policies !== null && typeof policies === 'object' && !Array.isArray(policies) ? policies : {}
}

function policyKeys(rules: Json): string[] {
  return Object.keys(policyMap(rules))
}

function rbacFacts(config: Json, layer: AuthzLayer): RbacFilterFacts {
  const rules = field(config, 'rules')
  const hasRules = rules !== undefined && rules !== null
  const shadow = field(config, 'shadow_rules')
  const custom: PolicyKey[] = []
  const dryRun: PolicyKey[] = []
  for (const key of policyKeys(shadow)) (key.startsWith(EXT_AUTHZ_PREFIX) ? custom : dryRun).push(parsePolicyKey(key))
  return {
    layer,
    action: hasRules ? (enumField(rules, 'action', RBAC_ACTIONS) as RbacAction) : undefined,
    enforced: hasRules ? policyKeys(rules).map(parsePolicyKey) : [],
    custom,
    dryRun,
    dryRunAction: dryRun.length > 0 ? (enumField(shadow, 'action', RBAC_ACTIONS) as RbacAction) : undefined,
    policies: hasRules ? policyMap(rules) : {},
    shadowPolicies: policyMap(shadow),
  }
}

const isHttpRbac = (filter: Json) => stringField(filter, 'name') === HTTP_RBAC || field(filter, 'typed_config')?.['@type'] === HTTP_RBAC_TYPE
const isNetworkRbac = (filter: Json) => stringField(filter, 'name') === NETWORK_RBAC || field(filter, 'typed_config')?.['@type'] === NETWORK_RBAC_TYPE

/** RBAC filters of one chain in filter order: network filters, and HTTP filters inside each connection manager. */
function chainRbacFilters(chain: Json): RbacFilterFacts[] {
  const found: RbacFilterFacts[] = []
  for (const filter of arrayField(chain, 'filters')) {
    const name = stringField(filter, 'name')
    if (name === HTTP_CONNECTION_MANAGER || name === LEGACY_HTTP_CONNECTION_MANAGER) {
      for (const httpFilter of arrayField(field(filter, 'typed_config'), 'http_filters')) {
        const config = field(httpFilter, 'typed_config')
        // Filters configured through ECDS (config_discovery) carry no config to read.
        if (isHttpRbac(httpFilter) && config !== undefined && config !== null) found.push(rbacFacts(config, 'HTTP'))
      }
    } else if (isNetworkRbac(filter)) {
      const config = field(filter, 'typed_config')
      if (config !== undefined && config !== null) found.push(rbacFacts(config, 'TCP'))
    }
  }
  return found
}

/**
 * Every filter chain of every listener: dynamic (active) and static listeners, `filter_chains`
 * and `default_filter_chain`. istioctl reads dynamic `filter_chains` only; Envoy enforces RBAC
 * wherever it is configured, so we count it everywhere (Istio puts none on static listeners or
 * default chains today, so the tables agree on istiod-generated config).
 */
export function collectAuthzChains(dump: ConfigDump): AuthzChain[] {
  const chains: AuthzChain[] = []
  for (const [listenerIndex, {listener, dynamic}] of collectListenerEntries(dump).entries()) {
    const socket = field(field(listener, 'address'), 'socket_address')
    const inbound = stringField(listener, 'traffic_direction') === 'INBOUND'
    const base = {listenerIndex, listener: stringField(listener, 'name'), address: stringField(socket, 'address'), port: numberField(socket, 'port_value'), dynamic, inbound}
    const add = (chain: Json, defaultChain: boolean) => {
      const match = field(chain, 'filter_chain_match')
      const destinationPort = uint32Value(field(match, 'destination_port'))
      const transportProtocol = stringField(match, 'transport_protocol')
      chains.push({
        ...base,
        defaultChain,
        ...(destinationPort === undefined ? {} : {destinationPort}),
        ...(transportProtocol === '' ? {} : {transportProtocol}),
        filters: chainRbacFilters(chain),
      })
    }
    for (const chain of arrayField(listener, 'filter_chains')) add(chain, false)
    const fallback = field(listener, 'default_filter_chain')
    if (fallback !== undefined && fallback !== null) add(fallback, true)
  }
  return chains
}

/** One row of the `ACTION  AuthorizationPolicy  RULES` table. */
export interface AuthzPolicyRow {
  action: AuthzAction
  /** `<policy>.<namespace>`, `_anonymous_match_nothing_`, or an unparseable key as found. */
  name: string
  /** Distinct rule indices seen for this name across all listeners. */
  rules: number
}


/**
 * The table rows. As istioctl: rule indices are counted per policy name across every chain; rows
 * go DENY, ALLOW, LOG, CUSTOM, names in byte order within each.
 *
 * `_anonymous_match_nothing_` (a filter whose `rules` hold no policy): istioctl also prints it for
 * filters without `rules` (ext-authz shadow-only filters), where nothing is enforced; we never do.
 * A filter with empty rules is real (an ALLOW filter that matches nothing denies everything on
 * its chain, typically TCP chains where every ALLOW rule had HTTP-only fields), but it is not a
 * policy: we print the row only when no named policy of that action exists, so the table never
 * looks empty while traffic is denied. `--explain` shows it per chain.
 */
export function summarizeAuthzPolicies(chains: readonly AuthzChain[]): AuthzPolicyRow[] {
  const namesByAction = new Map<AuthzAction, Set<string>>(AUTHZ_ACTIONS.map((action) => [action, new Set<string>()]))
  const rulesByName = new Map<string, Set<string>>()
  const matchNothing = new Set<AuthzAction>()
  const add = (action: AuthzAction, key: PolicyKey) => {
    namesByAction.get(action)!.add(key.name)
    let rules = rulesByName.get(key.name)
    if (rules === undefined) rulesByName.set(key.name, (rules = new Set()))
    rules.add(key.parsed ? key.rule : `raw:${key.name}`)
  }
  for (const chain of chains) {
    for (const filter of chain.filters) {
      if (filter.action !== undefined) {
        for (const key of filter.enforced) add(filter.action, key)
        if (filter.enforced.length === 0) matchNothing.add(filter.action)
      }
      for (const key of filter.custom) add('CUSTOM', key)
    }
  }
  for (const action of matchNothing) {
    if (namesByAction.get(action)!.size === 0) add(action, {name: ANONYMOUS_POLICY, rule: '0', parsed: true})
  }
  const rows: AuthzPolicyRow[] = []
  for (const action of AUTHZ_ACTIONS) {
    for (const name of [...namesByAction.get(action)!].sort(byteCompare)) rows.push({action, name, rules: rulesByName.get(name)!.size})
  }
  return rows
}

/** A policy as it applies on a chain: its name and the rule indices present there. */
export interface AppliedPolicy {
  name: string
  rules: string[]
}

/** Chains of one listener that share a destination port, a layer and the same policies. */
export interface AuthzChainGroup {
  listener: string
  address: string
  port: number
  dynamic: boolean
  destinationPort?: number
  /** Where the RBAC filters sit: HTTP (connection manager), TCP (network filter), both, or none. */
  layer: 'HTTP' | 'TCP' | 'HTTP+TCP' | 'none'
  chains: number
  /** True when the listener's default_filter_chain is one of the chains. */
  includesDefaultChain: boolean
  custom: AppliedPolicy[]
  deny: AppliedPolicy[]
  allow: AppliedPolicy[]
  log: AppliedPolicy[]
  /** Dry-run (shadow) policies: evaluated and logged by Envoy, never enforced. */
  dryRun: Array<AppliedPolicy & {action: RbacAction}>
  /** Actions whose filter here has rules but no policy (an ALLOW one denies every request). */
  matchNothing: RbacAction[]
  /** What happens to a request that no CUSTOM or DENY rule rejected and no ALLOW rule matched. */
  unmatched: 'allowed' | 'denied'
}

export interface AuthzExplanation {
  groups: AuthzChainGroup[]
  /** Listeners with no RBAC filter on any chain: nothing is checked there. */
  listenersWithoutAuthz: number
}

function applied(keys: readonly PolicyKey[], into: Map<string, Set<string>>): void {
  for (const key of keys) {
    let rules = into.get(key.name)
    if (rules === undefined) into.set(key.name, (rules = new Set()))
    if (key.rule !== '') rules.add(key.rule)
  }
}

function appliedList(map: Map<string, Set<string>>): AppliedPolicy[] {
  return [...map.keys()].sort(byteCompare).map((name) => ({name, rules: [...map.get(name)!].sort((a, b) => Number(a) - Number(b) || byteCompare(a, b))}))
}

function describeChainPolicies(chain: AuthzChain): Omit<AuthzChainGroup, 'listener' | 'address' | 'port' | 'dynamic' | 'destinationPort' | 'chains' | 'includesDefaultChain'> {
  const byAction = {custom: new Map<string, Set<string>>(), deny: new Map<string, Set<string>>(), allow: new Map<string, Set<string>>(), log: new Map<string, Set<string>>()}
  const dryRun = new Map<RbacAction, Map<string, Set<string>>>()
  const matchNothing = new Set<RbacAction>()
  const layers = new Set<AuthzLayer>()
  for (const filter of chain.filters) {
    layers.add(filter.layer)
    if (filter.action !== undefined) {
      applied(filter.enforced, filter.action === 'ALLOW' ? byAction.allow : filter.action === 'DENY' ? byAction.deny : byAction.log)
      if (filter.enforced.length === 0) matchNothing.add(filter.action)
    }
    applied(filter.custom, byAction.custom)
    if (filter.dryRunAction !== undefined) {
      if (!dryRun.has(filter.dryRunAction)) dryRun.set(filter.dryRunAction, new Map())
      applied(filter.dryRun, dryRun.get(filter.dryRunAction)!)
    }
  }
  const layer = layers.size === 2 ? 'HTTP+TCP' : layers.size === 0 ? 'none' : [...layers][0]
  return {
    layer,
    custom: appliedList(byAction.custom),
    deny: appliedList(byAction.deny),
    allow: appliedList(byAction.allow),
    log: appliedList(byAction.log),
    dryRun: RBAC_ACTIONS.flatMap((action) => (dryRun.has(action) ? appliedList(dryRun.get(action)!).map((policy) => ({...policy, action})) : [])),
    matchNothing: RBAC_ACTIONS.filter((action) => matchNothing.has(action)),
    unmatched: byAction.allow.size > 0 || matchNothing.has('ALLOW') ? 'denied' : 'allowed',
  }
}

/**
 * Per listener and destination port, which policies apply and in what order. Listeners without
 * any RBAC filter are only counted; inside a listener that has some, chains without one are shown
 * (nothing is checked on them).
 */
export function explainAuthz(chains: readonly AuthzChain[]): AuthzExplanation {
  const withAuthz = new Set(chains.filter((chain) => chain.filters.length > 0).map((chain) => chain.listenerIndex))
  const allListeners = new Set(chains.map((chain) => chain.listenerIndex))
  const groups = new Map<string, AuthzChainGroup>()
  for (const chain of chains) {
    if (!withAuthz.has(chain.listenerIndex)) continue
    const policies = describeChainPolicies(chain)
    const key = JSON.stringify([chain.listenerIndex, chain.destinationPort ?? null, policies])
    const existing = groups.get(key)
    if (existing) {
      existing.chains++
      existing.includesDefaultChain ||= chain.defaultChain
      continue
    }
    groups.set(key, {
      listener: chain.listener,
      address: chain.address,
      port: chain.port,
      dynamic: chain.dynamic,
      ...(chain.destinationPort === undefined ? {} : {destinationPort: chain.destinationPort}),
      chains: 1,
      includesDefaultChain: chain.defaultChain,
      ...policies,
    })
  }
  // Dump order of listeners; within one, catch-all chains before per-port ones, ports ascending.
  const sorted = [...groups.entries()].map(([key, group], index) => ({group, index, listenerIndex: JSON.parse(key)[0] as number}))
  sorted.sort(
    (a, b) =>
      a.listenerIndex - b.listenerIndex ||
      (a.group.destinationPort ?? -1) - (b.group.destinationPort ?? -1) ||
      a.index - b.index,
  )
  return {groups: sorted.map(({group}) => group), listenersWithoutAuthz: allListeners.size - withAuthz.size}
}
