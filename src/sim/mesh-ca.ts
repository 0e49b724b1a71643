// The simulated mesh CA: istiod's self-signed root (O=<trust domain>, ten years, as Istio's
// DefaultSelfSignedCACertTTL in security/pkg/pki/ca/ca.go) and one workload certificate per proxy
// with the SPIFFE identity of its service account (URI SAN spiffe://<trust domain>/ns/<ns>/sa/<sa>,
// empty subject, as security/pkg/pki/util/generate_csr.go and the CA's signing produce). Issued on
// request from fixed seeds (src/sim/x509-issue.ts), so the same scenario serves the same bytes.
//
// Scenario knob, per proxy in the Simulation section: `certificate: {notAfter: "+20h"}` (times
// relative to the scenario's start, or RFC 3339), `notBefore`, `root: other` (a different root, as
// a pod of another mesh or a half-done root rotation), `intermediate: true` (a plugged-in CA: the
// chain is leaf, intermediate, root).
import {createHash} from 'node:crypto'

import type {Scenario, SimPod} from './model.js'
import {issueCertificate, keyFromSeed, type NameAttribute} from './x509-issue.js'

export interface CertificateKnob {
  /** `+20h`, `-1h`, `+3d`, `30m` relative to the scenario's start, or an RFC 3339 time. */
  notBefore?: string
  notAfter?: string
  /** Name of the root CA that (indirectly) signs it; default `mesh`, the root every other proxy trusts. */
  root?: string
  /** Signed by an intermediate CA under the root, which the chain then carries. */
  intermediate?: boolean
}

export interface ProxyCertificates {
  leaf: string
  /** The first trusted root (what Envoy's /certs shows as ca_cert). */
  root: string
  /** The `default` secret's certificate_chain: leaf, intermediate when there is one, root. */
  chain: string
  /** The `ROOTCA` secret's trusted_ca. */
  roots: string
}

const DAY = 86_400_000
// The simulator's defaults: long-lived, so tests never see them expire; a knob makes them short.
const ROOT_VALIDITY = 3650 * DAY
const WORKLOAD_VALIDITY = 3649 * DAY

function instant(text: string | undefined, start: number): number | undefined {
  if (text === undefined) return undefined
  const relative = /^([+-]?)(\d+)([smhd])$/.exec(text.trim())
  if (relative) {
    const unit = {s: 1000, m: 60_000, h: 3_600_000, d: DAY}[relative[3] as 's' | 'm' | 'h' | 'd']
    return start + (relative[1] === '-' ? -1 : 1) * Number(relative[2]) * unit
  }
  const absolute = Date.parse(text)
  if (Number.isNaN(absolute)) throw new Error(`certificate time "${text}": use +20h, -1h, 3d or an RFC 3339 time`)
  return absolute
}

const serialOf = (seed: string) => createHash('sha256').update(seed).digest('hex').slice(0, 32).replace(/^[89a-f]/, (digit) => String(Number.parseInt(digit, 16) - 8))

// Issuing takes milliseconds (key derivation, signatures) and every config_dump and /certs answer
// needs it: results are memoised by every input they depend on, so a cached entry is exactly what
// issuing again would give (bounded: cleared when full).
const issued = new Map<string, ProxyCertificates>()
const MAX_ISSUED = 4096

/** The certificates one proxy's SDS secrets carry. */
export function proxyCertificates(pod: SimPod, scenario: Scenario): ProxyCertificates {
  const knob = scenario.live?.proxies[`${pod.name}.${pod.namespace}`]?.certificate ?? scenario.live?.proxies[pod.name]?.certificate ?? {}
  const key = JSON.stringify([pod.namespace, pod.name, pod.serviceAccount, scenario.now, scenario.meshConfig.trustDomain, knob])
  let certificates = issued.get(key)
  if (certificates === undefined) {
    if (issued.size >= MAX_ISSUED) issued.clear()
    certificates = issue(pod, scenario, knob)
    issued.set(key, certificates)
  }
  return certificates
}

function issue(pod: SimPod, scenario: Scenario, knob: CertificateKnob): ProxyCertificates {
  const start = Date.parse(scenario.now)
  const trustDomain = scenario.meshConfig.trustDomain
  const rootName = knob.root ?? 'mesh'
  const rootSubject: Array<[NameAttribute, string]> = rootName === 'mesh' ? [['O', trustDomain]] : [['O', trustDomain], ['CN', rootName]]
  const root = {subject: rootSubject, key: keyFromSeed(`sim root ${trustDomain} ${rootName}`)}
  const rootStart = start - DAY
  const rootPem = issueCertificate({serial: serialOf(`root ${rootName}`), notBefore: new Date(rootStart), notAfter: new Date(rootStart + ROOT_VALIDITY), ca: true, ...root})
  let issuer = root
  let intermediatePem = ''
  if (knob.intermediate) {
    issuer = {subject: [['O', trustDomain], ['CN', `${rootName} intermediate`]], key: keyFromSeed(`sim intermediate ${trustDomain} ${rootName}`)}
    intermediatePem = issueCertificate({serial: serialOf(`intermediate ${rootName}`), notBefore: new Date(rootStart), notAfter: new Date(rootStart + ROOT_VALIDITY - DAY), ca: true, ...issuer, issuer: root})
  }
  const notAfter = instant(knob.notAfter, start) ?? start - 3_600_000 + WORKLOAD_VALIDITY
  // Istio's workload TTL is 24 h: a knob that sets only the end keeps that lifetime.
  const notBefore = instant(knob.notBefore, start) ?? (knob.notAfter === undefined ? start - 3_600_000 : notAfter - DAY)
  const identity = `spiffe://${trustDomain}/ns/${pod.namespace}/sa/${pod.serviceAccount}`
  const leaf = issueCertificate({serial: serialOf(`leaf ${pod.namespace}/${pod.name} ${notBefore} ${notAfter} ${rootName}`), notBefore: new Date(notBefore), notAfter: new Date(notAfter),
    subject: [], key: keyFromSeed(`sim workload ${identity}`), issuer, uris: [identity]})
  return {leaf, root: rootPem, chain: leaf + intermediatePem + rootPem, roots: rootPem}
}
