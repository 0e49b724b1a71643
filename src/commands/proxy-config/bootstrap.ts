import {fileFlag, outputFlag, proxyAdminPortFlag} from '../../lib/flags.js'
import {ProxyCommand} from '../../lib/proxy-command.js'
import {bootstrapSection, summarizeBootstrap, type BootstrapSummary} from '../../lib/envoy/bootstrap.js'
import {parseConfigDumpInput} from '../../lib/envoy/configdump.js'
import {AdminPath} from '../../lib/envoy/source.js'
import {renderBootstrapSummary} from '../../lib/render/bootstrap-summary.js'
import {renderDump} from '../../lib/render/dump-output.js'

export interface BootstrapResult {
  summary: BootstrapSummary
}

export default class ProxyConfigBootstrap extends ProxyCommand<typeof ProxyConfigBootstrap> {
  static override summary = 'Show the bootstrap configuration of an Envoy proxy (istioctl proxy-config bootstrap).'
  static override description = `As in istioctl, -o defaults to json here.
-o json (default: the BootstrapConfigDump section as Envoy prints it, snake_case, 2-space indent) | yaml | short (the version summary: "Istio Version", "Istio Proxy Version" when known, and "Envoy Version", which is always printed, 0.0.0 when the node has no user_agent_build_version).
A dump without a BootstrapConfigDump is an error (exit 6).`

  static override hiddenAliases = ['proxy-config:b', 'pc:bootstrap', 'pc:b']
  static override examples = [
    '<%= config.bin %> proxy-config bootstrap productpage-v1-7f44c4d57c-abcde.bookinfo -o short',
    'kubectl exec POD -c istio-proxy -- curl -s "localhost:15000/config_dump?mask=bootstrap" | <%= config.bin %> pc b -f - -o yaml',
  ]

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    file: fileFlag,
    'proxy-admin-port': proxyAdminPortFlag,
    // short is a version summary here, not a table.
    ...outputFlag(['short', 'json', 'yaml'], 'json'),
  }

  async run(): Promise<BootstrapResult> {
    const input = await this.loadProxyText(AdminPath.bootstrap)
    const section = bootstrapSection(parseConfigDumpInput(input, {only: ['Bootstrap']}))
    const summary = summarizeBootstrap(section)
    if (this.outputFormat === 'short') this.write(renderBootstrapSummary(summary))
    else this.write(renderDump(section, this.outputFormat as 'json' | 'yaml', this.notice))
    return {summary}
  }
}
