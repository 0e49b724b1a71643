import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'

import {ambientDataplane, type ZtunnelLookup} from '../../src/lib/istio/describe-ambient.js'
import {analyzePod, analyzeService, type DescribeContext, type DescribePodInput, type ServiceInput} from '../../src/lib/istio/describe.js'
import {resolveWaypoint, waypointsOf, type GatewayInput, type KubeMeta} from '../../src/lib/istio/waypoint.js'
import {renderDescribePod, renderDescribeService} from '../../src/lib/render/describe-view.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'describe')
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8')
/** Goldens are reviewed by hand; UPDATE_GOLDENS=1 rewrites them after a deliberate change. */
function golden(name: string, actual: string): void {
  if (process.env.UPDATE_GOLDENS) writeFileSync(join(fixtures, name), actual)
  expect(actual).toBe(read(name))
}

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const docs = parseAllDocuments(read('ambient.yaml')).map((d) => d.toJS() as Doc)
const of = (kind: string) => docs.filter((d) => d.kind === kind)
const pods = of('Pod') as DescribePodInput[]
const pod = (name: string) => pods.find((p) => p.metadata.name === name)!
const services = of('Service') as ServiceInput[]
const service = (name: string) => services.find((s) => s.metadata.name === name)!
const namespaceOf = (name: string) => of('Namespace').find((n) => n.metadata.name === name) as {metadata: KubeMeta & {name: string}} | undefined
const waypoints = waypointsOf(of('Gateway') as GatewayInput[])
const ztunnel = (node: string) => pods.find((p) => p.metadata.labels?.app === 'ztunnel' && p.spec?.nodeName === node)!
const synced = {connected: true, istiod: 'istiod-1', types: {WDS: 'SYNCED', WADS: 'SYNCED'}} as const

/** The describe input for namespace `ns`, with `lookup` as the ztunnel found on the pod's node. */
function contextFor(ns: string, lookup?: ZtunnelLookup): DescribeContext {
  const namespace = namespaceOf(ns)
  return {
    resources: {virtualServices: [], destinationRules: [], gateways: [], peerAuthentications: [], authorizationPolicies: [], sidecars: []},
    services: services.filter((s) => s.metadata.namespace === ns),
    pods: pods.filter((p) => p.metadata.namespace === ns),
    gatewayPods: [],
    gatewayServices: [],
    rootNamespace: 'istio-system',
    proxies: [],
    ambient: {...(namespace ? {namespace} : {}), waypoints, ...(lookup ? {ztunnel: lookup} : {})},
  }
}

describe('ambientDataplane: Istio CNI\'s enrolment rule', () => {
  const mall = namespaceOf('mall')!.metadata.labels
  it('namespace or pod label ambient; pod none opts out; a sidecar or host network never', () => {
    expect(['cart-1', 'orders-1', 'legacy-1', 'side-1', 'hostnet-1'].map((n) => [n, ambientDataplane(pod(n), n === 'orders-1' ? {} : mall).dataplane])).toEqual([
      ['cart-1', 'ambient'], ['orders-1', 'ambient'], ['legacy-1', 'none'], ['side-1', 'sidecar'], ['hostnet-1', 'none'],
    ])
    // The pod's own label enrols it without the namespace's; without either (or unknown labels) it is out.
    expect(ambientDataplane(pod('cart-1'), {}).reason).toBe('neither the pod nor namespace mall has istio.io/dataplane-mode=ambient')
    expect(ambientDataplane(pod('cart-1'), undefined).reason).toContain('could not be read')
    // Injected but not yet running its proxy: the CNI reads the sidecar status annotation.
    const injected = {...pod('cart-1'), metadata: {...pod('cart-1').metadata, annotations: {'sidecar.istio.io/status': '{}'}}}
    expect(ambientDataplane(injected, mall).dataplane).toBe('sidecar')
  })
})

describe('resolveWaypoint: Istio\'s use-waypoint precedence and waypoint-for coverage', () => {
  const ns = (name: string) => namespaceOf(name)?.metadata
  const meta = (namespace: string, name: string, labels: Record<string, string> = {}): KubeMeta => ({namespace, name, labels})
  it('the object\'s label wins over the namespace\'s, without falling back when its waypoint is unusable; "none" opts out', () => {
    expect(resolveWaypoint('service', service('cart').metadata, ns('mall'), waypoints)).toEqual({labelOn: 'namespace', wanted: 'mall/mall-wp', waypoint: 'mall/mall-wp'})
    expect(resolveWaypoint('pod', pod('cart-1').metadata, ns('mall'), waypoints)).toEqual({labelOn: 'namespace', wanted: 'mall/mall-wp', waypoint: 'mall/mall-wp'})
    expect(resolveWaypoint('service', service('pay').metadata, ns('mall'), waypoints)).toEqual({labelOn: 'service', wanted: 'mall/gone-wp',
      problem: {id: 'waypoint-missing', message: 'service mall/pay uses waypoint mall/gone-wp, which does not exist: its traffic bypasses the waypoint without any error'}})
    expect(resolveWaypoint('pod', pod('pay-1').metadata, ns('mall'), waypoints).problem?.id).toBe('waypoint-not-programmed')
    expect(resolveWaypoint('service', service('orders').metadata, ns('mall'), waypoints)).toEqual({labelOn: 'service', wanted: 'none'})
    expect(resolveWaypoint('pod', meta('mall', 'x'), {name: 'mall', labels: {'istio.io/use-waypoint': 'none'}}, waypoints)).toEqual({})
    expect(resolveWaypoint('pod', meta('mall', 'x'), undefined, waypoints)).toEqual({})
  })
  it('waypoint-for: a namespace\'s service waypoint silently skips workload traffic; a direct label or a Service it does not serve is a mismatch', () => {
    expect(resolveWaypoint('pod', pod('shelf-1').metadata, ns('shop'), waypoints)).toEqual({labelOn: 'namespace', wanted: 'shop/svc-wp',
      note: 'waypoint shop/svc-wp has istio.io/waypoint-for=service: it carries no workload traffic'})
    expect(resolveWaypoint('pod', meta('shop', 'y', {'istio.io/use-waypoint': 'svc-wp'}), ns('shop'), waypoints).problem).toEqual({id: 'waypoint-for-mismatch',
      message: 'pod shop/y uses waypoint shop/svc-wp, whose istio.io/waypoint-for is service: workload traffic bypasses it'})
    expect(resolveWaypoint('service', meta('mall', 'z', {'istio.io/use-waypoint': 'broken-wp'}), ns('mall'), [{...waypoints[0], name: 'broken-wp', programmed: 'True', effectiveTrafficType: 'workload'}]).problem?.id).toBe('waypoint-for-mismatch')
  })
  it('use-waypoint-namespace points elsewhere, where the HBONE listener\'s allowedRoutes must admit the namespace; a waypoint\'s own Service never has one', () => {
    const remote = {'istio.io/use-waypoint': 'mall-wp', 'istio.io/use-waypoint-namespace': 'mall'}
    expect(resolveWaypoint('pod', meta('shop', 'w', remote), ns('shop'), waypoints).waypoint).toBe('mall/mall-wp')
    expect(resolveWaypoint('service', meta('depot', 'v', remote), ns('depot'), waypoints).problem).toEqual({id: 'waypoint-attachment-denied',
      message: 'service depot/v uses waypoint mall/mall-wp, whose HBONE listener does not admit namespace depot (allowedRoutes.namespaces.from: Selector): its traffic bypasses the waypoint without any error'})
    // Gateway API's default is the waypoint's own namespace.
    const toShop = {'istio.io/use-waypoint': 'svc-wp', 'istio.io/use-waypoint-namespace': 'shop'}
    expect(resolveWaypoint('service', meta('mall', 'u', toShop), ns('mall'), waypoints).problem?.id).toBe('waypoint-attachment-denied')
    expect(resolveWaypoint('service', meta('shop', 'u', toShop), ns('shop'), waypoints).waypoint).toBe('shop/svc-wp')
    expect(resolveWaypoint('service', meta('mall', 'mall-wp', {'gateway.istio.io/managed': 'istio.io-mesh-controller'}), ns('mall'), waypoints)).toEqual({})
  })
})

describe('describe pod in ambient mode (goldens)', () => {
  it('an enrolled pod behind the namespace\'s waypoint, through a Ready, synced ztunnel: no warning', () => {
    const result = analyzePod(pod('cart-1'), contextFor('mall', {pod: ztunnel('node-a'), sync: synced}))
    expect(result.warnings).toEqual([])
    expect(result.ambient).toEqual({
      dataplane: 'ambient', reason: 'namespace mall has istio.io/dataplane-mode=ambient', node: 'node-a', redirection: 'enabled',
      ztunnel: {pod: 'ztunnel-aaaaa.istio-system', node: 'node-a', ready: true, phase: 'Running', sync: synced},
      workloadWaypoint: {labelOn: 'namespace', wanted: 'mall/mall-wp', waypoint: 'mall/mall-wp'},
    })
    expect(result.services.map((s) => [s.name, s.waypoint?.waypoint])).toEqual([['cart', 'mall/mall-wp']])
    golden('ambient-cart.golden.txt', renderDescribePod(result))
  })

  it('waypoints that do not take effect: the pod\'s (not programmed) and its Service\'s (missing), each warning under its object', () => {
    const result = analyzePod(pod('pay-1'), contextFor('mall', {pod: ztunnel('node-a'), sync: synced}))
    expect(result.warnings.map((w) => [w.id, w.subject])).toEqual([['waypoint-not-programmed', 'Pod pay-1.mall'], ['waypoint-missing', 'Service pay.mall']])
    golden('ambient-pay.golden.txt', renderDescribePod(result))
  })

  it('an enrolled pod without waypoint, on a node whose ztunnel is not Ready and STALE', () => {
    const stale = {connected: true, istiod: 'istiod-1', types: {WDS: 'STALE', WADS: 'SYNCED'}} as const
    const result = analyzePod(pod('orders-1'), contextFor('depot', {pod: ztunnel('node-b'), sync: stale}))
    expect(result.ambient.workloadWaypoint).toBeUndefined()
    expect(result.services[0].waypoint).toEqual({labelOn: 'service', wanted: 'none'})
    expect(result.warnings.map((w) => w.id)).toEqual(['ztunnel-not-ready', 'ztunnel-not-synced'])
    golden('ambient-orders.golden.txt', renderDescribePod(result))
  })

  it('no ztunnel on the node, or one istiod does not know: a warning each', () => {
    const missing = analyzePod(pod('cart-1'), contextFor('mall', {missing: 'no ztunnel pod on node "node-a" (daemonset "ztunnel" in namespace "istio-system")'}))
    expect(missing.warnings).toEqual([{id: 'ztunnel-missing', subject: 'Pod cart-1.mall',
      message: 'No ztunnel on node node-a (no ztunnel pod on node "node-a" (daemonset "ztunnel" in namespace "istio-system")): the pod\'s connections, in and out, fail until one runs'}])
    expect(renderDescribePod(missing)).toContain('   ztunnel: none on node node-a\n')
    const unknown = analyzePod(pod('cart-1'), contextFor('mall', {pod: ztunnel('node-a'), sync: {connected: false, types: {}}}))
    expect(unknown.warnings.map((w) => w.message)).toEqual(['ztunnel ztunnel-aaaaa.istio-system is not connected to any istiod: it does not learn new workloads, services or policies'])
  })

  it('a Running pod the labels enrol but Istio CNI has not captured (no annotation) or left pending: ambient-not-captured', () => {
    const uncaptured = (value?: string) => {
      const {'ambient.istio.io/redirection': _, ...rest} = pod('cart-1').metadata.annotations!
      return {...pod('cart-1'), metadata: {...pod('cart-1').metadata, annotations: value ? {...rest, 'ambient.istio.io/redirection': value} : rest}}
    }
    const context = contextFor('mall', {pod: ztunnel('node-a'), sync: synced})
    const none = analyzePod(uncaptured(), context)
    expect(none.ambient.redirection).toBeUndefined()
    expect(none.warnings).toEqual([{id: 'ambient-not-captured', subject: 'Pod cart-1.mall',
      message: 'The pod\'s labels enrol it in ambient but Istio CNI has not captured it (no ambient.istio.io/redirection=enabled): its traffic bypasses ztunnel (is istio-cni running on node node-a?)'}])
    const pending = analyzePod(uncaptured('pending'), context)
    expect([pending.ambient.redirection, pending.warnings.map((w) => w.message)]).toEqual(['pending',
      ['Istio CNI redirected the pod\'s traffic but no ztunnel has accepted it yet (ambient.istio.io/redirection=pending): it sends and receives nothing until one does']])
    // Still starting: not judged yet.
    expect(analyzePod({...uncaptured(), status: {phase: 'Pending'}}, context).warnings).toEqual([])
  })

  it('a pod opted out is not in the mesh (istioctl\'s warning) and says why; a sidecar pod keeps istioctl\'s layout', () => {
    const result = analyzePod(pod('legacy-1'), contextFor('mall'))
    expect(result.ambient).toEqual({dataplane: 'none', reason: 'the pod opts out with istio.io/dataplane-mode=none', node: 'node-a'})
    expect(result.warnings.map((w) => w.id)).toEqual(['pod-not-meshed'])
    golden('ambient-legacy.golden.txt', renderDescribePod(result))
    const sidecar = renderDescribePod(analyzePod(pod('side-1'), contextFor('mall')))
    expect(sidecar.split('--------------------')[0]).toBe('Pod: side-1.mall\n   Pod Revision: default\n   Pod Ports: 8080 (cart)\n')
  })
})

describe('untrusted text in the ambient lines', () => {
  it('a Gateway status reason with terminal controls is printed escaped (JSON keeps it exact)', () => {
    const hostile = waypointsOf([{metadata: {name: 'broken-wp', namespace: 'mall'}, spec: {gatewayClassName: 'istio-waypoint'},
      status: {conditions: [{type: 'Programmed', status: 'False', reason: 'Bad\u001b]52;c;AAAA\u0007\nWarning: forged'}]}}])
    const context = {...contextFor('mall', {pod: ztunnel('node-a'), sync: synced}), ambient: {namespace: namespaceOf('mall'), waypoints: hostile, ztunnel: {pod: ztunnel('node-a'), sync: synced}}}
    const result = analyzePod(pod('pay-1'), context)
    expect(result.warnings[0].message).toContain('\u001b]52;c;AAAA\u0007\n')
    const text = renderDescribePod(result)
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/)
    expect(text).toContain('not programmed (Bad\\x1b]52;c;AAAA\\x07\\nWarning: forged)')
  })
})

describe('describe service in ambient mode', () => {
  it('names the waypoint serving the Service; its ambient pods are in the mesh', () => {
    const result = analyzeService(service('shelf'), undefined, contextFor('shop'))
    expect(result.service.waypoint).toEqual({labelOn: 'namespace', wanted: 'shop/svc-wp', waypoint: 'shop/svc-wp'})
    expect(result.pods).toEqual([{name: 'shelf-1', ready: true, meshed: false, dataplane: 'ambient'}])
    expect(result.warnings).toEqual([])
    golden('ambient-shelf-service.golden.txt', renderDescribeService(result))
    // Without any use-waypoint label the ambient pods' Service says so.
    const bare = analyzeService(service('shelf'), undefined, {...contextFor('shop'), ambient: {namespace: {metadata: {name: 'shop', labels: {'istio.io/dataplane-mode': 'ambient'}}}, waypoints}})
    expect(bare.service.waypoint).toBeUndefined()
    expect(renderDescribeService(bare)).toContain('   Port: http 80/HTTP targets pod port 8080\n   Waypoint: none\n')
  })
  it('a Service whose waypoint is missing: the warning under the Service', () => {
    const result = analyzeService(service('pay'), undefined, contextFor('mall'))
    expect(result.warnings.map((w) => w.id)).toEqual(['waypoint-missing'])
    expect(renderDescribeService(result)).toContain([
      '   Waypoint: none (the Service\'s istio.io/use-waypoint names mall/gone-wp, which does not take effect: see the warning)',
      '   Warning: service mall/pay uses waypoint mall/gone-wp, which does not exist: its traffic bypasses the waypoint without any error',
    ].join('\n'))
  })
})
