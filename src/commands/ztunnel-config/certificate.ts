import {Flags} from '@oclif/core'

import {MeshdbgError} from '../../lib/errors.js'
import {renderDump} from '../../lib/render/dump-output.js'
import {ZtunnelCommand} from '../../lib/ztunnel/command.js'
import {certificateProblems, parseWarnWithin} from '../../lib/ztunnel/certs.js'
import {certificateRows, renderCertificateTable, type CertificateRow} from '../../lib/ztunnel/tables.js'

export interface ZtunnelCertificateResult {
  /** The table's rows; `timeLeftMs` is NOT AFTER minus the time of the run. */
  certificates: CertificateRow[]
  /** With --warn-within: the rows that are expired, not yet valid or expire within it. */
  expiring: CertificateRow[]
}

export default class ZtunnelConfigCertificate extends ZtunnelCommand<typeof ZtunnelConfigCertificate> {
  static override summary = 'Show the certificates a ztunnel holds for its workloads (istioctl ztunnel-config certificate).'
  static override description = `The table matches istioctl 1.30 byte for byte (VALID CERT by this machine's clock); -o wide adds TIME LEFT. --warn-within 7d exits 10 when a certificate is expired, not yet valid, has no certificate yet, or expires within that time. Certificates differ per node: when several ztunnels run, name one (or --node, or an application pod).
-o short (default) | wide | json (the certificates as ztunnel prints them) | yaml.`

  static override singlePod = true
  static override hiddenAliases = ['ztunnel-config:certificates', 'ztunnel-config:certs', 'ztunnel-config:cert', 'zc:certificate', 'zc:certificates', 'zc:certs', 'zc:cert']
  static override examples = ['<%= config.bin %> ztunnel-config certificate --node ambient-worker -o wide', '<%= config.bin %> zc certs ztunnel-abcde --warn-within 24h']

  static override args = ZtunnelCommand.ztunnelArgs
  static override flags = {
    ...ZtunnelCommand.ztunnelFlags,
    'warn-within': Flags.string({summary: 'Exit 10 when a certificate expires within this time (e.g. 24h, 7d) or is not valid now.'}),
  }

  async run(): Promise<ZtunnelCertificateResult> {
    const warnWithinMs = this.flags['warn-within'] === undefined ? undefined : parseWarnWithin(this.flags['warn-within'])
    const loaded = await this.loadZtunnelDump()
    const now = Date.now()
    const certificates = certificateRows(loaded.dump, now)
    if (this.tableOutput) this.writeTable(renderCertificateTable(certificates, {wide: this.wideOutput}))
    else this.write(renderDump(loaded.dump.certificates.map((certificate) => certificate.raw), this.outputFormat as 'json' | 'yaml', this.notice))
    const expiring = warnWithinMs === undefined ? [] : certificateProblems(certificates, warnWithinMs)
    const result = {certificates, expiring}
    if (expiring.length > 0) {
      const problem = new MeshdbgError('problems-found', `${expiring.length} certificate(s) of ${loaded.origin} expired, not yet valid, missing or expiring within ${this.flags['warn-within']}`, {
        hint: 'see the TIME LEFT column of -o wide',
        result,
      })
      throw problem
    }
    return result
  }
}
