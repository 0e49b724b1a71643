import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'

import {
  analyzePod,
  analyzeService,
  effectiveMtls,
  findDestinationRule,
  mtlsConflicts,
  resolveHost,
  servicePortProtocol,
  type DescribeContext,
  type DescribePodInput,
  type IstioObject,
  type ServiceInput,
} from '../../src/lib/istio/describe.js'
import {renderDescribePod, renderDescribeService} from '../../src/lib/render/describe-view.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'describe')
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8')
/** Goldens are reviewed by hand; UPDATE_GOLDENS=1 rewrites them after a deliberate change. */
function golden(name: string, actual: string): void {
  if (process.env.UPDATE_GOLDENS) writeFileSync(join(fixtures, name), actual)
  expect(actual).toBe(read(name))
}

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** A fixture's documents as the describe input: Kubernetes and Istio objects, and ProxyClusters. */
function contextOf(name: string, extra: Doc[] = []): DescribeContext & {byName: (n: string) => DescribePodInput} {
  const docs = [...parseAllDocuments(read(name)).map((d) => d.toJS() as Doc), ...extra]
  const of = (kind: string) => docs.filter((d) => d.kind === kind)
  const pods = of('Pod') as DescribePodInput[]
  return {
    resources: {
      virtualServices: of('VirtualService') as IstioObject[],
      destinationRules: of('DestinationRule') as IstioObject[],
      gateways: of('Gateway') as IstioObject[],
      peerAuthentications: of('PeerAuthentication') as IstioObject[],
      authorizationPolicies: of('AuthorizationPolicy') as IstioObject[],
      sidecars: of('Sidecar') as IstioObject[],
    },
    services: of('Service') as ServiceInput[],
    pods,
    gatewayPods: pods,
    gatewayServices: of('Service') as ServiceInput[],
    rootNamespace: 'istio-system',
    proxies: of('ProxyClusters').map((d) => ({proxy: d.proxy, ...(d.clusters ? {clusters: d.clusters} : {}), ...(d.unavailable ? {unavailable: d.unavailable} : {})}) as DescribeContext['proxies'][number]),
    byName: (n: string) => pods.find((p) => p.metadata.name === n)!,
  }
}

const STORY1_DR: Doc = {
  kind: 'DestinationRule',
  metadata: {name: 'catalog', namespace: 'istioinaction'},
  spec: {host: 'catalog.istioinaction.svc.cluster.local', subsets: [{name: 'version-v1', labels: {version: 'v1'}}, {name: 'version-v2', labels: {version: 'v2'}}]},
}
const SUBSET_CLUSTERS = ['outbound|80|version-v1|catalog.istioinaction.svc.cluster.local', 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local']

describe('story 1: a route to subsets with no DestinationRule', () => {
  it('before the DestinationRule: istioctl\'s two warnings under the VirtualService, and nothing else (golden)', () => {
    const context = contextOf('catalog.yaml')
    const result = analyzePod(context.byName('catalog-5c7f8f8447-f54sj'), context)
    expect(result.warnings).toEqual([
      {id: 'subset-without-destination-rule', subject: 'VirtualService catalog-v1-v2.istioinaction', message: 'Route to subset version-v1 but NO DESTINATION RULE defining subsets!'},
      {id: 'subset-without-destination-rule', subject: 'VirtualService catalog-v1-v2.istioinaction', message: 'Route to subset version-v2 but NO DESTINATION RULE defining subsets!'},
    ])
    expect(result.services[0].virtualServices[0].reachesPod).toBe(false)
    golden('story1-before.golden.txt', renderDescribePod(result))
  })

  it('after it: matching and non-matching subsets, the weight that reaches each pod (goldens)', () => {
    const context = contextOf('catalog.yaml', [STORY1_DR])
    context.proxies[0].clusters!.push(...SUBSET_CLUSTERS)
    const v1 = analyzePod(context.byName('catalog-5c7f8f8447-f54sj'), context)
    expect(v1.warnings).toEqual([])
    expect(v1.services[0].destinationRule!.subsets.map((s) => [s.name, s.matchesPod])).toEqual([['version-v1', true], ['version-v2', false]])
    expect(v1.services[0].virtualServices[0].routes[0].destinations.map((d) => [d.subset, d.weight, d.subsetMatchesPod])).toEqual([['version-v1', 20, true], ['version-v2', 80, false]])
    golden('story1-after-v1.golden.txt', renderDescribePod(v1))
    const v2 = analyzePod(context.byName('catalog-v2-6d4c8b7d9f-8xw2p'), context)
    expect(v2.services[0].destinationRule!.subsets.filter((s) => s.matchesPod).map((s) => s.name)).toEqual(['version-v2'])
    golden('story1-after-service.golden.txt', renderDescribeService(analyzeService(context.services[0], context.byName('catalog-5c7f8f8447-f54sj'), context)))
  })

  it('a 0-weight destination does not reach its subset\'s pods', () => {
    const context = contextOf('catalog.yaml', [STORY1_DR])
    context.resources.virtualServices[0].spec.http[0].route = [{destination: {host: 'catalog', subset: 'version-v1'}, weight: 0}, {destination: {host: 'catalog', subset: 'version-v2'}, weight: 100}]
    expect(analyzePod(context.byName('catalog-5c7f8f8447-f54sj'), context).services[0].virtualServices[0].reachesPod).toBe(false)
    expect(analyzePod(context.byName('catalog-v2-6d4c8b7d9f-8xw2p'), context).services[0].virtualServices[0].reachesPod).toBe(true)
  })

  it('while the gateway has not received the subset clusters: route-cluster-missing names the proxy and the cluster', () => {
    const context = contextOf('catalog.yaml', [STORY1_DR])
    const result = analyzePod(context.byName('catalog-5c7f8f8447-f54sj'), context)
    expect(result.warnings.map((w) => [w.id, w.message.split(' ').slice(0, 6).join(' ')])).toEqual([
      ['route-cluster-missing', `Proxy istio-ingressgateway-6bb8fb6549-hcdnc.istio-system has no cluster ${SUBSET_CLUSTERS[0]}`],
      ['route-cluster-missing', `Proxy istio-ingressgateway-6bb8fb6549-hcdnc.istio-system has no cluster ${SUBSET_CLUSTERS[1]}`],
    ])
    expect(result.proxies).toEqual([
      {proxy: 'istio-ingressgateway-6bb8fb6549-hcdnc.istio-system', checked: true},
      {proxy: 'catalog-5c7f8f8447-f54sj.istioinaction', checked: true},
      {proxy: 'catalog-v2-6d4c8b7d9f-8xw2p.istioinaction', checked: false, reason: 'connection refused'},
    ])
  })

  it('a subset cluster the gateway received but has not activated is reported as warming', () => {
    const context = contextOf('catalog.yaml', [STORY1_DR])
    context.proxies[0].warming = [SUBSET_CLUSTERS[0]]
    context.proxies[0].clusters!.push(SUBSET_CLUSTERS[1])
    expect(analyzePod(context.byName('catalog-5c7f8f8447-f54sj'), context).warnings.map((w) => w.message)).toEqual([
      `Proxy istio-ingressgateway-6bb8fb6549-hcdnc.istio-system has no cluster ${SUBSET_CLUSTERS[0]} this route sends to: it is still warming (received, waiting for its endpoints or secrets)`,
    ])
  })

  it('a gateway pod: no PeerAuthentication mode and no DestinationRule TLS conflict (it is no sidecar)', () => {
    const dr = {kind: 'DestinationRule', metadata: {name: 'gw', namespace: 'istio-system'}, spec: {host: 'istio-ingressgateway', trafficPolicy: {tls: {mode: 'ISTIO_MUTUAL'}}}}
    const context = contextOf('catalog.yaml', [dr])
    const result = analyzePod(context.byName('istio-ingressgateway-6bb8fb6549-hcdnc'), context)
    expect([result.pod.gateway, result.mtls, result.services[0].destinationRule?.tlsMode, result.warnings]).toEqual([true, undefined, 'ISTIO_MUTUAL', []])
    expect(renderDescribePod(result)).toContain('Gateway pod: PeerAuthentication does not apply')
  })

  it('a Gateway without selector applies to every gateway pod (and no sidecar)', () => {
    const context = contextOf('catalog.yaml')
    delete context.resources.gateways[0].spec.selector
    const result = analyzePod(context.byName('catalog-5c7f8f8447-f54sj'), context)
    expect(result.exposure.map((e) => e.gatewayPods)).toEqual([['istio-ingressgateway-6bb8fb6549-hcdnc.istio-system']])
    expect(result.warnings.map((w) => w.id)).not.toContain('gateway-selects-no-pod')
  })

  it('exposure: the Gateway host and port, its pods and the load balancer address', () => {
    const context = contextOf('catalog.yaml', [STORY1_DR])
    expect(analyzePod(context.byName('catalog-5c7f8f8447-f54sj'), context).exposure).toEqual([{
      gateway: 'catalog-gateway.istioinaction', virtualService: 'catalog-v1-v2.istioinaction', hosts: ['catalog.istioinaction.io'], port: 80, protocol: 'HTTP',
      gatewayPods: ['istio-ingressgateway-6bb8fb6549-hcdnc.istio-system'], addresses: ['203.0.113.10'], reachesPod: true,
    }])
  })
})

describe('every other warning (shop fixture)', () => {
  it('describe pod cart: ids, subjects and the view (golden)', () => {
    const context = contextOf('shop.yaml')
    const result = analyzePod(context.byName('cart-7d9c-abcde'), context)
    expect(result.warnings.map((w) => `${w.id} | ${w.subject}`)).toEqual([
      'container-not-ready | Pod cart-7d9c-abcde.shop',
      'port-protocol-unclassified | Service cart.shop',
      'subset-matches-no-pod | DestinationRule cart.shop',
      'unknown-subset | VirtualService cart-canary.shop',
      'mtls-conflict | DestinationRule cart.shop',
      'mtls-conflict | DestinationRule cart.shop',
      'gateway-selects-no-pod | Gateway shop-gateway.shop',
      'gateway-not-found | VirtualService cart-public.shop',
      'route-cluster-missing | VirtualService cart-canary.shop',
    ])
    golden('shop-cart.golden.txt', renderDescribePod(result))
  })

  it('a Sidecar that does not import the host explains the missing cluster', () => {
    const sidecar = {kind: 'Sidecar', metadata: {name: 'default', namespace: 'shop'}, spec: {egress: [{hosts: ['./legacy.shop.svc.cluster.local', 'istio-system/*']}]}}
    const context = contextOf('shop.yaml', [sidecar])
    const result = analyzePod(context.byName('cart-7d9c-abcde'), context)
    expect(result.sidecar).toEqual({name: 'default', namespace: 'shop', egressHosts: ['./legacy.shop.svc.cluster.local', 'istio-system/*']})
    expect(result.warnings.find((w) => w.id === 'route-cluster-missing')?.message)
      .toBe('Proxy cart-7d9c-abcde.shop has no cluster outbound|80|v1|cart.shop.svc.cluster.local this route sends to: its Sidecar default.shop does not import the host (egress hosts ./legacy.shop.svc.cluster.local, istio-system/*)')
  })

  it('AuthorizationPolicies in evaluation order: DENY before ALLOW, mesh-wide ones included, other workloads\' left out', () => {
    const context = contextOf('shop.yaml')
    expect(analyzePod(context.byName('cart-7d9c-abcde'), context).authorizationPolicies).toEqual([
      {name: 'cart-deny-debug', namespace: 'shop', action: 'DENY', scope: 'workload', rules: 1},
      {name: 'deny-all', namespace: 'istio-system', action: 'ALLOW', scope: 'mesh', rules: 0},
    ])
  })

  it('describe pod legacy: no sidecar, and ISTIO_MUTUAL towards it is a conflict', () => {
    const context = contextOf('shop.yaml')
    const result = analyzePod(context.byName('legacy-5b6c-xyz12'), context)
    expect(result.mtls).toBeUndefined()
    expect(result.warnings.map((w) => [w.id, w.message])).toEqual([
      ['pod-not-meshed', 'legacy-5b6c-xyz12.shop is not part of mesh; no Istio sidecar'],
      ['mtls-conflict', 'DestinationRule legacy.shop sets TLS mode ISTIO_MUTUAL for port 80 but the pod has no sidecar to terminate Istio mTLS'],
    ])
  })

  it('describe service with no pods says so', () => {
    const context = contextOf('shop.yaml', [{kind: 'Service', metadata: {name: 'empty', namespace: 'shop'}, spec: {selector: {app: 'none'}, ports: [{name: 'http', port: 80}]}}])
    const result = analyzeService(context.services.at(-1)!, undefined, context)
    expect(result.warnings.map((w) => w.id)).toEqual(['service-has-no-pods'])
    expect(result.mtls).toBeUndefined()
  })
})

describe('mtlsConflicts: a namespace\'s DestinationRule TLS modes against each pod\'s mTLS', () => {
  it('finds the shop conflicts without describing a pod, and none in the catalog mesh', () => {
    expect(mtlsConflicts(contextOf('shop.yaml')).map((w) => w.message.split(' but ')[0])).toEqual([
      'DestinationRule cart.shop sets TLS mode DISABLE for port 80',
      'DestinationRule cart.shop sets TLS mode DISABLE for port 3306',
      'DestinationRule legacy.shop sets TLS mode ISTIO_MUTUAL for port 80',
    ])
    expect(mtlsConflicts(contextOf('catalog.yaml', [STORY1_DR]))).toEqual([])
  })
})

describe('effectiveMtls (pilot ComposePeerAuthentication)', () => {
  const pa = (name: string, namespace: string, spec: Doc, created = '2025-05-01T00:00:00Z'): IstioObject => ({metadata: {name, namespace, creationTimestamp: created}, spec})
  const workload = {namespace: 'shop', labels: {app: 'cart'}}

  it('no policy is PERMISSIVE by default', () => {
    expect(effectiveMtls(workload, 'istio-system', [], [8080])).toEqual({mode: 'PERMISSIVE', source: {level: 'default'}, ports: [{port: 8080, mode: 'PERMISSIVE', source: {level: 'default'}}], applied: []})
  })

  it('namespace over mesh, workload over namespace, UNSET inherits, the oldest wins in a scope, port-level per port', () => {
    const policies = [
      pa('default', 'istio-system', {mtls: {mode: 'STRICT'}}),
      pa('ns', 'shop', {mtls: {mode: 'PERMISSIVE'}}),
      pa('other-ns', 'other', {mtls: {mode: 'DISABLE'}}),
      pa('unset', 'shop', {selector: {matchLabels: {app: 'cart'}}, portLevelMtls: {9090: {mode: 'DISABLE'}, 8443: {}}}, '2025-05-01T00:00:00Z'),
      pa('newer', 'shop', {selector: {matchLabels: {app: 'cart'}}, mtls: {mode: 'STRICT'}}, '2025-06-01T00:00:00Z'),
      // A selector in the root namespace is not a workload policy: ignored, as in pilot.
      pa('root-selector', 'istio-system', {selector: {matchLabels: {app: 'cart'}}, mtls: {mode: 'DISABLE'}}),
    ]
    expect(effectiveMtls(workload, 'istio-system', policies, [8080])).toEqual({
      mode: 'PERMISSIVE',
      source: {level: 'namespace', policy: 'ns.shop'},
      ports: [
        {port: 8080, mode: 'PERMISSIVE', source: {level: 'namespace', policy: 'ns.shop'}},
        {port: 8443, mode: 'PERMISSIVE', source: {level: 'namespace', policy: 'ns.shop'}},
        {port: 9090, mode: 'DISABLE', source: {level: 'port', policy: 'unset.shop'}},
      ],
      applied: ['default.istio-system', 'ns.shop', 'unset.shop'],
    })
  })
})

describe('small rules', () => {
  it.each([
    [{name: 'http', port: 80}, 'HTTP'],
    [{name: 'http2-api', port: 80}, 'HTTP2'],
    [{name: 'grpc-web-x', port: 80}, 'GRPC-Web'],
    [{name: 'web', port: 80, appProtocol: 'https'}, 'HTTPS'],
    [{name: 'tcp', port: 80, appProtocol: 'kubernetes.io/h2c'}, 'HTTP2'],
    [{name: 'web', port: 80}, undefined],
    [{port: 8080}, undefined],
    [{port: 3306}, 'TCP'],
    [{name: 'dns', port: 53, protocol: 'UDP'}, 'UDP'],
  ])('servicePortProtocol(%j) = %s', (port, expected) => {
    expect(servicePortProtocol(port)).toBe(expected)
  })

  it('resolveHost: short names in the resource\'s namespace, name.namespace gets .svc.cluster.local, external hosts stay', () => {
    expect([resolveHost('cart', 'shop'), resolveHost('cart.shop', 'x'), resolveHost('api.example.com', 'shop'), resolveHost('*.shop.svc.cluster.local', 'x')])
      .toEqual(['cart.shop.svc.cluster.local', 'cart.shop.svc.cluster.local', 'api.example.com', '*.shop.svc.cluster.local'])
  })

  it('findDestinationRule: client namespace, then the service\'s, then the root; exact host before a wildcard', () => {
    const dr = (name: string, namespace: string, host: string): IstioObject => ({metadata: {name, namespace}, spec: {host}})
    const rules = [dr('root', 'istio-system', '*.svc.cluster.local'), dr('wild', 'shop', '*.shop.svc.cluster.local'), dr('exact', 'shop', 'cart'), dr('client', 'web', 'cart.shop.svc.cluster.local')]
    const find = (client: string) => findDestinationRule(rules, 'cart.shop.svc.cluster.local', client, 'shop', 'istio-system')?.metadata.name
    expect([find('web'), find('shop'), find('other')]).toEqual(['client', 'exact', 'exact'])
    expect(findDestinationRule(rules, 'x.other.svc.cluster.local', 'other', 'other', 'istio-system')?.metadata.name).toBe('root')
  })

  it('escapes control characters from resource names in the view', () => {
    const context = contextOf('catalog.yaml')
    context.resources.virtualServices[0].metadata.name = 'evil\u001b]52;c;x\u0007'
    expect(renderDescribePod(analyzePod(context.byName('catalog-5c7f8f8447-f54sj'), context))).toContain('VirtualService: evil\\x1b]52;c;x\\x07')
  })
})
