// Where `certs` and `health` get a proxy's certificates: a live pod (its SDS secrets and /certs)
// or a saved file (a config dump with a SecretsConfigDump, or a /certs answer).
import type {RunContext} from '../context.js'
import type {InputText} from '../input.js'
import type {AdminRequestOptions} from '../kube/proxy-admin.js'
import type {ResolvedPod} from '../kube/resolve.js'
import {certsEndpointRows, isCertsResponse, secretCertificateRows, type CertificateCache, type CertificateClock, type CertificateRow} from './certs.js'
import {parseConfigDumpInput, parseJsonText, requireSection} from './configdump.js'
import {AdminPath} from './source.js'

/** Rows of a saved file: a config dump's secrets, or Envoy's /certs answer (detected by its shape). */
export function certificateRowsFromInput(input: InputText, clock: CertificateClock): CertificateRow[] {
  const head = input.text.slice(0, 256)
  if (/^\s*\{\s*"certificates"\s*:/.test(head)) {
    const raw = parseJsonText(input.text, input.origin, 'Envoy\'s /certs answer or a config dump')
    if (isCertsResponse(raw)) return certsEndpointRows(raw, clock)
  }
  return secretCertificateRows(requireSection(parseConfigDumpInput(input, {only: ['Secrets']}), 'Secrets'), clock)
}

/**
 * A live proxy's certificates: its SDS secrets, then what /certs shows its TLS contexts loaded that
 * no secret holds (certificates mounted from files). Two GETs on the command's port-forward;
 * `request` lets a caller that fetches from many pods at once (diagnose) pass its chosen admin
 * port and turn the spinner off, and its run's `cache` of parsed certificates.
 */
export async function fetchCertificateRows(ctx: RunContext, pod: ResolvedPod, clock: CertificateClock, proxyAdminPort?: number, request: Pick<AdminRequestOptions, 'adminPort' | 'spinner'> = {}, cache?: CertificateCache): Promise<CertificateRow[]> {
  const {fetchAdminFromPod} = await import('../kube/proxy-admin.js')
  const [secrets, certs] = await Promise.all([
    fetchAdminFromPod(ctx, pod, AdminPath.secrets, {proxyAdminPort, ...request}),
    fetchAdminFromPod(ctx, pod, 'certs', {proxyAdminPort, ...request}),
  ])
  const rows = secretCertificateRows(requireSection(parseConfigDumpInput(secrets, {only: ['Secrets']}), 'Secrets'), clock, cache)
  const loaded = parseJsonText(certs.text, `${certs.origin} /certs`, 'Envoy\'s /certs answer')
  return [...rows, ...certsEndpointRows(loaded, clock, rows)]
}
