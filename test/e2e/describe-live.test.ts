// describe pod / describe service against the live simulated mesh (scenarios/catalog.yaml):
// story 1 before and after its DestinationRule (written through the API as kubectl apply would),
// with the gateway STALE on CDS in between; story 4's effective mTLS before and after the
// namespace PERMISSIVE policy.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import type {DescribePodResult} from '../../src/commands/describe/pod.js'
import type {DescribeServiceResult} from '../../src/commands/describe/service.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8'), 'catalog')})
})
afterAll(async () => {
  await sim?.close()
})

const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '60s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 90_000})
const podJson = async (...args: string[]) => JSON.parse((await meshdbg('describe', 'pod', ...args, '-o', 'json')).stdout) as DescribePodResult

/** Creates a fix's object through the API server (what `kubectl apply -f` does for a new object). */
async function apply(fix: string): Promise<void> {
  const object = parse(readFileSync(join(projectRoot, 'scenarios', 'fixes', fix), 'utf8')) as {apiVersion: string; kind: string; metadata: {namespace: string}}
  const plural = `${object.kind.toLowerCase()}s`
  const response = await fetch(`${sim.url}/apis/${object.apiVersion}/namespaces/${object.metadata.namespace}/${plural}`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(object)})
  expect(response.status).toBe(201)
}

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await probe()
    if (ok(value)) return value
    await new Promise((r) => setTimeout(r, 200))
  }
}

const CATALOG_V1 = 'catalog-5c7f8f8447-f54sj'
const CATALOG = 'catalog.istioinaction.svc.cluster.local'

describe('story 1: describe pod before and after the DestinationRule', () => {
  it('before: exactly istioctl\'s two warnings, under the VirtualService; the gateway exposure; exit 0', async () => {
    const text = await meshdbg('describe', 'pod', CATALOG_V1, '-n', 'istioinaction')
    // No note: MeshConfig (ConfigMap istio), every Istio kind and every proxy were read.
    expect([text.code, text.stderr]).toEqual([0, ''])
    expect(text.stdout).toContain([
      'VirtualService: catalog-v1-v2',
      '   WARNING: No destinations match pod subsets (checked 1 HTTP routes)',
      '      Warning: Route to subset version-v1 but NO DESTINATION RULE defining subsets!',
      '      Warning: Route to subset version-v2 but NO DESTINATION RULE defining subsets!',
    ].join('\n'))
    expect(text.stdout).toContain('Exposed on Ingress Gateway http://catalog.istioinaction.io\n')
    const json = await podJson(CATALOG_V1, '-n', 'istioinaction')
    expect(json.warnings.map((w) => [w.id, w.message])).toEqual([
      ['subset-without-destination-rule', 'Route to subset version-v1 but NO DESTINATION RULE defining subsets!'],
      ['subset-without-destination-rule', 'Route to subset version-v2 but NO DESTINATION RULE defining subsets!'],
    ])
    expect(json.services.map((s) => [s.name, s.destinationRule])).toEqual([['catalog', undefined]])
    expect(json.proxies.every((p) => p.checked)).toBe(true)
  }, 240_000)

  it('the fix: route-cluster-missing while the gateway has not applied CDS, then matching/non-matching subsets with weights', async () => {
    // The gateway leaves CDS pushes unanswered (STALE) until told otherwise: the window where it
    // lacks the subset clusters lasts as long as the test needs, however slow the machine.
    const gateway = 'istio-ingressgateway-6bb8fb6549-hcdnc'
    sim.scenario.live!.proxies[gateway] = {stale: ['cds']}
    await apply('story1-destinationrule.yaml')
    const stale = await until(() => podJson(CATALOG_V1, '-n', 'istioinaction'), (r) => r.services[0].destinationRule !== undefined)
    expect(stale.warnings.map((w) => w.id)).toEqual(['route-cluster-missing', 'route-cluster-missing'])
    expect(stale.warnings[0].message).toBe(`Proxy istio-ingressgateway-6bb8fb6549-hcdnc.istio-system has no cluster outbound|80|version-v1|${CATALOG} this route sends to: config not received or rejected (check meshdbg sync-status istio-ingressgateway-6bb8fb6549-hcdnc.istio-system)`)
    sim.scenario.live!.proxies[gateway] = {}
    // Any change makes istiod push again; a label on the DestinationRule is the smallest one.
    const patched = await fetch(`${sim.url}/apis/networking.istio.io/v1alpha3/namespaces/istioinaction/destinationrules/catalog`, {
      method: 'PATCH', headers: {'content-type': 'application/merge-patch+json'}, body: JSON.stringify({metadata: {labels: {pushed: 'again'}}}),
    })
    expect(patched.status).toBe(200)
    const synced = await until(() => podJson(CATALOG_V1, '-n', 'istioinaction'), (r) => r.warnings.length === 0)
    const dr = synced.services[0].destinationRule!
    expect([dr.name, dr.subsets.map((s) => [s.name, s.matchesPod])]).toEqual(['catalog', [['version-v1', true], ['version-v2', false]]])
    const text = (await meshdbg('describe', 'pod', CATALOG_V1, '-n', 'istioinaction')).stdout
    expect(text).toContain([
      'DestinationRule: catalog for "catalog.istioinaction.svc.cluster.local"',
      '   Matching subsets: version-v1',
      '      (Non-matching subsets version-v2)',
      '   No Traffic Policy',
      'VirtualService: catalog-v1-v2',
      `   Route to host "${CATALOG}" subset "version-v1" with weight 20%`,
    ].join('\n'))
    const v2 = await podJson('catalog-v2-6d4c8b7d9f-zqgfl.istioinaction')
    expect(v2.services[0].virtualServices[0].routes[0].destinations.filter((d) => d.subsetMatchesPod).map((d) => [d.subset, d.weight])).toEqual([['version-v2', 80]])
  }, 240_000)

  it('describe service: every pod\'s subsets, the typed result in the --json envelope', async () => {
    const result = await meshdbg('describe', 'service', 'catalog', '-n', 'istioinaction', '--json')
    const envelope = JSON.parse(result.stdout) as {status: number; result: DescribeServiceResult; warnings?: string[]}
    expect(envelope.status).toBe(0)
    expect(envelope.result.service.destinationRule?.subsets.map((s) => s.matchesPod)).toEqual([true, true])
    expect(envelope.result.pods.map((p) => p.name)).toEqual(['catalog-5c7f8f8447-f54sj', 'catalog-v2-6d4c8b7d9f-8xw2p', 'catalog-v2-6d4c8b7d9f-zqgfl'])
    expect(envelope.result.exposure.map((e) => [e.gateway, e.hosts, e.port])).toEqual([['catalog-gateway.istioinaction', ['catalog.istioinaction.io'], 80]])
  }, 240_000)
})

describe('story 4: effective mTLS', () => {
  it('mesh-wide STRICT, then PERMISSIVE from the namespace policy once it exists', async () => {
    const before = await podJson('deploy/webapp', '-n', 'istioinaction')
    expect(before.mtls).toMatchObject({mode: 'STRICT', source: {level: 'mesh', policy: 'default.istio-system'}, applied: ['default.istio-system']})
    await apply('story4-permissive.yaml')
    const after = await podJson('deploy/webapp', '-n', 'istioinaction')
    expect(after.mtls).toMatchObject({mode: 'PERMISSIVE', source: {level: 'namespace', policy: 'default.istioinaction'}, applied: ['default.istio-system', 'default.istioinaction']})
    expect((await meshdbg('describe', 'pod', 'deploy/webapp', '-n', 'istioinaction')).stdout).toContain('   Workload mTLS mode: PERMISSIVE (namespace PeerAuthentication default.istioinaction)\n')
  }, 240_000)
})

describe('edges', () => {
  it('a pod without sidecar is described with istioctl\'s warning; a missing Service is exit 3', async () => {
    const legacy = await meshdbg('describe', 'pod', 'sleep-legacy-7d9f6b5c4-kq2xj', '-n', 'default')
    expect(legacy.code).toBe(0)
    expect(legacy.stdout).toContain('WARNING: sleep-legacy-7d9f6b5c4-kq2xj.default is not part of mesh; no Istio sidecar\n')
    const missing = await meshdbg('describe', 'svc', 'nope', '-n', 'istioinaction')
    expect([missing.code, missing.stderr]).toEqual([3, 'Error: service "nope" not found in namespace "istioinaction"\n'])
  }, 240_000)
})
