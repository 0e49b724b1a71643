import {Args} from '@oclif/core'

import {MeshdbgCommand} from '../../lib/base-command.js'
import {istioNamespaceFlag, outputFlag, proxyAdminPortFlag} from '../../lib/flags.js'
import {analyzePod, type DescribePodAnalysis} from '../../lib/istio/describe.js'
import {fetchPodDescribeInput} from '../../lib/istio/describe-fetch.js'
import {renderDescribePod} from '../../lib/render/describe-view.js'
import {renderStructured} from '../../lib/render/formats.js'

/** The pod, its ambient enrolment, the Services selecting it, their DestinationRule, VirtualServices and waypoint, mTLS, exposure and warnings. */
export type DescribePodResult = DescribePodAnalysis

export default class DescribePod extends MeshdbgCommand<typeof DescribePod> {
  static override summary = 'Describe a pod\'s Istio configuration: Services, routes, subsets, mTLS, gateways, and what is wrong (istioctl x describe pod).'
  static override description = `Reads the pod, the Services of its namespace, the VirtualServices, DestinationRules, Gateways and PeerAuthentications of the cluster (all namespaces, else the pod's and the root namespace), and the clusters its own proxy and the gateway pods accepted, then prints istioctl x describe's blocks:
- Service: each Service selecting the pod, its ports with Istio's protocol (appProtocol, else the name prefix; "auto-detect" otherwise) and the pod port they reach;
- DestinationRule: the rule for the service's host (its namespace, then the root namespace), matching and non-matching subsets, TLS mode and policies;
- VirtualService: every VirtualService routing to the service or written for its host, with the routes that reach the pod (weights, match conditions, timeout) or why none does;
- Effective PeerAuthentication: the mTLS mode (workload over namespace over mesh-wide, port-level), and the policies that apply;
- Exposed on Ingress Gateway: the Gateway hosts and ports whose VirtualServices route to the service, with the gateway pods and addresses.
- Ambient (pods without sidecar): enrolled or not and why (istio.io/dataplane-mode on the pod or its namespace), the ztunnel on its node (Ready, its WDS/WADS in istiod's syncz), and the waypoint of the pod's own traffic and of each Service (istio.io/use-waypoint on the pod or Service, else its namespace; istio.io/waypoint-for).
Warnings appear under the object they concern (ids in -o json): subset-without-destination-rule, unknown-subset, subset-matches-no-pod, gateway-not-found, gateway-selects-no-pod, route-cluster-missing (a proxy lacks a cluster the routes need: not pushed yet or rejected), port-protocol-unclassified, mtls-conflict (a DestinationRule TLS mode the pod's mTLS refuses), pod-not-meshed, container-not-ready, no-service-selects-pod, ambient-not-captured, ztunnel-missing, ztunnel-not-ready, ztunnel-not-synced, waypoint-missing, waypoint-not-programmed, waypoint-for-mismatch, waypoint-attachment-denied.
Exit 0 whatever the warnings (scripts read .warnings of -o json or --json); a kind that is not installed, a namespace that may not be listed and a proxy that does not answer are noted on stderr and left out.
-o short (default) | json | yaml: the typed result.`

  static override hiddenAliases = ['describe:po', 'x:describe:pod']
  static override examples = [
    '<%= config.bin %> describe pod catalog-5c7f8f8447-f54sj -n istioinaction',
    '<%= config.bin %> describe pod deploy/catalog.istioinaction -o json | jq \'.warnings\'',
  ]

  static override args = {
    target: Args.string({description: 'The pod: pod[.namespace], or deploy/x, sts/x... (one of its pods).', required: true}),
  }

  static override flags = {
    ...outputFlag(['short', 'json', 'yaml'], 'short'),
    'istio-namespace': istioNamespaceFlag,
    'proxy-admin-port': proxyAdminPortFlag,
  }

  async run(): Promise<DescribePodResult> {
    const {args, flags} = this
    const ctx = this.runContext()
    const {pod, context} = await fetchPodDescribeInput(ctx, args.target, {istioNamespace: flags['istio-namespace'], proxyAdminPort: flags['proxy-admin-port']})
    const result = analyzePod(pod, context)
    this.write(this.outputFormat === 'short' ? renderDescribePod(result) : renderStructured(result, this.outputFormat as 'json' | 'yaml'))
    return result
  }
}
