import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {buildScaleScenario, startSimulator, type Simulator} from '../../src/sim/index.js'
import {generate, pushContext, type SidecarOutbound} from '../../src/sim/pilot/index.js'
import {podHttp} from './helpers.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({scenario: 'scale'})
})
afterAll(async () => {
  await sim.close()
})

describe('scale scenario', () => {
  it('is deterministic and large: 500 pods, 2,000+ services', () => {
    const again = buildScaleScenario()
    expect(sim.scenario.pods).toHaveLength(500)
    expect(sim.scenario.services.length).toBeGreaterThanOrEqual(2000)
    expect(again.pods.map((p) => `${p.namespace}/${p.name}/${p.ip}/${JSON.stringify(p.proxy?.sync)}`)).toEqual(sim.scenario.pods.map((p) => `${p.namespace}/${p.name}/${p.ip}/${JSON.stringify(p.proxy?.sync)}`))
  })

  it('spreads 2,000+ proxies over 3 istiods in syncz, covering every status', async () => {
    const istiods = (await (await fetch(`${sim.url}/api/v1/namespaces/istio-system/pods?labelSelector=app%3Distiod`)).json()).items.map((p: {metadata: {name: string}}) => p.metadata.name)
    expect(istiods).toHaveLength(3)
    let total = 0
    const seen = new Set<string>()
    for (const pod of istiods) {
      const rows = JSON.parse((await podHttp(sim, {pod, namespace: 'istio-system', port: 8080}, '/debug/syncz')).body) as Array<Record<string, unknown>>
      total += rows.length
      for (const r of rows) {
        if (!r.cluster_sent) seen.add('NOT_SENT')
        else if (!r.cluster_acked) seen.add('NEVER_ACKED')
        else if (r.cluster_sent !== r.cluster_acked) seen.add('STALE')
        else seen.add('SYNCED')
      }
    }
    expect(total).toBeGreaterThanOrEqual(2000)
    expect([...seen].sort()).toEqual(['NEVER_ACKED', 'NOT_SENT', 'STALE', 'SYNCED'])
  })

  it('a sidecar sees every service as an outbound cluster', async () => {
    const pod = sim.scenario.pods.find((p) => p.namespace === 'team-07' && p.proxy)!
    const r = await podHttp(sim, {pod: pod.name, namespace: pod.namespace, port: 15000}, '/config_dump?resource=dynamic_active_clusters&mask=cluster.name')
    const names = JSON.parse(r.body).configs.map((c: {cluster: {name: string}}) => c.cluster.name)
    expect(names.filter((n: string) => n.startsWith('outbound|')).length).toBeGreaterThanOrEqual(2000)
  })

  it('sidecars of one namespace share their outbound config, as one SidecarScope of istiod; the result is what each would get alone', () => {
    const ctx = pushContext(sim.scenario)
    const sidecars = sim.scenario.pods.filter((p) => p.proxy?.kind === 'sidecar')
    const [a, b] = sidecars.filter((p) => p.namespace === 'team-03')
    const other = sidecars.find((p) => p.namespace === 'team-04')!
    const scopes = new Map<string, SidecarOutbound>()
    const [va, vb, vo] = [a, b, other].map((p) => generate(ctx, p, scopes))
    expect(scopes.size).toBe(2)
    expect(vb.routes).toBe(va.routes)
    expect(vb.eds).toBe(va.eds)
    expect(vo.routes).not.toBe(va.routes)
    // Shared or not, each proxy's config is the same.
    for (const [pod, shared] of [[a, va], [b, vb], [other, vo]] as const) expect(JSON.stringify(shared)).toBe(JSON.stringify(generate(ctx, pod)))
  })
})
