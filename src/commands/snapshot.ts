import {statSync} from 'node:fs'

import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {usageError} from '../lib/errors.js'
import {istioNamespaceFlag, proxyAdminPortFlag, revisionFlag} from '../lib/flags.js'
import {escapeTerminal} from '../lib/render/escape.js'
import {captureSnapshot, type CaptureSummary} from '../lib/snapshot/capture.js'

export interface SnapshotResult extends CaptureSummary {
  /** Size of the written archive (gzip). */
  compressedBytes: number
}

export default class Snapshot extends MeshdbgCommand<typeof Snapshot> {
  static override summary = 'Capture proxies, istiod and the API objects involved into one archive that --snapshot replays offline.'
  static override description = `Records, per Running meshed pod (TARGET..., a -l selector, else every one of the namespace; -A: of the cluster): Envoy's config_dump with EDS (replay derives the whole dump and its masked sections from it), /clusters, /certs, server_info, stats, logging levels, pilot-agent readiness, metrics, DNS table and syncz, and the last --log-tail lines of the istio-proxy log; from every Running istiod: syncz (also per namespace), its config_dump of each captured proxy and /version (--istiod adds registryz, configz, adsz, edsz, authorizationz, push_status, instancesz); and the pods, services, workloads and Istio resources of the namespaces involved.
The archive (-o FILE, a tar.gz) holds manifest.json (format version, meshdbg version, capture time, context, the request behind every entry) and one file per answer. Private keys are replaced by "[redacted]" before anything is written. A request that fails during capture is recorded and fails the same way on replay.
Then any read-only command takes --snapshot FILE and prints what it would have printed live at capture time; meshdbg sim --snapshot FILE serves it as a cluster (kubectl works too).`

  static override examples = [
    '<%= config.bin %> snapshot deploy/istio-ingressgateway.istio-system deploy/catalog -n istioinaction -o incident.tar.gz',
    '<%= config.bin %> snapshot -n istioinaction -l app=catalog --istiod -o catalog.tar.gz',
    '<%= config.bin %> pc cluster deploy/catalog -n istioinaction --snapshot incident.tar.gz',
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
    'proxy-admin-port': proxyAdminPortFlag,
    'log-tail': Flags.integer({summary: 'Lines of each proxy\'s log to keep (its most recent).', default: 1000, min: 0}),
    concurrency: Flags.integer({summary: 'Proxies captured at once.', default: 8, min: 1, max: 64}),
    force: Flags.boolean({summary: 'Overwrite the output file if it exists.'}),
  }

  async run(): Promise<SnapshotResult> {
    const {flags} = this
    const targets = this.argvValues
    // Required by the flag definition; the base's -o (a format) widens its type.
    const file = flags.output as string
    if (targets.length > 0 && flags.selector !== undefined) throw usageError('give either targets or --selector, not both')
    if (exists(file) && !flags.force) throw usageError(`${file} exists; pass --force to overwrite it`)
    const ctx = this.runContext()
    const summary = await captureSnapshot(
      ctx,
      {
        file,
        targets,
        selector: flags.selector,
        allNamespaces: flags['all-namespaces'],
        istiod: flags.istiod,
        istioNamespace: flags['istio-namespace'],
        revision: flags.revision,
        proxyAdminPort: flags['proxy-admin-port'],
        logTail: flags['log-tail'],
        concurrency: flags.concurrency,
      },
      this.config.version,
    )
    const compressedBytes = statSync(file).size
    this.write(
      escapeTerminal(
        `Wrote ${file}: ${summary.proxies.length} prox${summary.proxies.length === 1 ? 'y' : 'ies'}, ${summary.istiods.length} istiod${summary.istiods.length === 1 ? '' : 's'}, ` +
          `${summary.entries} answers (${mebibytes(compressedBytes)} compressed, ${mebibytes(summary.uncompressedBytes)} uncompressed)`,
      ) + '\n',
    )
    if (summary.redactedKeys > 0) this.notice(`redacted ${summary.redactedKeys} private key${summary.redactedKeys === 1 ? '' : 's'} before writing`)
    return {...summary, compressedBytes}
  }
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
