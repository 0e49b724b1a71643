import {Args, Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import type {RunContext} from '../lib/context.js'
import {MeshdbgError, usageError} from '../lib/errors.js'
import {readInputText, type InputText} from '../lib/input.js'
import {diffProxyConfig, parseEnvoyDump, parseIstiodDump, renderProxyConfigDiff, type ProxyConfigDiff} from '../lib/istio/sync-diff.js'
import {
  FAIL_ON_CLASSES,
  istiodNameFromFile,
  mergeSyncStatus,
  parseFailOn,
  rowsWithStates,
  type SyncSource,
  type SyncState,
  type SyncStatusRow,
} from '../lib/istio/sync-status.js'
import {renderStructured} from '../lib/render/formats.js'
import {renderSyncStatusTable} from '../lib/render/sync-status-table.js'

export interface SyncStatusResult {
  proxies: SyncStatusRow[]
}

export type SyncStatusCommandResult = SyncStatusResult | ProxyConfigDiff

/** What the data sources need from the command's flags. */
export interface SyncSourceFlags {
  file?: string[]
  'istio-namespace': string
  revision?: string
}

/**
 * One response per istiod: from `-f` files now; the live mode (every istiod through a
 * port-forward) replaces the branch without files.
 */
export async function loadSyncSources(_ctx: RunContext, flags: SyncSourceFlags): Promise<SyncSource[]> {
  if (!flags.file || flags.file.length === 0) {
    throw usageError('live sync-status needs cluster access: not available yet; use -f')
  }
  if (flags.file.filter((file) => file === '-').length > 1) throw usageError('only one -f can read stdin ("-")')
  const sources: SyncSource[] = []
  for (const file of flags.file) {
    const input = await readInputText(file)
    sources.push({istiod: file === '-' ? 'stdin' : istiodNameFromFile(file), text: input.text, origin: input.origin})
  }
  return sources
}

export interface DiffSourceFlags {
  'diff-istiod'?: string
  'diff-envoy'?: string
}

/**
 * istiod's view of one proxy and the proxy's own config dump: from files now; the live mode
 * (istiod's debug config_dump for `<pod>.<ns>`, and the pod's admin API) replaces the target branch.
 */
export async function loadDiffSources(_ctx: RunContext, target: string | undefined, flags: DiffSourceFlags): Promise<{istiod: InputText; envoy: InputText}> {
  const istiodFile = flags['diff-istiod']
  const envoyFile = flags['diff-envoy']
  if (target !== undefined) {
    throw usageError('sync-status <proxy> needs cluster access: not available yet; use --diff-istiod FILE --diff-envoy FILE')
  }
  if (istiodFile === undefined || envoyFile === undefined) {
    throw usageError('the proxy diff needs both --diff-istiod FILE and --diff-envoy FILE')
  }
  if (istiodFile === '-' && envoyFile === '-') throw usageError('only one of --diff-istiod and --diff-envoy can read stdin')
  return {istiod: await readInputText(istiodFile), envoy: await readInputText(envoyFile)}
}

export default class SyncStatus extends MeshdbgCommand<typeof SyncStatus> {
  static override summary = 'Show whether every proxy has the configuration istiod sent it (istioctl proxy-status).'
  static override description = `One row per proxy and istiod, with the per-type table Istio 1.17 users know: NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION.
Reads istiod's /debug/syncz list (any version) or its ClientConfig sync status (xDS istio.io/debug/syncz, or pilot-agent :15004/debug/syncz), one file per istiod with -f; rows from all files are merged and sorted by proxy.

Statuses: SYNCED (Envoy acknowledged the last push), NOT SENT (istiod sent nothing of this type), STALE (an update is not acknowledged yet), STALE (Never Acknowledged), ERROR (Envoy rejected the last push: NACK), IGNORED (a type the proxy does not watch, e.g. on ztunnel). A " (age)" suffix shows how long ago istiod sent the type, when the data says.

The ISTIOD column is the control-plane ID a ClientConfig response carries, else the file name without its extension.
-o table (default) | json | yaml (all rows as one document).
--fail-on stale,error,not-sent exits 10 after printing when any shown proxy has such a status.
--diff-istiod FILE --diff-envoy FILE compares istiod's view of one proxy (/debug/config_dump?proxyID=<pod>.<ns>) with the proxy's /config_dump: "Clusters Match" or "Clusters Don't Match" and a unified diff, likewise Listeners and Routes; exits 10 when anything differs.

EXIT CODES
${MeshdbgCommand.exitCodesHelp}`

  static override aliases = ['proxy-status', 'ps']
  static override outputFormats = ['table', 'json', 'yaml']
  static override defaultOutput = 'table'

  static override examples = [
    'kubectl exec -n istio-system deploy/istiod -- curl -s localhost:8080/debug/syncz > istiod-7f9c.json && <%= config.bin %> sync-status -f istiod-7f9c.json',
    '<%= config.bin %> ps -f istiod-a.json -f istiod-b.json -n default --fail-on stale,error',
    '<%= config.bin %> sync-status --diff-istiod istiod-view.json --diff-envoy envoy-dump.json',
  ]

  static override args = {
    target: Args.string({
      name: 'target',
      description: 'A proxy (pod[.namespace]) to diff against istiod\'s view of it (needs cluster access; offline: --diff-istiod and --diff-envoy).',
      required: false,
      ignoreStdin: true,
    }),
  }

  static override flags = {
    file: Flags.string({
      char: 'f',
      summary: 'Read one istiod\'s sync status from this file ("-" for stdin); repeat for several istiods.',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'fail-on': Flags.string({
      summary: `Exit 10 when a shown proxy has one of these statuses (comma-separated: ${Object.keys(FAIL_ON_CLASSES).join(', ')}).`,
    }),
    'istio-namespace': Flags.string({char: 'i', summary: 'Namespace of the istiod pods (live mode).', default: 'istio-system'}),
    revision: Flags.string({char: 'r', summary: 'Only the istiods of this control-plane revision (live mode).'}),
    'diff-istiod': Flags.string({summary: 'istiod\'s view of one proxy (/debug/config_dump?proxyID=<pod>.<ns>), to compare with --diff-envoy.'}),
    'diff-envoy': Flags.string({summary: 'The same proxy\'s Envoy /config_dump, to compare with --diff-istiod.'}),
  }

  async run(): Promise<SyncStatusCommandResult> {
    const {args, flags} = this
    const failOn = flags['fail-on'] === undefined ? undefined : parseFailOn(flags['fail-on'])
    if (failOn && (failOn.unknown.length > 0 || failOn.states.size === 0)) {
      const what = failOn.unknown.length > 0 ? `unknown status "${failOn.unknown[0]}"` : 'no status given'
      throw usageError(`--fail-on: ${what} (use ${Object.keys(FAIL_ON_CLASSES).join(', ')})`)
    }
    const diffMode = flags['diff-istiod'] !== undefined || flags['diff-envoy'] !== undefined || args.target !== undefined
    if (diffMode) {
      if (flags.file && flags.file.length > 0) throw usageError('sync-status: give either -f (sync status) or a proxy diff, not both')
      if (failOn) throw usageError('--fail-on applies to the sync-status table, not to the proxy diff (which exits 10 on any difference)')
      return this.runDiff(args.target)
    }

    const ctx = this.runContext()
    const sources = await loadSyncSources(ctx, flags)
    const rows = mergeSyncStatus(sources, {now: Date.now(), namespace: flags.namespace})
    const result: SyncStatusResult = {proxies: rows}
    if (this.outputFormat === 'table') this.write(renderSyncStatusTable(rows, {color: this.colorEnabled}))
    else this.write(renderStructured(result, this.outputFormat as 'json' | 'yaml'))

    if (failOn) {
      const failing = rowsWithStates(rows, failOn.states)
      if (failing.length > 0) {
        const states = [...new Set(failing.flatMap((row) => Object.values(row.types).map((t) => t.state)).filter((s: SyncState) => failOn.states.has(s)))]
        const names = failing.slice(0, 3).map((row) => row.proxy).join(', ') + (failing.length > 3 ? `, and ${failing.length - 3} more` : '')
        throw new MeshdbgError('problems-found', `${failing.length} of ${rows.length} proxies ${failing.length === 1 ? 'is' : 'are'} ${states.join(' / ')}: ${names}`, {result})
      }
    }
    return result
  }

  private async runDiff(target: string | undefined): Promise<ProxyConfigDiff> {
    const {istiod: istiodInput, envoy: envoyInput} = await loadDiffSources(this.runContext(), target, this.flags)
    const result = diffProxyConfig(parseIstiodDump(istiodInput.text, istiodInput.origin), parseEnvoyDump(envoyInput.text, envoyInput.origin))
    if (this.outputFormat === 'table') this.write(renderProxyConfigDiff(result))
    else this.write(renderStructured(result, this.outputFormat as 'json' | 'yaml'))
    if (result.anyDifference) {
      const differing = result.sections.filter((s) => !s.match).map((s) => s.name)
      throw new MeshdbgError('problems-found', `istiod's view and Envoy's config differ: ${differing.join(', ')}`, {result})
    }
    return result
  }
}
