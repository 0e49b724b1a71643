import {ProxyCommand} from '../../lib/proxy-command.js'
import {parseConfigDumpInput} from '../../lib/envoy/configdump.js'
import {clockOf} from '../../lib/snapshot/replay.js'
import {collectSecretRows, secretsSection, type SecretRow} from '../../lib/envoy/secrets.js'
import {AdminPath} from '../../lib/envoy/source.js'
import {renderDump} from '../../lib/render/dump-output.js'
import {renderSecretTable} from '../../lib/render/secret-table.js'

export interface SecretResult {
  secrets: SecretRow[]
}

export default class ProxyConfigSecret extends ProxyCommand<typeof ProxyConfigSecret> {
  static override summary = 'Show the SDS secrets of an Envoy proxy and their certificates (istioctl proxy-config secret).'
  static override description = `Warming secrets, then active ones, in dump order. Only the first PEM block of each certificate is read: TYPE is CA or Cert Chain, VALID CERT is true when now is inside its validity period (it depends on the clock), SERIAL NUMBER is lowercase hex (at least 32 digits), dates are RFC3339 UTC. A SPIFFE validator (SPIRE, multiple trust domains) gives one row per trust domain. TRUST DOMAIN is shown only when every row has one. A secret without a parsable certificate has empty cells and VALID CERT false.
No secrets prints the header only (istioctl prints "No active or warming secrets found."; meshdbg says so on stderr) and exits 0. A dump without a SecretsConfigDump is an error (exit 6).
-o short (default) | json (the SecretsConfigDump section as Envoy prints it; Envoy redacts private keys, and meshdbg redacts any a dump from elsewhere still holds, saying so on stderr) | yaml.`

  static override hiddenAliases = ['proxy-config:secrets', 'proxy-config:s', 'pc:secret', 'pc:secrets', 'pc:s']
  static override examples = [
    '<%= config.bin %> proxy-config secret deploy/productpage-v1 -n bookinfo',
    'kubectl exec POD -c istio-proxy -- curl -s "localhost:15000/config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets" > secrets.json && <%= config.bin %> pc s -f secrets.json',
  ]

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    ...ProxyCommand.proxyFlags,
  }

  async run(): Promise<SecretResult> {
    const input = await this.loadProxyText(AdminPath.secrets)
    const section = secretsSection(parseConfigDumpInput(input, {only: ['Secrets']}))
    const secrets = collectSecretRows(section, new Date(clockOf(this.runContext())))
    if (this.tableOutput) {
      // Every secret gives at least one row, so no rows means no active or warming secrets.
      if (secrets.length === 0) {
        this.runContext().note('No active or warming secrets found.')
      }
      this.writeTable(renderSecretTable(secrets))
    } else {
      this.write(renderDump(section, this.outputFormat as 'json' | 'yaml', this.notice))
    }
    return {secrets}
  }
}
