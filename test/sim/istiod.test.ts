import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {GATEWAY, ISTIOD_A, ISTIOD_B, RATINGS, SLEEP, SLOW_CATALOG, WEBAPP, podHttp} from './helpers.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

type Row = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const syncz = async (istiod: {pod: string; namespace: string}) => JSON.parse((await podHttp(sim, {...istiod, port: 8080}, '/debug/syncz')).body) as Row[]

describe('istiod debug (8080)', () => {
  it('syncz lists only the proxies connected to that replica, sorted', async () => {
    const a = await syncz(ISTIOD_A)
    const b = await syncz(ISTIOD_B)
    expect(a.map((r) => r.proxy)).toEqual([`${GATEWAY.pod}.istio-system`, 'catalog-5c7f8f8447-f54sj.istioinaction', `${SLEEP.pod}.default`, `${WEBAPP.pod}.istioinaction`].sort())
    expect(b.map((r) => r.proxy)).toContain(`${RATINGS.pod}.default`)
    expect(a.some((r) => b.some((x) => x.proxy === r.proxy))).toBe(false)
  })

  it('syncz rows cover SYNCED, NOT SENT, STALE and never acked, in 1.17.8\'s shape (a NACK is an unacknowledged nonce)', async () => {
    const rows = [...(await syncz(ISTIOD_A)), ...(await syncz(ISTIOD_B))]
    const row = (pod: string) => rows.find((r) => r.proxy.startsWith(pod))!
    const sleep = row(SLEEP.pod)
    // pilot/pkg/xds/debug.go SyncStatus at 1.17.8: no proxy_type (1.18), no resources (1.24).
    expect(Object.keys(sleep).sort()).toEqual(['cluster_acked', 'cluster_id', 'cluster_sent', 'endpoint_acked', 'endpoint_sent', 'istio_version', 'listener_acked', 'listener_sent', 'proxy', 'route_acked', 'route_sent'])
    expect(sleep).toMatchObject({cluster_id: 'Kubernetes', istio_version: '1.17.8'})
    expect(sleep.cluster_sent).toBe(sleep.cluster_acked)
    expect(sleep.extensionconfig_sent).toBeUndefined() // NOT SENT
    const stale = row('catalog-v2-6d4c8b7d9f-8xw2p')
    expect(stale.cluster_sent).not.toBe(stale.cluster_acked)
    const neverAcked = row(WEBAPP.pod)
    expect(neverAcked.endpoint_sent).toBeTruthy()
    expect(neverAcked.endpoint_acked).toBeUndefined()
    const nacked = row(SLOW_CATALOG.pod)
    expect(nacked.listener_acked).toBeTruthy()
    expect(nacked.listener_sent).not.toBe(nacked.listener_acked)
    const ratings = row(RATINGS.pod)
    expect(ratings.route_sent).toBe(ratings.route_acked)
    expect(ratings.istio_version).toBe('1.25.2')
  })

  it('config_dump?proxyID is camelCase, with a 404 from the replica that does not own the proxy', async () => {
    const r = await podHttp(sim, {...ISTIOD_A, port: 8080}, `/debug/config_dump?proxyID=${GATEWAY.pod}.istio-system`)
    const configs = JSON.parse(r.body).configs
    expect(configs.map((c: Row) => c['@type'].split('.').pop())).toEqual(['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump', 'EcdsConfigDump'])
    expect(configs[1].dynamicActiveClusters[0].cluster.name).toBe('BlackHoleCluster')
    expect(configs[2].dynamicListeners[0].activeState.listener.name).toBe('0.0.0.0_8080')
    const other = await podHttp(sim, {...ISTIOD_B, port: 8080}, `/debug/config_dump?proxyID=${GATEWAY.pod}.istio-system`)
    expect(other.status).toBe(404)
    expect(other.body).toBe('Proxy not connected to this Pilot instance. It may be connected to another instance.\n')
    const missing = await podHttp(sim, {...ISTIOD_B, port: 8080}, '/debug/config_dump')
    expect(missing.status).toBe(400)
  })

  it('serves adsz (ignoring push=true), edsz, registryz, configz, authorizationz, push_status, instancesz', async () => {
    const get = async (path: string) => (await podHttp(sim, {...ISTIOD_A, port: 8080}, path)).body
    expect(JSON.parse(await get('/debug/adsz')).totalClients).toBe(4)
    expect(await get('/debug/adsz?push=true')).toBe('Pushed to 0 servers\n')
    const edsz = JSON.parse(await get(`/debug/edsz?proxyID=${SLEEP.pod}`))
    expect(Array.isArray(edsz)).toBe(true)
    expect(edsz[0].clusterName).toBeDefined()
    expect(JSON.parse(await get('/debug/registryz')).map((s: Row) => s.hostname)).toContain('catalog.istioinaction.svc.cluster.local')
    expect(JSON.parse(await get('/debug/configz')).map((c: Row) => c.metadata.name)).toContain('catalog-v1-v2')
    expect(JSON.parse(await get('/debug/authorizationz')).authorization_policies.root_namespace).toBe('istio-system')
    const push = await get('/debug/push_status')
    expect(push).toContain('\n    "pilot_eds_no_instances": {')
    expect(Object.keys(JSON.parse(await get('/debug/instancesz')))).toContain(`${SLEEP.pod}.default`)
  })

  it('15014 needs a bearer token issued by the TokenRequest API', async () => {
    const unauth = await podHttp(sim, {...ISTIOD_A, port: 15014}, '/debug/syncz')
    expect(unauth.status).toBe(401)
    expect(unauth.body).toBe('')
    const tr = await fetch(`${sim.url}/api/v1/namespaces/istio-system/serviceaccounts/default/token`, {method: 'POST', body: JSON.stringify({spec: {audiences: ['istio-ca']}})})
    const token = (await tr.json()).status.token as string
    const ok = await podHttp(sim, {...ISTIOD_A, port: 15014}, '/debug/syncz', {headers: {Authorization: `Bearer ${token}`}})
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body).length).toBe(4)
    expect((await podHttp(sim, {...ISTIOD_A, port: 15014}, '/debug/syncz', {headers: {Authorization: 'Bearer made-up'}})).status).toBe(401)
    sim.setFault({...ISTIOD_A, port: 15014}, {kind: 'istiod-401'})
    try {
      expect((await podHttp(sim, {...ISTIOD_A, port: 15014}, '/debug/syncz', {headers: {Authorization: `Bearer ${token}`}})).status).toBe(401)
    } finally {
      sim.setFault({...ISTIOD_A, port: 15014}, undefined)
    }
  })
})

describe('pilot-agent', () => {
  it('15020: readiness, merged metrics, ndsz; never quits', async () => {
    expect((await podHttp(sim, {...SLEEP, port: 15020}, '/healthz/ready')).status).toBe(200)
    const metrics = (await podHttp(sim, {...SLEEP, port: 15020}, '/stats/prometheus')).body
    expect(metrics.indexOf('istio_agent_')).toBeLessThan(metrics.indexOf('envoy_'))
    const ndsz = JSON.parse((await podHttp(sim, {...SLEEP, port: 15020}, '/debug/ndsz')).body)
    expect(ndsz.table['catalog.istioinaction.svc.cluster.local'].ips).toEqual(['10.96.110.20'])
    expect((await podHttp(sim, {...SLEEP, port: 15020}, '/quitquitquit')).status).toBe(405)
    expect((await podHttp(sim, {...SLEEP, port: 15020}, '/nope')).body).toBe('404 page not found\n')
  })

  it('15004 (Istio < 1.25) answers syncz as ClientConfig; a 1.25 proxy has no 15004', async () => {
    const r = await podHttp(sim, {...SLEEP, port: 15004}, '/debug/syncz')
    const body = JSON.parse(r.body)
    expect(r.body.startsWith('{\n  "versionInfo"')).toBe(true)
    expect(body.typeUrl).toBe('istio.io/debug/syncz')
    const mine = body.resources.find((c: Row) => c.node.id === `${SLEEP.pod}.default`)
    expect(mine.genericXdsConfigs.map((g: Row) => g.configStatus)).toEqual(['SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'NOT_SENT'])
    const error = body.resources.find((c: Row) => c.node.id.startsWith(WEBAPP.pod))
    expect(error.genericXdsConfigs.find((g: Row) => g.typeUrl.endsWith('ClusterLoadAssignment')).configStatus).toBe('STALE')
    const none = await podHttp(sim, {...RATINGS, port: 15004}, '/debug/syncz')
    expect(none.raw.errorText).toContain('connection refused')
  })
})
