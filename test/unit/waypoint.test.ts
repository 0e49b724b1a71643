import {describe, expect, it} from 'vitest'
import {analyzeWaypoints, renderWaypointList, renderWaypointStatus, renderWaypointWarnings, type GatewayInput, type WaypointInputs} from '../../src/lib/istio/waypoint.js'

const programmed = (status: string, reason = status === 'True' ? 'Programmed' : 'Invalid') => ({type: 'Programmed', status, reason, message: `msg ${reason}`})
const gateway = (ns: string, name: string, labels: Record<string, string>, conditions: ReturnType<typeof programmed>[], klass = 'istio-waypoint'): GatewayInput =>
  ({metadata: {namespace: ns, name, labels}, spec: {gatewayClassName: klass}, status: {conditions}})

const inputs: WaypointInputs = {
  gateways: [
    gateway('shop', 'wp', {'istio.io/waypoint-for': 'service'}, [programmed('True')]),
    gateway('shop', 'broken', {'istio.io/waypoint-for': 'all', 'istio.io/rev': 'canary'}, [{type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok'}, programmed('False')]),
    gateway('shop', 'ingress', {}, [programmed('True')], 'istio'),
    gateway('infra', 'shared', {}, [programmed('True')]),
  ],
  namespaces: [{metadata: {name: 'shop', labels: {'istio.io/use-waypoint': 'wp'}}}],
  services: [
    {metadata: {namespace: 'shop', name: 'cart', labels: {'istio.io/use-waypoint': 'broken'}}},
    {metadata: {namespace: 'shop', name: 'gone', labels: {'istio.io/use-waypoint': 'nope'}}},
    {metadata: {namespace: 'shop', name: 'optout', labels: {'istio.io/use-waypoint': 'none'}}},
    {metadata: {namespace: 'shop', name: 'remote', labels: {'istio.io/use-waypoint': 'shared', 'istio.io/use-waypoint-namespace': 'infra'}}},
  ],
  pods: [{metadata: {namespace: 'shop', name: 'cart-1', labels: {'istio.io/use-waypoint': 'wp'}}}],
}

describe('analyzeWaypoints', () => {
  const report = analyzeWaypoints(inputs, 'shop')

  it('keeps only istio-waypoint Gateways of the namespace, with istioctl defaults for revision and traffic type', () => {
    expect(report.waypoints.map((w) => [w.name, w.revision, w.trafficType, w.effectiveTrafficType, w.programmed])).toEqual([
      ['broken', 'canary', 'all', 'all', 'False'],
      ['wp', 'default', 'service', 'service', 'True'],
    ])
    expect(report.waypoints.find((w) => w.name === 'wp')!.usedBy).toEqual([{kind: 'namespace', name: 'shop'}, {kind: 'pod', name: 'shop/cart-1'}])
  })

  it('warns for missing, unprogrammed and mismatched waypoints; use-waypoint-namespace and "none" are honoured', () => {
    expect(report.warnings.map((w) => [w.id, w.user.name, w.waypoint])).toEqual([
      ['waypoint-not-programmed', 'shop/cart', 'shop/broken'],
      ['waypoint-missing', 'shop/gone', 'shop/nope'],
      ['waypoint-attachment-denied', 'shop/remote', 'infra/shared'],
      ['waypoint-for-mismatch', 'shop/cart-1', 'shop/wp'],
    ])
    expect(renderWaypointWarnings(report)).toBe([
      'Warning [waypoint-not-programmed]: service shop/cart uses waypoint shop/broken, which is not programmed (Invalid): its traffic bypasses the waypoint without any error',
      'Warning [waypoint-missing]: service shop/gone uses waypoint shop/nope, which does not exist: its traffic bypasses the waypoint without any error',
      'Warning [waypoint-attachment-denied]: service shop/remote uses waypoint infra/shared, whose HBONE listener does not admit namespace shop (allowedRoutes.namespaces.from: Same): its traffic bypasses the waypoint without any error',
      'Warning [waypoint-for-mismatch]: pod shop/cart-1 uses waypoint shop/wp, whose istio.io/waypoint-for is service: pod traffic bypasses it',
      '',
    ].join('\n'))
  })

  it('a waypoint in another namespace admits an enrolment only when its HBONE listener\'s allowedRoutes does (All, or a Selector matching the namespace\'s labels)', () => {
    const withListener = (from: string, selector?: {matchLabels: Record<string, string>}): GatewayInput => ({...gateway('infra', 'shared', {}, [programmed('True')]),
      spec: {gatewayClassName: 'istio-waypoint', listeners: [{port: 15008, protocol: 'HBONE', allowedRoutes: {namespaces: {from, ...(selector ? {selector} : {})}}}]}})
    const denied = (shared: GatewayInput, shopLabels: Record<string, string>) => analyzeWaypoints({...inputs, gateways: [...inputs.gateways.slice(0, 3), shared],
      namespaces: [{metadata: {name: 'shop', labels: {...shopLabels, 'istio.io/use-waypoint': 'wp'}}}]}).warnings.filter((w) => w.id === 'waypoint-attachment-denied').map((w) => w.message)
    expect(denied(withListener('All'), {})).toEqual([])
    expect(denied(withListener('Selector', {matchLabels: {mesh: 'on'}}), {mesh: 'on'})).toEqual([])
    expect(denied(withListener('Selector', {matchLabels: {mesh: 'on'}}), {mesh: 'off'})).toEqual([
      'service shop/remote uses waypoint infra/shared, whose HBONE listener does not admit namespace shop (allowedRoutes.namespaces.from: Selector): its traffic bypasses the waypoint without any error'])
    // A listener on another port does not decide: Gateway API's default (Same) applies.
    const otherPort = {...withListener('All'), spec: {gatewayClassName: 'istio-waypoint', listeners: [{port: 80, protocol: 'HTTP', allowedRoutes: {namespaces: {from: 'All'}}}]}}
    expect(denied(otherPort, {})).toHaveLength(1)
  })

  it('an unset waypoint-for is printed "none" as istioctl does but serves services, as Istio does', () => {
    const all = analyzeWaypoints(inputs)
    const shared = all.waypoints.find((w) => w.name === 'shared')!
    expect([shared.trafficType, shared.effectiveTrafficType, shared.usedBy]).toEqual(['none', 'service', [{kind: 'service', name: 'shop/remote'}]])
  })
})

describe('renderWaypointList / renderWaypointStatus', () => {
  const report = analyzeWaypoints(inputs, 'shop')
  it('istioctl waypoint list columns and padding (5)', () => {
    expect(renderWaypointList(report, {allNamespaces: false, wide: false})).toBe(
      'NAME       REVISION     TRAFFIC TYPE     PROGRAMMED\n' +
      'broken     canary       all              False\n' +
      'wp         default      service          True\n')
    expect(renderWaypointList(report, {allNamespaces: true, wide: true}).split('\n')[2]).toBe('shop          wp         default      service          True           namespace/shop,pod/shop/cart-1')
  })
  it('istioctl waypoint status: the Programmed=True condition, else the last one', () => {
    expect(renderWaypointStatus(report, {allNamespaces: false})).toBe(
      'NAME       STATUS     TYPE           REASON         MESSAGE\n' +
      'broken     False      Programmed     Invalid        msg Invalid\n' +
      'wp         True       Programmed     Programmed     msg Programmed\n')
  })
  it('no waypoints prints istioctl\'s sentence', () => {
    expect(renderWaypointList({waypoints: [], warnings: []}, {allNamespaces: false, wide: false})).toBe('No waypoints found.\n')
  })
})
