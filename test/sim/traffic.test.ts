// Requests walk the proxies' accepted config (src/sim/traffic.ts), without servers.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {catalogFix} from '../../src/sim/catalog.js'
import type {Scenario} from '../../src/sim/model.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {MeshStore} from '../../src/sim/store.js'
import {playRequest} from '../../src/sim/traffic.js'
import {XdsServer} from '../../src/sim/xds.js'
import {projectRoot} from '../helpers/cli.js'

let xds: XdsServer | undefined
afterEach(() => xds?.close())

function catalog(): Scenario {
  const s = loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8'))
  xds = new XdsServer(s, new MeshStore())
  s.xds = xds
  return s
}
const external = {from: 'external', host: 'catalog.istioinaction.io', port: 80, path: '/items'}
const outcome = (s: Scenario, spec: typeof external, k: number) => playRequest(s, spec, k, 0).map((r) => `${r.pod.name} ${r.entry.response_code} ${r.entry.response_flags} ${r.entry.response_code_details} ${r.entry.upstream_host ?? '-'}`)

describe('traffic through the accepted config', () => {
  it('a route to a subset cluster the gateway lacks is 503 NC cluster_not_found', () => {
    expect(outcome(catalog(), external, 0)).toEqual(['istio-ingressgateway-6bb8fb6549-hcdnc 503 NC cluster_not_found -'])
  })

  it('with the subsets, the slow pod past the route timeout is 504 UT at the gateway and 0 DC at the pod', () => {
    const s = catalog()
    s.istioConfigs.push(...catalogFix('story1-destinationrule'))
    xds!.push('connect')
    const all = Array.from({length: 12}, (_, k) => outcome(s, external, k)).flat()
    expect(all).toContain('catalog-v2-6d4c8b7d9f-zqgfl 0 DC downstream_remote_disconnect 10.10.0.13:3000')
    expect(all).toContain('istio-ingressgateway-6bb8fb6549-hcdnc 504 UT response_timeout 10.10.0.13:3000')
    expect(all).toContain('istio-ingressgateway-6bb8fb6549-hcdnc 200 - via_upstream 10.10.0.12:3000')
    expect(all.some((l) => l.includes('10.10.0.12:3000') && l.includes(' 504 '))).toBe(false)
  })

  it('plaintext into STRICT is NR at the server; RBAC denies name the policy state', () => {
    const s = catalog()
    expect(outcome(s, {from: 'sleep-legacy-7d9f6b5c4-kq2xj', host: 'webapp.istioinaction.svc.cluster.local', port: 80, path: '/api/catalog'}, 0)).toEqual(['webapp-7c5d7b8c6b-4vzd9 0 NR filter_chain_not_found -'])
    expect(outcome(s, {from: 'sleep-6f8cfb8c8f-wncwh', host: 'webapp.istioinaction.svc.cluster.local', port: 80, path: '/items'}, 0)).toEqual([
      'webapp-7c5d7b8c6b-4vzd9 403 - rbac_access_denied_matched_policy[none] -', 'sleep-6f8cfb8c8f-wncwh 403 - via_upstream 10.10.0.14:8080'])
  })
})

describe('version faithfulness', () => {
  it('the 1.24 line of the catalog reports the NACK as ERROR with its text; 1.17.8 only as an unacknowledged nonce', async () => {
    const {syncRow, connectedProxies} = await import('../../src/sim/sync.js')
    const rowOf = (file: string) => {
      const s = loadScenario(readFileSync(join(projectRoot, 'scenarios', file), 'utf8'))
      xds?.close()
      xds = new XdsServer(s, new MeshStore())
      s.xds = xds
      const version = s.pods.find((p) => p.istiod)!.istiod!.version
      return syncRow(connectedProxies(s).find((p) => p.id === 'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction')!, s.now, version)
    }
    const old = rowOf('catalog.yaml')
    expect(old.listener_acked).not.toBe(old.listener_sent)
    expect(old.resources).toBeUndefined()
    const v124 = rowOf('catalog-1.24.yaml')
    expect(v124.proxy_type).toBe('sidecar')
    expect((v124.resources as Record<string, {lastError?: string}>)['type.googleapis.com/envoy.config.listener.v3.Listener'].lastError).toContain("has duplicate address '0.0.0.0:3000'")
  })
})

describe('ClientConfig (pilot-agent 15004, statusgen.go)', () => {
  it('a NACK is STALE for a 1.17.8 istiod and ERROR with details for 1.24', async () => {
    const {clientConfig, connectedProxies} = await import('../../src/sim/sync.js')
    const statusOf = (file: string) => {
      const s = loadScenario(readFileSync(join(projectRoot, 'scenarios', file), 'utf8'))
      xds?.close()
      xds = new XdsServer(s, new MeshStore())
      s.xds = xds
      const cc = clientConfig(connectedProxies(s).find((p) => p.id === 'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction')!, s.now) as {genericXdsConfigs: Array<{typeUrl: string; configStatus: string}>}
      return cc.genericXdsConfigs.find((g) => g.typeUrl.endsWith('Listener'))!.configStatus
    }
    expect(statusOf('catalog.yaml')).toBe('STALE')
    expect(statusOf('catalog-1.24.yaml')).toBe('ERROR')
  })
})
