import {Flags} from '@oclif/core'

import {renderDump} from '../../lib/render/dump-output.js'
import {ZtunnelCommand} from '../../lib/ztunnel/command.js'
import {renderWorkloadTable, selectWorkloads, workloadRows, type WorkloadFilter, type WorkloadRow} from '../../lib/ztunnel/tables.js'

export interface ZtunnelWorkloadResult {
  workloads: WorkloadRow[]
}

export default class ZtunnelConfigWorkload extends ZtunnelCommand<typeof ZtunnelConfigWorkload> {
  static override summary = 'Show the workloads a ztunnel knows (istioctl ztunnel-config workload).'
  static override description = `Columns, filters, sort and padding match istioctl 1.30 byte for byte. An application pod as the target reads its node's ztunnel and shows that pod only.
-o short (default) | json (the matching workloads as ztunnel prints them) | yaml.`

  static override hiddenAliases = ['ztunnel-config:workloads', 'ztunnel-config:w', 'zc:workload', 'zc:workloads', 'zc:w']
  static override examples = [
    '<%= config.bin %> ztunnel-config workload --workload-namespace bookinfo',
    '<%= config.bin %> zc workload productpage-v1-675fc69cf-jscn2.bookinfo',
    'kubectl exec -n istio-system ds/ztunnel -- curl -s localhost:15000/config_dump > zt.json && <%= config.bin %> zc w -f zt.json --address 10.244.2.53',
  ]

  static override args = ZtunnelCommand.ztunnelArgs
  static override flags = {
    ...ZtunnelCommand.ztunnelFlags,
    address: Flags.string({summary: 'Only workloads with this IP address.'}),
    'workload-namespace': Flags.string({summary: 'Only workloads in this namespace.'}),
    'workload-node': Flags.string({summary: 'Only workloads on this node.'}),
  }

  async run(): Promise<ZtunnelWorkloadResult> {
    const {flags} = this
    const loaded = await this.loadZtunnelDump()
    const filter: WorkloadFilter = {address: flags.address, namespace: flags['workload-namespace'], node: flags['workload-node']}
    if (loaded.workload) Object.assign(filter, loaded.workload)
    const workloads = workloadRows(loaded.dump, filter)
    if (this.tableOutput) this.writeTable(renderWorkloadTable(workloads))
    else this.write(renderDump(selectWorkloads(loaded.dump, filter).map((workload) => workload.raw), this.outputFormat as 'json' | 'yaml', this.notice))
    return {workloads}
  }
}
