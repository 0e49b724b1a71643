// A large generated mesh (seeded, deterministic): 500 pods, 2,000 services, 2,000+ proxies in syncz.
import {buildCatalogScenario, makeDeployment, makePod, makeReplicaSet, makeService} from './catalog.js'
import type {Scenario, SimContainer, SyncState, XdsType} from './model.js'
import type {ConnectedProxy} from './sync.js'

/** mulberry32: small, seeded, good enough for shuffling test data. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface ScaleOptions {pods?: number; services?: number; proxies?: number; namespaces?: number; seed?: number}

export function buildScaleScenario(options: ScaleOptions = {}): Scenario {
  const {pods: podCount = 500, services: serviceCount = 2000, proxies: proxyCount = 2100, namespaces: nsCount = 20, seed = 42} = options
  const random = rng(seed)
  const base = buildCatalogScenario()
  const istiodPods = base.pods.filter((p) => p.istiod)
  // A third istiod replica.
  const third = {...istiodPods[0], name: 'istiod-8d74787f-q8v2m', ip: '10.10.0.8', uid: istiodPods[0].uid.replace(/^.{8}/, '5ca1e000')}
  base.pods.push(third)
  const istiods = [...istiodPods.map((p) => p.name), third.name]
  const states: SyncState[] = ['SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'STALE', 'NOT_SENT', 'STALE_NEVER_ACKED', 'ERROR']
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]

  const namespaces = Array.from({length: nsCount}, (_, i) => `team-${String(i).padStart(2, '0')}`)
  for (const ns of namespaces) base.namespaces.push({name: ns, labels: {'istio-injection': 'enabled'}})
  const apps: Array<{ns: string; app: string}> = []
  for (let i = 0; i < serviceCount; i++) {
    const ns = namespaces[i % nsCount]
    const app = `svc-${String(i).padStart(4, '0')}`
    const http = random() < 0.85
    base.services.push(makeService(app, ns, {app}, `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, [http ? {name: 'http', port: 80, targetPort: 8080, protocol: 'TCP'} : {name: 'tcp-db', port: 5432, targetPort: 5432, protocol: 'TCP'}], 'ClusterIP', {app}))
    apps.push({ns, app})
  }
  const existing = base.pods.length
  for (let i = 0; existing + i < podCount; i++) {
    const {ns, app} = apps[i % apps.length]
    const hash = ((i * 2654435761) >>> 0).toString(36).slice(0, 9).padEnd(9, 'x')
    const container: SimContainer = {name: app, image: `registry.example.com/${app}:1.0.${i % 10}`, ports: [{containerPort: 8080, name: 'http', protocol: 'TCP'}]}
    const deploy = makeDeployment(app, ns, {app}, [container], 'default')
    const rs = makeReplicaSet(deploy, hash)
    base.workloads.push(deploy, rs)
    const sync = Object.fromEntries((['cds', 'lds', 'eds', 'rds'] as XdsType[]).map((t) => [t, pick(states)]))
    base.pods.push(makePod({
      name: `${app}-${hash}-${(i * 7919 % 99991).toString(36).padStart(5, 'a')}`, namespace: ns, labels: {app, 'pod-template-hash': hash},
      ip: `10.20.${(i >> 8) & 255}.${i & 255}`, serviceAccount: 'default', app: [container], owner: {kind: 'ReplicaSet', name: rs.name, apiVersion: 'apps/v1'},
      proxy: {kind: 'sidecar', istioVersion: i % 5 === 0 ? '1.25.2' : '1.17.8', adminPort: 15000, agentDebugPort: i % 5 !== 0, istiod: istiods[i % 3], sync,
        syncError: Object.values(sync).includes('ERROR') ? 'Error adding/updating listener(s) 0.0.0.0_8080: duplicate listener' : undefined},
    }))
  }
  for (const ns of namespaces) base.serviceAccounts.push({name: 'default', namespace: ns})
  const podProxies = base.pods.filter((p) => p.proxy?.istiod).length
  const remote: ConnectedProxy[] = []
  for (let i = 0; podProxies + i < proxyCount; i++) {
    const {ns, app} = apps[i % apps.length]
    const sync = Object.fromEntries((['cds', 'lds', 'eds', 'rds'] as XdsType[]).map((t) => [t, pick(states)]))
    remote.push({id: `${app}-remote-${String(i).padStart(5, '0')}.${ns}`, clusterId: 'cluster-west', type: 'sidecar', istioVersion: '1.17.8', istiod: istiods[i % 3], sync,
      syncError: Object.values(sync).includes('ERROR') ? 'Error adding/updating cluster(s) outbound|80||svc.example: duplicate cluster' : undefined,
      ip: `10.30.${(i >> 8) & 255}.${i & 255}`, connectedAt: base.now})
  }
  return {...base, name: 'scale', remoteProxies: remote, cacheDumps: true}
}
