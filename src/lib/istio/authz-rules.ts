// Envoy RBAC permissions and principals (envoy/config/rbac/v3/rbac.proto) read back into the words
// of an AuthorizationPolicy. istiod compiles `to`, `from` and `when` into one tree per rule
// (pilot/pkg/security/authz/model: generator.go, permission.go, principal.go), so a `when` condition
// and the `from`/`to` field it duplicates read the same here: we describe what the proxy enforces.
import {byteCompare} from '../compare.js'
import {arrayField, field, numberField, stringField, uint32Value, type Json} from '../envoy/fields.js'
import {parsePolicyKey, type AuthzChain, type AuthzLayer} from './authz.js'

/** One matcher of the tree, classified by what it looks at. */
export type RbacLeaf =
  | {kind: 'any'}
  | {kind: 'header'; name: string; matcher: Json}
  | {kind: 'path'; matcher: Json}
  | {kind: 'path-template'; template: string}
  | {kind: 'port'; from: number; to: number}
  | {kind: 'destination-ip'; cidr: string}
  | {kind: 'sni'; matcher: Json}
  /** The mTLS peer's identity: `authenticated`, 1.17's `filter_state io.istio.peer_principal`, older `istio_authn source.principal`. */
  | {kind: 'peer'; matcher?: Json}
  /** Istio's source namespace form of the peer matcher: regex `.*\/ns/<ns>/.*`. */
  | {kind: 'namespace'; pattern: string}
  /** `request.auth.principal`: one matcher on `iss/sub` (up to 1.21), or iss and sub claims (1.22+). */
  | {kind: 'request-principal'; whole?: Json; iss?: Json; sub?: Json}
  | {kind: 'jwt-claim'; claim: string; value: Json}
  | {kind: 'source-ip'; which: 'direct' | 'remote'; cidr: string}
  | {kind: 'metadata'; filter: string; path: string; value: Json}
  | {kind: 'unsupported'; what: string}

export type RbacNode =
  | {op: 'and' | 'or'; children: RbacNode[]}
  | {op: 'not'; child: RbacNode}
  | {op: 'leaf'; leaf: RbacLeaf; invert: boolean}

const PEER_PRINCIPAL_STATE = 'io.istio.peer_principal'
const JWT_FILTER = 'envoy.filters.http.jwt_authn'
const ISTIO_AUTHN = 'istio_authn'
const NAMESPACE_REGEX = /^\.\*\/ns\/(.+)\/\.\*$/

const cidrText = (range: Json) => `${stringField(range, 'address_prefix')}/${uint32Value(field(range, 'prefix_len')) ?? 32}`
const metadataPath = (matcher: Json) => arrayField(matcher, 'path').map((segment) => stringField(segment, 'key'))

function stringMatcherOf(valueMatcher: Json): Json {
  return field(valueMatcher, 'string_match')
}

function peerMatcherLeaf(matcher: Json): RbacLeaf {
  const regex = stringField(field(matcher, 'safe_regex'), 'regex')
  const namespace = NAMESPACE_REGEX.exec(regex)
  return namespace ? {kind: 'namespace', pattern: namespace[1]} : {kind: 'peer', matcher}
}

function metadataLeaf(matcher: Json): RbacLeaf {
  const filter = stringField(matcher, 'filter')
  const keys = metadataPath(matcher)
  const value = field(matcher, 'value')
  if (filter === ISTIO_AUTHN && keys[0] === 'source.principal') return peerMatcherLeaf(stringMatcherOf(value))
  if (filter === ISTIO_AUTHN && keys[0] === 'request.auth.principal') return {kind: 'request-principal', whole: stringMatcherOf(value)}
  if (filter === ISTIO_AUTHN && keys[0] === 'request.auth.claims') return {kind: 'jwt-claim', claim: keys.slice(1).join('.'), value}
  if (filter === ISTIO_AUTHN && keys[0] === 'request.auth.audiences') return {kind: 'jwt-claim', claim: 'aud', value}
  if (filter === ISTIO_AUTHN && keys[0] === 'request.auth.presenter') return {kind: 'jwt-claim', claim: 'azp', value}
  if (filter === JWT_FILTER && keys[0] === 'payload' && keys.length > 1) return {kind: 'jwt-claim', claim: keys.slice(1).join('.'), value}
  return {kind: 'metadata', filter, path: keys.join('.'), value}
}

function leafNode(leaf: RbacLeaf, invert = false): RbacNode {
  return {op: 'leaf', leaf, invert}
}

/** 1.22+ request principals: and_ids of an `iss` and a `sub` claim matcher on jwt_authn's payload. */
function requestPrincipalPair(children: RbacNode[]): RbacNode | undefined {
  if (children.length !== 2) return undefined
  const claims = children.map((child) => (child.op === 'leaf' && !child.invert && child.leaf.kind === 'jwt-claim' ? child.leaf : undefined))
  if (claims[0]?.claim !== 'iss' || claims[1]?.claim !== 'sub') return undefined
  const iss = stringMatcherOf(claims[0].value)
  const sub = stringMatcherOf(claims[1].value)
  if (iss === undefined || sub === undefined) return undefined
  return leafNode({kind: 'request-principal', iss, sub})
}

function list(node: Json, name: string, item: string): Json[] {
  return arrayField(field(node, name), item)
}

/** A Permission (rbac.proto) as a tree. Unknown fields become `unsupported` leaves (never silently true). */
export function permissionTree(node: Json): RbacNode {
  if (field(node, 'any') === true) return leafNode({kind: 'any'})
  if (field(node, 'and_rules') !== undefined) return {op: 'and', children: list(node, 'and_rules', 'rules').map(permissionTree)}
  if (field(node, 'or_rules') !== undefined) return {op: 'or', children: list(node, 'or_rules', 'rules').map(permissionTree)}
  if (field(node, 'not_rule') !== undefined) return {op: 'not', child: permissionTree(field(node, 'not_rule'))}
  if (field(node, 'header') !== undefined) return headerNode(field(node, 'header'))
  if (field(node, 'url_path') !== undefined) return leafNode({kind: 'path', matcher: field(field(node, 'url_path'), 'path')}, false)
  if (field(node, 'destination_port') !== undefined) {
    const port = uint32Value(field(node, 'destination_port')) ?? 0
    return leafNode({kind: 'port', from: port, to: port})
  }
  if (field(node, 'destination_port_range') !== undefined) {
    const range = field(node, 'destination_port_range')
    return leafNode({kind: 'port', from: numberField(range, 'start'), to: numberField(range, 'end') - 1})
  }
  if (field(node, 'destination_ip') !== undefined) return leafNode({kind: 'destination-ip', cidr: cidrText(field(node, 'destination_ip'))})
  if (field(node, 'requested_server_name') !== undefined) return leafNode({kind: 'sni', matcher: field(node, 'requested_server_name')})
  if (field(node, 'metadata') !== undefined) return metadataNode(field(node, 'metadata'))
  if (field(node, 'uri_template') !== undefined) {
    return leafNode({kind: 'path-template', template: stringField(field(field(node, 'uri_template'), 'typed_config'), 'path_template')})
  }
  return leafNode({kind: 'unsupported', what: Object.keys(node ?? {}).join(',') || 'an empty permission'})
}

/** A Principal (rbac.proto) as a tree. */
export function principalTree(node: Json): RbacNode {
  if (field(node, 'any') === true) return leafNode({kind: 'any'})
  if (field(node, 'and_ids') !== undefined) {
    const children = list(node, 'and_ids', 'ids').map(principalTree)
    return requestPrincipalPair(children) ?? {op: 'and', children}
  }
  if (field(node, 'or_ids') !== undefined) return {op: 'or', children: list(node, 'or_ids', 'ids').map(principalTree)}
  if (field(node, 'not_id') !== undefined) return {op: 'not', child: principalTree(field(node, 'not_id'))}
  if (field(node, 'authenticated') !== undefined) {
    const matcher = field(field(node, 'authenticated'), 'principal_name')
    return leafNode(matcher === undefined || matcher === null ? {kind: 'peer'} : peerMatcherLeaf(matcher))
  }
  if (field(node, 'filter_state') !== undefined) {
    const state = field(node, 'filter_state')
    if (stringField(state, 'key') === PEER_PRINCIPAL_STATE) return leafNode(peerMatcherLeaf(field(state, 'string_match')))
    return leafNode({kind: 'unsupported', what: `filter state ${stringField(state, 'key')}`})
  }
  if (field(node, 'header') !== undefined) return headerNode(field(node, 'header'))
  if (field(node, 'url_path') !== undefined) return leafNode({kind: 'path', matcher: field(field(node, 'url_path'), 'path')})
  if (field(node, 'metadata') !== undefined) return metadataNode(field(node, 'metadata'))
  for (const [name, which] of [['direct_remote_ip', 'direct'], ['source_ip', 'direct'], ['remote_ip', 'remote']] as const) {
    if (field(node, name) !== undefined) return leafNode({kind: 'source-ip', which, cidr: cidrText(field(node, name))})
  }
  return leafNode({kind: 'unsupported', what: Object.keys(node ?? {}).join(',') || 'an empty principal'})
}

function headerNode(header: Json): RbacNode {
  return leafNode({kind: 'header', name: stringField(header, 'name').toLowerCase(), matcher: header}, field(header, 'invert_match') === true)
}

function metadataNode(matcher: Json): RbacNode {
  return leafNode(metadataLeaf(matcher), field(matcher, 'invert') === true)
}

// ---------------------------------------------------------------------------------------------
// Words

/** A StringMatcher in AuthorizationPolicy notation: `v`, `v*` (prefix), `*v` (suffix), `*` (any). */
export function stringMatcherText(matcher: Json): string {
  if (matcher === undefined || matcher === null) return '(anything)'
  const caseNote = field(matcher, 'ignore_case') === true ? ' (any case)' : ''
  const quoted = (value: string) => (value === '' ? '""' : value)
  if (field(matcher, 'exact') !== undefined) return quoted(stringField(matcher, 'exact')) + caseNote
  if (field(matcher, 'prefix') !== undefined) return `${stringField(matcher, 'prefix')}*${caseNote}`
  if (field(matcher, 'suffix') !== undefined) return `*${stringField(matcher, 'suffix')}${caseNote}`
  if (field(matcher, 'contains') !== undefined) return `*${stringField(matcher, 'contains')}*${caseNote}`
  if (field(matcher, 'safe_regex') !== undefined) {
    const regex = stringField(field(matcher, 'safe_regex'), 'regex')
    return (regex === '.+' ? '*' : `regex ${regex}`) + caseNote
  }
  return `(matcher ${Object.keys(matcher).join(',')})`
}

function headerValueText(header: Json): string {
  if (field(header, 'present_match') !== undefined) return field(header, 'present_match') === false ? '(absent)' : '(present)'
  if (field(header, 'string_match') !== undefined) return stringMatcherText(field(header, 'string_match'))
  if (field(header, 'exact_match') !== undefined) return stringMatcherText({exact: field(header, 'exact_match')})
  if (field(header, 'prefix_match') !== undefined) return stringMatcherText({prefix: field(header, 'prefix_match')})
  if (field(header, 'suffix_match') !== undefined) return stringMatcherText({suffix: field(header, 'suffix_match')})
  if (field(header, 'contains_match') !== undefined) return stringMatcherText({contains: field(header, 'contains_match')})
  if (field(header, 'safe_regex_match') !== undefined) return stringMatcherText({safe_regex: field(header, 'safe_regex_match')})
  if (field(header, 'range_match') !== undefined) {
    const range = field(header, 'range_match')
    return `in [${numberField(range, 'start')}, ${numberField(range, 'end')})`
  }
  return '(present)'
}

/** A ValueMatcher (metadata, JWT claims): string, list one_of, or_match, present. */
export function valueMatcherText(value: Json): string {
  if (field(value, 'string_match') !== undefined) return stringMatcherText(field(value, 'string_match'))
  if (field(value, 'list_match') !== undefined) return `contains ${valueMatcherText(field(field(value, 'list_match'), 'one_of'))}`
  if (field(value, 'or_match') !== undefined) return arrayField(field(value, 'or_match'), 'value_matchers').map(valueMatcherText).join(' | ')
  if (field(value, 'present_match') !== undefined) return '(present)'
  return `(matcher ${Object.keys(value ?? {}).join(',')})`
}

const HEADER_SUBJECTS: Record<string, string> = {':method': 'method', ':authority': 'host', host: 'host', ':path': 'path with query', ':scheme': 'scheme'}

/** What a leaf looks at ("path", "method", "principal"...) and the value it wants, in words. */
export function leafParts(leaf: RbacLeaf): {subject: string; value: string} {
  switch (leaf.kind) {
    case 'any': return {subject: 'any', value: ''}
    case 'header': return {subject: HEADER_SUBJECTS[leaf.name] ?? `header ${leaf.name}`, value: headerValueText(leaf.matcher)}
    case 'path': return {subject: 'path', value: stringMatcherText(leaf.matcher)}
    case 'path-template': return {subject: 'path', value: `template ${leaf.template}`}
    case 'port': return {subject: 'port', value: leaf.from === leaf.to ? String(leaf.from) : `${leaf.from}-${leaf.to}`}
    case 'destination-ip': return {subject: 'destination IP', value: leaf.cidr}
    case 'sni': return {subject: 'SNI', value: stringMatcherText(leaf.matcher)}
    case 'peer': return {subject: 'principal', value: leaf.matcher === undefined ? '(any mTLS peer)' : stringMatcherText(leaf.matcher)}
    case 'namespace': return {subject: 'namespace', value: leaf.pattern.replaceAll('.*', '*')}
    case 'request-principal':
      if (leaf.whole !== undefined) return {subject: 'request principal', value: stringMatcherText(leaf.whole)}
      // Istio's `*` (any token) compiles to `.+` on both claims.
      return {subject: 'request principal', value: [leaf.iss, leaf.sub].map(stringMatcherText).join('/').replace(/^\*\/\*$/, '*')}
    case 'jwt-claim': return {subject: `JWT claim ${leaf.claim}`, value: valueMatcherText(leaf.value)}
    case 'source-ip': return {subject: leaf.which === 'direct' ? 'source IP' : 'remote IP', value: leaf.cidr}
    case 'metadata': return {subject: `metadata ${leaf.filter}[${leaf.path}]`, value: valueMatcherText(leaf.value)}
    case 'unsupported': return {subject: 'unsupported matcher', value: leaf.what}
  }
}

/** The subject shared by every leaf under an or/not (so `path in [/a, /b*]` reads as one condition). */
function sharedSubject(node: RbacNode): string | undefined {
  if (node.op === 'leaf') return node.invert ? undefined : leafParts(node.leaf).subject
  if (node.op === 'or' && node.children.length > 0) {
    const subjects = new Set(node.children.map(sharedSubject))
    return subjects.size === 1 ? [...subjects][0] : undefined
  }
  return undefined
}

function leafValues(node: RbacNode): string[] {
  if (node.op === 'leaf') return [leafParts(node.leaf).value]
  if (node.op === 'or') return node.children.flatMap(leafValues)
  return []
}

/** One condition in words: `path /api/catalog*`, `method in [GET, HEAD]`, `not principal in [...]`. */
export function describeNode(node: RbacNode): string {
  if (node.op === 'leaf') {
    if (node.leaf.kind === 'any') return node.invert ? 'nothing' : 'anything'
    const {subject, value} = leafParts(node.leaf)
    return `${subject} ${node.invert ? 'not ' : ''}${value}`
  }
  const subject = sharedSubject(node)
  if (node.op === 'not') {
    if (node.child.op === 'leaf' && node.child.leaf.kind === 'any') return 'nothing'
    const inner = sharedSubject(node.child)
    if (inner !== undefined) {
      const values = leafValues(node.child)
      return values.length === 1 ? `${inner} not ${values[0]}` : `${inner} not in [${values.join(', ')}]`
    }
    return `not (${describeNode(node.child)})`
  }
  if (subject !== undefined && subject !== 'any') {
    const values = leafValues(node)
    return values.length === 1 ? `${subject} ${values[0]}` : `${subject} in [${values.join(', ')}]`
  }
  if (node.children.length === 1) return describeNode(node.children[0])
  if (node.op === 'or') return node.children.map((child) => (child.op === 'and' ? `(${describeNode(child)})` : describeNode(child))).join(' or ')
  const parts = node.children.filter((child) => !(child.op === 'leaf' && child.leaf.kind === 'any' && !child.invert))
  if (parts.length === 0) return 'anything'
  return parts.map((child) => (child.op === 'or' && sharedSubject(child) === undefined ? `(${describeNode(child)})` : describeNode(child))).join(' and ')
}

/** The conditions of a permission or principal as lines (the top-level `and` split, `any` dropped). */
export function conditionLines(node: RbacNode): string[] {
  const lines = (node.op === 'and' ? node.children.flatMap(conditionLines) : [describeNode(node)]).filter((line) => line !== 'anything')
  return lines.length === 0 ? ['anything'] : lines
}

// ---------------------------------------------------------------------------------------------
// --verbose: every rule of every policy, once per distinct form

export interface AuthzRuleText {
  /** Which filter: HTTP (connection manager) or TCP (network filter); TCP forms drop HTTP-only fields. */
  layer: AuthzLayer
  /** Enforced DENY/ALLOW/LOG, CUSTOM (ext-authz shadow rules) or DRY-RUN (shadow rules of another action). */
  action: 'ALLOW' | 'DENY' | 'LOG' | 'CUSTOM' | 'DRY-RUN'
  /** `<policy>.<namespace>` (or the raw key). */
  policy: string
  /** Rule index ("" for a key not in Istio's form). */
  rule: string
  /** The RBAC policy key as configured. */
  key: string
  /** Alternatives (OR) of what is requested, each a list of conditions (AND). */
  to: string[][]
  /** Alternatives (OR) of who asks, each a list of conditions (AND). */
  from: string[][]
  /** Listener ports (destination ports of inbound chains) where this form applies. */
  ports: number[]
}

const ACTION_ORDER = ['CUSTOM', 'DENY', 'ALLOW', 'LOG', 'DRY-RUN']

/** Per policy rule and distinct compiled form, its conditions in words and the ports it applies to. */
export function describeAuthzRules(chains: readonly AuthzChain[]): AuthzRuleText[] {
  const byForm = new Map<string, AuthzRuleText>()
  for (const chain of chains) {
    const port = chain.destinationPort ?? chain.port
    for (const filter of chain.filters) {
      const add = (action: AuthzRuleText['action'], key: string, policy: Json) => {
        const formKey = JSON.stringify([filter.layer, action, key, policy])
        let text = byForm.get(formKey)
        if (text === undefined) {
          const parsed = parsePolicyKey(key)
          text = {
            layer: filter.layer,
            action,
            policy: parsed.name,
            rule: parsed.rule,
            key,
            to: arrayField(policy, 'permissions').map((permission) => conditionLines(permissionTree(permission))),
            from: arrayField(policy, 'principals').map((principal) => conditionLines(principalTree(principal))),
            ports: [],
          }
          byForm.set(formKey, text)
        }
        if (!text.ports.includes(port)) text.ports.push(port)
      }
      if (filter.action !== undefined) for (const [key, policy] of Object.entries(filter.policies)) add(filter.action, key, policy)
      for (const [key, policy] of Object.entries(filter.shadowPolicies)) add(key.startsWith('istio-ext-authz-') ? 'CUSTOM' : 'DRY-RUN', key, policy)
    }
  }
  const texts = [...byForm.values()]
  for (const text of texts) text.ports.sort((a, b) => a - b)
  return texts.sort(
    (a, b) =>
      ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action) ||
      byteCompare(a.policy, b.policy) ||
      Number(a.rule) - Number(b.rule) ||
      byteCompare(a.layer, b.layer),
  )
}
