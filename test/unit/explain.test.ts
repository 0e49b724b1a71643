import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {parseAccessLogLine, type AccessLogEntry} from '../../src/lib/envoy/access-log.js'
import {describeUpstream, explainEntry, formatSeconds} from '../../src/lib/istio/explain.js'
import {renderExplanation} from '../../src/lib/render/access-log-table.js'
import {STORY2_GATEWAY_JSON, STORY2_GATEWAY_TEXT, STORY2_SERVER_TEXT} from '../fixtures/access-log/story-lines.js'
import {corpusDir, corpusNotice} from '../helpers/corpus.js'

function entryOf(line: string): AccessLogEntry {
  const parsed = parseAccessLogLine(line)
  if (!parsed.ok) throw new Error(`not parsed (${parsed.reason}): ${line}`)
  return parsed.entry
}

const STORY2_SERVER_JSON = JSON.stringify({
  start_time: '2025-05-09T08:45:41.637Z',
  method: 'GET',
  path: '/items',
  protocol: 'HTTP/1.1',
  response_code: 0,
  response_flags: 'DC',
  response_code_details: 'downstream_remote_disconnect',
  duration: 500,
  upstream_host: '10.10.0.13:3000',
  upstream_cluster: 'inbound|3000||',
  request_id: 'cb846eff-6b8a-4c1d-9f4e-2d1b3c4d5e6f',
  authority: 'catalog.istioinaction.io:30000',
})

// Story 3: authorization policies.
const RBAC_403 = '[2025-05-09T10:12:01.001Z] "GET /api/items HTTP/1.1" 403 - rbac_access_denied_matched_policy[none] - "-" 0 19 0 - "-" "curl/7.81.0" "7c1e0f3a-0000-4000-8000-000000000001" "webapp.istioinaction" "-" inbound|8080|| - 10.10.0.20:8080 10.10.0.30:45678 outbound_.80_._.webapp.istioinaction.svc.cluster.local -'
const RBAC_403_DENY = RBAC_403.replace('rbac_access_denied_matched_policy[none]', 'rbac_access_denied_matched_policy[ns[istio-system]-policy[deny-all]-rule[0]]')
const UAEX_403 = '[2025-05-09T10:13:01.001Z] "GET / HTTP/1.1" 403 UAEX ext_authz_denied - "-" 0 0 4 - "-" "curl/7.81.0" "7c1e0f3a-0000-4000-8000-000000000002" "webapp.istioinaction" "-" inbound|8080|| - 10.10.0.20:8080 10.10.0.30:45680 outbound_.80_._.webapp.istioinaction.svc.cluster.local -'
// Story 4: mTLS STRICT with a plaintext client; JWT from an unconfigured issuer.
const NR_FILTER_CHAIN = '[2025-05-09T11:00:00.000Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.10.0.20:8080 10.10.0.50:51234 - -'
const JWT_401 = '[2025-05-09T11:05:00.000Z] "GET /api/catalog HTTP/1.1" 401 - jwt_authn_access_denied{Jwt_issuer_is_not_configured} - "-" 0 28 1 - "172.18.0.1" "curl/8.7.1" "9d3b-0001" "webapp.istioinaction.io:30000" "-" - - 10.10.0.7:8080 172.18.0.1:60001 - -'
// Story 1 and friends.
const NC_503 = '[2025-05-09T07:00:00.000Z] "GET /items HTTP/1.1" 503 NC cluster_not_found - "-" 0 0 0 - "172.18.0.1" "curl/8.7.1" "aa-01" "catalog.istioinaction.io:30000" "-" outbound|80|version-v1|catalog.istioinaction.svc.cluster.local - 10.10.0.7:8080 172.18.0.1:60002 - -'
const NR_404 = '[2025-05-09T07:01:00.000Z] "GET /nope HTTP/1.1" 404 NR route_not_found - "-" 0 0 0 - "172.18.0.1" "curl/8.7.1" "aa-02" "unknown.example.com" "-" - - 10.10.0.7:8080 172.18.0.1:60003 - -'
const UH_503 = '[2025-05-09T07:02:00.000Z] "GET /items HTTP/1.1" 503 UH no_healthy_upstream - "-" 0 19 0 - "-" "curl/8.7.1" "aa-03" "catalog:80" "-" outbound|80||catalog.istioinaction.svc.cluster.local - 10.96.0.20:80 10.10.0.30:40000 - default'
const UC_503 = '[2025-05-09T07:03:00.000Z] "POST /orders HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 120 95 3 - "-" "okhttp/4" "aa-04" "orders:8080" "10.10.0.60:8080" outbound|8080||orders.shop.svc.cluster.local 10.10.0.30:41000 10.96.0.60:8080 10.10.0.30:40010 - default'
const UF_TLS = '[2025-05-09T07:04:00.000Z] "GET / HTTP/1.1" 503 UF upstream_reset_before_response_started{remote_connection_failure,TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end} - "TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end" 0 91 2 - "-" "curl/8.7.1" "aa-05" "legacy:80" "10.10.0.70:80" outbound|80||legacy.default.svc.cluster.local - 10.96.0.70:80 10.10.0.30:40020 - default'
const OK_200 = '[2025-05-09T07:05:00.000Z] "GET /items HTTP/1.1" 200 - via_upstream - "-" 0 502 12 11 "-" "curl/8.7.1" "aa-06" "catalog:80" "10.10.0.11:3000" outbound|80|version-v1|catalog.istioinaction.svc.cluster.local 10.10.0.30:41002 10.96.0.20:80 10.10.0.30:40030 - default'
const APP_503 = OK_200.replace('" 200 - via_upstream', '" 503 - via_upstream')

describe('explainEntry: story 2', () => {
  it('gateway 504 UT: the proxy timed out after 0.5 s waiting for catalog v2 at 10.10.0.13:3000', () => {
    const explanation = explainEntry(entryOf(STORY2_GATEWAY_TEXT))
    expect(explanation.summary).toMatch(/^The proxy timed out after 0\.5 s waiting for catalog v2 at 10\.10\.0\.13:3000 and answered 504 itself/)
    expect(explanation.summary).toMatch(/VirtualService timeout/)
    expect(explanation.causes).toEqual([
      {flag: 'UT', meaning: expect.stringContaining('UpstreamRequestTimeout')},
      {detail: 'response_timeout', meaning: expect.stringContaining('route timeout')},
    ])
    expect(explanation.next[0]).toMatch(/^meshdbg proxy-config route <pod> --name <route> -o json {2}# the timeout of the route for port 8080/)
  })

  it('the JSON encoding of the same line explains the same way', () => {
    expect(explainEntry(entryOf(STORY2_GATEWAY_JSON))).toEqual(explainEntry(entryOf(STORY2_GATEWAY_TEXT)))
  })

  it('server 0 DC: the client went away', () => {
    for (const line of [STORY2_SERVER_TEXT, STORY2_SERVER_JSON]) {
      const explanation = explainEntry(entryOf(line))
      expect(explanation.summary).toMatch(/^The client went away: the caller closed the connection after 0\.5 s before the app answered, so nothing was sent back \(code 0\)/)
      expect(explanation.summary).toMatch(/caller gave up first/)
      expect(explanation.next).toEqual([
        'kubectl logs <caller-pod> -c istio-proxy | grep cb846eff-6b8a-4c1d-9f4e-2d1b3c4d5e6f  # the caller\'s side of the same request (expect 504 UT there)',
      ])
    }
  })

  it('uses the pod from a kubectl --prefix, or the one given, in the next commands', () => {
    const prefixed = entryOf(`[pod/istio-ingressgateway-6bb8/istio-proxy] ${STORY2_GATEWAY_TEXT}`)
    expect(explainEntry(prefixed).next[0]).toMatch(/^meshdbg proxy-config route istio-ingressgateway-6bb8 --name/)
    // Known to be a gateway: say so.
    expect(explainEntry(prefixed).summary).toMatch(/^The gateway timed out after 0\.5 s waiting for catalog v2 at 10\.10\.0\.13:3000/)
    expect(explainEntry(entryOf(STORY2_GATEWAY_TEXT), {pod: 'deploy/istio-ingressgateway', namespace: 'istio-system'}).next[0])
      .toMatch(/^meshdbg proxy-config route deploy\/istio-ingressgateway -n istio-system --name/)
  })
})

describe('explainEntry: story 3 (authorization)', () => {
  it('403 rbac_access_denied_matched_policy[none]: no ALLOW policy matched', () => {
    const explanation = explainEntry(entryOf(RBAC_403), {pod: 'deploy/webapp'})
    expect(explanation.summary).toMatch(/AuthorizationPolicy denied GET \/api\/items \(403\): no ALLOW policy matched/)
    expect(explanation.next).toEqual([
      'meshdbg authz deploy/webapp  # the policies applied to this workload, in evaluation order CUSTOM, DENY, ALLOW',
      'meshdbg log deploy/webapp --level rbac:debug  # then repeat the request: the proxy logs which policy matched',
    ])
  })

  it('403 with a named policy names it', () => {
    expect(explainEntry(entryOf(RBAC_403_DENY)).summary).toMatch(/policy deny-all \(namespace istio-system, rule 0\) matched/)
  })

  it('403 UAEX ext_authz_denied: the external authorizer said no', () => {
    const explanation = explainEntry(entryOf(UAEX_403))
    expect(explanation.summary).toMatch(/external authorizer \(CUSTOM AuthorizationPolicy\) denied GET \/ with 403/)
    expect(explanation.causes[0]).toEqual({flag: 'UAEX', meaning: expect.stringContaining('UnauthorizedExternalService')})
    expect(explanation.next.some((command) => command.startsWith('meshdbg authz <pod>'))).toBe(true)
    expect(explanation.next.some((command) => command.startsWith('meshdbg log <pod> --level rbac:debug'))).toBe(true)
  })
})

describe('explainEntry: story 4 (mTLS, JWT)', () => {
  it('TCP 0 NR filter_chain_not_found: a plaintext client against STRICT mTLS', () => {
    const entry = entryOf(NR_FILTER_CHAIN)
    expect(entry.kind).toBe('tcp')
    const explanation = explainEntry(entry)
    expect(explanation.summary).toMatch(/plaintext client \(no sidecar\).*PeerAuthentication is STRICT/)
    expect(explanation.summary).not.toMatch(/no route matched/)
    expect(explanation.next).toEqual([
      'kubectl get peerauthentication -A  # STRICT here, PERMISSIVE for this workload or namespace fixes plaintext clients',
      'meshdbg proxy-config listener <pod> --port 15006  # the inbound filter chains and the TLS they require',
    ])
  })

  it('401 jwt_authn_access_denied{Jwt_issuer_is_not_configured}', () => {
    const explanation = explainEntry(entryOf(JWT_401))
    expect(explanation.summary).toMatch(/JWT was rejected: Jwt issuer is not configured \(RequestAuthentication\)/)
    expect(explanation.next[0]).toMatch(/^kubectl get requestauthentication -A/)
  })
})

describe('explainEntry: other common failures', () => {
  it('NC cluster_not_found (story 1): a subset no DestinationRule defines', () => {
    const explanation = explainEntry(entryOf(NC_503))
    expect(explanation.summary).toMatch(/cluster this proxy does not have \(outbound\|80\|version-v1\|catalog/)
    expect(explanation.next).toContain('kubectl get destinationrule -n istioinaction  # does one define the subset version-v1?')
  })

  it('NR route_not_found at a gateway: listeners and routes for the authority', () => {
    const explanation = explainEntry(entryOf(NR_404))
    expect(explanation.summary).toMatch(/^No route matched unknown\.example\.com \/nope/)
    expect(explanation.next[0]).toMatch(/^meshdbg proxy-config listener <pod> --port 8080/)
    expect(explanation.next[1]).toMatch(/virtual host for unknown\.example\.com/)
  })

  it('UH: clusters by FQDN and endpoints by cluster', () => {
    const explanation = explainEntry(entryOf(UH_503))
    expect(explanation.summary).toMatch(/No healthy endpoint for catalog/)
    expect(explanation.next).toEqual([
      'meshdbg proxy-config cluster <pod> --fqdn catalog.istioinaction.svc.cluster.local  # the cluster exists?',
      'meshdbg proxy-config endpoint <pod> --cluster \'outbound|80||catalog.istioinaction.svc.cluster.local\'  # its endpoints and their health',
      'kubectl get endpoints catalog -n istioinaction  # ready pods behind the service',
    ])
  })

  it('UC upstream_reset_before_response_started{connection_termination}: the keep-alive race', () => {
    const explanation = explainEntry(entryOf(UC_503))
    expect(explanation.summary).toMatch(/^Orders at 10\.10\.0\.60:8080 closed or reset the connection before answering \(connection termination\): often a keep-alive race/)
  })

  it('UF with a TLS failure reason: the proxy speaks TLS to a plaintext server', () => {
    const explanation = explainEntry(entryOf(UF_TLS))
    expect(explanation.summary).toMatch(/could not connect to legacy at 10\.10\.0\.70:80: TLS: .*plaintext/)
    expect(explanation.causes.some((cause) => cause.detail?.startsWith('TLS_error') && /plaintext/.test(cause.meaning))).toBe(true)
  })

  it('200 via_upstream is OK; 503 via_upstream is the application\'s own answer', () => {
    expect(explainEntry(entryOf(OK_200)).summary).toBe('OK: catalog v1 at 10.10.0.11:3000 answered 200 in 12 ms')
    const app = explainEntry(entryOf(APP_503))
    expect(app.summary).toMatch(/^Catalog v1 at 10\.10\.0\.11:3000 answered 503 itself in 12 ms: the application returned the error/)
    expect(app.next).toEqual(['kubectl logs -n istioinaction -l app=catalog  # the application\'s own logs'])
  })
})

describe('helpers', () => {
  it('formats durations in the words people use', () => {
    expect(formatSeconds(501)).toBe('0.5 s')
    expect(formatSeconds(1500)).toBe('1.5 s')
    expect(formatSeconds(30)).toBe('30 ms')
  })

  it('names upstreams from Istio cluster names', () => {
    expect(describeUpstream(entryOf(STORY2_GATEWAY_TEXT)).words).toBe('catalog v2 at 10.10.0.13:3000')
    expect(describeUpstream({...entryOf(STORY2_GATEWAY_TEXT), upstreamCluster: 'outbound|80|canary|catalog.istioinaction.svc.cluster.local'}).words).toBe('catalog (subset canary) at 10.10.0.13:3000')
    expect(describeUpstream({...entryOf(STORY2_GATEWAY_TEXT), upstreamCluster: 'BlackHoleCluster'}).words).toMatch(/REGISTRY_ONLY/)
    expect(describeUpstream(entryOf(STORY2_SERVER_TEXT)).words).toBe('the local app on port 3000')
    const waypoint = {...entryOf(STORY2_GATEWAY_TEXT), upstreamHost: 'envoy://connect_originate/10.244.0.32:9080'}
    expect(describeUpstream({...waypoint, upstreamCluster: 'inbound-vip|9080|http|details.bookinfo.svc.cluster.local'}).words).toBe('details at 10.244.0.32:9080 (through the waypoint)')
    expect(describeUpstream({...waypoint, upstreamCluster: 'inbound-vip|9080|http/v2|reviews.bookinfo.svc.cluster.local'}).words).toBe('reviews v2 at 10.244.0.32:9080 (through the waypoint)')
  })

  it('renders an explanation block with the causes and next commands', () => {
    const entry = entryOf(STORY2_GATEWAY_TEXT)
    const text = renderExplanation(entry, explainEntry(entry))
    expect(text.split('\n').slice(0, 3)).toEqual([
      '[2025-05-09T08:45:41.636Z] GET /items -> 504 UT  (catalog.istioinaction.io:30000)',
      expect.stringMatching(/^ {2}The proxy timed out after 0\.5 s/),
      '  Why:',
    ])
    expect(text).toMatch(/\n {2}Next:\n {4}meshdbg proxy-config route/)
  })
})

describe('the corpus TEXT sample (waypoint)', () => {
  corpusNotice('explaining the access-log corpus sample')
  it.skipIf(!corpusDir)('explains every line as a success through the waypoint, read in place', () => {
    const text = readFileSync(join(corpusDir!, 'payloads', 'envoy-accesslog-text-waypoint-kubectl-prefixed.log'), 'utf8')
    const lines = text.split('\n').filter((line) => line.trim() !== '')
    const summaries = lines.map((line) => explainEntry(entryOf(line)).summary)
    expect(summaries[0]).toBe('OK: details at 10.244.0.32:9080 (through the waypoint) answered 200 in 0 ms')
    expect(summaries.every((summary) => /^OK: \w[\w-]* at [\d.]+:\d+ \(through the waypoint\) answered 200 in \d+ ms$/.test(summary))).toBe(true)
  })
})
