import {Args, Flags} from '@oclif/core'

import {clockOf} from '../lib/snapshot/replay.js'
import {MeshdbgCommand} from '../lib/base-command.js'
import {MeshdbgError, notFoundError, usageError} from '../lib/errors.js'
import {istioNamespaceFlag, proxyAdminPortFlag, revisionFlag, tableOutputFlags} from '../lib/flags.js'
import type {IstiodFailure} from '../lib/istio/istiod.js'
import {diffProxyConfig, parseEnvoyDump, parseIstiodDump, renderProxyConfigDiff, type ProxyConfigDiff} from '../lib/istio/sync-diff.js'
import {loadAgentSyncSources, loadDiffSources, loadSyncSources, messageOf} from '../lib/istio/sync-sources.js'
import {
  FAIL_ON_CLASSES,
  mergeSyncStatus,
  parseFailOn,
  rowsWithStates,
  syncStatusData,
  type SyncSource,
  type SyncState,
  type SyncStatusData,
} from '../lib/istio/sync-status.js'
import {escapeTerminalLines} from '../lib/render/escape.js'
import {redactConfigDump, redactionNote} from '../lib/envoy/redact.js'
import {renderStructured} from '../lib/render/formats.js'
import {shellArg} from '../lib/render/shell-quote.js'
import {renderSyncStatusTable} from '../lib/render/sync-status-table.js'

export interface SyncStatusResult {
  proxies: SyncStatusData[]
}

export type SyncStatusCommandResult = SyncStatusResult | ProxyConfigDiff

export default class SyncStatus extends MeshdbgCommand<typeof SyncStatus> {
  static override summary = 'Show whether every proxy has the configuration istiod sent it (istioctl proxy-status).'
  static override description = `One row per proxy and istiod, with the per-type table Istio 1.17 users know: NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION.

Live (no -f): finds the Running istiod pods (-i/--istio-namespace, default istio-system; label app=istiod; -r/--revision adds istio.io/rev=<rev>, else every revision) and reads /debug/syncz from every replica in parallel through a port-forward to port 8080 (loopback: no credentials). When 8080 is refused or closed it uses port 15014 with a bearer token: a TokenRequest for service account "default" of the istio namespace with audience istio-ca (as istioctl does; needs "create" on serviceaccounts/token there), or --token (or MESHDBG_ISTIOD_TOKEN, which keeps it out of the process list); 401 and 403 name the missing permission. ISTIOD is the istiod pod's name. -n keeps the proxies of that namespace (the flag as given: no kubeconfig default).
Offline: -f reads istiod's /debug/syncz list (any version) or its ClientConfig sync status (xDS istio.io/debug/syncz, or pilot-agent :15004/debug/syncz), one file per istiod; rows from all files are merged and sorted by proxy. ISTIOD is then the control-plane ID a ClientConfig response carries, else the file name without its extension.

Statuses: SYNCED (Envoy acknowledged the last push), NOT SENT (istiod sent nothing of this type), STALE (an update is not acknowledged yet), STALE (Never Acknowledged), ERROR (Envoy rejected the last push: NACK), IGNORED (a type the proxy does not watch: Envoy's types on a ztunnel, WDS/WADS on an Envoy). A " (age)" suffix shows how long ago istiod sent the type, when the data says. Ambient: when istiod reports a ztunnel, WDS (istio.workload.Address) and WADS (istio.security.Authorization) columns follow ECDS; -o json gives them as .ambientTypes.

-o table (default; also short) | wide (adds TYPE: istiod's proxy type sidecar, router, waypoint or ztunnel, "-" when istiod does not say; and NACK: the error text of every rejected type) | json | yaml (all rows as one document). --json prints the same rows in meshdbg's envelope, whatever the exit code.
--fail-on stale,error,not-sent exits 10 after printing when any shown proxy has such a status.

One proxy: sync-status <pod>[.<namespace>] (or deploy/x...) compares istiod's view of it (/debug/config_dump?proxyID=<pod>.<ns> from the replica it is connected to) with its Envoy /config_dump: "Clusters Match" or "Clusters Don't Match" and a unified diff, likewise Listeners and Routes; exits 10 when anything differs. Offline: --diff-istiod FILE --diff-envoy FILE.
--agent <pod> prints that proxy's row as its own pilot-agent reports it (port 15004 /debug/syncz, Istio 1.11-1.24); 1.25+ agents have no port 15004 (the connection is refused), so a note goes to stderr and istiod's view of the proxy is shown instead; an agent that answers 503 (its proxy is not connected to istiod) or 504 (istiod did not answer it) is exit 4.`

  static override hiddenAliases = ['proxy-status', 'ps']

  static override examples = [
    '<%= config.bin %> sync-status',
    '<%= config.bin %> ps -n istioinaction --fail-on stale,error',
    '<%= config.bin %> sync-status -r canary -i istio-system',
    '<%= config.bin %> sync-status --token "$(kubectl create token default -n istio-system --audience istio-ca)"',
    '<%= config.bin %> sync-status catalog-v2-6d4c8b7d9f-8xw2p.istioinaction',
    '<%= config.bin %> sync-status deploy/webapp -n istioinaction --agent',
    'kubectl exec -n istio-system deploy/istiod -- curl -s localhost:8080/debug/syncz > istiod-7f9c.json && <%= config.bin %> sync-status -f istiod-7f9c.json',
    '<%= config.bin %> ps -f istiod-a.json -f istiod-b.json -n default --fail-on stale,error',
    '<%= config.bin %> sync-status --diff-istiod istiod-view.json --diff-envoy envoy-dump.json',
  ]

  static override args = {
    target: Args.string({
      name: 'target',
      description: 'A proxy (pod[.namespace], deploy/x...) to diff against istiod\'s view of it, or to show with --agent (offline: --diff-istiod and --diff-envoy).',
      required: false,
      ignoreStdin: true,
    }),
  }

  static override flags = {
    ...tableOutputFlags(['json', 'yaml'], 'table'),
    file: Flags.string({
      char: 'f',
      summary: 'Read one istiod\'s sync status from this file ("-" for stdin); repeat for several istiods.',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'fail-on': Flags.string({
      summary: `Exit 10 when a shown proxy has one of these statuses (comma-separated: ${Object.keys(FAIL_ON_CLASSES).join(', ')}).`,
    }),
    'istio-namespace': istioNamespaceFlag,
    revision: revisionFlag,
    token: Flags.string({summary: 'Bearer token for istiod\'s port 15014 when 8080 is unreachable (default: a TokenRequest for "default" in the istio namespace, audience istio-ca).', env: 'MESHDBG_ISTIOD_TOKEN'}),
    agent: Flags.boolean({summary: 'With a proxy: its sync status as its own pilot-agent reports it (port 15004; falls back to istiod on Istio 1.25+).'}),
    'proxy-admin-port': proxyAdminPortFlag,
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
    const ctx = this.runContext()
    const sourceFlags = {...flags, namespace: flags.namespace}
    let sources: SyncSource[]
    let failures: IstiodFailure[] = []
    let onlyProxy: string | undefined
    if (flags.agent) {
      if (args.target === undefined) throw usageError('--agent needs a proxy: sync-status <pod>[.<namespace>] --agent')
      if ((flags.file && flags.file.length > 0) || flags['diff-istiod'] !== undefined || flags['diff-envoy'] !== undefined) {
        throw usageError('--agent reads the proxy\'s pilot-agent: it does not take -f, --diff-istiod or --diff-envoy')
      }
      const loaded = await loadAgentSyncSources(ctx, args.target, sourceFlags)
      sources = loaded.sources
      onlyProxy = loaded.proxy
    } else {
      const diffMode = flags['diff-istiod'] !== undefined || flags['diff-envoy'] !== undefined || args.target !== undefined
      if (diffMode) {
        if (flags.file && flags.file.length > 0) throw usageError('sync-status: give either -f (sync status) or a proxy diff, not both')
        if (failOn) throw usageError('--fail-on applies to the sync-status table, not to the proxy diff (which exits 10 on any difference)')
        const diff = await this.runDiff(args.target)
        if (!('ztunnel' in diff)) return diff
        // A ztunnel is not Envoy: istiod's view of it (its row) is all sync-status can show.
        ctx.note(`${diff.ztunnel} is a ztunnel, not Envoy: no config diff applies; istiod's view of it follows (its own config: meshdbg zc all ${shellArg(diff.ztunnel, '<ztunnel>')})`)
        onlyProxy = diff.ztunnel
      }
      const loaded = await loadSyncSources(ctx, {...sourceFlags, namespace: onlyProxy === undefined ? sourceFlags.namespace : undefined})
      sources = loaded.sources
      failures = loaded.failures
      // The first failure becomes the command's error, after the table; the others are noted now.
      for (const failure of failures.slice(1)) ctx.note(`istiod ${failure.istiod} left out: ${messageOf(failure.error)}`)
    }

    const merged = mergeSyncStatus(sources, {now: clockOf(ctx), namespace: onlyProxy === undefined ? flags.namespace : undefined})
    const rows = onlyProxy === undefined ? merged : merged.filter((row) => row.proxy === onlyProxy)
    if (onlyProxy !== undefined && rows.length === 0) throw notFoundError(`no sync status for proxy "${onlyProxy}": no istiod reports it`, 'is its sidecar connected? see meshdbg sync-status')
    const result: SyncStatusResult = {proxies: syncStatusData(rows)}
    if (this.tableOutput) this.writeTable(renderSyncStatusTable(rows, {color: this.colorEnabled, wide: this.wideOutput}))
    else this.write(renderStructured(result, this.outputFormat as 'json' | 'yaml'))

    if (failures.length > 0) {
      // A partial table beats none, but scripts must not take it for the whole mesh: exit non-zero.
      const first = failures[0].error instanceof MeshdbgError ? failures[0].error : undefined
      const answered = `${sources.length} of ${sources.length + failures.length} istiods answered`
      throw new MeshdbgError(first?.kind ?? 'connection', `incomplete table (${answered}): ${messageOf(failures[0].error)}`, {exitCode: first?.exitCode, hint: first?.hint, result})
    }
    if (failOn) {
      const failing = rowsWithStates(rows, failOn.states)
      if (failing.length > 0) {
        const states = [...new Set(failing.flatMap((row) => [...Object.values(row.types), ...Object.values(row.ambientTypes ?? {})].map((t) => t.state)).filter((s: SyncState) => failOn.states.has(s)))]
        const names = failing.slice(0, 3).map((row) => row.proxy).join(', ') + (failing.length > 3 ? `, and ${failing.length - 3} more` : '')
        throw new MeshdbgError('problems-found', `${failing.length} of ${rows.length} proxies ${failing.length === 1 ? 'is' : 'are'} ${states.join(' / ')}: ${names}`, {result})
      }
    }
    return result
  }

  private async runDiff(target: string | undefined): Promise<ProxyConfigDiff | {ztunnel: string}> {
    const sources = await loadDiffSources(this.runContext(), target, this.flags)
    if ('ztunnel' in sources) return sources
    const {istiod: istiodInput, envoy: envoyInput} = sources
    // Key material never reaches the diff (nor its -o json form): both sides are redacted first.
    const istiod = redactConfigDump(parseIstiodDump(istiodInput.text, istiodInput.origin))
    const envoy = redactConfigDump(parseEnvoyDump(envoyInput.text, envoyInput.origin))
    if (istiod.count + envoy.count > 0) this.notice(redactionNote(istiod.count + envoy.count))
    const result = diffProxyConfig(istiod.value, envoy.value)
    if (this.tableOutput) this.write(escapeTerminalLines(renderProxyConfigDiff(result)))
    else this.write(renderStructured(result, this.outputFormat as 'json' | 'yaml'))
    if (result.anyDifference) {
      const differing = result.sections.filter((s) => !s.match).map((s) => s.name)
      throw new MeshdbgError('problems-found', `istiod's view and Envoy's config differ: ${differing.join(', ')}`, {result})
    }
    return result
  }
}
