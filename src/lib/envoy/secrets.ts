import {X509Certificate} from 'node:crypto'

import {requireSection, type ConfigDump} from './configdump.js'
import {arrayField, field, path, stringField, type Json} from './fields.js'

export type SecretStatus = 'WARMING' | 'ACTIVE'

export interface SecretRow {
  name: string
  status: SecretStatus
  /** `CA`, `Cert Chain`, or "" when there is no certificate or it does not parse. */
  type: string
  /** notBefore < now < notAfter; false without a parsed certificate. */
  valid: boolean
  /** Lowercase hex, zero-padded to 32 digits (longer serials kept whole); "" without a certificate. */
  serialNumber: string
  /** RFC3339 UTC without fractional seconds (`2023-05-16T01:32:52Z`); "" without a certificate. */
  notAfter: string
  notBefore: string
  /** The SPIFFE validator's trust domain name, else the host of the cert's spiffe:// URI SAN, else "". */
  trustDomain: string
}

/** The SecretsConfigDump section as the input has it (the `-o json/yaml` document). */
export function secretsSection(dump: ConfigDump): Json {
  return requireSection(dump, 'Secrets')
}

const SPIFFE_VALIDATOR_TYPE = 'envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig'

/** Envoy DataSource bytes: `inline_bytes` is base64 in proto JSON; `inline_string` is text. */
function dataSourceText(source: Json): string {
  const bytes = field(source, 'inline_bytes')
  if (typeof bytes === 'string' && bytes !== '') return Buffer.from(bytes, 'base64').toString('latin1')
  const text = field(source, 'inline_string')
  return typeof text === 'string' ? text : ''
}

interface CertificateSource {
  pem: string
  trustDomain?: string
}

/**
 * Where a secret's certificate is, first that applies: the TLS certificate chain, the trusted CA,
 * else one entry per trust domain of a SPIFFE validator. A SPIFFE validator without trust domains
 * still gives one (empty) entry, so the secret stays visible.
 */
function certificateSources(secret: Json): CertificateSource[] {
  const chain = dataSourceText(path(secret, 'tls_certificate', 'certificate_chain'))
  if (chain !== '') return [{pem: chain}]
  const validation = field(secret, 'validation_context')
  const trustedCa = dataSourceText(field(validation, 'trusted_ca'))
  if (trustedCa !== '') return [{pem: trustedCa}]
  const typed = path(validation, 'custom_validator_config', 'typed_config')
  const type = stringField(typed, '@type')
  if (type.endsWith('/' + SPIFFE_VALIDATOR_TYPE) || type === SPIFFE_VALIDATOR_TYPE) {
    const domains = arrayField(typed, 'trust_domains')
    if (domains.length > 0) {
      return domains.map((domain) => ({pem: dataSourceText(field(domain, 'trust_bundle')), trustDomain: stringField(domain, 'name')}))
    }
  }
  return [{pem: ''}]
}

/** The first PEM block of any type, as DER (Go's pem.Decode); undefined when there is none. */
export function firstPemBlock(text: string): Buffer | undefined {
  const match = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text)
  if (!match) return undefined
  const body = match[2].split(/\r?\n/).filter((line) => !line.includes(':')).join('')
  return Buffer.from(body, 'base64')
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function formatSerial(hex: string): string {
  const digits = hex.toLowerCase().replace(/^0+/, '')
  return digits.padStart(32, '0')
}

function spiffeTrustDomain(subjectAltName: string | undefined): string {
  if (!subjectAltName) return ''
  for (const entry of subjectAltName.split(/,\s*/)) {
    const uri = /^URI:"?(spiffe:\/\/[^"]*)"?$/i.exec(entry.trim())
    if (!uri) continue
    const host = /^spiffe:\/\/([^/?#]*)/i.exec(uri[1])
    if (host) return host[1]
  }
  return ''
}

type CertificateFacts = Pick<SecretRow, 'type' | 'valid' | 'serialNumber' | 'notAfter' | 'notBefore'> & {sanTrustDomain: string}

const NO_CERTIFICATE: CertificateFacts = {type: '', valid: false, serialNumber: '', notAfter: '', notBefore: '', sanTrustDomain: ''}

/** Facts of the first certificate in PEM text; an unparsable or absent one gives empty cells. */
export function certificateFacts(pem: string, now: Date): CertificateFacts {
  const der = pem === '' ? undefined : firstPemBlock(pem)
  if (!der) return NO_CERTIFICATE
  let cert: X509Certificate
  try {
    cert = new X509Certificate(der)
  } catch {
    return NO_CERTIFICATE
  }
  const notBefore = new Date(cert.validFrom)
  const notAfter = new Date(cert.validTo)
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return NO_CERTIFICATE
  return {
    type: cert.ca ? 'CA' : 'Cert Chain',
    valid: notBefore.getTime() < now.getTime() && now.getTime() < notAfter.getTime(),
    serialNumber: formatSerial(cert.serialNumber),
    notAfter: rfc3339(notAfter),
    notBefore: rfc3339(notBefore),
    sanTrustDomain: spiffeTrustDomain(cert.subjectAltName),
  }
}

function secretRows(entry: Json, status: SecretStatus, now: Date): SecretRow[] {
  const name = stringField(entry, 'name')
  return certificateSources(field(entry, 'secret')).map((source) => {
    const {sanTrustDomain, ...facts} = certificateFacts(source.pem, now)
    return {name, status, ...facts, trustDomain: source.trustDomain ?? sanTrustDomain}
  })
}

/**
 * The secret table rows: every warming secret, then every active one, in dump order (istioctl
 * does not sort). Static secrets are not shown, as in istioctl. `version_info: uninitialized`
 * stays ACTIVE/WARMING, as istioctl prints it.
 */
export function collectSecretRows(sectionObject: Json, now: Date = new Date()): SecretRow[] {
  const rows: SecretRow[] = []
  for (const entry of arrayField(sectionObject, 'dynamic_warming_secrets')) rows.push(...secretRows(entry, 'WARMING', now))
  for (const entry of arrayField(sectionObject, 'dynamic_active_secrets')) rows.push(...secretRows(entry, 'ACTIVE', now))
  return rows
}

/** True when the TRUST DOMAIN column is shown: every row has one (and there is a row). */
export function showTrustDomain(rows: readonly SecretRow[]): boolean {
  return rows.length > 0 && rows.every((row) => row.trustDomain !== '')
}
