import {ProxyCommand} from '../../lib/proxy-command.js'
import {parseConfigDumpInput} from '../../lib/envoy/configdump.js'
import {selectEcds, type EcdsSummary} from '../../lib/envoy/ecds.js'
import {AdminPath} from '../../lib/envoy/source.js'
import {renderEcdsTable} from '../../lib/render/ecds-table.js'
import {renderDump} from '../../lib/render/dump-output.js'

export interface EcdsResult {
  filters: EcdsSummary[]
}

export default class ProxyConfigEcds extends ProxyCommand<typeof ProxyConfigEcds> {
  static override summary = 'Show the ECDS extension configs of an Envoy proxy (istioctl proxy-config ecds).'
  static override description = `One row per ecds_filters[].ecds_filter across every EcdsConfigDump section: ECDS NAME and TYPE (typed_config's @type without "type.googleapis.com/"), sorted by type URL (empty first), then name, as istioctl does. A dump without an EcdsConfigDump (ECDS not in use) prints the header only and exits 0.
-o short (default) | json (one EcdsConfigDump merging every section's ecds_filters, in dump order, as Envoy prints them) | yaml.`

  static override hiddenAliases = ['proxy-config:ec', 'pc:ecds', 'pc:ec']
  static override examples = [
    '<%= config.bin %> proxy-config ecds deploy/httpbin -n default',
    'kubectl exec POD -c istio-proxy -- curl -s "localhost:15000/config_dump?include_eds" > dump.json && <%= config.bin %> pc ec -f dump.json -o yaml',
  ]

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    ...ProxyCommand.proxyFlags,
  }

  async run(): Promise<EcdsResult> {
    const input = await this.loadProxyText(AdminPath.withEds)
    const selected = selectEcds(parseConfigDumpInput(input, {only: ['Ecds']}))
    if (this.tableOutput) this.writeTable(renderEcdsTable(selected.summaries))
    else this.write(renderDump(selected.section, this.outputFormat as 'json' | 'yaml', this.notice))
    return {filters: selected.summaries}
  }
}
