// Evaluates one request against a proxy's RBAC filters the way Envoy does
// (source/extensions/filters/common/rbac: a policy matches when one permission AND one principal
// match; policies are tried in key order; ALLOW denies when none matches, DENY when one does),
// in Istio's filter order (builder.go: CUSTOM ext-authz shadow rules, DENY, ALLOW). What a CLI
// cannot know (source IP, JWT claims, SNI...) evaluates to "unknown": three-valued logic
// (Kleene), so a rule is only called matching or not when the answer cannot depend on it.
import {byteCompare} from '../compare.js'
import {arrayField, field, stringField, type Json} from '../envoy/fields.js'
import {parsePolicyKey, type AuthzChain, type AuthzLayer, type RbacFilterFacts} from './authz.js'
import {describeNode, leafParts, permissionTree, principalTree, type RbacLeaf, type RbacNode} from './authz-rules.js'

export type Tri = 'match' | 'no-match' | 'unknown'

/** The caller as the CLI was told: a full principal, or only a namespace (the service account unknown). */
export type AuthzPeer = {principal: string} | {namespace: string; trustDomain: string}

export interface AuthzRequest {
  method: string
  /** `:path` as sent, query included. */
  path: string
  /** `:authority`; undefined when not given (then host conditions are unknown). */
  host?: string
  /** Other request headers, names lower-case. Headers not listed are taken as absent. */
  headers: Readonly<Record<string, string>>
  /** Destination port; undefined: the port of the chain evaluated. */
  port?: number
  /** The mTLS peer; undefined: unknown (principal and namespace conditions are undecided). */
  peer?: AuthzPeer
  /** The request's JWT: its `iss/sub` principal, 'none' (no token), undefined (unknown). */
  jwt?: {principal: string} | 'none'
}

export interface Verdict {
  result: Tri
  /** For no-match: the condition that failed; for unknown: what could not be decided and why. */
  why: string[]
  /** For unknown: the one cause shared by every undecided condition (merges `principal in [a, b]: identity unknown`). */
  cause?: string
}

interface EvalContext {
  request: AuthzRequest
  port: number
  layer: AuthzLayer
}

const MATCH: Verdict = {result: 'match', why: []}
const noMatch = (why: string): Verdict => ({result: 'no-match', why: [why]})
const unknown = (what: string, cause: string): Verdict => ({result: 'unknown', why: [`${what}: ${cause}`], cause})

// ---------------------------------------------------------------------------------------------
// String matchers

/** RE2 full match, approximated with a JS RegExp (Istio's regexes are plain); undefined when JS cannot compile it. */
function fullRegex(regex: string, ignoreCase: boolean): RegExp | undefined {
  try {
    return new RegExp(`^(?:${regex})$`, ignoreCase ? 'is' : 's')
  } catch {
    return undefined
  }
}

/** A StringMatcher against a known value. undefined when the matcher cannot be evaluated here. */
export function matchString(matcher: Json, value: string): boolean | undefined {
  if (matcher === undefined || matcher === null) return true
  const ignoreCase = field(matcher, 'ignore_case') === true
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s)
  const subject = norm(value)
  if (field(matcher, 'exact') !== undefined) return subject === norm(stringField(matcher, 'exact'))
  if (field(matcher, 'prefix') !== undefined) return subject.startsWith(norm(stringField(matcher, 'prefix')))
  if (field(matcher, 'suffix') !== undefined) return subject.endsWith(norm(stringField(matcher, 'suffix')))
  if (field(matcher, 'contains') !== undefined) return subject.includes(norm(stringField(matcher, 'contains')))
  if (field(matcher, 'safe_regex') !== undefined) return fullRegex(stringField(field(matcher, 'safe_regex'), 'regex'), ignoreCase)?.test(value)
  return undefined
}

/**
 * A StringMatcher against `<known><one unknown path segment>` (a SPIFFE ID whose service account
 * is unknown): decided only when every service account name gives the same answer.
 */
function matchStringWithUnknownTail(matcher: Json, known: string): boolean | undefined {
  const ignoreCase = field(matcher, 'ignore_case') === true
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s)
  const head = norm(known)
  if (field(matcher, 'exact') !== undefined) {
    const exact = norm(stringField(matcher, 'exact'))
    return exact.startsWith(head) && exact.length > head.length && !exact.slice(head.length).includes('/') ? undefined : false
  }
  if (field(matcher, 'prefix') !== undefined) {
    const prefix = norm(stringField(matcher, 'prefix'))
    if (head.startsWith(prefix)) return true
    return prefix.startsWith(head) && !prefix.slice(head.length).includes('/') ? undefined : false
  }
  if (field(matcher, 'suffix') !== undefined) {
    const suffix = norm(stringField(matcher, 'suffix'))
    const slash = suffix.lastIndexOf('/')
    return slash < 0 || head.endsWith(suffix.slice(0, slash + 1)) ? undefined : false
  }
  if (field(matcher, 'contains') !== undefined) return head.includes(norm(stringField(matcher, 'contains'))) ? true : undefined
  if (field(matcher, 'safe_regex') !== undefined) {
    const regex = stringField(field(matcher, 'safe_regex'), 'regex')
    if (regex === '.+' || regex === '.*') return true
  }
  return undefined
}

function headerMatches(header: Json, value: string | undefined): boolean | undefined {
  if (field(header, 'present_match') !== undefined) return (value !== undefined) === (field(header, 'present_match') !== false)
  if (value === undefined) {
    if (field(header, 'treat_missing_header_as_empty') !== true) return false
    value = ''
  }
  if (field(header, 'string_match') !== undefined) return matchString(field(header, 'string_match'), value)
  if (field(header, 'exact_match') !== undefined) return value === stringField(header, 'exact_match')
  if (field(header, 'prefix_match') !== undefined) return value.startsWith(stringField(header, 'prefix_match'))
  if (field(header, 'suffix_match') !== undefined) return value.endsWith(stringField(header, 'suffix_match'))
  if (field(header, 'contains_match') !== undefined) return value.includes(stringField(header, 'contains_match'))
  if (field(header, 'safe_regex_match') !== undefined) return fullRegex(stringField(field(header, 'safe_regex_match'), 'regex'), false)?.test(value)
  if (field(header, 'range_match') !== undefined) {
    if (!/^-?\d+$/.test(value)) return false
    const n = Number(value)
    const range = field(header, 'range_match')
    return n >= Number(field(range, 'start') ?? 0) && n < Number(field(range, 'end') ?? 0)
  }
  return true
}

function valueMatches(value: Json, actual: string | undefined): boolean | undefined {
  if (field(value, 'present_match') !== undefined) return actual !== undefined
  if (actual === undefined) return false
  if (field(value, 'string_match') !== undefined) return matchString(field(value, 'string_match'), actual)
  if (field(value, 'list_match') !== undefined) return valueMatches(field(field(value, 'list_match'), 'one_of'), actual)
  if (field(value, 'or_match') !== undefined) {
    const results = arrayField(field(value, 'or_match'), 'value_matchers').map((matcher) => valueMatches(matcher, actual))
    return results.includes(true) ? true : results.includes(undefined) ? undefined : false
  }
  return undefined
}

/** Envoy's uri_template: `*` one path segment, `**` any number of segments (the rest of the path), `{name}` and `{name=*}` as `*`. */
function templateMatches(template: string, path: string): boolean {
  const pattern = template
    .replace(/\{[^}=]*=([^}]*)\}/g, '$1')
    .replace(/\{[^}]*\}/g, '*')
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('')
  return new RegExp(`^${pattern}$`, 's').test(path)
}

// ---------------------------------------------------------------------------------------------
// Leaves

const PEER_HINT = 'pass --from-sa, --from-principal or --from-namespace'
const JWT_HINT = 'pass --request-principal ISS/SUB, or none'

function pathOnly(path: string): string {
  const end = path.search(/[?#]/)
  return end < 0 ? path : path.slice(0, end)
}

function known(result: boolean | undefined, node: RbacNode, actual: string, undecided: string): Verdict {
  if (result === undefined) return unknown(describeNode(node), undecided)
  return result ? MATCH : noMatch(`needs ${describeNode(node)}; the request has ${actual}`)
}

function peerVerdict(leaf: Extract<RbacLeaf, {kind: 'peer' | 'namespace'}>, node: RbacNode, peer: AuthzPeer | undefined): Verdict {
  if (peer === undefined) return unknown(describeNode(node), `the caller's identity is unknown (${PEER_HINT})`)
  if ('principal' in peer) {
    if (leaf.kind === 'namespace') {
      const namespace = /\/ns\/([^/]+)\//.exec(peer.principal)?.[1]
      const ok = namespace !== undefined && fullRegex(leaf.pattern, false)?.test(namespace)
      return known(ok, node, `principal ${peer.principal}`, `cannot evaluate ${leaf.pattern}`)
    }
    if (leaf.matcher === undefined) return MATCH
    return known(matchString(leaf.matcher, peer.principal), node, `principal ${peer.principal}`, 'cannot evaluate this matcher')
  }
  if (leaf.kind === 'namespace') {
    return known(fullRegex(leaf.pattern, false)?.test(peer.namespace), node, `namespace ${peer.namespace}`, `cannot evaluate ${leaf.pattern}`)
  }
  if (leaf.matcher === undefined) return MATCH
  const head = `spiffe://${peer.trustDomain}/ns/${peer.namespace}/sa/`
  return known(matchStringWithUnknownTail(leaf.matcher, head), node, `namespace ${peer.namespace}`, `depends on the caller's service account (pass --from-sa ${peer.namespace}/SA)`)
}

function jwtVerdict(leaf: Extract<RbacLeaf, {kind: 'request-principal' | 'jwt-claim'}>, node: RbacNode, jwt: AuthzRequest['jwt']): Verdict {
  if (jwt === undefined) return unknown(describeNode(node), `the request's JWT is unknown (${JWT_HINT})`)
  if (jwt === 'none') {
    const absent = leaf.kind === 'jwt-claim' ? valueMatches(leaf.value, undefined) : false
    return known(absent, node, 'no token', 'cannot evaluate this matcher')
  }
  const slash = jwt.principal.lastIndexOf('/')
  const [iss, sub] = slash < 0 ? [jwt.principal, ''] : [jwt.principal.slice(0, slash), jwt.principal.slice(slash + 1)]
  const actual = `request principal ${jwt.principal}`
  if (leaf.kind === 'request-principal') {
    if (leaf.whole !== undefined) return known(matchString(leaf.whole, jwt.principal), node, actual, 'cannot evaluate this matcher')
    const issOk = matchString(leaf.iss, iss)
    const subOk = matchString(leaf.sub, sub)
    return known(issOk === false || subOk === false ? false : issOk && subOk, node, actual, 'cannot evaluate this matcher')
  }
  if (leaf.claim === 'iss') return known(valueMatches(leaf.value, iss), node, actual, 'cannot evaluate this matcher')
  if (leaf.claim === 'sub') return known(valueMatches(leaf.value, sub), node, actual, 'cannot evaluate this matcher')
  return unknown(describeNode(node), "the token's other claims are unknown")
}

function leafVerdict(leaf: RbacLeaf, node: RbacNode, ctx: EvalContext): Verdict {
  const {request} = ctx
  const http = ctx.layer === 'HTTP'
  switch (leaf.kind) {
    case 'any':
      return MATCH
    case 'header': {
      if (!http) return noMatch(`needs ${describeNode(node)}; a TCP connection has no HTTP headers`)
      let value: string | undefined
      if (leaf.name === ':method') value = request.method
      else if (leaf.name === ':path') value = request.path
      else if (leaf.name === ':authority' || leaf.name === 'host') {
        if (request.host === undefined) return unknown(describeNode(node), "the request's host is unknown (pass --header host=HOST)")
        value = request.host
      } else if (leaf.name === ':scheme') return unknown(describeNode(node), 'the scheme is unknown')
      else value = request.headers[leaf.name]
      return known(headerMatches(leaf.matcher, value), node, value === undefined ? `no ${leaf.name} header` : `${leafParts(leaf).subject} ${value}`, 'cannot evaluate this matcher')
    }
    case 'path':
      if (!http) return noMatch(`needs ${describeNode(node)}; a TCP connection has no path`)
      return known(matchString(leaf.matcher, pathOnly(request.path)), node, `path ${pathOnly(request.path)}`, 'cannot evaluate this matcher')
    case 'path-template':
      if (!http) return noMatch(`needs ${describeNode(node)}; a TCP connection has no path`)
      return known(templateMatches(leaf.template, pathOnly(request.path)), node, `path ${pathOnly(request.path)}`, '')
    case 'port':
      return known(ctx.port >= leaf.from && ctx.port <= leaf.to, node, `port ${ctx.port}`, '')
    case 'peer':
    case 'namespace':
      return peerVerdict(leaf, node, request.peer)
    case 'request-principal':
    case 'jwt-claim':
      if (!http) return noMatch(`needs ${describeNode(node)}; a TCP connection has no JWT`)
      return jwtVerdict(leaf, node, request.jwt)
    case 'destination-ip':
      return unknown(describeNode(node), 'the destination IP is not known to the CLI')
    case 'sni':
      return unknown(describeNode(node), 'the TLS SNI is not known to the CLI')
    case 'source-ip':
      return unknown(describeNode(node), "the caller's IP address is not known to the CLI")
    case 'metadata':
      return unknown(describeNode(node), 'dynamic metadata is not known to the CLI')
    case 'unsupported':
      return unknown(describeNode(node), 'meshdbg does not evaluate this RBAC matcher')
  }
}

/** Three-valued evaluation of a permission or principal tree. */
export function evaluateNode(node: RbacNode, ctx: EvalContext): Verdict {
  if (node.op === 'leaf') {
    const verdict = leafVerdict(node.leaf, {...node, invert: false}, ctx)
    if (!node.invert) return verdict
    if (verdict.result === 'unknown') return verdict.cause === undefined ? verdict : unknown(describeNode(node), verdict.cause)
    return verdict.result === 'match' ? noMatch(`needs ${describeNode(node)}`) : MATCH
  }
  if (node.op === 'not') {
    const verdict = evaluateNode(node.child, ctx)
    if (verdict.result === 'unknown') return verdict.cause === undefined ? verdict : unknown(describeNode(node), verdict.cause)
    return verdict.result === 'match' ? noMatch(`needs ${describeNode(node)}`) : MATCH
  }
  const verdicts = node.children.map((child) => evaluateNode(child, ctx))
  const unknowns = verdicts.filter((verdict) => verdict.result === 'unknown').flatMap((verdict) => verdict.why)
  if (node.op === 'and') {
    const failed = verdicts.find((verdict) => verdict.result === 'no-match')
    if (failed) return failed
    return unknowns.length > 0 ? {result: 'unknown', why: unknowns} : MATCH
  }
  if (verdicts.some((verdict) => verdict.result === 'match')) return MATCH
  const causes = new Set(verdicts.map((verdict) => verdict.cause))
  if (causes.size === 1 && verdicts[0].cause !== undefined) return unknown(describeNode(node), verdicts[0].cause)
  if (unknowns.length > 0) return {result: 'unknown', why: unknowns}
  if (node.children.length === 1) return verdicts[0]
  const subjects = new Set(node.children.map((child) => (child.op === 'leaf' ? leafParts(child.leaf).subject : undefined)))
  // Same subject: the failed leaves say the same "the request has ..." once.
  const actual = subjects.size === 1 ? verdicts[0].why[0]?.split('; ').at(-1) : undefined
  return noMatch(`needs ${describeNode(node)}${actual ? `; ${actual}` : ''}`)
}

/** An RBAC Policy: one permission and one principal must match. */
export function evaluatePolicy(policy: Json, ctx: EvalContext): Verdict {
  const anyOf = (nodes: RbacNode[]): Verdict => (nodes.length === 0 ? noMatch('no permission or principal listed') : evaluateNode({op: 'or', children: nodes}, ctx))
  const permissions = anyOf(arrayField(policy, 'permissions').map(permissionTree))
  if (permissions.result === 'no-match') return permissions
  const principals = anyOf(arrayField(policy, 'principals').map(principalTree))
  if (principals.result === 'no-match') return principals
  if (permissions.result === 'match' && principals.result === 'match') return MATCH
  return {result: 'unknown', why: [...permissions.why, ...principals.why]}
}

// ---------------------------------------------------------------------------------------------
// Filters and chains

export interface AuthzRuleVerdict {
  key: string
  /** `<policy>.<namespace>`. */
  policy: string
  rule: string
  result: Tri
  why: string[]
}

export interface AuthzFilterStep {
  layer: AuthzLayer
  /** CUSTOM (ext-authz shadow rules), DENY, ALLOW, LOG (enforced rules), DRY-RUN (shadow rules only logged). */
  action: 'CUSTOM' | 'DENY' | 'ALLOW' | 'LOG' | 'DRY-RUN'
  /** What the step does with the request: deny, pass it on, or unknown (the answer depends on what the CLI cannot know). */
  outcome: 'deny' | 'pass' | 'unknown'
  /** The policy rule that decided it (a match), when one did. */
  decidedBy?: AuthzRuleVerdict
  rules: AuthzRuleVerdict[]
}

export type AuthzDecision = 'ALLOWED' | 'DENIED' | 'UNKNOWN'

export interface AuthzChainVerdict {
  decision: AuthzDecision
  /** The deciding step's action and rule; for a default deny, policy "none" (Envoy's `rbac_access_denied_matched_policy[none]`). */
  decidedBy?: {action: AuthzFilterStep['action']; policy: string; rule: string; key: string}
  /** One line: why. */
  reason: string
  steps: AuthzFilterStep[]
  /** Rules that could not be decided and why (for UNKNOWN, and for DENIED/ALLOWED reached past them). */
  undecided: AuthzRuleVerdict[]
}

function ruleVerdicts(policies: Record<string, Json>, ctx: EvalContext): AuthzRuleVerdict[] {
  // Envoy keeps policies in a sorted map: the first matching key in byte order is the one reported.
  return Object.keys(policies)
    .sort(byteCompare)
    .map((key) => {
      const parsed = parsePolicyKey(key)
      return {key, policy: parsed.name, rule: parsed.rule, ...evaluatePolicy(policies[key], ctx)}
    })
}

function filterSteps(filter: RbacFilterFacts, ctx: EvalContext): AuthzFilterStep[] {
  const steps: AuthzFilterStep[] = []
  const custom = Object.fromEntries(Object.entries(filter.shadowPolicies).filter(([key]) => key.startsWith('istio-ext-authz-')))
  const dryRun = Object.fromEntries(Object.entries(filter.shadowPolicies).filter(([key]) => !key.startsWith('istio-ext-authz-')))
  if (Object.keys(custom).length > 0) {
    const rules = ruleVerdicts(custom, ctx)
    const matched = rules.find((rule) => rule.result === 'match')
    // A matching CUSTOM rule hands the request to the ext-authz provider, whose answer we cannot know.
    steps.push({layer: filter.layer, action: 'CUSTOM', outcome: matched || rules.some((rule) => rule.result === 'unknown') ? 'unknown' : 'pass', ...(matched ? {decidedBy: matched} : {}), rules})
  }
  if (filter.action !== undefined) {
    const rules = ruleVerdicts(filter.policies, ctx)
    const matched = rules.find((rule) => rule.result === 'match')
    const undecided = rules.some((rule) => rule.result === 'unknown')
    const outcome: AuthzFilterStep['outcome'] =
      filter.action === 'LOG' ? 'pass' : filter.action === 'DENY' ? (matched ? 'deny' : undecided ? 'unknown' : 'pass') : matched ? 'pass' : undecided ? 'unknown' : 'deny'
    steps.push({layer: filter.layer, action: filter.action, outcome, ...(matched ? {decidedBy: matched} : {}), rules})
  }
  if (Object.keys(dryRun).length > 0) {
    const rules = ruleVerdicts(dryRun, ctx)
    const matched = rules.find((rule) => rule.result === 'match')
    steps.push({layer: filter.layer, action: 'DRY-RUN', outcome: 'pass', ...(matched ? {decidedBy: matched} : {}), rules})
  }
  return steps
}

const ruleName = (rule: AuthzRuleVerdict) => (rule.rule === '' ? rule.policy : `${rule.policy} rule ${rule.rule}`)

/** Network RBAC filters run on the connection before the HTTP ones (filter order within each). */
export function evaluateChain(chain: AuthzChain, request: AuthzRequest): AuthzChainVerdict {
  const port = request.port ?? chain.destinationPort ?? chain.port
  const steps = chain.filters.flatMap((filter) => filterSteps(filter, {request, port, layer: filter.layer}))
  const undecided: AuthzRuleVerdict[] = []
  let lastAllow: AuthzRuleVerdict | undefined
  for (const [index, step] of steps.entries()) {
    if (step.outcome === 'unknown') {
      undecided.push(...step.rules.filter((rule) => rule.result === 'unknown' || (step.action === 'CUSTOM' && rule === step.decidedBy)))
      continue
    }
    if (step.outcome === 'deny') {
      const rule = step.decidedBy
      const decidedBy = rule ? {action: step.action, policy: rule.policy, rule: rule.rule, key: rule.key} : {action: step.action, policy: 'none', rule: '', key: 'none'}
      const before = undecided.length > 0 ? ' (an undecided earlier step may deny it first)' : ''
      const reason = rule ? `${step.action} policy ${ruleName(rule)} matches${before}` : `no ALLOW rule matches (${step.layer} RBAC: rbac_access_denied_matched_policy[none])${before}`
      // The first denial ends the evaluation: later filters never see the request.
      return {decision: 'DENIED', decidedBy, reason, steps: steps.slice(0, index + 1), undecided}
    }
    if (step.action === 'ALLOW' && step.decidedBy) lastAllow = step.decidedBy
  }
  if (undecided.length > 0) {
    const custom = steps.find((step) => step.action === 'CUSTOM' && step.decidedBy)
    const reason = custom?.decidedBy
      ? `CUSTOM policy ${ruleName(custom.decidedBy)} matches: the ext-authz provider decides`
      : `depends on what the CLI cannot know: ${undecided.map(ruleName).join(', ')}`
    return {decision: 'UNKNOWN', reason, steps, undecided}
  }
  if (lastAllow) {
    return {decision: 'ALLOWED', decidedBy: {action: 'ALLOW', policy: lastAllow.policy, rule: lastAllow.rule, key: lastAllow.key}, reason: `ALLOW policy ${ruleName(lastAllow)} matches`, steps, undecided}
  }
  const reason = steps.some((step) => step.action === 'DENY') ? 'no DENY rule matches and no ALLOW policy applies' : 'no authorization policy applies here'
  return {decision: 'ALLOWED', reason, steps, undecided}
}

// ---------------------------------------------------------------------------------------------
// Which chains a request to a port meets

/**
 * The chains that serve `port`: a sidecar's inbound listener chains for that destination port
 * (its catch-all chains when none), or, on a proxy without an inbound listener (gateways), the
 * chains of listeners on that port. Undefined port: the one port with an RBAC filter.
 */
export function chainsForPort(chains: readonly AuthzChain[], port: number | undefined): {port?: number; chains: AuthzChain[]; candidates: number[]} {
  const inbound = chains.some((chain) => chain.inbound)
  const pool = inbound ? chains.filter((chain) => chain.inbound) : chains
  const perPortListeners = new Set(pool.filter((chain) => chain.destinationPort !== undefined).map((chain) => chain.listenerIndex))
  const portOf = (chain: AuthzChain) => chain.destinationPort ?? (perPortListeners.has(chain.listenerIndex) ? undefined : chain.port)
  const candidates = [...new Set(pool.filter((chain) => chain.filters.length > 0).map(portOf).filter((p): p is number => p !== undefined))].sort((a, b) => a - b)
  const chosen = port ?? (candidates.length === 1 ? candidates[0] : undefined)
  if (chosen === undefined) return {chains: [], candidates}
  const exact = pool.filter((chain) => portOf(chain) === chosen)
  if (exact.length > 0) return {port: chosen, chains: exact, candidates}
  return {port: chosen, chains: pool.filter((chain) => portOf(chain) === undefined && perPortListeners.has(chain.listenerIndex)), candidates}
}

export interface AuthzCheckResult extends AuthzChainVerdict {
  /** The listener and destination port the request was evaluated on. */
  listener: string
  port: number
  /** Set when the port's chains (mTLS / plaintext) hold different RBAC filters and disagree. */
  perTransport?: Array<{transport: string; decision: AuthzDecision; reason: string}>
}

/** Evaluates the request on the chains for its port; a caller with an identity arrives over mTLS. */
export function checkAuthz(chains: readonly AuthzChain[], request: AuthzRequest): AuthzCheckResult | {error: 'no-port'; candidates: number[]} | {error: 'no-chain'; port: number; candidates: number[]} {
  const selected = chainsForPort(chains, request.port)
  if (selected.port === undefined) return {error: 'no-port', candidates: selected.candidates}
  let pool = selected.chains
  if (request.peer !== undefined) {
    const tls = pool.filter((chain) => chain.transportProtocol === undefined || chain.transportProtocol === 'tls')
    if (tls.length > 0) pool = tls
  }
  if (pool.length === 0) return {error: 'no-chain', port: selected.port, candidates: selected.candidates}
  const forms = new Map<string, AuthzChain>()
  for (const chain of pool) {
    const form = JSON.stringify(chain.filters)
    if (!forms.has(form)) forms.set(form, chain)
  }
  const port = selected.port
  const verdicts = [...forms.values()].map((chain) => ({chain, verdict: evaluateChain(chain, {...request, port})}))
  const first = verdicts[0]
  const base = {listener: first.chain.listener, port}
  if (verdicts.every(({verdict}) => verdict.decision === first.verdict.decision)) return {...base, ...first.verdict}
  const perTransport = verdicts.map(({chain, verdict}) => ({transport: chain.transportProtocol ?? 'any', decision: verdict.decision, reason: verdict.reason}))
  return {
    ...base,
    decision: 'UNKNOWN',
    reason: `depends on the connection: ${perTransport.map((entry) => `${entry.transport}: ${entry.decision}`).join(', ')}`,
    steps: first.verdict.steps,
    undecided: verdicts.flatMap(({verdict}) => verdict.undecided),
    perTransport,
  }
}
