import {describe, expect, it} from 'vitest'

import {parseAccessLogLine} from '../../src/lib/envoy/access-log.js'
import {
  describeResponseCodeDetails,
  describeResponseFlag,
  describeTransportFailure,
  RESPONSE_FLAGS,
  splitResponseFlags,
} from '../../src/lib/envoy/response-flags.js'
import {explainEntry} from '../../src/lib/istio/explain.js'

/** Every short flag with its long name, as Envoy's ResponseFlagUtils lists them. */
const EXPECTED: Record<string, string> = {
  UH: 'NoHealthyUpstream',
  UF: 'UpstreamConnectionFailure',
  UO: 'UpstreamOverflow',
  NR: 'NoRouteFound',
  URX: 'UpstreamRetryLimitExceeded',
  NC: 'NoClusterFound',
  DT: 'DurationTimeout',
  DC: 'DownstreamConnectionTermination',
  LH: 'FailedLocalHealthCheck',
  UT: 'UpstreamRequestTimeout',
  LR: 'LocalReset',
  UR: 'UpstreamRemoteReset',
  UC: 'UpstreamConnectionTermination',
  DI: 'DelayInjected',
  FI: 'FaultInjected',
  RL: 'RateLimited',
  UAEX: 'UnauthorizedExternalService',
  RLSE: 'RateLimitServiceError',
  IH: 'InvalidEnvoyRequestHeaders',
  SI: 'StreamIdleTimeout',
  DPE: 'DownstreamProtocolError',
  UPE: 'UpstreamProtocolError',
  UMSDR: 'UpstreamMaxStreamDurationReached',
  RFCF: 'ResponseFromCacheFilter',
  NFCF: 'NoFilterConfigFound',
  OM: 'OverloadManagerTerminated',
  DF: 'DnsResolutionFailed',
  DO: 'DropOverload',
  DR: 'DownstreamRemoteReset',
  UDO: 'UnconditionalDropOverload',
}

/** A line in Istio's default TEXT format with the given code, flags and details. */
function textLine(code: number, flags: string, details: string): string {
  return `[2025-05-09T08:45:41.636Z] "GET /items HTTP/1.1" ${code} ${flags} ${details} - "-" 0 24 7 - "172.18.0.1" "curl/8.7.1" "req-${flags}" "catalog.istioinaction.svc.cluster.local:80" "10.10.0.13:3000" outbound|80|version-v2|catalog.istioinaction.svc.cluster.local 10.10.0.7:58078 10.96.0.20:80 10.10.0.7:61108 - default`
}

describe('response flags', () => {
  it('knows every current Envoy flag with its long name, and nothing twice', () => {
    expect(Object.fromEntries(RESPONSE_FLAGS.map((info) => [info.flag, info.longName]))).toEqual(EXPECTED)
    expect(new Set(RESPONSE_FLAGS.map((info) => info.flag)).size).toBe(RESPONSE_FLAGS.length)
  })

  for (const [flag, longName] of Object.entries(EXPECTED)) {
    it(`parses and explains a line carrying ${flag}`, () => {
      const parsed = parseAccessLogLine(textLine(503, flag, '-'))
      expect(parsed.ok).toBe(true)
      if (!parsed.ok) return
      expect(parsed.entry.responseFlags).toEqual([flag])
      const explanation = explainEntry(parsed.entry)
      const cause = explanation.causes.find((item) => item.flag === flag)
      expect(cause?.meaning).toContain(longName)
      expect(cause?.meaning).not.toContain('unknown')
      expect(explanation.summary.length).toBeGreaterThan(10)
    })
  }

  it('looks flags up by long name too', () => {
    expect(describeResponseFlag('UpstreamRequestTimeout')).toMatchObject({flag: 'UT', known: true})
  })

  it('reports an unknown flag as unknown instead of failing', () => {
    expect(describeResponseFlag('ZZ')).toEqual({flag: 'ZZ', known: false})
    const parsed = parseAccessLogLine(textLine(503, 'UH,ZZ', 'no_healthy_upstream'))
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    const explanation = explainEntry(parsed.entry)
    expect(explanation.causes.find((cause) => cause.flag === 'ZZ')?.meaning).toMatch(/unknown flag/)
    expect(explanation.summary).toMatch(/no healthy endpoint/i)
  })

  it('says so in the summary when the only flag is unknown', () => {
    const parsed = parseAccessLogLine(textLine(503, 'XYZ', '-'))
    if (!parsed.ok) throw new Error('expected a parsed line')
    expect(explainEntry(parsed.entry).summary).toMatch(/XYZ .*does not know/)
  })

  it('splits comma-separated flags and treats "-" as none', () => {
    expect(splitResponseFlags('UT,URX')).toEqual(['UT', 'URX'])
    expect(splitResponseFlags('-')).toEqual([])
    expect(splitResponseFlags(null)).toEqual([])
  })
})

describe('response code details', () => {
  it.each([
    ['via_upstream', /application sent this response itself/],
    ['response_timeout', /route timeout/],
    ['upstream_per_try_timeout', /per-try/],
    ['route_not_found', /no route/],
    ['cluster_not_found', /cluster the proxy does not have/],
    ['filter_chain_not_found', /filter chain/],
    ['downstream_remote_disconnect', /client closed/],
    ['no_healthy_upstream', /no healthy endpoint/],
    ['ext_authz_denied', /external authorization/],
  ])('%s', (value, meaning) => {
    expect(describeResponseCodeDetails(value)).toMatchObject({known: true, base: value})
    expect(describeResponseCodeDetails(value).meaning).toMatch(meaning)
  })

  it('splits the argument of {..} and [..] forms', () => {
    expect(describeResponseCodeDetails('upstream_reset_before_response_started{connection_termination}')).toMatchObject({
      base: 'upstream_reset_before_response_started',
      argument: 'connection_termination',
      known: true,
    })
    expect(describeResponseCodeDetails('rbac_access_denied_matched_policy[none]')).toMatchObject({base: 'rbac_access_denied_matched_policy', argument: 'none', known: true})
    expect(describeResponseCodeDetails('jwt_authn_access_denied{Jwt_issuer_is_not_configured}')).toMatchObject({base: 'jwt_authn_access_denied', argument: 'Jwt_issuer_is_not_configured'})
  })

  it('marks an unfamiliar value unknown without failing', () => {
    expect(describeResponseCodeDetails('something_new')).toMatchObject({known: false})
  })
})

describe('upstream transport failure reasons', () => {
  it('recognises TLS failures', () => {
    const info = describeTransportFailure('TLS_error:|268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end')
    expect(info.tls).toBe(true)
    expect(info.meaning).toMatch(/certificate was not trusted/)
    expect(describeTransportFailure('TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end').meaning).toMatch(/plaintext/)
  })

  it('recognises refused and terminated connections', () => {
    expect(describeTransportFailure('delayed_connect_error:_Connection_refused').meaning).toMatch(/refused/)
    expect(describeTransportFailure('connection termination')).toMatchObject({tls: false})
    expect(describeTransportFailure('connection termination').meaning).toMatch(/closed or reset/)
  })
})
