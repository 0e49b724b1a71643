import {statSync} from 'node:fs'

import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {MeshdbgError, usageError} from '../lib/errors.js'
import {istioNamespaceFlag, proxyAdminPortFlag, revisionFlag} from '../lib/flags.js'
import {multiContextFlags, selectContexts} from '../lib/kube/contexts.js'
import {escapeTerminal} from '../lib/render/escape.js'
import {captureSnapshot, captureSnapshots, type CaptureOptions, type CaptureSummary} from '../lib/snapshot/capture.js'

export interface SnapshotResult extends CaptureSummary {
  /** Size of the written archive (gzip). */
  compressedBytes: number
}

export default class Snapshot extends MeshdbgCommand<typeof Snapshot> {
  static override summary = 'Capture proxies, istiod and the API objects involved into one archive that --snapshot replays offline.'
  static override description = `Records, per Running meshed pod (TARGET..., a -l selector, else every one of the namespace; -A: of the cluster): Envoy's config_dump with EDS (replay derives the whole dump and its filtered answers from it: mask, resource, name_regex), /clusters, /certs, server_info, stats (replay filters them for stats?filter=), /ready, logging levels, pilot-agent readiness, metrics, DNS table and syncz, and the last --log-tail lines of the istio-proxy log; from every Running istiod: syncz (also per namespace), its config_dump of each captured proxy and /version (--istiod adds registryz, configz, adsz, edsz, authorizationz, push_status, instancesz); and the pods, services, workloads and Istio resources of the namespaces involved.
istiod is read as the live commands read it: port 8080, and when that does not answer (or wants credentials) port 15014 with a bearer token (--token, else a TokenRequest for "default" in the istio namespace, audience istio-ca); both answers are recorded, never the token.
The archive (-o FILE, a tar.gz) holds manifest.json (format version, meshdbg version, capture time, context, the request behind every entry) and one file per answer. Private keys are replaced by "[redacted]" before anything is written. A request that fails during capture is recorded and fails the same way on replay.
Several clusters (--context repeated, --all-contexts): one archive (format version 2) holding every context's capture, each tagged with its context; a context that fails is recorded as failed with its one-line error, the others are kept, and the command then exits with that failure's code. Replay one with --snapshot FILE --context C; sync-status and version also take --all-contexts on it.
Then any read-only command takes --snapshot FILE and prints what it would have printed live at capture time; meshdbg sim --snapshot FILE serves it as a cluster (kubectl works too).`

  static override examples = [
    '<%= config.bin %> snapshot deploy/istio-ingressgateway.istio-system deploy/catalog -n istioinaction -o incident.tar.gz',
    '<%= config.bin %> snapshot -n istioinaction -l app=catalog --istiod -o catalog.tar.gz',
    '<%= config.bin %> pc cluster deploy/catalog -n istioinaction --snapshot incident.tar.gz',
    '<%= config.bin %> snapshot --all-contexts -n istioinaction -o fleet.tar.gz',
    '<%= config.bin %> sync-status --all-contexts --snapshot fleet.tar.gz',
  ]

  static override strict = false
  static override outputIsPath = true
  static override args = {}
  static override flags = {
    output: Flags.string({char: 'o', summary: 'The archive to write (tar.gz).', required: true}),
    selector: Flags.string({char: 'l', summary: 'Label selector for the pods (instead of targets).'}),
    'all-namespaces': Flags.boolean({char: 'A', summary: 'Every meshed pod of the cluster (with -l: those matching it).'}),
    istiod: Flags.boolean({summary: 'Also record every istiod debug view meshdbg istiod reads (larger archive).'}),
    'istio-namespace': istioNamespaceFlag,
    revision: revisionFlag,
    token: Flags.string({summary: 'Bearer token for istiod\'s port 15014 when 8080 does not answer (default: a TokenRequest for "default" in the istio namespace, audience istio-ca).', env: 'MESHDBG_ISTIOD_TOKEN'}),
    'proxy-admin-port': proxyAdminPortFlag,
    'log-tail': Flags.integer({summary: 'Lines of each proxy\'s log to keep (its most recent).', default: 1000, min: 0}),
    concurrency: Flags.integer({summary: 'Proxies (and istiod requests) captured at once, per context.', default: 8, min: 1, max: 64}),
    force: Flags.boolean({summary: 'Overwrite the output file if it exists.'}),
    ...multiContextFlags,
  }

  async run(): Promise<SnapshotResult> {
    const {flags} = this
    const targets = this.argvValues
    // Required by the flag definition; the base's -o (a format) widens its type.
    const file = flags.output as string
    if (targets.length > 0 && flags.selector !== undefined) throw usageError('give either targets or --selector, not both')
    if (exists(file) && !flags.force) throw usageError(`${file} exists; pass --force to overwrite it`)
    const ctx = this.runContext()
    const options: CaptureOptions = {
      file,
      targets,
      selector: flags.selector,
      allNamespaces: flags['all-namespaces'],
      istiod: flags.istiod,
      istioNamespace: flags['istio-namespace'],
      revision: flags.revision,
      token: flags.token,
      proxyAdminPort: flags['proxy-admin-port'],
      logTail: flags['log-tail'],
      concurrency: flags.concurrency,
    }
    const contexts = await selectContexts(ctx, flags)
    if (contexts === undefined) {
      const summary = await captureSnapshot(ctx, options, this.config.version)
      return this.report(file, summary, countOf(summary.proxies.length, 'proxy', 'proxies') + ', ' + countOf(summary.istiods.length, 'istiod'))
    }
    const {summary, failure} = await captureSnapshots(ctx, contexts, options, this.config.version, flags['context-concurrency'])
    const each = (summary.contexts ?? []).map((entry) => `${entry.context}: ${'error' in entry ? 'failed' : `${countOf(entry.proxies, 'proxy', 'proxies')}, ${countOf(entry.istiods, 'istiod')}`}`)
    const result = this.report(file, summary, `${contexts.length} contexts (${each.join('; ')})`)
    if (failure) throw new MeshdbgError(failure.kind, failure.message, {exitCode: failure.exitCode, result})
    return result
  }

  private report(file: string, summary: CaptureSummary, what: string): SnapshotResult {
    const compressedBytes = statSync(file).size
    this.write(escapeTerminal(`Wrote ${file}: ${what}, ${summary.entries} answers (${mebibytes(compressedBytes)} compressed, ${mebibytes(summary.uncompressedBytes)} uncompressed)`) + '\n')
    if (summary.redactedKeys > 0) this.notice(`redacted ${summary.redactedKeys} private key${summary.redactedKeys === 1 ? '' : 's'} before writing`)
    return {...summary, compressedBytes}
  }
}

function countOf(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

function exists(path: string): boolean {
  try {
    statSync(path)
    return true
  } catch {
    return false
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
