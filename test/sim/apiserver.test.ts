import {request} from 'node:http'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {matchesLabels, parseLabelSelector} from '../../src/sim/selectors.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {GATEWAY, LEGACY, PENDING, SLOW_CATALOG, applyFix} from './helpers.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

async function get(path: string, init?: RequestInit): Promise<{status: number; json: any; text: string}> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await fetch(sim.url + path, init)
  const text = await r.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return {status: r.status, json, text}
}
const names = (list: {items: Array<{metadata: {name: string}}>}) => list.items.map((i) => i.metadata.name).sort()

describe('label selectors', () => {
  const labels = {app: 'catalog', version: 'v2'}
  it.each([
    ['app=catalog', true], ['app==catalog', true], ['app!=catalog', false], ['tier!=web', true],
    ['version in (v1,v2)', true], ['version notin (v1, v2)', false], ['version notin (v1)', true],
    ['app', true], ['!app', false], ['!tier', true], ['app=catalog,version=v1', false], ['app in (catalog),!tier,version', true],
  ])('%s -> %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected)
  })
})

describe('REST', () => {
  it('serves discovery and version', async () => {
    expect((await get('/version')).json.gitVersion).toMatch(/^v1\./)
    expect((await get('/api')).json.versions).toEqual(['v1'])
    expect((await get('/apis')).json.groups.map((g: {name: string}) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'networking.istio.io', 'security.istio.io']))
    expect((await get('/api/v1')).json.resources.map((r: {name: string}) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/portforward', 'pods/log', 'services', 'serviceaccounts/token']))
    expect((await get('/apis/apps/v1')).json.resources.map((r: {name: string}) => r.name)).toEqual(['deployments', 'statefulsets', 'daemonsets', 'replicasets'])
  })

  it('lists pods with label and field selectors, namespaced and cluster-wide', async () => {
    expect(names((await get('/api/v1/namespaces/istio-system/pods?labelSelector=app%3Distiod')).json)).toEqual(['istiod-8d74787f-n4c7b', 'istiod-8d74787f-x2k9p'])
    const v2 = await get(`/api/v1/pods?labelSelector=${encodeURIComponent('app in (catalog),version!=v1')}`)
    expect(names(v2.json)).toEqual(['catalog-v2-6d4c8b7d9f-8xw2p', SLOW_CATALOG.pod])
    const notRunning = await get(`/api/v1/namespaces/default/pods?fieldSelector=${encodeURIComponent('status.phase!=Running')}`)
    expect(names(notRunning.json)).toEqual([PENDING.pod])
    const byName = await get(`/api/v1/pods?fieldSelector=${encodeURIComponent(`metadata.name=${LEGACY.pod}`)}`)
    expect(names(byName.json)).toEqual([LEGACY.pod])
    expect(byName.json.kind).toBe('PodList')
    const bad = await get(`/api/v1/pods?labelSelector=${encodeURIComponent('a b c')}`)
    expect(bad.status).toBe(400)
    expect(bad.json.kind).toBe('Status')
  })

  it('lists in etcd key order and serves pods as a Table for kubectl', async () => {
    const all = (await get('/api/v1/pods')).json.items.map((p: {metadata: {namespace: string; name: string}}) => `${p.metadata.namespace}/${p.metadata.name}`)
    expect(all).toEqual([...all].sort())
    const table = (await get('/api/v1/namespaces/default/pods', {headers: {accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json'}})).json
    expect(table.kind).toBe('Table')
    const pending = table.rows.find((r: {cells: string[]}) => r.cells[0] === PENDING.pod)
    expect(pending.cells.slice(1, 3)).toEqual(['0/2', 'Pending'])
  })

  it('pods look like the apiserver returns them', async () => {
    const pod = (await get(`/api/v1/namespaces/istio-system/pods/${GATEWAY.pod}`)).json
    expect(pod).toMatchObject({kind: 'Pod', apiVersion: 'v1', metadata: {name: GATEWAY.pod, namespace: 'istio-system', labels: {app: 'istio-ingressgateway', istio: 'ingressgateway'}}, status: {phase: 'Running', podIP: '10.10.0.7'}})
    expect(pod.metadata.ownerReferences[0]).toMatchObject({kind: 'ReplicaSet', name: 'istio-ingressgateway-6bb8fb6549'})
    expect(pod.spec.containers[0].args.slice(0, 2)).toEqual(['proxy', 'router'])
    expect(pod.status.conditions.find((c: {type: string}) => c.type === 'Ready').status).toBe('True')
    const legacy = (await get(`/api/v1/namespaces/default/pods/${LEGACY.pod}`)).json
    expect(legacy.spec.containers.map((c: {name: string}) => c.name)).toEqual(['sleep'])
    const httpbin = (await get('/api/v1/namespaces/default/pods/httpbin-5c5f9d7b8d-lt6hx')).json
    expect(httpbin.metadata.annotations['proxy.istio.io/config']).toBe('proxyAdminPort: 15800\n')
  })

  it('serves workloads, services and Istio config', async () => {
    const deploy = (await get('/apis/apps/v1/namespaces/istio-system/deployments/istiod')).json
    expect(deploy.spec.selector.matchLabels).toMatchObject({app: 'istiod'})
    expect(deploy.status.readyReplicas).toBe(2)
    expect(names((await get('/apis/apps/v1/namespaces/istioinaction/replicasets')).json)).toHaveLength(3)
    expect((await get('/apis/batch/v1/jobs')).json.kind).toBe('JobList')
    const svc = (await get('/api/v1/namespaces/istioinaction/services/catalog')).json
    expect(svc.spec.ports).toEqual([{name: 'http', protocol: 'TCP', port: 80, targetPort: 3000}])
    const vs = (await get('/apis/networking.istio.io/v1beta1/namespaces/istioinaction/virtualservices/catalog-v1-v2')).json
    expect(vs.spec.http[0].route.map((r: {weight: number}) => r.weight)).toEqual([20, 80])
    expect(names((await get('/apis/security.istio.io/v1beta1/authorizationpolicies')).json)).toContain('allow-catalog-requests-in-web-app')
    expect((await get('/apis/networking.istio.io/v1beta1/namespaces/istioinaction/destinationrules')).json.items).toEqual([])
    const cm = (await get('/api/v1/namespaces/istio-system/configmaps/istio')).json
    expect(cm.data.mesh).toContain('accessLogFile: /dev/stdout')
  })

  it('errors are Status objects', async () => {
    const r = await get('/apis/apps/v1/namespaces/default/deployments/nope')
    expect(r.status).toBe(404)
    expect(r.json).toEqual({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'deployments.apps "nope" not found', reason: 'NotFound', details: {name: 'nope', group: 'apps', kind: 'deployments'}, code: 404})
    expect((await get('/api/v1/namespaces/nope')).json.reason).toBe('NotFound')
  })

  it('issues service account tokens (TokenRequest)', async () => {
    const r = await get('/api/v1/namespaces/istio-system/serviceaccounts/default/token', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {audiences: ['istio-ca'], expirationSeconds: 3600}})})
    expect(r.status).toBe(201)
    expect(r.json.kind).toBe('TokenRequest')
    const [, payload] = r.json.status.token.split('.')
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({aud: ['istio-ca'], sub: 'system:serviceaccount:istio-system:default'})
    expect((await get('/api/v1/namespaces/istio-system/serviceaccounts/nope/token', {method: 'POST', body: '{}'})).status).toBe(404)
  })
})

describe('pods/log', () => {
  // Story 2 needs story 1's fix: without the subset clusters the gateway logs 503 NC, never 504 UT.
  beforeAll(async () => {
    sim.scenario.live!.proxies[GATEWAY.pod] = {}
    await applyFix(sim, 'story1-destinationrule', {waitFor: GATEWAY})
  })

  it('requires a container on multi-container pods', async () => {
    const r = await get(`/api/v1/namespaces/istio-system/pods/istiod-8d74787f-n4c7b/log`)
    expect(r.status).toBe(200) // single container
    const multi = await get(`/api/v1/namespaces/istioinaction/pods/${SLOW_CATALOG.pod}/log`)
    expect(multi.status).toBe(400)
    expect(multi.json.message).toBe(`a container name must be specified for pod ${SLOW_CATALOG.pod}, choose one of: [catalog istio-proxy] or one of the init containers: [istio-init]`)
    expect((await get(`/api/v1/namespaces/default/pods/${PENDING.pod}/log?container=reviews`)).status).toBe(400)
    const previous = await get(`/api/v1/namespaces/istioinaction/pods/${SLOW_CATALOG.pod}/log?container=istio-proxy&previous=true`)
    expect(previous.json.message).toBe(`previous terminated container "istio-proxy" in pod "${SLOW_CATALOG.pod}" not found`)
  })

  it('serves the story-2 gateway access log (TEXT) with tailLines and timestamps', async () => {
    const r = await get(`/api/v1/namespaces/istio-system/pods/${GATEWAY.pod}/log?container=istio-proxy&tailLines=20`)
    const lines = r.text.trimEnd().split('\n')
    expect(lines).toHaveLength(20)
    expect(lines.some((l) => /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET \/items HTTP\/1\.1" 504 UT response_timeout - "-" 0 24 501 - "172\.18\.0\.1" "curl\/8\.7\.1" "[0-9a-f-]+" "catalog\.istioinaction\.io" "10\.10\.0\.13:3000" outbound\|80\|version-v2\|catalog\.istioinaction\.svc\.cluster\.local 10\.10\.0\.7:\d+ 10\.10\.0\.7:8080 172\.18\.0\.1:\d+ - -$/.test(l))).toBe(true)
    const stamped = await get(`/api/v1/namespaces/istio-system/pods/${GATEWAY.pod}/log?container=istio-proxy&tailLines=1&timestamps=true`)
    expect(stamped.text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \[/)
    const none = await get(`/api/v1/namespaces/istio-system/pods/${GATEWAY.pod}/log?container=istio-proxy&sinceTime=${new Date(Date.now() + 3600_000).toISOString()}`)
    expect([none.status, none.text]).toEqual([200, ''])
  })

  it('the slow pod logs DC, and JSON encoding gives typed fields', async () => {
    const text = (await get(`/api/v1/namespaces/istioinaction/pods/${SLOW_CATALOG.pod}/log?container=istio-proxy`)).text
    expect(text).toMatch(/"GET \/items HTTP\/1\.1" 0 DC downstream_remote_disconnect .* inbound\|3000\|\|/)
    sim.scenario.meshConfig.accessLogEncoding = 'JSON'
    try {
      const json = (await get(`/api/v1/namespaces/istio-system/pods/${GATEWAY.pod}/log?container=istio-proxy&tailLines=20`)).text
      const entries = json.trimEnd().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
      const timeout = entries.find((e) => e.response_flags === 'UT')
      expect(timeout).toMatchObject({response_code: 504, response_code_details: 'response_timeout', duration: 501, upstream_host: '10.10.0.13:3000', upstream_cluster: 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local', upstream_service_time: null})
    } finally {
      sim.scenario.meshConfig.accessLogEncoding = 'TEXT'
    }
  })

  it('follow keeps streaming new lines until the client goes away', async () => {
    // A request every 100 ms (every third through the gateway) rather than every 1.6 s.
    sim.scenario.live!.requestIntervalMs = 100
    const received = await new Promise<string>((resolve, reject) => {
      const req = request(`${sim.url}/api/v1/namespaces/istio-system/pods/${GATEWAY.pod}/log?container=istio-proxy&follow=true&tailLines=0`, (res) => {
        let text = ''
        res.on('data', (c: Buffer) => {
          text += c.toString()
          if (text.split('\n').length > 3) {
            req.destroy()
            resolve(text)
          }
        })
      })
      req.on('error', (e) => (e.message.includes('socket hang up') || e.message.includes('aborted') ? undefined : reject(e)))
      req.end()
    })
    delete sim.scenario.live!.requestIntervalMs
    expect(received.split('\n').filter((l) => /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] "GET \/items /.test(l)).length).toBeGreaterThanOrEqual(3)
  })
})
