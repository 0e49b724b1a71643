// Certificates of one proxy: every PEM block of its SDS secrets (the chain in order, the trusted
// roots) and what Envoy's /certs reports its TLS contexts loaded, judged against a clock.
// Only public certificates are read: private keys are never decoded or returned.
import {createHash, X509Certificate} from 'node:crypto'

import {badDataError} from '../errors.js'
import {arrayField, field, path, stringField, type Json} from './fields.js'
import {formatSerial} from './secrets.js'

export type CertificateRole = 'leaf' | 'intermediate' | 'root' | 'ca'
/** EXPIRING: valid, but ends inside the --warn-within window. */
export type CertificateState = 'VALID' | 'EXPIRING' | 'EXPIRED' | 'NOT YET VALID' | 'UNPARSABLE'

export interface CertificateRow {
  /** The SDS secret (`default`, `ROOTCA`, `kubernetes://cred`), or the file path /certs reports for a certificate no secret holds. */
  resource: string
  /** `sds`: decoded from the secret's PEM; `certs`: only Envoy's /certs summary (no issuer, no chain check). */
  source: 'sds' | 'certs'
  /** ACTIVE or WARMING (SDS), LOADED (/certs only). */
  status: string
  /** 1-based position in its secret's chain or bundle, and that chain's length. */
  position: number
  chainLength: number
  /** leaf, intermediate, root (self-signed CA); `ca` for a /certs CA entry (whether self-signed is not known). */
  role: CertificateRole
  /** URI SANs (the SPIFFE identity), else DNS SANs, else the subject CN; "" when none. */
  identity: string
  /** RFC 2253-style names ("O=cluster.local, CN=root"); "" for /certs rows. */
  subject: string
  issuer: string
  /** Lowercase hex, zero-padded to 32 digits (as `pc secret`). */
  serialNumber: string
  /** RFC 3339 UTC. */
  notBefore: string
  notAfter: string
  /** Seconds from the clock to notAfter: negative once expired. */
  secondsLeft: number
  /** `23h`, `3288d`, `expired 5d ago`. */
  timeLeft: string
  state: CertificateState
  /** Chain members but the last: whether the next certificate in the secret signed this one. */
  signedByNext?: boolean
  /** SHA-256 of the DER, lowercase hex (SDS rows): tells equal certificates apart from look-alikes. */
  sha256?: string
}

export interface CertificateClock {
  /** The instant validity is judged at (the local clock, or --at). */
  now: Date
  /** --warn-within in seconds: a valid certificate ending inside it is EXPIRING. */
  warnWithinSeconds?: number
}

/** `3288d` at two days or more, `23h`, `59m`, `12s`; a negative amount reads `expired 5d ago`. */
export function formatTimeLeft(seconds: number): string {
  const abs = Math.abs(Math.trunc(seconds))
  const text = abs >= 2 * 86_400 ? `${Math.floor(abs / 86_400)}d` : abs >= 3600 ? `${Math.floor(abs / 3600)}h` : abs >= 60 ? `${Math.floor(abs / 60)}m` : `${abs}s`
  return seconds < 0 ? `expired ${text} ago` : text
}

/** --warn-within: `24h`, `7d`, `1d12h`, `90m` (days are 24 h); returns seconds. */
export function parseWindow(text: string): number | undefined {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim())
  if (!match || text.trim() === '') return undefined
  const [, d = '0', h = '0', m = '0', s = '0'] = match
  return Number(d) * 86_400 + Number(h) * 3600 + Number(m) * 60 + Number(s)
}

/** Every CERTIFICATE PEM block of a text, as DER, in order (other block types are skipped). */
export function pemCertificates(text: string): Buffer[] {
  const blocks: Buffer[] = []
  for (const match of text.matchAll(/-----BEGIN CERTIFICATE-----\r?\n([\s\S]*?)-----END CERTIFICATE-----/g)) {
    blocks.push(Buffer.from(match[1].replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'))
  }
  return blocks
}

function rfc3339(date: Date): string {
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function identityOf(subjectAltName: string | undefined, subject: string | undefined): string {
  const entries = (subjectAltName ?? '').split(/,\s*/).map((entry) => entry.trim())
  const uris = entries.filter((entry) => /^URI:/i.test(entry)).map((entry) => entry.slice(4).replace(/^"|"$/g, ''))
  if (uris.length > 0) return uris.join(',')
  const dns = entries.filter((entry) => /^DNS:/i.test(entry)).map((entry) => entry.slice(4))
  if (dns.length > 0) return dns.join(',')
  return /(?:^|\n)CN=([^\n]*)/.exec(subject ?? '')?.[1] ?? oneLineName(subject)
}

/** Node prints X.509 names one attribute per line; one line reads better in a table. */
function oneLineName(name: string | undefined): string {
  return (name ?? '').split('\n').filter(Boolean).join(', ')
}

function selfSigned(cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(cert) && cert.verify(cert.publicKey)
  } catch {
    return false
  }
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey)
  } catch {
    return false
  }
}

function judge(notBefore: Date, notAfter: Date, clock: CertificateClock): {secondsLeft: number; timeLeft: string; state: CertificateState} {
  const secondsLeft = Math.floor((notAfter.getTime() - clock.now.getTime()) / 1000)
  let state: CertificateState = 'VALID'
  if (secondsLeft <= 0) state = 'EXPIRED'
  else if (notBefore.getTime() > clock.now.getTime()) state = 'NOT YET VALID'
  else if (clock.warnWithinSeconds !== undefined && secondsLeft <= clock.warnWithinSeconds) state = 'EXPIRING'
  return {secondsLeft, timeLeft: formatTimeLeft(secondsLeft), state}
}

interface Located {
  resource: string
  status: string
  /** A certificate chain (leaf first) rather than a bundle of trusted CAs. */
  chain: boolean
  ders: Buffer[]
}

function dataSourceText(source: Json): string {
  const bytes = field(source, 'inline_bytes')
  if (typeof bytes === 'string' && bytes !== '') return Buffer.from(bytes, 'base64').toString('latin1')
  const text = field(source, 'inline_string')
  return typeof text === 'string' ? text : ''
}

/** The certificate lists of one SDS secret: its TLS chain, its trusted CAs, its SPIFFE trust bundles. */
function secretCertificates(entry: Json, status: string): Located[] {
  const resource = stringField(entry, 'name')
  const secret = field(entry, 'secret')
  const found: Located[] = []
  const chain = dataSourceText(path(secret, 'tls_certificate', 'certificate_chain'))
  if (chain !== '') found.push({resource, status, chain: true, ders: pemCertificates(chain)})
  const validation = field(secret, 'validation_context')
  const trusted = dataSourceText(field(validation, 'trusted_ca'))
  if (trusted !== '') found.push({resource, status, chain: false, ders: pemCertificates(trusted)})
  for (const domain of arrayField(path(validation, 'custom_validator_config', 'typed_config'), 'trust_domains')) {
    const bundle = dataSourceText(field(domain, 'trust_bundle'))
    if (bundle !== '') found.push({resource: `${resource} (${stringField(domain, 'name')})`, status, chain: false, ders: pemCertificates(bundle)})
  }
  return found
}

/** What rows say of one certificate, whatever the clock and its place in a chain. */
interface ParsedCertificate {
  cert: X509Certificate
  role: CertificateRole
  identity: string
  subject: string
  issuer: string
  serialNumber: string
  notBefore: Date
  notAfter: Date
}

/**
 * Certificates parsed so far, by the SHA-256 of their DER: every sidecar's ROOTCA secret, and the
 * end of its chain, hold the same mesh root, which `diagnose -A` would otherwise parse and verify
 * (self-signed or not) twice per proxy. One per run (`certificateCache()`), never shared between runs.
 */
export type CertificateCache = Map<string, ParsedCertificate | null>

export function certificateCache(): CertificateCache {
  return new Map()
}

function parseCertificate(der: Buffer): ParsedCertificate | null {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(der)
  } catch {
    return null
  }
  return {
    cert,
    role: !cert.ca ? 'leaf' : selfSigned(cert) ? 'root' : 'intermediate',
    identity: identityOf(cert.subjectAltName, cert.subject),
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    serialNumber: formatSerial(cert.serialNumber),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  }
}

function parsedOf(der: Buffer, sha256: string, cache: CertificateCache | undefined): ParsedCertificate | null {
  if (!cache) return parseCertificate(der)
  let parsed = cache.get(sha256)
  if (parsed === undefined) cache.set(sha256, (parsed = parseCertificate(der)))
  return parsed
}

function locatedRows(located: Located, clock: CertificateClock, cache?: CertificateCache): CertificateRow[] {
  const digests = located.ders.map((der) => createHash('sha256').update(der).digest('hex'))
  const certs = located.ders.map((der, index) => parsedOf(der, digests[index], cache))
  return located.ders.map((der, index) => {
    const base = {resource: located.resource, source: 'sds' as const, status: located.status, position: index + 1, chainLength: located.ders.length}
    const parsed = certs[index]
    if (!parsed) {
      return {...base, role: located.chain && index === 0 ? 'leaf' : 'ca', identity: '', subject: '', issuer: '', serialNumber: '', notBefore: '', notAfter: '', secondsLeft: 0, timeLeft: '', state: 'UNPARSABLE', sha256: digests[index]}
    }
    const next = certs[index + 1]
    return {
      ...base,
      role: parsed.role,
      identity: parsed.identity,
      subject: parsed.subject,
      issuer: parsed.issuer,
      serialNumber: parsed.serialNumber,
      notBefore: rfc3339(parsed.notBefore),
      notAfter: rfc3339(parsed.notAfter),
      ...judge(parsed.notBefore, parsed.notAfter, clock),
      ...(located.chain && index < located.ders.length - 1 ? {signedByNext: next !== undefined && next !== null && signedBy(parsed.cert, next.cert)} : {}),
      sha256: digests[index],
    }
  })
}

/**
 * Every certificate of a SecretsConfigDump section: warming secrets, then active ones, in dump
 * order; within a secret its chain in order (leaf first), then its trusted CAs.
 */
export function secretCertificateRows(secrets: Json, clock: CertificateClock, cache?: CertificateCache): CertificateRow[] {
  const rows: CertificateRow[] = []
  for (const [list, status] of [['dynamic_warming_secrets', 'WARMING'], ['dynamic_active_secrets', 'ACTIVE']] as const) {
    for (const entry of arrayField(secrets, list)) {
      for (const located of secretCertificates(entry, status)) rows.push(...locatedRows(located, clock, cache))
    }
  }
  return rows
}

/** True when the JSON is Envoy's /certs answer (`{"certificates": [...]}`) rather than a config dump. */
export function isCertsResponse(raw: Json): boolean {
  return raw !== null && typeof raw === 'object' && Array.isArray(raw.certificates) && raw.configs === undefined
}

/**
 * Rows for Envoy's /certs answer: one per distinct certificate (every TLS context repeats the
 * workload pair), minus those `known` already lists by serial number (the SDS rows, which say more).
 */
export function certsEndpointRows(raw: Json, clock: CertificateClock, known: readonly CertificateRow[] = []): CertificateRow[] {
  if (!isCertsResponse(raw)) throw badDataError('expected Envoy\'s /certs answer (an object with a "certificates" list)')
  const seen = new Set(known.map((row) => row.serialNumber))
  const rows: CertificateRow[] = []
  for (const context of raw.certificates as Json[]) {
    for (const [list, chain] of [['cert_chain', true], ['ca_cert', false]] as const) {
      const entries = arrayField(context, list)
      entries.forEach((entry, index) => {
        const serialNumber = formatSerial(stringField(entry, 'serial_number'))
        const notAfter = new Date(stringField(entry, 'expiration_time'))
        if (seen.has(serialNumber)) return
        seen.add(serialNumber)
        const sans = arrayField(entry, 'subject_alt_names').map((san) => stringField(san, 'uri') || stringField(san, 'dns') || stringField(san, 'ip_address')).filter(Boolean)
        const judged = Number.isNaN(notAfter.getTime())
          ? {secondsLeft: 0, timeLeft: '', state: 'UNPARSABLE' as const}
          : judge(new Date(stringField(entry, 'valid_from')), notAfter, clock)
        rows.push({
          resource: stringField(entry, 'path') || '<inline>',
          source: 'certs',
          status: 'LOADED',
          position: index + 1,
          chainLength: entries.length,
          role: chain ? (index === 0 ? 'leaf' : 'intermediate') : 'ca',
          identity: sans.join(','),
          subject: '',
          issuer: '',
          serialNumber,
          notBefore: rfc3339(new Date(stringField(entry, 'valid_from'))),
          notAfter: rfc3339(notAfter),
          ...judged,
        })
      })
    }
  }
  return rows
}

/** Rows that fail `--warn-within` (or are not valid at all). */
export function problemRows(rows: readonly CertificateRow[]): CertificateRow[] {
  return rows.filter((row) => row.state !== 'VALID')
}

/** The workload certificate: the leaf of the `default` SDS secret (Istio's name for it). */
export function workloadCertificate(rows: readonly CertificateRow[]): CertificateRow | undefined {
  return rows.find((row) => row.source === 'sds' && row.resource === 'default' && row.status === 'ACTIVE' && row.position === 1)
}

export interface RootCertificate {
  subject: string
  serialNumber: string
  notAfter: string
  sha256: string
}

export interface RootComparison {
  /** Both trust exactly the same set of root certificates. */
  identical: boolean
  shared: RootCertificate[]
  onlyFirst: RootCertificate[]
  onlySecond: RootCertificate[]
}

/**
 * The roots a proxy trusts for mesh mTLS: the certificates of its `ROOTCA` secret (trusted CA and
 * SPIFFE trust bundles), as rows. Undefined when it has no ROOTCA secret.
 */
export function meshRoots(rows: readonly CertificateRow[]): CertificateRow[] | undefined {
  const roots = rows.filter((row) => row.source === 'sds' && row.status === 'ACTIVE' && (row.resource === 'ROOTCA' || row.resource.startsWith('ROOTCA (')))
  return roots.length > 0 ? roots : undefined
}

/**
 * Compares two proxies' trusted roots as certificate sets (DER equality, order and duplicates
 * ignored), not as base64 text. A shared root still lets them verify each other (a root rotation
 * in progress); `identical` is false as soon as either side has one the other lacks.
 */
export function compareRoots(first: readonly CertificateRow[], second: readonly CertificateRow[]): RootComparison {
  const summary = (row: CertificateRow): RootCertificate => ({subject: row.subject, serialNumber: row.serialNumber, notAfter: row.notAfter, sha256: row.sha256 ?? ''})
  const unique = (rows: readonly CertificateRow[]) => [...new Map(rows.map((row) => [row.sha256 ?? row.serialNumber, summary(row)])).values()]
  const a = unique(first)
  const b = unique(second)
  const inB = new Set(b.map((root) => root.sha256))
  const inA = new Set(a.map((root) => root.sha256))
  const shared = a.filter((root) => inB.has(root.sha256))
  const onlyFirst = a.filter((root) => !inB.has(root.sha256))
  const onlySecond = b.filter((root) => !inA.has(root.sha256))
  return {identical: onlyFirst.length === 0 && onlySecond.length === 0, shared, onlyFirst, onlySecond}
}
