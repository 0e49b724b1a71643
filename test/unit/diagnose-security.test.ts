import {describe, expect, it} from 'vitest'

import {authzCheck} from '../../src/lib/diagnose/checks/authz.js'
import {certificatesCheck} from '../../src/lib/diagnose/checks/certificates.js'
import {mtlsCheck} from '../../src/lib/diagnose/checks/mtls.js'
import type {ProxyFacts} from '../../src/lib/diagnose/types.js'
import type {AccessLogEntry} from '../../src/lib/envoy/access-log.js'
import {certificates, describeContext} from './diagnose-security.fixtures.js'

const OPTIONS = {sinceMs: 300_000, now: 0}

function facts(overrides: Partial<ProxyFacts>): ProxyFacts {
  const fail = () => Promise.reject(new Error('not in this fixture'))
  return {
    pod: {name: 'webapp-7c5d7b8c6b-4vzd9', namespace: 'istioinaction', id: 'webapp-7c5d7b8c6b-4vzd9.istioinaction', gateway: false, startLevels: {level: 'warning', loggers: []}},
    routing: fail, clusterHealth: fail, envoyReady: fail, agentReady: fail, logLevels: fail, configStats: fail,
    certificates: fail, describeContext: fail, accessLog: fail, sync: fail, istiodVersion: fail, podByIp: fail, peerByIp: fail,
    ...overrides,
  }
}

describe('certificates check', () => {
  it('passes a workload certificate early in its life, naming its identity and time left', async () => {
    const outcomes = await certificatesCheck.run(facts({certificates: async () => certificates('webapp.secrets.json', '2026-06-01T00:00:00Z')}), OPTIONS)
    expect(outcomes).toEqual([{severity: 'pass', message: 'spiffe://cluster.local/ns/istioinaction/sa/webapp: 36h left (until 2026-06-02T12:00:00Z)'}])
  })

  it('warns under a third of its lifetime left (renewal failing), fails expired or missing', async () => {
    const late = await certificatesCheck.run(facts({certificates: async () => certificates('webapp.secrets.json', '2026-06-02T00:00:00Z')}), OPTIONS)
    expect(late).toMatchObject([{severity: 'warn', hint: 'istio-agent renews at about half of its 2d lifetime: renewal is failing', command: 'meshdbg certs webapp-7c5d7b8c6b-4vzd9.istioinaction'}])
    const expired = await certificatesCheck.run(facts({certificates: async () => certificates('sleep.secrets.json', '2026-06-01T00:00:00Z')}), OPTIONS)
    expect(expired).toMatchObject([{severity: 'fail', message: 'spiffe://cluster.local/ns/default/sa/sleep expired 10d ago'}])
    const missing = await certificatesCheck.run(facts({certificates: async () => certificates('webapp.secrets.json', '2026-06-01T00:00:00Z').filter((row) => row.resource === 'ROOTCA')}), OPTIONS)
    expect(missing).toMatchObject([{severity: 'fail', message: 'no active "default" SDS secret: the proxy has no workload certificate'}])
  })
})

const proxy = (name: string, namespace: string) => ({name, namespace, id: `${name}.${namespace}`, gateway: false, startLevels: {level: 'warning', loggers: []}})

describe('mtls check', () => {
  it('passes a pod whose DestinationRules agree with the mesh-wide STRICT PeerAuthentication', async () => {
    const outcomes = await mtlsCheck.run(facts({pod: proxy('catalog-5c7f8f8447-f54sj', 'istioinaction'), describeContext: async () => describeContext('catalog.yaml')}), OPTIONS)
    expect(outcomes).toEqual([{severity: 'pass', message: 'no DestinationRule TLS setting conflicts with the pod\'s PeerAuthentication'}])
  })

  it('fails each DestinationRule TLS mode the pod\'s PeerAuthentication refuses, with describe\'s wording', async () => {
    const outcomes = await mtlsCheck.run(facts({pod: proxy('cart-7d9c-abcde', 'shop'), describeContext: async () => describeContext('shop.yaml')}), OPTIONS)
    expect(outcomes.map((outcome) => `${outcome.severity} ${outcome.message}`)).toMatchInlineSnapshot(`
      [
        "fail DestinationRule cart.shop sets TLS mode DISABLE for port 80 but pod port 8080 requires Istio mTLS (STRICT from PeerAuthentication cart-strict.shop): clients' connections are refused",
        "fail DestinationRule cart.shop sets TLS mode DISABLE for port 3306 but pod port 3306 requires Istio mTLS (STRICT from PeerAuthentication cart-strict.shop): clients' connections are refused",
      ]
    `)
    expect(outcomes[0].command).toBe('meshdbg describe pod cart-7d9c-abcde -n shop')
  })
})

const denied = (details: string, remote: string, path = '/items'): AccessLogEntry => ({
  encoding: 'json', kind: 'http', source: null, logTimestamp: null, startTime: '2026-06-01T00:00:00.000Z', method: 'GET', path, protocol: 'HTTP/1.1',
  responseCode: details === 'via_upstream' ? 200 : 403, responseFlags: [], responseCodeDetails: details, connectionTerminationDetails: null, upstreamTransportFailureReason: null,
  bytesReceived: 0, bytesSent: 19, durationMs: 0, upstreamServiceTimeMs: null, xForwardedFor: null, userAgent: 'curl/8.7.1', requestId: null, authority: 'webapp.istioinaction',
  upstreamHost: null, upstreamCluster: null, upstreamLocalAddress: null, downstreamLocalAddress: '10.10.0.20:8080', downstreamRemoteAddress: remote, requestedServerName: null, routeName: 'default',
})
const PEERS: Record<string, string> = {'10.10.0.7': 'istio-ingressgateway-6bb8fb6549-hcdnc.istio-system'}

describe('authz check', () => {
  it('passes when the access log holds no RBAC denial', async () => {
    const outcomes = await authzCheck.run(facts({accessLog: async () => [denied('via_upstream', '10.10.0.7:50000'), denied('via_upstream', '10.10.0.7:50001')]}), OPTIONS)
    expect(outcomes).toEqual([{severity: 'pass', message: 'no request denied by an AuthorizationPolicy in the last 5m'}])
  })

  it('story 3: fails naming the meshed caller and the deciding policy, and the authz --check to run', async () => {
    const log = [
      denied('rbac_access_denied_matched_policy[none]', '10.10.0.7:50001'),
      denied('rbac_access_denied_matched_policy[none]', '10.10.0.7:50002'),
      denied('rbac_access_denied_matched_policy[ns[istio-system]-policy[deny-all]-rule[0]]', '203.0.113.9:40000', '/admin'),
      denied('via_upstream', '10.10.0.7:50003'),
    ]
    const [outcome, ...rest] = await authzCheck.run(facts({accessLog: async () => log, peerByIp: async (ip) => PEERS[ip]}), OPTIONS)
    expect(rest).toEqual([])
    expect(outcome).toMatchObject({
      severity: 'fail',
      message: '3 requests denied in the last 5m: pod istio-ingressgateway-6bb8fb6549-hcdnc.istio-system by no ALLOW policy rule (ALLOW policies apply, none matches) ×2 (and 1 more caller/policy pair)',
      command: 'meshdbg authz webapp-7c5d7b8c6b-4vzd9.istioinaction --check GET /items --from-namespace istio-system',
    })
    expect(outcome.evidence?.[1]).toBe('203.0.113.9: AuthorizationPolicy deny-all.istio-system (rule 0) ×1')
  })

  it('only warns when the denied callers are not pods of the cluster', async () => {
    const [outcome] = await authzCheck.run(facts({accessLog: async () => [denied('rbac_access_denied_matched_policy[none]', '203.0.113.9:40000')], peerByIp: async () => undefined}), OPTIONS)
    expect(outcome).toMatchObject({severity: 'warn', message: '1 request denied in the last 5m: 203.0.113.9 by no ALLOW policy rule (ALLOW policies apply, none matches) ×1'})
  })
})
