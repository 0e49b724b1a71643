import {Args} from '@oclif/core'

import {MeshdbgCommand} from '../../lib/base-command.js'
import {istioNamespaceFlag, outputFlag, proxyAdminPortFlag} from '../../lib/flags.js'
import {analyzeService, type DescribeServiceAnalysis} from '../../lib/istio/describe.js'
import {fetchServiceDescribeInput} from '../../lib/istio/describe-fetch.js'
import {renderDescribeService} from '../../lib/render/describe-view.js'
import {renderStructured} from '../../lib/render/formats.js'

/** The Service, its pods, DestinationRule and VirtualServices, mTLS of its first pod, exposure and warnings. */
export type DescribeServiceResult = DescribeServiceAnalysis

export default class DescribeService extends MeshdbgCommand<typeof DescribeService> {
  static override summary = 'Describe a Service\'s Istio configuration: routes, subsets, mTLS, gateways, and what is wrong (istioctl x describe service).'
  static override description = `As describe pod, for one Service: subsets are matched against all of its running pods (subset-matches-no-pod when a subset selects none), and its first meshed pod in kubectl's logs order (Running, Ready, ready longest) stands in for the mTLS mode and for the mesh proxy whose clusters are checked against the routes; the gateway pods' clusters are checked too. In ambient mode it names the waypoint serving the Service (istio.io/use-waypoint on the Service, else its namespace), with waypoint-missing, waypoint-not-programmed, waypoint-for-mismatch or waypoint-attachment-denied when that waypoint does not take effect, and marks its ambient pods.
Exit 0 whatever the warnings (read .warnings of -o json or --json); a Service that does not exist is exit 3.
-o short (default) | json | yaml: the typed result.`

  static override hiddenAliases = ['describe:svc', 'x:describe:service', 'x:describe:svc']
  static override examples = [
    '<%= config.bin %> describe service catalog -n istioinaction',
    '<%= config.bin %> describe svc catalog.istioinaction -o json | jq \'.warnings[].id\'',
  ]

  static override args = {
    service: Args.string({description: 'The Service: SVC, svc/SVC, with an optional .namespace.', required: true}),
  }

  static override flags = {
    ...outputFlag(['short', 'json', 'yaml'], 'short'),
    'istio-namespace': istioNamespaceFlag,
    'proxy-admin-port': proxyAdminPortFlag,
  }

  async run(): Promise<DescribeServiceResult> {
    const {args, flags} = this
    const ctx = this.runContext()
    const {service, proxyPod, context} = await fetchServiceDescribeInput(ctx, args.service, {istioNamespace: flags['istio-namespace'], proxyAdminPort: flags['proxy-admin-port']})
    const result = analyzeService(service, proxyPod, context)
    this.write(this.outputFormat === 'short' ? renderDescribeService(result) : renderStructured(result, this.outputFormat as 'json' | 'yaml'))
    return result
  }
}
