// A live mesh: a write through the API bumps istiod's push, proxies ACK after a delay, NACK or stay
// STALE, and syncz, istiod's config_dump and Envoy's config_dump agree at every step.
import {afterEach, describe, expect, it} from 'vitest'
import {buildCatalogScenario, catalogFix} from '../../src/sim/catalog.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import type {LiveSettings} from '../../src/sim/model.js'
import {GATEWAY, ISTIOD_A, ISTIOD_B, podHttp} from './helpers.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = Record<string, any>
let sim: Simulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function live(settings: Partial<LiveSettings>): Promise<Simulator> {
  const scenario = buildCatalogScenario()
  scenario.live = {debounceMs: 10, ackDelayMs: 0, proxies: {}, istioVersion: '1.17.8', ...settings}
  sim = await startSimulator({scenario})
  return sim
}

const GW_ID = `${GATEWAY.pod}.${GATEWAY.namespace}`
const SUBSET = 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local'

async function syncz(s: Simulator): Promise<J[]> {
  const rows = await Promise.all([ISTIOD_A, ISTIOD_B].map(async (i) => JSON.parse((await podHttp(s, {...i, port: 8080}, '/debug/syncz')).body) as J[]))
  return rows.flat()
}
const row = async (s: Simulator, id: string) => (await syncz(s)).find((r) => r.proxy === id)!
const envoyClusters = async (s: Simulator) => (JSON.parse((await podHttp(s, {...GATEWAY, port: 15000}, '/config_dump')).body).configs as J[])
  .find((c) => c['@type'].endsWith('ClustersConfigDump'))!.dynamic_active_clusters.map((c: J) => c.cluster.name) as string[]
const istiodClusters = async (s: Simulator) => (JSON.parse((await podHttp(s, {...ISTIOD_A, port: 8080}, `/debug/config_dump?proxyID=${GW_ID}`)).body).configs as J[])
  .find((c) => c['@type'].endsWith('ClustersConfigDump'))!.dynamicActiveClusters.map((c: J) => c.cluster.name) as string[]

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await probe()
    if (ok(v)) return v
    await new Promise((r) => setTimeout(r, 25))
  }
}

function applyDr(s: Simulator): Promise<Response> {
  const [dr] = catalogFix('story1-destinationrule')
  return fetch(`${s.url}/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/destinationrules`, {method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({apiVersion: 'networking.istio.io/v1alpha3', kind: 'DestinationRule', metadata: {name: 'catalog', namespace: 'istioinaction'}, spec: dr.spec})})
}

describe('pushes and ACKs', () => {
  it('a DestinationRule applied through the API: STALE while the gateway has not ACKed, SYNCED once it has', async () => {
    const s = await live({proxies: {[GATEWAY.pod]: {ackDelayMs: 1500}}})
    const before = await row(s, GW_ID)
    expect(before.cluster_sent).toBe(before.cluster_acked)
    expect(await envoyClusters(s)).not.toContain(SUBSET)
    expect((await applyDr(s)).status).toBe(201)
    // Pushed, not yet acknowledged: istiod sends the subset clusters, Envoy still runs without them.
    const pushed = await until(() => row(s, GW_ID), (r) => r.cluster_sent !== before.cluster_sent)
    expect(pushed.cluster_acked).toBe(before.cluster_sent)
    expect(await istiodClusters(s)).toContain(SUBSET)
    expect(await envoyClusters(s)).not.toContain(SUBSET)
    const synced = await until(() => row(s, GW_ID), (r) => r.cluster_acked === r.cluster_sent)
    expect(synced.cluster_sent).toBe(pushed.cluster_sent)
    expect(await envoyClusters(s)).toContain(SUBSET)
  })

  it('a NACKed LDS keeps Envoy\'s previous listeners: istiod\'s view and Envoy\'s differ, 1.17 syncz shows only the unacknowledged nonce', async () => {
    const s = await live({proxies: {[GATEWAY.pod]: {nack: {lds: 'Error adding/updating listener(s) 0.0.0.0_8443: duplicate listener'}}}})
    const gw = await row(s, GW_ID)
    expect(gw.listener_acked).not.toBe(gw.listener_sent)
    expect(gw.cluster_acked).toBe(gw.cluster_sent)
    // 1.17.8's SyncStatus: no proxy_type (1.18), no resources/lastError (1.24).
    expect(Object.keys(gw)).not.toContain('resources')
    expect(Object.keys(gw)).not.toContain('proxy_type')
    await fetch(`${s.url}/apis/networking.istio.io/v1beta1/namespaces/istioinaction/gateways/catalog-gateway`, {method: 'PATCH', headers: {'content-type': 'application/merge-patch+json'},
      body: JSON.stringify({spec: {servers: [{port: {number: 80, name: 'http', protocol: 'HTTP'}, hosts: ['catalog.istioinaction.io']}, {port: {number: 443, name: 'https', protocol: 'HTTPS'}, hosts: ['catalog.istioinaction.io'], tls: {mode: 'SIMPLE', credentialName: 'catalog'}}]}})})
    await until(() => row(s, GW_ID), (r) => r.listener_sent !== gw.listener_sent)
    const listeners = async (port: number, path: string, key: string) => (JSON.parse((await podHttp(s, {...(port === 8080 ? ISTIOD_A : GATEWAY), port}, path)).body).configs as J[])
      .find((c) => c['@type'].endsWith('ListenersConfigDump'))![key].map((l: J) => l.name) as string[]
    expect(await listeners(8080, `/debug/config_dump?proxyID=${GW_ID}`, 'dynamicListeners')).toEqual(['0.0.0.0_8080', '0.0.0.0_8443'])
    expect(await listeners(15000, '/config_dump', 'dynamic_listeners')).toEqual(['0.0.0.0_8080'])
  })

  it('a proxy that never answers CDS stays STALE across pushes; a 1.24 istiod reports the NACK text', async () => {
    const s = await live({proxies: {[GATEWAY.pod]: {stale: ['cds'], nack: {rds: 'route rejected'}}}})
    for (const p of s.scenario.pods) if (p.istiod) p.istiod.version = '1.24.3'
    const gw = await row(s, GW_ID)
    expect(gw.proxy_type).toBe('router')
    expect(gw.cluster_acked).not.toBe(gw.cluster_sent)
    expect(gw.resources['type.googleapis.com/envoy.config.route.v3.RouteConfiguration'].lastError).toBe('route rejected')
    expect(Date.now() - Date.parse(gw.resources['type.googleapis.com/envoy.config.cluster.v3.Cluster'].sentTime)).toBeLessThan(3_600_000)
  })
})
