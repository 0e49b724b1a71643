import {Flags} from '@oclif/core'

import {renderDump} from '../../lib/render/dump-output.js'
import {ZtunnelCommand} from '../../lib/ztunnel/command.js'
import {allSummary, renderAllSummary, type AllSummary} from '../../lib/ztunnel/tables.js'

export type ZtunnelAllResult = AllSummary

export default class ZtunnelConfigAll extends ZtunnelCommand<typeof ZtunnelConfigAll> {
  static override summary = 'Show every section of a ztunnel\'s configuration (istioctl ztunnel-config all).'
  static override description = `The workload, service, policy, certificate and connection tables, each after a blank line, as istioctl 1.30 prints them; --with-headers adds the "------ X INFO ------" banners.
-o short (default) | json (the whole dump as fetched) | yaml.`

  static override hiddenAliases = ['zc:all']
  static override examples = ['<%= config.bin %> ztunnel-config all --node ambient-worker --with-headers', '<%= config.bin %> zc all -f zt.json -o json']

  static override args = ZtunnelCommand.ztunnelArgs
  static override flags = {
    ...ZtunnelCommand.ztunnelFlags,
    'with-headers': Flags.boolean({summary: 'Print a banner above each table.'}),
  }

  async run(): Promise<ZtunnelAllResult> {
    const loaded = await this.loadZtunnelDump()
    const summary = allSummary(loaded.dump, Date.now())
    // Five tables: --no-headers is applied per table here (the generic filter would take the blank
    // line that opens the output for the first header).
    if (this.tableOutput) this.write(renderAllSummary(summary, {withHeaders: this.flags['with-headers'], noHeaders: this.flags['no-headers']}))
    else this.write(renderDump(loaded.dump.raw, this.outputFormat as 'json' | 'yaml', this.notice))
    return summary
  }
}
