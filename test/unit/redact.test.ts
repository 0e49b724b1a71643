import {describe, expect, it} from 'vitest'

import {parseConfigDump} from '../../src/lib/envoy/configdump.js'
import {REDACTED, redactConfigDump, redactionNote, redactKeyMaterial} from '../../src/lib/envoy/redact.js'
import {ENVOY_REDACTED_BYTES, HOSTILE_DUMP_KEYS, hostileDump, PRIVATE_KEY_B64} from '../fixtures/hostile/payloads.js'

describe('redactKeyMaterial', () => {
  it('replaces inline key material under private_key, password, generic_secret and session_ticket_keys, snake and camel case', () => {
    const value = {
      tls_certificate: {certificate_chain: {inline_bytes: 'CERT'}, private_key: {inline_bytes: PRIVATE_KEY_B64}, password: {inline_string: 'pw'}},
      tlsCertificates: [{privateKey: {inlineString: 'k'}}, {privateKey: {inlineSecret: 's'}}],
      genericSecret: {secret: {inlineBytes: 'aG1hYw=='}},
      session_ticket_keys: {keys: [{inline_bytes: 'a'}, {filename: '/etc/ticket'}]},
    }
    const {value: redacted, count} = redactKeyMaterial(value)
    expect(count).toBe(6)
    expect(redacted).toEqual({
      tls_certificate: {certificate_chain: {inline_bytes: 'CERT'}, private_key: {inline_bytes: REDACTED}, password: {inline_string: REDACTED}},
      tlsCertificates: [{privateKey: {inlineString: REDACTED}}, {privateKey: {inlineSecret: REDACTED}}],
      genericSecret: {secret: {inlineBytes: REDACTED}},
      session_ticket_keys: {keys: [{inline_bytes: REDACTED}, {filename: '/etc/ticket'}]},
    })
    // The input is left alone.
    expect(value.tls_certificate.private_key.inline_bytes).toBe(PRIVATE_KEY_B64)
  })

  it('keeps what Envoy already redacted, uncounted, and returns the very same object when nothing changed', () => {
    const envoy = {secret: {tls_certificate: {private_key: {inline_bytes: ENVOY_REDACTED_BYTES}}, other: {private_key: {inline_string: '[redacted]'}}}}
    const result = redactKeyMaterial(envoy)
    expect(result.count).toBe(0)
    expect(result.value).toBe(envoy)
  })

  it('leaves certificates, trusted CAs and inline values elsewhere alone', () => {
    const value = {validation_context: {trusted_ca: {inline_bytes: 'CA'}}, direct_response: {body: {inline_string: 'hello'}}}
    expect(redactKeyMaterial(value)).toEqual({value, count: 0})
  })

  it('a whole config dump: every key, and the dump unchanged when it holds none', () => {
    const dump = parseConfigDump(JSON.stringify(hostileDump()), 'hostile.json')
    const {value, count} = redactConfigDump(dump)
    expect(count).toBe(HOSTILE_DUMP_KEYS)
    expect(JSON.stringify(value.raw)).not.toContain(PRIVATE_KEY_B64)
    expect(value.sections.get('Clusters')).toBeDefined()
    expect(redactConfigDump(value).value).toBe(value)
  })

  it('says how many', () => {
    expect(redactionNote(1)).toMatch(/^redacted 1 private key \(/)
    expect(redactionNote(3)).toMatch(/^redacted 3 private keys \(/)
  })
})
