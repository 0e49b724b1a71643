import {Flags} from '@oclif/core'

import {renderDump} from '../../lib/render/dump-output.js'
import {ZtunnelCommand} from '../../lib/ztunnel/command.js'
import {connectionRows, renderConnectionTable, selectWorkloadStates, type ConnectionRow, type ConnectionsFilter} from '../../lib/ztunnel/tables.js'

export interface ZtunnelConnectionsResult {
  connections: ConnectionRow[]
}

export default class ZtunnelConfigConnections extends ZtunnelCommand<typeof ZtunnelConfigConnections> {
  static override summary = 'Show the connections a ztunnel holds for its workloads (istioctl ztunnel-config connections).'
  static override description = `Columns, filters, sort and padding match istioctl 1.30 byte for byte: addresses are shown as the service or workload that has them unless --raw. Connections differ per node: when several ztunnels run, name one (or --node, or an application pod).
-o short (default) | json (the workload states as ztunnel prints them) | yaml.`

  static override singlePod = true
  static override hiddenAliases = ['ztunnel-config:cons', 'zc:connections', 'zc:cons']
  static override examples = ['<%= config.bin %> ztunnel-config connections --node ambient-worker', '<%= config.bin %> zc cons productpage-v1-675fc69cf-jscn2.bookinfo --raw']

  static override args = ZtunnelCommand.ztunnelArgs
  static override flags = {
    ...ZtunnelCommand.ztunnelFlags,
    direction: Flags.string({summary: 'Only inbound or outbound connections.', options: ['inbound', 'outbound']}),
    raw: Flags.boolean({summary: 'Show IP addresses instead of names.'}),
    'workload-namespace': Flags.string({summary: 'Only workloads in this namespace.'}),
  }

  async run(): Promise<ZtunnelConnectionsResult> {
    const {flags} = this
    const loaded = await this.loadZtunnelDump()
    const filter: ConnectionsFilter = {namespace: flags['workload-namespace'], direction: flags.direction, raw: flags.raw}
    if (loaded.workload) Object.assign(filter, {workload: loaded.workload.name, namespace: loaded.workload.namespace})
    const connections = connectionRows(loaded.dump, filter)
    if (this.tableOutput) this.writeTable(renderConnectionTable(connections))
    else this.write(renderDump(selectWorkloadStates(loaded.dump, filter).map((state) => state.raw), this.outputFormat as 'json' | 'yaml', this.notice))
    return {connections}
  }
}
