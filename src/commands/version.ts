import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import type {RunContext} from '../lib/context.js'
import {MeshdbgError} from '../lib/errors.js'
import type {IstiodSelector} from '../lib/istio/istiod.js'
import {loadControlPlaneVersions, loadDataPlaneVersions, type ControlPlaneVersion, type DataPlaneVersion} from '../lib/istio/version.js'
import {contextFailure, forEachContext, multiContextFlags, selectContexts} from '../lib/kube/contexts.js'
import {renderStructured} from '../lib/render/formats.js'
import {renderContextVersions, renderVersion} from '../lib/render/version.js'
import {snapshotReplayOf} from '../lib/snapshot/replay.js'

export interface VersionResult {
  client: {version: string; platform: string; node: string}
  /** One entry per Running istiod; absent without a cluster (see notes). */
  controlPlane?: ControlPlaneVersion[]
  /** Connected proxies per Istio version, from istiod's /debug/syncz; absent without a cluster. */
  dataPlane?: DataPlaneVersion[]
  /** Why the cluster part is missing or partial (no kubeconfig, cluster unreachable, no istiod...). */
  notes?: string[]
  /** With several contexts (--context repeated, --all-contexts): one entry per context, instead of the fields above. */
  contexts?: ContextVersion[]
}

export interface ContextVersion {
  context: string
  controlPlane?: ControlPlaneVersion[]
  dataPlane?: DataPlaneVersion[]
  /** Why this cluster's part is missing or partial. */
  notes?: string[]
}

type ClusterVersions = Omit<ContextVersion, 'context'>

export default class Version extends MeshdbgCommand<typeof Version> {
  static override summary = 'Print the client version and, with a cluster, the control plane\'s and data plane\'s (istioctl version).'
  static override description = `client version: meshdbg's own.
control plane version: each Running istiod (-i/--istio-namespace, default istio-system; -r/--revision), from its /version on port 15014, else the tag of its discovery image. Short (default): the version when every istiod agrees, else each version with its revisions; --short=false: every istiod with its revision and build.
data plane version: the Istio versions of the proxies connected to those istiods (istiod's /debug/syncz), with counts.
Without a reachable cluster (no kubeconfig, no context, API unreachable, no istiod) only the client version is printed, with a note on stderr, and the exit code is 0; --remote=false skips the cluster.
Several clusters (--context repeated, --all-contexts): one row per context, CONTEXT CONTROL PLANE DATA PLANE ("unknown" and a note on stderr for a cluster that cannot say; still exit 0); -o json has a "contexts" list.
-o short (default) | json | yaml.`

  static override examples = [
    '<%= config.bin %> version',
    '<%= config.bin %> version --short=false -i istio-system',
    '<%= config.bin %> version -o json',
    '<%= config.bin %> version --remote=false',
    '<%= config.bin %> version --all-contexts',
  ]

  static override flags = {
    short: Flags.boolean({char: 's', summary: 'Versions only (--short=false: every istiod with its revision and build).', default: true, allowNo: true}),
    remote: Flags.boolean({summary: 'Ask the cluster for the control and data plane versions (--remote=false: client only).', default: true, allowNo: true}),
    'istio-namespace': Flags.string({char: 'i', summary: 'Namespace of the istiod pods.', default: 'istio-system'}),
    revision: Flags.string({char: 'r', summary: 'Only the istiods of this control-plane revision (label istio.io/rev).'}),
    token: Flags.string({summary: 'Bearer token for istiod\'s port 15014 when 8080 is unreachable (the data plane count reads /debug/syncz).', env: 'MESHDBG_ISTIOD_TOKEN'}),
    ...multiContextFlags,
  }

  async run(): Promise<VersionResult> {
    const {flags} = this
    const result: VersionResult = {client: {version: this.config.version, platform: `${this.config.platform}-${this.config.arch}`, node: process.version}}
    const ctx = flags.remote ? this.runContext() : undefined
    const selector = {istioNamespace: flags['istio-namespace'], revision: flags.revision, token: flags.token}
    const contexts = ctx === undefined ? undefined : await selectContexts(ctx, flags)
    if (ctx !== undefined && contexts !== undefined) {
      const outcomes = await ctx.spin(`Asking ${contexts.length} contexts for versions`, forEachContext(ctx, contexts, (one) => clusterVersions(one, selector), {
        concurrency: flags['context-concurrency'],
        timeoutMs: ctx.timeoutMs,
      }))
      // As with one cluster, a cluster that cannot say is a note (stderr, and in its entry), not a failure.
      result.contexts = outcomes.map((outcome) => (outcome.ok ? {context: outcome.context, ...outcome.value} : {context: outcome.context, notes: [reason(outcome.error, contextFailure(outcome).message)]}))
      for (const entry of result.contexts) for (const note of entry.notes ?? []) ctx.note(`context ${entry.context}: ${note}`)
    } else if (ctx !== undefined) {
      // A multi-context snapshot without --context is a usage error (exit 2), not a cluster that
      // cannot say; a context whose capture failed stays a note, as it was live.
      try {
        snapshotReplayOf(ctx)
      } catch (error) {
        if (error instanceof MeshdbgError && error.kind === 'usage') throw error
      }
      Object.assign(result, await ctx.spin('Asking istiod for versions', clusterVersions(ctx, selector)))
      for (const note of result.notes ?? []) ctx.note(note)
    }
    if (this.outputFormat !== 'short') this.write(renderStructured(result, this.outputFormat as 'json' | 'yaml'))
    else if (result.contexts) this.write(renderContextVersions(result, result.contexts, {short: flags.short}))
    else this.write(renderVersion(result, {short: flags.short}))
    return result
  }
}

/** One cluster's control and data plane versions; what it cannot say becomes notes. */
async function clusterVersions(ctx: RunContext, selector: IstiodSelector): Promise<ClusterVersions> {
  const found: ClusterVersions = {}
  const notes: string[] = []
  const [control, data] = await Promise.allSettled([loadControlPlaneVersions(ctx, selector), loadDataPlaneVersions(ctx, selector)])
  if (control.status === 'fulfilled') found.controlPlane = control.value
  else notes.push(`control plane version unknown: ${reason(control.reason)}`)
  if (data.status === 'fulfilled') found.dataPlane = data.value
  else if (control.status === 'fulfilled') notes.push(`data plane version unknown: ${reason(data.reason)}`)
  if (notes.length > 0) found.notes = notes
  return found
}

/** Why the cluster could not be asked, in one line; bugs still surface as errors. */
function reason(error: unknown, text?: string): string {
  if (error instanceof MeshdbgError) return text ?? error.message.replace(/\s*[\r\n]+\s*/g, ' ')
  throw error
}
