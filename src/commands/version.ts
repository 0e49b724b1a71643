import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {MeshdbgError} from '../lib/errors.js'
import {loadControlPlaneVersions, loadDataPlaneVersions, type ControlPlaneVersion, type DataPlaneVersion} from '../lib/istio/version.js'
import {renderStructured} from '../lib/render/formats.js'
import {renderVersion} from '../lib/render/version.js'

export interface VersionResult {
  client: {version: string; platform: string; node: string}
  /** One entry per Running istiod; absent without a cluster (see notes). */
  controlPlane?: ControlPlaneVersion[]
  /** Connected proxies per Istio version, from istiod's /debug/syncz; absent without a cluster. */
  dataPlane?: DataPlaneVersion[]
  /** Why the cluster part is missing or partial (no kubeconfig, cluster unreachable, no istiod...). */
  notes?: string[]
}

export default class Version extends MeshdbgCommand<typeof Version> {
  static override summary = 'Print the client version and, with a cluster, the control plane\'s and data plane\'s (istioctl version).'
  static override description = `client version: meshdbg's own.
control plane version: each Running istiod (-i/--istio-namespace, default istio-system; -r/--revision), from its /version on port 15014, else the tag of its discovery image. Short (default): the version when every istiod agrees, else each version with its revisions; --short=false: every istiod with its revision and build.
data plane version: the Istio versions of the proxies connected to those istiods (istiod's /debug/syncz), with counts.
Without a reachable cluster (no kubeconfig, no context, API unreachable, no istiod) only the client version is printed, with a note on stderr, and the exit code is 0; --remote=false skips the cluster.
-o short (default) | json | yaml.`

  static override examples = [
    '<%= config.bin %> version',
    '<%= config.bin %> version --short=false -i istio-system',
    '<%= config.bin %> version -o json',
    '<%= config.bin %> version --remote=false',
  ]

  static override flags = {
    short: Flags.boolean({char: 's', summary: 'Versions only (--short=false: every istiod with its revision and build).', default: true, allowNo: true}),
    remote: Flags.boolean({summary: 'Ask the cluster for the control and data plane versions (--remote=false: client only).', default: true, allowNo: true}),
    'istio-namespace': Flags.string({char: 'i', summary: 'Namespace of the istiod pods.', default: 'istio-system'}),
    revision: Flags.string({char: 'r', summary: 'Only the istiods of this control-plane revision (label istio.io/rev).'}),
    token: Flags.string({summary: 'Bearer token for istiod\'s port 15014 when 8080 is unreachable (the data plane count reads /debug/syncz).', env: 'MESHDBG_ISTIOD_TOKEN'}),
  }

  async run(): Promise<VersionResult> {
    const {flags} = this
    const result: VersionResult = {client: {version: this.config.version, platform: `${this.config.platform}-${this.config.arch}`, node: process.version}}
    if (flags.remote) {
      const ctx = this.runContext()
      const selector = {istioNamespace: flags['istio-namespace'], revision: flags.revision, token: flags.token}
      const notes: string[] = []
      const [control, data] = await ctx.spin('Asking istiod for versions', Promise.allSettled([loadControlPlaneVersions(ctx, selector), loadDataPlaneVersions(ctx, selector)]))
      if (control.status === 'fulfilled') result.controlPlane = control.value
      else notes.push(`control plane version unknown: ${reason(control.reason)}`)
      if (data.status === 'fulfilled') result.dataPlane = data.value
      else if (control.status === 'fulfilled') notes.push(`data plane version unknown: ${reason(data.reason)}`)
      if (notes.length > 0) {
        result.notes = notes
        for (const note of notes) ctx.note(note)
      }
    }
    if (this.outputFormat === 'short') this.write(renderVersion(result, {short: flags.short}))
    else this.write(renderStructured(result, this.outputFormat as 'json' | 'yaml'))
    return result
  }
}

/** Why the cluster could not be asked, in one line; bugs still surface as errors. */
function reason(error: unknown): string {
  if (error instanceof MeshdbgError) return error.message.replace(/\s*[\r\n]+\s*/g, ' ')
  throw error
}
