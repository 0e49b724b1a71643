import {Flags} from '@oclif/core'

import {ProxyCommand} from '../../lib/proxy-command.js'
import {parseConfigDumpInput} from '../../lib/envoy/configdump.js'
import {checkListenerType, selectListeners, type ListenerSummary} from '../../lib/envoy/listeners.js'
import {AdminPath} from '../../lib/envoy/source.js'
import {renderDump} from '../../lib/render/dump-output.js'
import {renderListenerTable} from '../../lib/render/listener-table.js'

export interface ListenerResult {
  listeners: ListenerSummary[]
}

export default class ProxyConfigListener extends ProxyCommand<typeof ProxyConfigListener> {
  static override summary = 'Show the listeners of an Envoy proxy (istioctl proxy-config listener).'
  static override description = `Columns, filters, sort and padding match istioctl byte for byte. By default one row per filter chain (ADDRESSES PORT MATCH DESTINATION), chains of a listener by DESTINATION descending; --verbose=false prints one row per listener (ADDRESSES PORT TYPE). Listeners are sorted by port, address, type. --address and --type are case-insensitive exact matches (--address also matches additional addresses), --port matches the primary port. An empty result prints the header only and exits 0.
-o short (default) | json (the matching Listener objects as Envoy prints them, in dump order) | yaml.
Where istioctl crashes or prints nothing useful, meshdbg shows: a pipe address as its path, HTTP for an HTTP connection manager without typed_config, TCP for a TCP proxy without typed_config, and "Weighted: <cluster>=<weight>, ..." for a TCP proxy with weighted_clusters (istioctl prints "Cluster: ").`

  static override hiddenAliases = ['proxy-config:listeners', 'proxy-config:l', 'pc:listener', 'pc:listeners', 'pc:l']
  static override examples = [
    '<%= config.bin %> proxy-config listener deploy/istio-ingressgateway -n istio-system',
    '<%= config.bin %> pc l productpage-v1-123.default --port 15006 --type HTTP+TCP',
    'kubectl exec POD -c istio-proxy -- curl -s localhost:15000/config_dump | <%= config.bin %> pc l -f - --verbose=false',
  ]

  static override verboseIsTableSwitch = true

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    ...ProxyCommand.proxyFlags,
    address: Flags.string({summary: 'Only listeners with this address (primary or additional; case-insensitive, exact).'}),
    port: Flags.integer({summary: 'Only listeners on this port.', min: 0, max: 65535}),
    type: Flags.string({summary: 'Only listeners of this type: HTTP, TCP, HTTP+TCP or UNKNOWN (case-insensitive).'}),
    verbose: Flags.boolean({
      summary: 'One row per filter chain with MATCH and DESTINATION (default); --verbose=false or --no-verbose for one row per listener with TYPE.',
      default: true,
      allowNo: true,
    }),
  }

  async run(): Promise<ListenerResult> {
    const {flags} = this
    checkListenerType(flags.type)
    const input = await this.loadProxyText(AdminPath.listeners)
    const selected = selectListeners(parseConfigDumpInput(input, {only: ['Listeners']}), flags)
    if (this.tableOutput) this.writeTable(renderListenerTable(selected.summaries, {verbose: flags.verbose}))
    else this.write(renderDump(selected.listeners, this.outputFormat as 'json' | 'yaml', this.notice))
    return {listeners: selected.summaries}
  }
}
