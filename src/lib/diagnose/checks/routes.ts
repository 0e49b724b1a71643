import {parseSubsetKey} from '../../envoy/istio-names.js'
import {shellArg} from '../../render/shell-quote.js'
import type {RouteTarget} from '../route-targets.js'
import type {Check, CheckOutcome} from '../types.js'

const list = (items: Iterable<string>): string => [...new Set(items)].join(', ')
const orList = (items: string[]): string => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`)

/**
 * Routes whose clusters the proxy lacks: requests there fail with `503 NC cluster_not_found`.
 * The usual cause (story 1) is a VirtualService routing to subsets no DestinationRule defines:
 * istiod builds subset clusters only from DestinationRule subsets (pilot/pkg/networking/core/
 * v1alpha3/cluster_builder.go buildSubsetCluster), so the route points at nothing.
 */
export const routesCheck: Check = {
  id: 'routes',
  group: 'Routing',
  title: 'every route sends traffic to a cluster the proxy has',
  async run(facts) {
    const {targetClusterCount, missingTargets: missing, missingHosts} = await facts.routing()
    if (missing.length === 0) {
      return [{severity: 'pass', message: `${targetClusterCount} clusters named by routes, all present`}]
    }
    const hosts = new Map(missingHosts.map((host) => [host.hostname, host]))
    // One finding per service (host and port): story 1's two subsets are one mistake.
    const byService = new Map<string, RouteTarget[]>()
    for (const target of missing) {
      const key = parseSubsetKey(target.cluster)
      const service = key ? `${key.hostname}|${key.port}` : target.cluster
      byService.set(service, [...(byService.get(service) ?? []), target])
    }
    const pod = shellArg(facts.pod.id, '<pod>')
    const outcomes: CheckOutcome[] = []
    for (const targetsOfService of byService.values()) {
      const first = targetsOfService[0]
      const key = parseSubsetKey(first.cluster)
      const routes = list(targetsOfService.map((t) => t.routeConfig))
      const services = list(targetsOfService.map((t) => t.virtualService).filter(Boolean))
      const from = services ? `VirtualService ${services} (route ${routes})` : `route ${routes}`
      const evidence = targetsOfService.map((t) => `route ${t.routeConfig} vhost ${t.virtualHost} → ${t.cluster} (${t.weightPercent}%): not in the proxy's clusters`)
      const subsetNames = [...new Set(targetsOfService.map((t) => parseSubsetKey(t.cluster)?.subset ?? '').filter(Boolean))]
      const subsets = subsetNames.join(', ')
      const hostKnown = key !== undefined && hosts.get(key.hostname)?.known === true
      if (key && subsets !== '' && hostKnown) {
        const rule = hosts.get(key.hostname)?.destinationRule ?? ''
        const namespace = key.hostname.split('.')[1]
        outcomes.push({
          severity: 'fail',
          message: rule === ''
            ? `no DestinationRule defines subset ${orList(subsetNames)} for ${key.hostname}: ${from} routes to ${subsetNames.length > 1 ? 'them' : 'it'}, so requests fail with 503 NC (cluster_not_found)`
            : `DestinationRule ${rule} defines no subset ${orList(subsetNames)} for ${key.hostname}: ${from} routes to ${subsetNames.length > 1 ? 'them' : 'it'}, so requests fail with 503 NC (cluster_not_found)`,
          hint: rule === ''
            ? `apply a DestinationRule for host ${key.hostname} with subsets ${subsets} (each selecting its pods' labels, e.g. version: v1)`
            : `add subsets ${subsets} to DestinationRule ${rule}, or route to the subsets it defines`,
          command: namespace ? `kubectl get destinationrules -n ${shellArg(namespace, '<namespace>')}` : `meshdbg proxy-config cluster ${pod} --fqdn ${shellArg(key.hostname, '<fqdn>')}`,
          evidence,
        })
        continue
      }
      outcomes.push({
        severity: 'fail',
        message: `${from} routes to ${list(targetsOfService.map((t) => t.cluster))}, which the proxy does not have: requests fail with 503 NC (cluster_not_found)`,
        hint: hostKnown || !key
          ? 'the cluster was not sent or was rejected: compare the proxy with istiod\'s view'
          : `the proxy knows no service ${key.hostname}: no such Service, not exported to this namespace, or outside the Sidecar resource's egress hosts`,
        command: `meshdbg sync-status ${pod}`,
        evidence,
      })
    }
    return outcomes
  },
}
