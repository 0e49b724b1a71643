import {describe, expect, it} from 'vitest'

import {withDestinationRules} from '../../src/lib/diagnose/dump-reads.js'
import type {DumpRouting} from '../../src/lib/diagnose/routing.js'
import {ADMIN_V3} from '../../src/lib/envoy/configdump.js'

// Story 1: a VirtualService routes to subsets v1 and v2 of catalog; the proxy has only the
// subset-less cluster. The DestinationRule is then read apart (withDestinationRules), and istiod
// may push between the two reads.
const HOST = 'catalog.istioinaction.svc.cluster.local'
const V1 = `outbound|8080|version-v1|${HOST}`
const V2 = `outbound|8080|version-v2|${HOST}`
const PLAIN = `outbound|8080||${HOST}`
const OTHER = 'outbound|80||other.default.svc.cluster.local'
const target = (cluster: string) => ({routeConfig: 'http.8080', virtualHost: 'catalog:80', virtualService: 'catalog-v1-v2.istioinaction', cluster, weightPercent: 50})
const routing: DumpRouting = {
  targetClusterCount: 3,
  missingTargets: [target(V1), target(V2), target(OTHER)],
  missingHosts: [{hostname: HOST, known: true, destinationRule: ''}, {hostname: 'other.default.svc.cluster.local', known: false, destinationRule: ''}],
  usedEdsClusters: [],
  warmingClusters: [],
  warmingListeners: [],
}
const rule = (name: string) => ({filter_metadata: {istio: {config: `/apis/networking.istio.io/v1/namespaces/istioinaction/destination-rule/${name}`}}})
const answer = (clusters: Array<{name: string; metadata?: unknown}>) => ({
  origin: 'proxy',
  text: JSON.stringify({configs: clusters.map((cluster) => ({'@type': `${ADMIN_V3}ClustersConfigDump.DynamicCluster`, cluster}))}),
})
const none = answer([])

describe('withDestinationRules: the DestinationRule behind missing subsets, read after the routes', () => {
  it('names the rule of the host\'s clusters when the proxy did not change in between', () => {
    const {routing: read, changed} = withDestinationRules(routing, {activeClusters: answer([{name: PLAIN, metadata: rule('catalog')}]), staticClusters: none}, 'proxy')
    expect(changed).toBe(false)
    expect(read.missingTargets).toEqual(routing.missingTargets)
    expect(read.missingHosts).toEqual([{hostname: HOST, known: true, destinationRule: 'catalog.istioinaction'}, routing.missingHosts[1]])
  })

  it('no rule behind the host: the name stays empty', () => {
    const {routing: read, changed} = withDestinationRules(routing, {activeClusters: answer([{name: PLAIN}]), staticClusters: none}, 'proxy')
    expect(changed).toBe(false)
    expect(read.missingHosts[0].destinationRule).toBe('')
  })

  it('a rule applied between the reads (its subset clusters came with it): changed, and the subsets are no longer missing', () => {
    const {routing: read, changed} = withDestinationRules(routing, {activeClusters: answer([{name: PLAIN, metadata: rule('catalog')}, {name: V1, metadata: rule('catalog')}, {name: V2, metadata: rule('catalog')}]), staticClusters: none}, 'proxy')
    expect(changed).toBe(true)
    expect(read.missingTargets).toEqual([target(OTHER)])
    expect(read.missingHosts).toEqual([routing.missingHosts[1]])
  })

  it('a rule with one of the two subsets: changed; the other is still missing, and the rule is named for it', () => {
    const {routing: read, changed} = withDestinationRules(routing, {activeClusters: answer([{name: PLAIN, metadata: rule('catalog')}, {name: V1, metadata: rule('catalog')}]), staticClusters: none}, 'proxy')
    expect(changed).toBe(true)
    expect(read.missingTargets).toEqual([target(V2), target(OTHER)])
    expect(read.missingHosts).toEqual([{hostname: HOST, known: true, destinationRule: 'catalog.istioinaction'}, routing.missingHosts[1]])
  })
})
