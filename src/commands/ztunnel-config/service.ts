import {Flags} from '@oclif/core'

import {renderDump} from '../../lib/render/dump-output.js'
import {ZtunnelCommand} from '../../lib/ztunnel/command.js'
import {renderServiceTable, selectServices, serviceRows, type ServiceRow} from '../../lib/ztunnel/tables.js'

export interface ZtunnelServiceResult {
  services: ServiceRow[]
}

export default class ZtunnelConfigService extends ZtunnelCommand<typeof ZtunnelConfigService> {
  static override summary = 'Show the services a ztunnel knows (istioctl ztunnel-config service).'
  static override description = `Columns, filter, sort and padding match istioctl 1.30 byte for byte. ENDPOINTS is healthy/all.
-o short (default) | json (the matching services as ztunnel prints them) | yaml.`

  static override hiddenAliases = ['ztunnel-config:services', 'ztunnel-config:s', 'ztunnel-config:svc', 'zc:service', 'zc:services', 'zc:s', 'zc:svc']
  static override examples = ['<%= config.bin %> ztunnel-config service --service-namespace bookinfo', '<%= config.bin %> zc svc -f zt.json -o json']

  static override args = ZtunnelCommand.ztunnelArgs
  static override flags = {
    ...ZtunnelCommand.ztunnelFlags,
    'service-namespace': Flags.string({summary: 'Only services in this namespace.'}),
  }

  async run(): Promise<ZtunnelServiceResult> {
    const loaded = await this.loadZtunnelDump()
    const filter = {namespace: this.flags['service-namespace']}
    const services = serviceRows(loaded.dump, filter)
    if (this.tableOutput) this.writeTable(renderServiceTable(services))
    else this.write(renderDump(selectServices(loaded.dump, filter).map((service) => service.raw), this.outputFormat as 'json' | 'yaml', this.notice))
    return {services}
  }
}
