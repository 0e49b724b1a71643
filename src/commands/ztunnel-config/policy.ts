import {Flags} from '@oclif/core'

import {renderDump} from '../../lib/render/dump-output.js'
import {ZtunnelCommand} from '../../lib/ztunnel/command.js'
import {policyRows, renderPolicyTable, selectPolicies, type PolicyRow} from '../../lib/ztunnel/tables.js'

export interface ZtunnelPolicyResult {
  policies: PolicyRow[]
}

export default class ZtunnelConfigPolicy extends ZtunnelCommand<typeof ZtunnelConfigPolicy> {
  static override summary = 'Show the authorization policies a ztunnel enforces (istioctl ztunnel-config policy).'
  static override description = `Columns, filter, sort and padding match istioctl 1.30 byte for byte.
-o short (default) | json (the matching policies with their rules, as ztunnel prints them) | yaml.`

  static override hiddenAliases = ['ztunnel-config:policies', 'ztunnel-config:p', 'ztunnel-config:pol', 'zc:policy', 'zc:policies', 'zc:p', 'zc:pol']
  static override examples = ['<%= config.bin %> ztunnel-config policy --policy-namespace default', '<%= config.bin %> zc pol -f zt.json -o yaml']

  static override args = ZtunnelCommand.ztunnelArgs
  static override flags = {
    ...ZtunnelCommand.ztunnelFlags,
    'policy-namespace': Flags.string({summary: 'Only policies in this namespace.'}),
  }

  async run(): Promise<ZtunnelPolicyResult> {
    const loaded = await this.loadZtunnelDump()
    const filter = {namespace: this.flags['policy-namespace']}
    const policies = policyRows(loaded.dump, filter)
    if (this.tableOutput) this.writeTable(renderPolicyTable(policies))
    else this.write(renderDump(selectPolicies(loaded.dump, filter).map((policy) => policy.raw), this.outputFormat as 'json' | 'yaml', this.notice))
    return {policies}
  }
}
