// A minimal X.509 v3 issuer (RFC 5280) for the simulator's mesh CA and the test certificates
// (test/fixtures/certs/gen.mjs): Node can parse certificates but not write them. Keys are Ed25519
// made from a seed, so a given seed, serial and dates always give the same bytes (Ed25519
// signatures are deterministic). Istio signs with RSA or ECDSA; nothing meshdbg reads depends on
// the algorithm. Never used by the CLI itself.
import {createHash, createPrivateKey, createPublicKey, sign, type KeyObject} from 'node:crypto'

export interface IssuedKey {
  privateKey: KeyObject
  publicKey: KeyObject
}

export interface CertificateSpec {
  /** Hex serial number (positive; a leading 00 is added when the top bit is set). */
  serial: string
  notBefore: Date
  notAfter: Date
  /** Subject attributes in order, e.g. [['O', 'cluster.local']]; [] gives an empty subject (Istio workload certificates). */
  subject: Array<[NameAttribute, string]>
  /** The subject key. */
  key: IssuedKey
  /** The issuer's subject and key; absent: self-signed. */
  issuer?: {subject: Array<[NameAttribute, string]>; key: IssuedKey}
  /** A CA certificate (basicConstraints cA, keyCertSign). */
  ca?: boolean
  /** URI subject alternative names (spiffe://...). */
  uris?: string[]
  dnsNames?: string[]
}

export type NameAttribute = 'CN' | 'O' | 'OU'

/** An Ed25519 key pair from a text seed (SHA-256 of it). */
export function keyFromSeed(seed: string): IssuedKey {
  const raw = createHash('sha256').update(seed).digest()
  // PKCS#8 wrapping of a raw Ed25519 private key (RFC 8410).
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), raw])
  const privateKey = createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'})
  return {privateKey, publicKey: createPublicKey(privateKey)}
}

/** The certificate as PEM text (one block, trailing newline). */
export function issueCertificate(spec: CertificateSpec): string {
  const issuer = spec.issuer ?? {subject: spec.subject, key: spec.key}
  const algorithm = seq(oid('1.3.101.112')) // Ed25519, no parameters
  const extensions: Buffer[] = []
  if (spec.ca) {
    extensions.push(extension('2.5.29.19', true, seq(bool(true))))
    extensions.push(extension('2.5.29.15', true, bitString(Buffer.from([0x06]), 1))) // keyCertSign, cRLSign
  } else {
    extensions.push(extension('2.5.29.15', true, bitString(Buffer.from([0xa0]), 5))) // digitalSignature, keyEncipherment
    extensions.push(extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))))
  }
  const names = [...(spec.uris ?? []).map((uri) => tlv(0x86, Buffer.from(uri, 'ascii'))), ...(spec.dnsNames ?? []).map((dns) => tlv(0x82, Buffer.from(dns, 'ascii')))]
  // Istio's workload certificates have an empty subject, so their SAN extension is critical (RFC 5280 4.2.1.6).
  if (names.length > 0) extensions.push(extension('2.5.29.17', spec.subject.length === 0, seq(...names)))
  extensions.push(extension('2.5.29.14', false, octets(keyId(spec.key))))
  if (spec.issuer) extensions.push(extension('2.5.29.35', false, seq(tlv(0x80, keyId(spec.issuer.key)))))
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(Buffer.from(spec.serial.length % 2 ? '0' + spec.serial : spec.serial, 'hex')),
    algorithm,
    name(issuer.subject),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spki(spec.key),
    tlv(0xa3, seq(...extensions)),
  )
  const signature = sign(null, tbs, issuer.key.privateKey)
  const der = seq(tbs, algorithm, bitString(signature, 0))
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content])
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items))
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items))
const bool = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]))
const octets = (value: Buffer) => tlv(0x04, value)

function integer(bytes: Buffer): Buffer {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1] & 0x80) === 0) start++
  const trimmed = bytes.subarray(start)
  return tlv(0x02, trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed)
}

function bitString(bytes: Buffer, unusedBits: number): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]))
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number)
  const out = [a * 40 + b]
  for (const part of rest) {
    const groups: number[] = []
    for (let v = part; ; v = Math.floor(v / 128)) {
      groups.unshift((v % 128) | (groups.length ? 0x80 : 0))
      if (v < 128) break
    }
    out.push(...groups)
  }
  return tlv(0x06, Buffer.from(out))
}

const ATTRIBUTE_OIDS: Record<NameAttribute, string> = {CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11'}

function name(attributes: Array<[NameAttribute, string]>): Buffer {
  return seq(...attributes.map(([type, value]) => set(seq(oid(ATTRIBUTE_OIDS[type]), tlv(0x0c, Buffer.from(value, 'utf8'))))))
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString()
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '')
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2) + 'Z')) : tlv(0x18, Buffer.from(digits + 'Z'))
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value))
}

function spki(key: IssuedKey): Buffer {
  return key.publicKey.export({type: 'spki', format: 'der'})
}

function keyId(key: IssuedKey): Buffer {
  return createHash('sha1').update(spki(key)).digest()
}
