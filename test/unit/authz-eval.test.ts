import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {configDumpFromJson, parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {collectAuthzChains} from '../../src/lib/istio/authz.js'
import {checkAuthz, type AuthzCheckResult} from '../../src/lib/istio/authz-eval.js'
import {parseCheckRequest, type CheckFlags} from '../../src/lib/istio/authz-request.js'
import {describeAuthzRules} from '../../src/lib/istio/authz-rules.js'
import {renderAuthzCheck, renderAuthzRules} from '../../src/lib/render/authz-rules.js'

// rbac-matchers.json: a sidecar's virtualInbound with every matcher kind istiod emits (1.22+ shapes
// on port 8080: authenticated, jwt_authn payload; 1.17 shapes in camelCase on 9080: filter_state,
// istio_authn), CUSTOM, DENY, ALLOW, LOG and dry-run rules, and a network RBAC filter on 3306.
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'authz')
const chains = collectAuthzChains(parseConfigDump(readFileSync(join(fixtures, 'rbac-matchers.json'), 'utf8'), 'rbac-matchers.json'))

function check(method: string, path: string, flags: Omit<CheckFlags, 'check'> = {}): AuthzCheckResult {
  const outcome = checkAuthz(chains, parseCheckRequest({check: [method, path], ...flags})!)
  if ('error' in outcome) throw new Error(outcome.error)
  return outcome
}
const decided = (result: AuthzCheckResult) => [result.decision, result.decidedBy ? `${result.decidedBy.action} ${result.decidedBy.policy} ${result.decidedBy.rule}`.trim() : undefined]
const undecidedWhy = (result: AuthzCheckResult) => result.undecided.map((rule) => `${rule.policy}[${rule.rule}]: ${rule.why.join('; ')}`)

describe('authz --verbose: rules in words', () => {
  it('names every matcher kind, not-forms, request principals and claims, per compiled form (golden)', () => {
    expect(renderAuthzRules(describeAuthzRules(chains))).toBe(readFileSync(join(fixtures, 'rbac-matchers.rules.txt'), 'utf8'))
  })
})

describe('authz --check: decisions', () => {
  it.each([
    // [method, path, flags, decision, deciding rule]
    ['GET', '/api/items', {'from-sa': 'prod/frontend', 'request-principal': 'none'}, 'ALLOWED', 'ALLOW frontend-read.prod 0'],
    // The second alternative of an or: a prefix principal.
    ['HEAD', '/api/items', {'from-sa': 'prod/frontend-v2', 'request-principal': 'none'}, 'ALLOWED', 'ALLOW frontend-read.prod 0'],
    // not_rule: notPaths.
    ['GET', '/api/internal', {'from-sa': 'prod/frontend', 'request-principal': 'none'}, 'DENIED', 'ALLOW none'],
    ['GET', '/api/x.bak', {'from-sa': 'prod/frontend', 'request-principal': 'none'}, 'DENIED', 'ALLOW none'],
    // Host: suffix, ignore_case; method not DELETE; namespace regex.
    ['GET', '/anything', {'from-namespace': 'web', 'request-principal': 'none', header: ['Host=Shop.EXAMPLE.com']}, 'ALLOWED', 'ALLOW frontend-read.prod 1'],
    ['DELETE', '/anything', {'from-namespace': 'web', 'request-principal': 'none', header: ['host=shop.example.com']}, 'DENIED', 'ALLOW none'],
    // notRequestPrincipals ["*"] (not_id over iss/sub .+): no token is denied, a token passes.
    ['GET', '/private/x', {'from-sa': 'prod/frontend', 'request-principal': 'none'}, 'DENIED', 'DENY deny-no-token.prod 0'],
    // not_id over a namespace: a caller outside prod is denied.
    ['GET', '/api/secret', {'from-sa': 'web/shop', 'request-principal': 'none'}, 'DENIED', 'DENY deny-outside-prod.istio-system 0'],
    // Principal-side headers: prefix and present_match.
    ['GET', '/api/items', {'from-sa': 'prod/frontend', 'request-principal': 'none', header: ['User-Agent=sqlmap/1.7']}, 'DENIED', 'DENY deny-scanners.prod 0'],
    ['GET', '/api/items', {'from-sa': 'prod/frontend', 'request-principal': 'none', header: ['x-scanner=']}, 'DENIED', 'DENY deny-scanners.prod 0'],
    // CUSTOM: a match hands the request to ext-authz: undecided, unless a later step denies anyway.
    ['GET', '/admin/users', {'from-namespace': 'web', 'request-principal': 'none', header: ['host=a.example.com']}, 'UNKNOWN', undefined],
    ['GET', '/admin/users', {'from-sa': 'prod/frontend', 'request-principal': 'none'}, 'DENIED', 'ALLOW none'],
    // 1.17 shapes on 9080: filter_state namespace regex and not principal, port range, exact_match method.
    ['GET', '/x', {'from-sa': 'legacy/reader', port: 9080}, 'ALLOWED', 'ALLOW reader.legacy 0'],
    ['GET', '/x', {'from-sa': 'legacy/untrusted', port: 9080, 'request-principal': 'none'}, 'DENIED', 'ALLOW none'],
    ['GET', '/x', {'from-sa': 'other/x', port: 9080, 'request-principal': 'https://auth.example.com/bob'}, 'UNKNOWN', undefined],
    // Network RBAC: the TCP filter decides on the caller alone.
    ['GET', '/x', {'from-sa': 'prod/app', port: 3306}, 'ALLOWED', 'ALLOW db-clients.db 0'],
    ['GET', '/x', {'from-sa': 'web/app', port: 3306}, 'DENIED', 'ALLOW none'],
  ] as const)('%s %s %j -> %s %s', (method, path, flags, decision, by) => {
    expect(decided(check(method, path, {port: 8080, ...flags}))).toEqual([decision, by])
  })

  it('unknowns say what is missing: identity, JWT, source IP, destination IP, SNI, metadata', () => {
    const noPeer = check('GET', '/api/items', {port: 8080})
    expect(noPeer.decision).toBe('UNKNOWN')
    expect(undecidedWhy(noPeer)).toEqual([
      'admins.prod[0]: request principal in [https://auth.example.com/alice, https://auth.example.com/ops-*]: the request\'s JWT is unknown (pass --request-principal ISS/SUB, or none); ' +
        'JWT claim groups contains admin: the request\'s JWT is unknown (pass --request-principal ISS/SUB, or none)',
      'frontend-read.prod[0]: principal in [spiffe://cluster.local/ns/prod/sa/frontend, spiffe://cluster.local/ns/prod/sa/frontend-*]: the caller\'s identity is unknown (pass --from-sa, --from-principal or --from-namespace)',
      'frontend-read.prod[1]: host *.example.com (any case): the request\'s host is unknown (pass --header host=HOST); namespace web: the caller\'s identity is unknown (pass --from-sa, --from-principal or --from-namespace)',
    ])
    const files = check('GET', '/files/a/raw', {port: 8080, 'from-sa': 'prod/x', 'request-principal': 'none'})
    expect(files.decision).toBe('UNKNOWN')
    expect(undecidedWhy(files)).toEqual([
      'files.prod[0]: destination IP 10.1.0.0/16: the destination IP is not known to the CLI; SNI *.svc.cluster.local: the TLS SNI is not known to the CLI; ' +
        'metadata envoy.filters.a.b[c] x: dynamic metadata is not known to the CLI; source IP 192.168.0.0/16: the caller\'s IP address is not known to the CLI; ' +
        'remote IP not 192.168.9.0/24: the caller\'s IP address is not known to the CLI',
    ])
    // The path template itself is decided: a second segment does not match `*`.
    expect(check('GET', '/files/a/b/raw', {port: 8080, 'from-sa': 'prod/x', 'request-principal': 'none'}).decision).toBe('DENIED')
  })

  it('a JWT: iss/sub decided, other claims unknown; a namespace alone leaves an exact principal undecided', () => {
    const alice = check('GET', '/x', {port: 8080, 'from-sa': 'web/a', 'request-principal': 'https://auth.example.com/alice', header: ['host=a.example.org']})
    expect(alice.decision).toBe('UNKNOWN')
    expect(undecidedWhy(alice)).toEqual(['admins.prod[0]: JWT claim groups contains admin: the token\'s other claims are unknown'])
    const namespaceOnly = check('GET', '/api/items', {port: 8080, 'from-namespace': 'prod', 'request-principal': 'none'})
    expect(namespaceOnly.decision).toBe('UNKNOWN')
    expect(undecidedWhy(namespaceOnly)).toEqual([
      'frontend-read.prod[0]: principal in [spiffe://cluster.local/ns/prod/sa/frontend, spiffe://cluster.local/ns/prod/sa/frontend-*]: depends on the caller\'s service account (pass --from-sa prod/SA)',
    ])
    // Another namespace cannot be either principal: decided.
    expect(check('GET', '/api/items', {port: 8080, 'from-namespace': 'shop', 'request-principal': 'none'}).decision).toBe('DENIED')
  })

  it('prints the decision, the request and each step up to the denial (golden)', () => {
    const result = check('GET', '/private/x?debug=1', {port: 8080, 'from-sa': 'prod/frontend', 'request-principal': 'none'})
    expect(renderAuthzCheck(result, parseCheckRequest({check: ['GET', '/private/x?debug=1'], port: 8080, 'from-sa': 'prod/frontend', 'request-principal': 'none'})!)).toBe(
      `DENIED: DENY policy deny-no-token.prod rule 0 matches
  request: GET /private/x?debug=1, from spiffe://cluster.local/ns/prod/sa/frontend, no JWT (port 8080, listener virtualInbound)
  1. CUSTOM (HTTP): passes (a match sends the request to the ext-authz provider)
     no match ext-admin.prod rule 0: needs path /admin/*; the request has path /private/x
  2. DENY (HTTP): denies
     no match deny-outside-prod.istio-system rule 0: needs path /api/secret; the request has path /private/x
     matches  deny-no-token.prod rule 0
     no match deny-scanners.prod rule 0: needs header user-agent sqlmap* or header x-scanner (present)
`,
    )
  })

  it('picks the only port with a filter, else asks for --port; mTLS and plaintext chains that disagree make it UNKNOWN', () => {
    expect(checkAuthz(chains, parseCheckRequest({check: ['GET', '/']})!)).toEqual({error: 'no-port', candidates: [3306, 8080, 9080]})
    const rbac = (path: string) => ({
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {http_filters: [{name: 'envoy.filters.http.rbac', typed_config: {rules: {policies: {'ns[a]-policy[p]-rule[0]': {permissions: [{url_path: {path: {exact: path}}}], principals: [{any: true}]}}}}}]},
    })
    const dump = configDumpFromJson(
      {
        configs: [{
          '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
          dynamic_listeners: [{name: 'virtualInbound', active_state: {listener: {name: 'virtualInbound', traffic_direction: 'INBOUND', filter_chains: [
            {filter_chain_match: {destination_port: 80, transport_protocol: 'tls'}, filters: [rbac('/a')]},
            {filter_chain_match: {destination_port: 80, transport_protocol: 'raw_buffer'}, filters: [rbac('/b')]},
          ]}}}],
        }],
      },
      'inline',
    )
    const both = checkAuthz(collectAuthzChains(dump), parseCheckRequest({check: ['GET', '/a']})!) as AuthzCheckResult
    expect([both.port, both.decision, both.perTransport]).toEqual([80, 'UNKNOWN', [
      {transport: 'tls', decision: 'ALLOWED', reason: 'ALLOW policy p.a rule 0 matches'},
      {transport: 'raw_buffer', decision: 'DENIED', reason: 'no ALLOW rule matches (HTTP RBAC: rbac_access_denied_matched_policy[none])'},
    ]])
    // A caller with an identity arrives over mTLS: the tls chain alone.
    expect((checkAuthz(collectAuthzChains(dump), parseCheckRequest({check: ['GET', '/a'], 'from-sa': 'x/y'})!) as AuthzCheckResult).decision).toBe('ALLOWED')
  })
})

describe('parseCheckRequest', () => {
  it('reads METHOD PATH as two words or one, headers, host, JWT and the caller', () => {
    expect(parseCheckRequest({check: ['get /a?b=1'], header: ['Host=h.example', 'X-Id=7=8'], 'from-namespace': 'web', 'request-principal': 'iss/sub'})).toEqual({
      method: 'GET', path: '/a?b=1', host: 'h.example', headers: {'x-id': '7=8'}, peer: {namespace: 'web', trustDomain: 'cluster.local'}, jwt: {principal: 'iss/sub'},
    })
    expect(parseCheckRequest({check: ['GET', '/'], 'from-principal': 'td.example/ns/a/sa/b'})?.peer).toEqual({principal: 'spiffe://td.example/ns/a/sa/b'})
    expect(parseCheckRequest({})).toBeUndefined()
  })

  it.each([
    [{check: ['GET']}, /--check takes METHOD PATH/],
    [{check: ['GET', '/a', 'deploy/x']}, /--check takes METHOD PATH/],
    [{check: ['GET', 'a']}, /must start with "\/"/],
    [{check: ['GET', '/'], 'from-sa': 'nosa'}, /expected NAMESPACE\/SERVICEACCOUNT/],
    [{check: ['GET', '/'], header: ['novalue']}, /expected NAME=VALUE/],
    [{'from-sa': 'a/b'}, /--from-sa only applies with --check/],
  ] as Array<[CheckFlags, RegExp]>)('%j is a usage error', (flags, message) => {
    expect(() => parseCheckRequest(flags)).toThrow(message)
  })
})
