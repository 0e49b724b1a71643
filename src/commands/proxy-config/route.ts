import {Flags} from '@oclif/core'

import {ProxyCommand} from '../../lib/proxy-command.js'
import {parseConfigDumpInput} from '../../lib/envoy/configdump.js'
import {selectRoutes, type RouteConfigSummary} from '../../lib/envoy/routes.js'
import {AdminPath} from '../../lib/envoy/source.js'
import {renderDump} from '../../lib/render/dump-output.js'
import {renderRouteTable} from '../../lib/render/route-table.js'

export interface RouteResult {
  routes: RouteConfigSummary[]
}

export default class ProxyConfigRoute extends ProxyCommand<typeof ProxyConfigRoute> {
  static override summary = 'Show the route configurations of an Envoy proxy (istioctl proxy-config route).'
  static override description = `Columns, filters, order and padding match istioctl byte for byte. By default one row per (virtual host, route): NAME VHOST NAME DOMAINS MATCH VIRTUAL SERVICE; routes to PassthroughCluster are hidden and a virtual host without routes shows "/*" and "404". --verbose=false prints NAME and the virtual host count. --name is an exact match. Configurations keep dump order (dynamic, then static), except that runs of numeric names (80, 9080, ...) are sorted between non-numeric ones, as istioctl does. An empty result prints the header only and exits 0.
-o short (default) | json (the matching RouteConfiguration objects as Envoy prints them, in table order) | yaml.`

  static override hiddenAliases = ['proxy-config:routes', 'proxy-config:r', 'pc:route', 'pc:routes', 'pc:r']
  static override examples = [
    '<%= config.bin %> proxy-config route deploy/istio-ingressgateway -n istio-system --name http.8080',
    '<%= config.bin %> pc r productpage-v1-123.default --name 9080 -o json',
    'kubectl exec POD -c istio-proxy -- curl -s localhost:15000/config_dump | <%= config.bin %> pc r -f - --verbose=false',
  ]

  static override verboseIsTableSwitch = true

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    ...ProxyCommand.proxyFlags,
    name: Flags.string({summary: 'Only the route configuration with exactly this name.'}),
    verbose: Flags.boolean({
      summary: 'One row per virtual host and route (default); --verbose=false or --no-verbose for one row per configuration.',
      default: true,
      allowNo: true,
    }),
  }

  async run(): Promise<RouteResult> {
    const {flags} = this
    const input = await this.loadProxyText(AdminPath.routes)
    const selected = selectRoutes(parseConfigDumpInput(input, {only: ['Routes'], summariesOnly: this.tableOutput}), {name: flags.name})
    if (this.tableOutput) this.writeTable(renderRouteTable(selected.summaries, {verbose: flags.verbose}))
    else this.write(renderDump(selected.routeConfigs, this.outputFormat as 'json' | 'yaml', this.notice))
    return {routes: selected.summaries}
  }
}
