import {Flags} from '@oclif/core'

import {ProxyCommand} from '../../lib/proxy-command.js'
import {selectClusters, type ClusterSummary} from '../../lib/envoy/clusters.js'
import {parseConfigDumpInput} from '../../lib/envoy/configdump.js'
import {AdminPath} from '../../lib/envoy/source.js'
import {renderDump} from '../../lib/render/dump-output.js'
import {renderClusterTable} from '../../lib/render/proxy-config-tables.js'

export interface ClusterResult {
  clusters: ClusterSummary[]
}

export default class ProxyConfigCluster extends ProxyCommand<typeof ProxyConfigCluster> {
  static override summary = 'Show the clusters of an Envoy proxy (istioctl proxy-config cluster).'
  static override description = `Columns, filters, sort and padding match istioctl byte for byte. Filters are substring tests on the full cluster name (--port needs "|<port>|"). An empty result prints the header only and exits 0.
-o short (default) | json (the matching Cluster objects as Envoy prints them) | yaml.`

  static override hiddenAliases = ['proxy-config:clusters', 'proxy-config:c', 'pc:cluster', 'pc:clusters', 'pc:c']
  static override examples = [
    '<%= config.bin %> proxy-config cluster deploy/istio-ingressgateway -n istio-system --fqdn catalog.istioinaction.svc.cluster.local --port 80',
    'kubectl exec POD -c istio-proxy -- curl -s localhost:15000/config_dump > dump.json && <%= config.bin %> pc c -f dump.json',
  ]

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    ...ProxyCommand.proxyFlags,
    fqdn: Flags.string({summary: 'Only clusters whose name contains this FQDN.'}),
    direction: Flags.string({summary: 'Only clusters whose name contains this direction (inbound, outbound).'}),
    subset: Flags.string({summary: 'Only clusters whose name contains this subset.'}),
    port: Flags.integer({summary: 'Only clusters whose name contains |PORT|.'}),
  }

  async run(): Promise<ClusterResult> {
    const {flags} = this
    const input = await this.loadProxyText(AdminPath.clusters)
    const selected = selectClusters(parseConfigDumpInput(input, {only: ['Clusters'], summariesOnly: this.tableOutput}), flags)
    if (this.tableOutput) this.writeTable(renderClusterTable(selected.summaries))
    else this.write(renderDump(selected.clusters, this.outputFormat as 'json' | 'yaml', this.notice))
    return {clusters: selected.summaries}
  }
}
