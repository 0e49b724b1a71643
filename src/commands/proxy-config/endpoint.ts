import {Flags} from '@oclif/core'

import {ProxyCommand} from '../../lib/proxy-command.js'
import {
  parseEndpointInput,
  selectEdsEndpoints,
  selectHostEndpoints,
  type EdsEndpointRow,
  type EndpointFilter,
  type HostEndpointRow,
} from '../../lib/envoy/endpoints.js'
import {AdminPath} from '../../lib/envoy/source.js'
import {renderEdsEndpointTable, renderHostEndpointTable} from '../../lib/render/endpoint-table.js'
import {renderDump} from '../../lib/render/dump-output.js'

export type EndpointResult =
  | {source: 'clusters'; endpoints: HostEndpointRow[]}
  | {source: 'eds'; endpoints: EdsEndpointRow[]}

export default class ProxyConfigEndpoint extends ProxyCommand<typeof ProxyConfigEndpoint> {
  static override summary = 'Show the endpoints of an Envoy proxy (istioctl proxy-config endpoint).'
  static override description = `Reads Envoy's /clusters?format=json (what a live target fetches) and prints ENDPOINT STATUS OUTLIER CHECK CLUSTER, as istioctl does. Given a config dump taken with ?include_eds instead, it prints the EDS view NAME STATUS LOCALITY CLUSTER (istioctl's hidden "eds" command, and the endpoint section of "proxy-config all"); a config dump without endpoints is an error (exit 6).
Filters are exact and case-insensitive: --address is the IP without the port for /clusters input, but "ip:port" for EDS input (as in istioctl, so a bare IP matches nothing there); --status is a health status name (HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED, UNKNOWN). Rows are sorted as istioctl sorts them, with full tie-breaks. An empty result prints the header only and exits 0.
-o short (default) | json (Envoy's own objects: the whole ClusterStatus entries with at least one matching host, or the ClusterLoadAssignments with non-matching endpoints pruned) | yaml.`

  static override hiddenAliases = ['proxy-config:endpoints', 'proxy-config:ep', 'pc:endpoint', 'pc:endpoints', 'pc:ep']
  static override examples = [
    '<%= config.bin %> proxy-config endpoint deploy/productpage-v1 -n bookinfo --cluster "outbound|9080||reviews.bookinfo.svc.cluster.local"',
    'kubectl exec POD -c istio-proxy -- curl -s "localhost:15000/clusters?format=json" > clusters.json && <%= config.bin %> pc ep -f clusters.json --status unhealthy',
    'kubectl exec POD -c istio-proxy -- curl -s "localhost:15000/config_dump?include_eds" | <%= config.bin %> pc ep -f - --port 9080',
  ]

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    ...ProxyCommand.proxyFlags,
    address: Flags.string({summary: 'Only endpoints with this address (IP for /clusters input, ip:port for EDS input).'}),
    port: Flags.integer({summary: 'Only endpoints with this port.', min: 0, max: 65535}),
    cluster: Flags.string({summary: 'Only endpoints of this cluster (full name, case-insensitive).'}),
    status: Flags.string({summary: 'Only endpoints with this health status (e.g. HEALTHY, UNHEALTHY).'}),
  }

  async run(): Promise<EndpointResult> {
    const {flags} = this
    const input = await this.loadProxyText(AdminPath.clusterStatus)
    const filter: EndpointFilter = {address: flags.address, port: flags.port, cluster: flags.cluster, status: flags.status}
    const parsed = parseEndpointInput(input, {summariesOnly: this.outputFormat === 'short'})
    const structured = this.outputFormat as 'json' | 'yaml'
    if (parsed.kind === 'cluster-status') {
      const selected = selectHostEndpoints(parsed.clusterStatuses, filter)
      if (this.tableOutput) this.writeTable(renderHostEndpointTable(selected.rows))
      else this.write(renderDump(selected.clusterStatuses, structured, this.notice))
      return {source: 'clusters', endpoints: selected.rows}
    }
    const selected = selectEdsEndpoints(parsed.dump, filter)
    if (this.tableOutput) this.writeTable(renderEdsEndpointTable(selected.rows))
    else this.write(renderDump(selected.clusterLoadAssignments, structured, this.notice))
    return {source: 'eds', endpoints: selected.rows}
  }
}
