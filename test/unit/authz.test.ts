import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {configDumpFromJson, parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {ANONYMOUS_POLICY, collectAuthzChains, explainAuthz, parsePolicyKey, summarizeAuthzPolicies} from '../../src/lib/istio/authz.js'
import {EVALUATION_ORDER_NOTE, renderAuthzExplanation, renderAuthzTable} from '../../src/lib/render/authz-table.js'
import {runCli} from '../helpers/cli.js'
import {corpusDir, corpusNotice} from '../helpers/corpus.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'authz')
const fixturePath = (name: string) => join(fixtures, name)
const read = (name: string) => readFileSync(fixturePath(name), 'utf8')
const chainsOf = (name: string) => collectAuthzChains(parseConfigDump(read(name), name))
const tableOf = (name: string) => renderAuthzTable(summarizeAuthzPolicies(chainsOf(name)))

const LISTENERS = 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump'
const HCM = 'envoy.filters.network.http_connection_manager'
/** A dump of dynamic listeners, each with one chain holding the given filters. */
const dumpOf = (...chains: object[][]) =>
  configDumpFromJson(
    {configs: [{'@type': LISTENERS, dynamic_listeners: chains.map((filters, i) => ({name: `l${i}`, active_state: {listener: {name: `l${i}`, filter_chains: [{filters}]}}}))}]},
    'inline',
  )
const httpRbac = (config: object) => ({name: HCM, typed_config: {http_filters: [{name: 'envoy.filters.http.rbac', typed_config: config}]}})
const netRbac = (config: object) => ({name: 'envoy.filters.network.rbac', typed_config: config})
const keys = (...names: string[]) => Object.fromEntries(names.map((name) => [name, {permissions: [{any: true}], principals: [{any: true}]}]))

describe('parsePolicyKey', () => {
  it.each([
    ['ns[prod]-policy[frontend-read]-rule[1]', {name: 'frontend-read.prod', rule: '1', parsed: true}],
    ['istio-ext-authz-ns[prod]-policy[oauth-proxy]-rule[0]', {name: 'oauth-proxy.prod', rule: '0', parsed: true}],
    // Unanchored, as istioctl's regexp: a prefix before ns[...] is skipped.
    ['x-ns[a]-policy[b]-rule[2]', {name: 'b.a', rule: '2', parsed: true}],
    ['block-scanners', {name: 'block-scanners', rule: '', parsed: false}],
    ['ns[prod]-policy[p]', {name: 'ns[prod]-policy[p]', rule: '', parsed: false}],
  ])('%s', (key, expected) => {
    expect(parsePolicyKey(key)).toEqual(expected)
  })
})

describe('authz table', () => {
  it('HTTP RBAC: DENY before ALLOW, names sorted, distinct rule indices across chains (legacy HCM name read too)', () => {
    expect(tableOf('http-allow-deny.json')).toBe(
      `ACTION   AuthorizationPolicy          RULES
DENY     block-admin.prod             1
DENY     deny-external.istio-system   1
ALLOW    allow-probes.prod            1
ALLOW    frontend-read.prod           3
`,
    )
  })

  it('reads the legacy envoy.http_connection_manager name', () => {
    const inbound = JSON.parse(read('http-allow-deny.json')).configs[1].dynamic_listeners[1].active_state.listener
    const legacyChain = inbound.filter_chains[2]
    expect(legacyChain.filters[0].name).toBe('envoy.http_connection_manager')
    const rows = summarizeAuthzPolicies(collectAuthzChains(dumpOf(legacyChain.filters)))
    expect(rows.map((row) => `${row.action} ${row.name} ${row.rules}`)).toEqual([
      'DENY block-admin.prod 1',
      'DENY deny-external.istio-system 1',
      'ALLOW allow-probes.prod 1',
      'ALLOW frontend-read.prod 2',
    ])
  })

  it('network RBAC filters count (DENY and ALLOW on a TCP chain)', () => {
    expect(tableOf('network-rbac.json')).toBe(
      `ACTION   AuthorizationPolicy   RULES
DENY     no-batch.data         1
ALLOW    db-clients.data       2
`,
    )
  })

  it('an ext-authz shadow-only filter gives CUSTOM and no spurious ALLOW _anonymous_match_nothing_ row', () => {
    const table = tableOf('ext-authz-shadow-only.json')
    expect(table).toBe(
      `ACTION   AuthorizationPolicy   RULES
CUSTOM   oauth-proxy.prod      2
`,
    )
    expect(table).not.toContain(ANONYMOUS_POLICY)
  })

  it('LOG rows come after ALLOW; dry-run shadow policies are not rows', () => {
    expect(tableOf('log-action.json')).toBe(
      `ACTION   AuthorizationPolicy   RULES
LOG      audit-writes.prod     1
`,
    )
  })

  it('prints the header alone when no listener has an RBAC filter', () => {
    expect(tableOf('no-policies.json')).toBe('ACTION   AuthorizationPolicy   RULES\n')
    expect(renderAuthzTable([])).toBe('ACTION   AuthorizationPolicy   RULES\n')
  })

  it('shows a key that is not in Istio form as found, one row per key', () => {
    expect(tableOf('unparseable-key.json')).toBe(
      `ACTION   AuthorizationPolicy     RULES
DENY     block-scanners          1
DENY     deny-old-clients.prod   1
DENY     legacy/deny-ip-range    1
`,
    )
  })

  it('counts static listeners and default filter chains (istioctl ignores both)', () => {
    expect(tableOf('static-and-default-chain.json')).toBe(
      `ACTION   AuthorizationPolicy     RULES
DENY     block-plaintext.edge    1
ALLOW    metrics-scrapers.edge   1
ALLOW    partners.edge           1
`,
    )
    const chains = chainsOf('static-and-default-chain.json')
    expect(chains.filter((chain) => chain.defaultChain).map((chain) => chain.listener)).toEqual(['0.0.0.0_8443'])
    expect(chains.filter((chain) => !chain.dynamic).map((chain) => chain.listener)).toEqual(['admin_gate'])
  })

  it('reads camelCase dumps (istiod debug, protojson) as snake_case ones', () => {
    expect(tableOf('camel-case.json')).toBe(
      `ACTION   AuthorizationPolicy          RULES
DENY     block-admin.prod             1
DENY     deny-external.istio-system   1
ALLOW    allow-probes.prod            1
ALLOW    db-clients.data              1
ALLOW    frontend-read.prod           2
CUSTOM   oauth-proxy.prod             2
`,
    )
  })

  it('action defaults to ALLOW when rules.action is absent, and reads enum numbers', () => {
    const rows = summarizeAuthzPolicies(
      collectAuthzChains(dumpOf([httpRbac({rules: {policies: keys('ns[a]-policy[p]-rule[0]')}})], [netRbac({rules: {action: 1, policies: keys('ns[a]-policy[d]-rule[0]')}})], [netRbac({rules: {action: 2, policies: keys('ns[a]-policy[l]-rule[0]')}})])),
    )
    expect(rows).toEqual([
      {action: 'DENY', name: 'd.a', rules: 1},
      {action: 'ALLOW', name: 'p.a', rules: 1},
      {action: 'LOG', name: 'l.a', rules: 1},
    ])
  })

  describe('_anonymous_match_nothing_ (a filter whose rules hold no policy)', () => {
    it('is shown when it is the only ALLOW evidence (a TCP-only workload whose ALLOW rules are all HTTP-only)', () => {
      expect(tableOf('tcp-match-nothing.json')).toBe(
        `ACTION   AuthorizationPolicy         RULES
ALLOW    ${ANONYMOUS_POLICY}   1
`,
      )
    })

    it('is left out when a named ALLOW policy is listed (istioctl prints both)', () => {
      const rows = summarizeAuthzPolicies(collectAuthzChains(dumpOf([httpRbac({rules: {policies: keys('ns[a]-policy[web]-rule[0]')}})], [netRbac({rules: {}})])))
      expect(rows).toEqual([{action: 'ALLOW', name: 'web.a', rules: 1}])
    })

    it('never comes from a filter without rules', () => {
      expect(summarizeAuthzPolicies(collectAuthzChains(dumpOf([httpRbac({})], [netRbac({shadow_rules: {policies: {}}})])))).toEqual([])
    })
  })

  it('skips RBAC filters with no config (ECDS) and filters with other names', () => {
    const dump = dumpOf([
      {name: HCM, typed_config: {http_filters: [{name: 'envoy.filters.http.rbac', config_discovery: {config_source: {ads: {}}}}, {name: 'envoy.filters.http.router', typed_config: {}}]}},
      {name: 'envoy.filters.network.tcp_proxy', typed_config: {cluster: 'x'}},
    ])
    expect(summarizeAuthzPolicies(collectAuthzChains(dump))).toEqual([])
  })

  it('a dump without a Listeners section is bad data', () => {
    expect(() => collectAuthzChains(configDumpFromJson({configs: []}, 'dump.json'))).toThrow(/no configuration type .*ListenersConfigDump/)
  })
})

describe('authz corpus case', () => {
  corpusNotice('the authz corpus case')
  it.skipIf(!corpusDir)('matches the meshdbg expectation for istioctl\'s authz dump (no spurious anonymous row)', () => {
    const dump = parseConfigDump(readFileSync(join(corpusDir!, 'istioctl/authz/configdump.json'), 'utf8'), 'corpus')
    const expected = readFileSync(join(corpusDir!, 'istioctl/authz/expected.meshdbg.txt'), 'utf8')
    expect(renderAuthzTable(summarizeAuthzPolicies(collectAuthzChains(dump)))).toBe(expected)
  })
})

describe('explainAuthz', () => {
  it('groups chains per listener and destination port, in evaluation order, and counts listeners without filters', () => {
    const explanation = explainAuthz(chainsOf('http-allow-deny.json'))
    expect(explanation.listenersWithoutAuthz).toBe(1)
    expect(explanation.groups.map((group) => [group.listener, group.destinationPort, group.layer, group.chains])).toEqual([
      ['virtualInbound', undefined, 'HTTP', 2],
      ['virtualInbound', 9090, 'HTTP', 1],
      ['virtualInbound', 15006, 'none', 1],
    ])
    const port9090 = explanation.groups[1]
    expect(port9090.allow).toEqual([{name: 'frontend-read.prod', rules: ['0', '2']}])
    expect(port9090.deny.map((policy) => policy.name)).toEqual(['block-admin.prod', 'deny-external.istio-system'])
    expect(port9090.unmatched).toBe('denied')
  })

  it('shows CUSTOM first, and an ALLOW filter matching nothing as denying every request', () => {
    const custom = explainAuthz(chainsOf('ext-authz-shadow-only.json')).groups[0]
    expect(custom.custom).toEqual([{name: 'oauth-proxy.prod', rules: ['0', '1']}])
    expect(custom.unmatched).toBe('allowed')
    const tcp = explainAuthz(chainsOf('tcp-match-nothing.json')).groups[0]
    expect(tcp).toMatchObject({layer: 'TCP', destinationPort: 6379, matchNothing: ['ALLOW'], unmatched: 'denied'})
    const text = renderAuthzExplanation(explainAuthz(chainsOf('tcp-match-nothing.json')))
    expect(text).toContain('every request is denied')
  })

  it('lists LOG and dry-run policies as never denying', () => {
    const group = explainAuthz(chainsOf('log-action.json')).groups[0]
    expect(group.log).toEqual([{name: 'audit-writes.prod', rules: ['0']}])
    expect(group.dryRun).toEqual([{name: 'trial-allow.prod', rules: ['0'], action: 'ALLOW'}])
    expect(group.unmatched).toBe('allowed')
  })

  it('renders the evaluation-order note and numbered steps', () => {
    const text = renderAuthzExplanation(explainAuthz(chainsOf('camel-case.json')))
    expect(text).toContain(EVALUATION_ORDER_NOTE)
    expect(text).toContain(`virtualInbound 0.0.0.0:15006: HTTP, 1 filter chain
  1. CUSTOM  oauth-proxy.prod (rules 0, 1): the ext-authz provider decides
  2. DENY    block-admin.prod (rule 0): a matching request is denied
  3. DENY    deny-external.istio-system (rule 0): a matching request is denied
  4. ALLOW   allow-probes.prod (rule 0), frontend-read.prod (rules 0, 1): a request must match one of these rules
  a request that passes CUSTOM and DENY but matches no ALLOW rule is denied
`)
    expect(text).toContain('virtualInbound 0.0.0.0:15006: destination port 5432, TCP, 1 filter chain\n')
  })

  it('says so when no listener has a filter', () => {
    expect(renderAuthzExplanation(explainAuthz(chainsOf('no-policies.json')))).toContain('no policy applies to this proxy')
  })
})

describe('meshdbg authz (CLI)', () => {
  it('reads a dump from stdin with -f -', async () => {
    const result = await runCli(['authz', '-f', '-'], {input: read('network-rbac.json')})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('ACTION   AuthorizationPolicy   RULES\nDENY     no-batch.data         1\nALLOW    db-clients.data       2\n')
  })

  it('-o json prints the typed rows; --json returns the result', async () => {
    const json = await runCli(['authz', '-f', fixturePath('ext-authz-shadow-only.json'), '-o', 'json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual([{action: 'CUSTOM', name: 'oauth-proxy.prod', rules: 2}])
    const result = await runCli(['authz', '-f', fixturePath('tcp-match-nothing.json'), '--explain', '--json'])
    expect(result.code).toBe(0)
    const parsed = JSON.parse(result.stdout).result
    expect(parsed.policies).toEqual([{action: 'ALLOW', name: ANONYMOUS_POLICY, rules: 1}])
    expect(parsed.explanation.groups[0].matchNothing).toEqual(['ALLOW'])
  })

  it('--explain appends the per-listener evaluation to the table', async () => {
    const result = await runCli(['authz', 'check', '-f', fixturePath('http-allow-deny.json'), '--explain'])
    expect(result.code).toBe(0)
    expect(result.stdout.startsWith('ACTION   AuthorizationPolicy          RULES\nDENY')).toBe(true)
    expect(result.stdout).toContain('virtualInbound 0.0.0.0:15006: destination port 9090, HTTP, 1 filter chain')
  })

  it.each([
    ['truncated JSON', '{"configs": [', /^Error: stdin: not valid JSON \(truncated\?\)/],
    ['an HTML page', '<html><body>502</body></html>', /^Error: stdin: it looks like an HTML page/],
    ['a dump without listeners', '{"configs": []}', /^Error: stdin: config dump has no configuration type .*ListenersConfigDump/],
  ])('exits 6 with one line for %s', async (_what, input, message) => {
    const result = await runCli(['authz', '-f', '-'], {input})
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('exits 2 without a target or --file', async () => {
    const result = await runCli(['authz'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('authz requires a pod/workload name or --file')
  })
})
