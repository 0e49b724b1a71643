import {describe, expect, it} from 'vitest'

import {certificatesCheck} from '../../src/lib/diagnose/checks/certificates.js'
import {mtlsCheck} from '../../src/lib/diagnose/checks/mtls.js'
import type {ProxyFacts} from '../../src/lib/diagnose/types.js'
import {certificates, describeContext} from './diagnose-security.fixtures.js'

const OPTIONS = {sinceMs: 300_000, now: 0}

function facts(overrides: Partial<ProxyFacts>): ProxyFacts {
  const fail = () => Promise.reject(new Error('not in this fixture'))
  return {
    pod: {name: 'webapp-7c5d7b8c6b-4vzd9', namespace: 'istioinaction', id: 'webapp-7c5d7b8c6b-4vzd9.istioinaction', gateway: false, startLevels: {level: 'warning', loggers: []}},
    configDump: fail, clusterStatuses: fail, envoyReady: fail, agentReady: fail, logLevels: fail, configStats: fail,
    certificates: fail, describeContext: fail, accessLog: fail, sync: fail, istiodVersion: fail, podByIp: fail,
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
