import {Flags} from '@oclif/core'

import {ProxyCommand} from '../../lib/proxy-command.js'
import {filterAllDump, hasAllFilter} from '../../lib/envoy/all-dump.js'
import {clockOf} from '../../lib/snapshot/replay.js'
import {selectAllSections, type AllSections} from '../../lib/envoy/all-sections.js'
import {holdInput, prestartWorkers, summarizeAll} from '../../lib/envoy/all-parallel.js'
import {parseConfigDump, sectionSourceOf} from '../../lib/envoy/configdump.js'
import {checkListenerType} from '../../lib/envoy/listeners.js'
import {AdminPath} from '../../lib/envoy/source.js'
import {renderDump, renderDumpText} from '../../lib/render/dump-output.js'

export type AllResult = Omit<AllSections, 'missing'> & {missingSections: string[]}

export default class ProxyConfigAll extends ProxyCommand<typeof ProxyConfigAll> {
  static override summary = 'Show every section of an Envoy proxy\'s configuration (istioctl proxy-config all).'
  static override description = `Bootstrap summary, clusters, listeners, routes, secrets and EDS endpoints in one run over one config dump (fetched with ?include_eds), each section exactly as its own subcommand prints it with a NAME column (cluster/<name>, listener/<name>, ...). --with-headers adds a title before each section.
Filters: --fqdn --direction --subset (clusters), --port (clusters, listeners and endpoints), --address (listeners and endpoints; endpoints compare ip:port), --type (listeners), --name (routes).
Sections missing from the dump are left out with a note on stderr (istioctl aborts half-way); a dump without EDS prints an empty endpoint table. Deviation from istioctl: SERVICE FQDN shows the bare name for clusters that are not direction|port|subset|fqdn names.
-o json prints the dump in Envoy's layout: without filters the whole dump as fetched (as istioctl), with filters each section's entries narrowed by the same filters as its table (other sections whole); -o yaml the same as YAML. --no-headers prints only the tables' rows (no header lines, no version summary).`

  static override hiddenAliases = ['proxy-config:a', 'pc:all', 'pc:a']
  static override examples = [
    '<%= config.bin %> proxy-config all deploy/webapp -n istioinaction --with-headers',
    '<%= config.bin %> pc a -f config_dump.json --port 8080',
  ]

  static override verboseIsTableSwitch = true

  static override args = ProxyCommand.proxyArgs
  static override flags = {
    ...ProxyCommand.proxyFlags,
    'with-headers': Flags.boolean({summary: 'Print a title line before each section.', exclusive: ['no-headers']}),
    fqdn: Flags.string({summary: 'Clusters whose name contains this FQDN.'}),
    direction: Flags.string({summary: 'Clusters whose name contains this direction.'}),
    subset: Flags.string({summary: 'Clusters whose name contains this subset.'}),
    port: Flags.integer({summary: 'Clusters (|PORT| in the name), listeners and endpoints on this port.', min: 0, max: 65535}),
    address: Flags.string({summary: 'Listeners with this address; endpoints with this ip:port.'}),
    type: Flags.string({summary: 'Listeners of this type: HTTP, TCP, HTTP+TCP or UNKNOWN.'}),
    name: Flags.string({summary: 'Route configurations with exactly this name.'}),
    verbose: Flags.boolean({summary: 'Detailed listener and route rows (default); --verbose=false for the short forms.', default: true, allowNo: true}),
  }

  async run(): Promise<AllResult> {
    const {flags} = this
    checkListenerType(flags.type)
    const ctx = this.runContext()
    // A large -f file: the worker threads of summarizeAll boot while it is read.
    const workers = this.tableOutput ? prestartWorkers(flags.file) : undefined
    const held = await holdInput(() => this.loadProxyText(AdminPath.withEds)).catch(async (error: unknown) => {
      await workers?.close()
      throw error
    })
    if (!this.tableOutput) {
      const input = held.input!
      // Parsed first so garbage is still exit 6.
      const dump = parseConfigDump(input.text, input.origin)
      if (hasAllFilter(flags)) this.write(renderDump(filterAllDump(dump, flags), this.outputFormat as 'json' | 'yaml', this.notice))
      // Without filters, the dump as fetched, byte for byte (as istioctl), unless key material had to go.
      else this.write(renderDumpText(input.text, dump.raw, this.outputFormat as 'json' | 'yaml', this.notice))
      // The summaries are only printed with --json: do not parse certificates etc. for nothing.
      if (!this.jsonEnabled()) return {endpoints: [], missingSections: []}
      const {missing, ...sections} = selectAllSections(sectionSourceOf(dump), flags, new Date(clockOf(ctx)))
      return {...sections, missingSections: missing}
    }
    const origin = held.input!.origin
    // With workers (a large regular file), summarizeAll frees the dump once it is projected (only
    // `held` refers to it), and reads the file again if it needs the one-thread path after that.
    const reread = workers && (() => this.loadProxyText(AdminPath.withEds))
    const {sections: {missing, ...sections}, text} = await summarizeAll(held, flags, {withHeaders: flags['with-headers'], verbose: flags.verbose, wantRows: this.jsonEnabled(), withoutBootstrap: flags['no-headers'], now: new Date(clockOf(ctx)), workers, reread})
    if (missing.length > 0) ctx.note(`${origin}: no ${missing.join(', ')} section in this dump; left out`)
    this.writeTable(text)
    return {...sections, missingSections: missing}
  }
}
