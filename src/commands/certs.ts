import {Args, Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {
  compareRoots,
  meshRoots,
  parseWindow,
  problemRows,
  type CertificateClock,
  type CertificateRow,
  type RootCertificate,
} from '../lib/envoy/certs.js'
import {certificateRowsFromInput, fetchCertificateRows} from '../lib/envoy/certs-source.js'
import {badDataError, MeshdbgError, usageError} from '../lib/errors.js'
import {proxyAdminPortFlag, tableOutputFlags, targetArg} from '../lib/flags.js'
import {readInputText} from '../lib/input.js'
import {renderCertificateTable, renderRootComparison} from '../lib/render/certs-table.js'
import {renderDump} from '../lib/render/dump-output.js'
import {escapeTerminal} from '../lib/render/escape.js'

export type {CertificateRow, RootCertificate} from '../lib/envoy/certs.js'

export interface CertsListResult {
  /** `<pod>.<namespace>`, or the file read. */
  proxy: string
  /** The instant validity was judged at (RFC 3339): the clock, or --at. */
  at: string
  /** --warn-within as given. */
  warnWithin?: string
  certificates: CertificateRow[]
  /** Certificates not VALID (expired, not yet valid, unparsable, or EXPIRING inside --warn-within). */
  problems: number
}

export interface CertsCompareResult {
  first: string
  second: string
  /** Both trust exactly the same root certificates (compared decoded, not as base64 text). */
  identical: boolean
  /** At least one root in common: the two can still verify each other's certificates. */
  overlap: boolean
  shared: RootCertificate[]
  onlyFirst: RootCertificate[]
  onlySecond: RootCertificate[]
}

export type CertsResult = CertsListResult | CertsCompareResult

export default class Certs extends MeshdbgCommand<typeof Certs> {
  static override summary = 'Show a proxy\'s certificates with time left, or compare the roots two proxies trust.'
  static override description = `Every certificate of the proxy's SDS secrets, each secret's chain in order (the workload certificate "default": leaf, intermediates, root; "ROOTCA": the trusted roots), plus what Envoy's /certs shows its TLS contexts loaded that no secret holds (certificates mounted from files). Per certificate: ROLE (leaf, intermediate, root: a self-signed CA), IDENTITY (the SPIFFE URI SAN, else DNS SANs, else the subject CN), SERIAL NUMBER (as pc secret), NOT AFTER, TIME LEFT ("23h", "3288d", "expired 5d ago") and STATE: VALID, EXPIRED, NOT YET VALID, UNPARSABLE, or EXPIRING when it ends inside --warn-within. CHAIN says "(not signed by next)" when a chain is out of order or broken. Private keys are never read or printed.
--at TIME judges validity at that instant instead of the local clock (RFC 3339, e.g. 2026-06-01T00:00:00Z): a dump saved earlier, or ahead of a change window.
--warn-within 24h (also 7d, 1d12h, 90m) exits 10 when any certificate expires inside the window, has expired, or is not yet valid.
--compare-root A B (istioctl proxy-config rootca-compare): do two proxies trust the same roots? Their ROOTCA secrets are compared as sets of decoded certificates (order, duplicates and PEM formatting ignored). Identical: exit 0; otherwise the roots only one side trusts are named and the exit code is 10 (a shared root still lets them verify each other, as during a root rotation, and the message says so). A and B are targets, or two -f files.
-f FILE reads a saved config dump (config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets) or a /certs answer.
-o short (default) | wide (adds NOT BEFORE, SUBJECT, ISSUER) | json | yaml (the typed result).`

  static override examples = [
    '<%= config.bin %> certs deploy/webapp -n istioinaction',
    '<%= config.bin %> certs deploy/webapp -n istioinaction --warn-within 24h',
    '<%= config.bin %> certs --compare-root deploy/webapp.istioinaction deploy/sleep.default',
    'kubectl exec POD -c istio-proxy -- curl -s "localhost:15000/config_dump?mask=dynamic_active_secrets" > secrets.json && <%= config.bin %> certs -f secrets.json --at 2026-06-01T00:00:00Z',
  ]

  static override args = {
    target: targetArg,
    other: Args.string({name: 'other', description: 'With --compare-root: the second pod or workload.', required: false, ignoreStdin: true}),
  }

  static override flags = {
    file: Flags.string({char: 'f', summary: 'Read a saved config dump or /certs answer ("-" for stdin); twice with --compare-root.', multiple: true}),
    'warn-within': Flags.string({summary: 'Exit 10 when a certificate expires within this window (24h, 7d, 1d12h) or is not valid.'}),
    at: Flags.string({summary: 'Judge validity at this instant (RFC 3339) instead of the local clock.'}),
    'compare-root': Flags.boolean({summary: 'Compare the roots (ROOTCA) two proxies trust; exit 10 when they differ.'}),
    'proxy-admin-port': proxyAdminPortFlag,
    ...tableOutputFlags(['json', 'yaml'], 'short'),
  }

  async run(): Promise<CertsResult> {
    const {args, flags} = this
    const clock = clockFrom(flags.at, flags['warn-within'])
    const files = flags.file ?? []
    const targets = [args.target, args.other].filter((value): value is string => value !== undefined)
    if (flags['compare-root']) {
      if (flags['warn-within'] !== undefined) throw usageError('--warn-within does not apply to --compare-root')
      if (targets.length + files.length !== 2) throw usageError('certs --compare-root needs two proxies: two pods/workloads, or two -f files')
      return this.compare([...targets.map((target) => ({target})), ...files.map((file) => ({file}))], clock)
    }
    if (args.other !== undefined) throw usageError('certs takes one pod/workload (two only with --compare-root)')
    if (files.length > 1) throw usageError('certs reads one -f file (two only with --compare-root)')
    if (targets.length + files.length !== 1) throw usageError(targets.length ? 'certs: give either a pod/workload or --file, not both' : 'certs requires a pod/workload name or --file')
    const {proxy, rows} = await this.load(targets.length ? {target: targets[0]} : {file: files[0]}, clock)
    const problems = problemRows(rows)
    const result: CertsListResult = {proxy, at: clock.now.toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(flags['warn-within'] === undefined ? {} : {warnWithin: flags['warn-within']}), certificates: rows, problems: problems.length}
    for (const row of rows) {
      if (row.signedByNext === false) this.runContext().note(`${row.resource}: certificate ${row.position} of ${row.chainLength} is not signed by the next one (chain out of order or incomplete)`)
    }
    if (this.tableOutput) this.writeTable(renderCertificateTable(rows, {wide: this.wideOutput}))
    else this.write(renderDump(result, this.outputFormat as 'json' | 'yaml', this.notice))
    if (flags['warn-within'] !== undefined && problems.length > 0) {
      throw new MeshdbgError('problems-found', `${proxy}: ${problemSummary(problems, flags['warn-within'])}`, {
        hint: 'istio-agent renews the workload certificate at about half its lifetime: a short one means renewal fails (see meshdbg health and the istio-proxy logs); roots are renewed by whoever runs the CA',
        result,
      })
    }
    return result
  }

  private async load(source: {target?: string; file?: string}, clock: CertificateClock): Promise<{proxy: string; rows: CertificateRow[]}> {
    const ctx = this.runContext()
    if (source.file !== undefined) {
      const input = await readInputText(source.file, ctx.signal)
      return {proxy: input.origin, rows: certificateRowsFromInput(input, clock)}
    }
    const {resolveTargetPod} = await import('../lib/kube/index.js')
    const pod = await resolveTargetPod(ctx, source.target!)
    return {proxy: `${pod.name}.${pod.namespace}`, rows: await fetchCertificateRows(ctx, pod, clock, this.flags['proxy-admin-port'])}
  }

  private async compare(sources: Array<{target?: string; file?: string}>, clock: CertificateClock): Promise<CertsCompareResult> {
    const [a, b] = await Promise.all(sources.map((source) => this.load(source, clock)))
    const roots = (side: {proxy: string; rows: CertificateRow[]}) => {
      const found = meshRoots(side.rows)
      if (!found) throw badDataError(`${side.proxy} has no ROOTCA secret`, 'a sidecar gets it from istio-agent once it is connected to istiod (meshdbg sync-status); a gateway without mesh mTLS may have none')
      return found
    }
    const comparison = compareRoots(roots(a), roots(b))
    const result: CertsCompareResult = {first: a.proxy, second: b.proxy, identical: comparison.identical, overlap: comparison.shared.length > 0, shared: comparison.shared, onlyFirst: comparison.onlyFirst, onlySecond: comparison.onlySecond}
    if (this.tableOutput) {
      this.write(escapeTerminal(compareSummary(result)) + '\n')
      this.writeTable(renderRootComparison(comparison, a.proxy, b.proxy))
    } else {
      this.write(renderDump(result, this.outputFormat as 'json' | 'yaml', this.notice))
    }
    if (!result.identical) {
      throw new MeshdbgError('problems-found', compareSummary(result), {
        hint: result.overlap ? 'a root rotation in progress looks like this; it is done when both trust the same set' : 'check which CA each side\'s istiod uses (the cacerts secret in the istio namespace)',
        result,
      })
    }
    return result
  }
}

function clockFrom(at: string | undefined, warnWithin: string | undefined): CertificateClock {
  let now = new Date()
  if (at !== undefined) {
    now = new Date(at)
    if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(now.getTime())) throw usageError(`invalid --at "${at}": use an RFC 3339 time such as 2026-06-01T00:00:00Z`)
  }
  if (warnWithin === undefined) return {now}
  const seconds = parseWindow(warnWithin)
  if (seconds === undefined) throw usageError(`invalid --warn-within "${warnWithin}": use a window such as 24h, 7d, 1d12h or 90m`)
  return {now, warnWithinSeconds: seconds}
}

function problemSummary(problems: readonly CertificateRow[], window: string): string {
  const described = problems.slice(0, 3).map((row) => {
    const what = `${row.resource} ${row.role}${row.identity ? ` ${row.identity}` : ''}`
    if (row.state === 'EXPIRING') return `${what} expires in ${row.timeLeft}`
    if (row.state === 'EXPIRED') return `${what} ${row.timeLeft}`
    return `${what} is ${row.state.toLowerCase()}`
  })
  const more = problems.length > 3 ? `, and ${problems.length - 3} more` : ''
  const count = problems.length === 1 ? '1 certificate' : `${problems.length} certificates`
  return `${count} expired, not valid or expiring within ${window}: ${described.join('; ')}${more}`
}

function compareSummary(result: CertsCompareResult): string {
  const plural = (n: number) => (n === 1 ? '1 root' : `${n} roots`)
  if (result.identical) return `${result.first} and ${result.second} trust the same ${result.shared.length === 1 ? 'root' : plural(result.shared.length)}`
  const sides = [
    result.onlyFirst.length ? `${plural(result.onlyFirst.length)} only ${result.first} trusts` : '',
    result.onlySecond.length ? `${plural(result.onlySecond.length)} only ${result.second} trusts` : '',
  ].filter(Boolean).join(', ')
  const overlap = result.overlap
    ? `they share ${plural(result.shared.length)}, so mTLS between them still verifies`
    : 'they share none, so mTLS between them fails'
  return `${result.first} and ${result.second} trust different roots: ${sides}; ${overlap}`
}
