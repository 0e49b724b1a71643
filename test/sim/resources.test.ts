// Istio and core resources written through the fake apiserver: REST semantics, then the real kubectl.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import type {ChangeEvent} from '../../src/sim/store.js'

let sim: Simulator
let dir = ''
beforeAll(async () => {
  sim = await startSimulator()
  dir = mkdtempSync(join(tmpdir(), 'sim-resources-'))
})
afterAll(async () => {
  await sim.close()
  rmSync(dir, {recursive: true, force: true})
})

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{status: number; json: any}> {
  const r = await fetch(sim.url + path, {method, body: body === undefined ? undefined : JSON.stringify(body), headers: {'content-type': contentType}})
  return {status: r.status, json: await r.json()}
}

const DR = '/apis/networking.istio.io/v1beta1/namespaces/istioinaction/destinationrules'
const dr = (host: string) => ({apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata: {name: 'catalog', namespace: 'istioinaction'}, spec: {host, subsets: [{name: 'version-v1', labels: {version: 'v1'}}]}})

describe('REST writes', () => {
  it('create, conflict, update with resourceVersion, merge-patch and delete, each emitting a change event', async () => {
    const events: ChangeEvent[] = []
    const unsubscribe = sim.store.subscribe((e) => events.push(e))
    try {
      const created = await call('POST', DR, dr('catalog.istioinaction.svc.cluster.local'))
      expect(created.status).toBe(201)
      expect(created.json.metadata).toMatchObject({generation: 1, resourceVersion: expect.stringMatching(/^\d+$/)})
      expect((await call('POST', DR, dr('x'))).json).toMatchObject({code: 409, reason: 'AlreadyExists', message: 'destinationrules.networking.istio.io "catalog" already exists'})
      const stale = {...created.json, metadata: {...created.json.metadata, resourceVersion: '1'}}
      expect((await call('PUT', `${DR}/catalog`, stale)).json).toMatchObject({code: 409, reason: 'Conflict'})
      const updated = await call('PUT', `${DR}/catalog`, {...created.json, spec: {...created.json.spec, host: 'catalog'}})
      expect(updated.status).toBe(200)
      expect(updated.json.metadata.generation).toBe(2)
      const patched = await call('PATCH', `${DR}/catalog`, {spec: {trafficPolicy: {tls: {mode: 'ISTIO_MUTUAL'}}}}, 'application/merge-patch+json')
      expect(patched.json.spec).toEqual({host: 'catalog', subsets: [{name: 'version-v1', labels: {version: 'v1'}}], trafficPolicy: {tls: {mode: 'ISTIO_MUTUAL'}}})
      expect((await call('PATCH', `${DR}/catalog`, {spec: {}}, 'application/strategic-merge-patch+json')).status).toBe(415)
      // Served at every version the CRD has; the model holds one object.
      expect((await call('GET', '/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/destinationrules/catalog')).json.apiVersion).toBe('networking.istio.io/v1alpha3')
      expect((await call('DELETE', `${DR}/catalog`)).status).toBe(200)
      expect((await call('GET', `${DR}/catalog`)).status).toBe(404)
      expect(events.map((e) => `${e.type} ${e.resource} ${e.name}`)).toEqual(['ADDED destinationrules catalog', 'MODIFIED destinationrules catalog', 'MODIFIED destinationrules catalog', 'DELETED destinationrules catalog'])
      expect(sim.scenario.istioConfigs.some((c) => c.kind === 'DestinationRule')).toBe(false)
    } finally {
      unsubscribe()
    }
  })

  it('serves the CRD versions of the istiod it runs (1.17: no v1)', async () => {
    expect((await call('GET', '/apis/networking.istio.io')).json.versions.map((v: {version: string}) => v.version)).toEqual(['v1beta1', 'v1alpha3'])
    expect((await call('GET', '/apis/networking.istio.io/v1/virtualservices')).status).toBe(404)
    expect((await call('GET', '/apis/networking.istio.io/v1beta1/virtualservices')).json.items.map((i: {metadata: {name: string}}) => i.metadata.name)).toEqual(['catalog-v1-v2'])
  })

  it('a Service gets a cluster IP and its Endpoints follow the selected pods', async () => {
    const svc = {apiVersion: 'v1', kind: 'Service', metadata: {name: 'sleep', namespace: 'default'}, spec: {selector: {app: 'sleep'}, ports: [{name: 'http', port: 80, targetPort: 8080}]}}
    const created = await call('POST', '/api/v1/namespaces/default/services', svc)
    expect(created.json.spec.clusterIP).toMatch(/^10\.96\./)
    const ep = await call('GET', '/api/v1/namespaces/default/endpoints/sleep')
    expect(ep.json.subsets[0].addresses.map((a: {ip: string}) => a.ip)).toEqual(['10.10.0.20'])
    expect((await call('PUT', '/api/v1/namespaces/default/services/sleep', {...created.json, spec: {...created.json.spec, clusterIP: '10.96.1.1'}})).json).toMatchObject({code: 422, reason: 'Invalid'})
    await call('DELETE', '/api/v1/namespaces/default/services/sleep')
  })

  it('a pod created in an injection-enabled namespace gets an IP and a sidecar', async () => {
    const pod = {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'curl', namespace: 'default', labels: {app: 'curl'}}, spec: {containers: [{name: 'curl', image: 'curlimages/curl'}]}}
    const created = await call('POST', '/api/v1/namespaces/default/pods', pod)
    expect(created.status).toBe(201)
    expect(created.json.spec.containers.map((c: {name: string}) => c.name)).toEqual(['curl', 'istio-proxy'])
    expect(created.json.status.podIP).toMatch(/^10\.10\./)
    expect(sim.scenario.pods.find((p) => p.name === 'curl')?.proxy?.istiod).toMatch(/^istiod-/)
    await call('DELETE', '/api/v1/namespaces/default/pods/curl')
    expect(sim.scenario.pods.some((p) => p.name === 'curl')).toBe(false)
  })
})

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0

/** Async on purpose: a blocked event loop would stall the in-process apiserver. */
function kubectl(...args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', sim.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args])
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({code, stdout, stderr}))
  })
}

describe.skipIf(!hasKubectl)('kubectl apply / get / delete', () => {
  it('plays story 1\'s fix: apply the DestinationRule, see it with get vs,dr -A, re-apply unchanged, change it, delete it', async () => {
    const file = join(dir, 'dr.yaml')
    const manifest = (label: string) => `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: catalog
  namespace: istioinaction
spec:
  host: catalog.istioinaction.svc.cluster.local
  subsets:
  - name: version-v1
    labels:
      version: v1
  - name: version-v2
    labels:
      version: ${label}
---
apiVersion: v1
kind: Service
metadata:
  name: extra
  namespace: default
spec:
  selector:
    app: sleep
  ports:
  - name: http
    port: 80
    targetPort: 8080
`
    writeFileSync(file, manifest('v2'))
    const applied = await kubectl('apply', '-f', file)
    expect(applied.stderr).toBe('')
    expect(applied.stdout).toBe('destinationrule.networking.istio.io/catalog created\nservice/extra created\n')
    const got = await kubectl('get', 'vs,dr', '-A')
    expect(got.code).toBe(0)
    expect(got.stdout).toMatch(/^NAMESPACE +NAME +GATEWAYS +HOSTS +AGE\nistioinaction +virtualservice\.networking\.istio\.io\/catalog-v1-v2 +\["catalog-gateway"\] +\["catalog\.istioinaction\.io"\] +\S+\n\nNAMESPACE +NAME +HOST +AGE\nistioinaction +destinationrule\.networking\.istio\.io\/catalog +catalog\.istioinaction\.svc\.cluster\.local +\d+s\n$/)
    expect((await kubectl('apply', '-f', file)).stdout).toBe('destinationrule.networking.istio.io/catalog unchanged\nservice/extra unchanged\n')
    writeFileSync(file, manifest('v3'))
    expect((await kubectl('apply', '-f', file)).stdout).toBe('destinationrule.networking.istio.io/catalog configured\nservice/extra unchanged\n')
    const subsets = sim.scenario.istioConfigs.find((c) => c.kind === 'DestinationRule')!.spec.subsets as Array<{labels: Record<string, string>}>
    expect(subsets[1].labels).toEqual({version: 'v3'})
    const deleted = await kubectl('delete', '-f', file)
    expect(deleted.stdout).toBe('destinationrule.networking.istio.io "catalog" deleted\nservice "extra" deleted\n')
    expect((await kubectl('get', 'dr', '-A')).stderr).toBe('No resources found\n')
  })
})
