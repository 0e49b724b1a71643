/**
 * Meanings of the three access-log fields that say why a request ended the way it did:
 * `%RESPONSE_FLAGS%`, `%RESPONSE_CODE_DETAILS%` and `%UPSTREAM_TRANSPORT_FAILURE_REASON%`.
 * Short and long flag names follow Envoy's `ResponseFlagUtils` (source/common/stream_info/utility.h);
 * the flag set grows with Envoy releases, so anything unknown is reported, never fatal.
 */

export interface ResponseFlagInfo {
  /** The short form printed by `%RESPONSE_FLAGS%`, e.g. `UT`. */
  flag: string
  /** The PascalCase form printed by `%RESPONSE_FLAGS_LONG%`, e.g. `UpstreamRequestTimeout`. */
  longName: string
  /** What happened, in plain words. */
  meaning: string
  /** The status Envoy usually sends with this flag, when it sends one itself. */
  typicalCode?: number
  /** Which side of the proxy the trouble is on. */
  side: 'upstream' | 'downstream' | 'local'
}

const FLAGS: readonly ResponseFlagInfo[] = [
  {flag: 'UH', longName: 'NoHealthyUpstream', side: 'upstream', typicalCode: 503, meaning: 'no healthy upstream host in the cluster (usually: the cluster has no endpoints at all)'},
  {flag: 'UF', longName: 'UpstreamConnectionFailure', side: 'upstream', typicalCode: 503, meaning: 'the proxy could not connect to the upstream host (refused, timed out, or the TLS handshake failed)'},
  {flag: 'UO', longName: 'UpstreamOverflow', side: 'upstream', typicalCode: 503, meaning: 'circuit breaking: the cluster\'s connection or request limits were full'},
  {flag: 'NR', longName: 'NoRouteFound', side: 'local', typicalCode: 404, meaning: 'no route matched the request, or no filter chain matched the downstream connection'},
  {flag: 'URX', longName: 'UpstreamRetryLimitExceeded', side: 'upstream', meaning: 'the request was retried and every attempt failed (HTTP retry limit or TCP max connect attempts reached)'},
  {flag: 'NC', longName: 'NoClusterFound', side: 'local', typicalCode: 503, meaning: 'the route points at a cluster the proxy does not have'},
  {flag: 'DT', longName: 'DurationTimeout', side: 'local', meaning: 'the request or connection lived longer than max_stream_duration / max_connection_duration / max_downstream_connection_duration'},
  {flag: 'DC', longName: 'DownstreamConnectionTermination', side: 'downstream', meaning: 'the downstream (calling) side closed the connection before the exchange finished'},
  {flag: 'LH', longName: 'FailedLocalHealthCheck', side: 'local', typicalCode: 503, meaning: 'the local service failed its health check'},
  {flag: 'UT', longName: 'UpstreamRequestTimeout', side: 'upstream', typicalCode: 504, meaning: 'the upstream did not answer within the route timeout'},
  {flag: 'LR', longName: 'LocalReset', side: 'local', typicalCode: 503, meaning: 'the proxy reset the stream itself'},
  {flag: 'UR', longName: 'UpstreamRemoteReset', side: 'upstream', typicalCode: 503, meaning: 'the upstream reset the stream'},
  {flag: 'UC', longName: 'UpstreamConnectionTermination', side: 'upstream', typicalCode: 503, meaning: 'the upstream closed the connection while the request was in flight'},
  {flag: 'DI', longName: 'DelayInjected', side: 'local', meaning: 'fault injection delayed the request'},
  {flag: 'FI', longName: 'FaultInjected', side: 'local', meaning: 'fault injection aborted the request'},
  {flag: 'RL', longName: 'RateLimited', side: 'local', typicalCode: 429, meaning: 'a rate limit rejected the request'},
  {flag: 'UAEX', longName: 'UnauthorizedExternalService', side: 'local', typicalCode: 403, meaning: 'the external authorization service denied the request'},
  {flag: 'RLSE', longName: 'RateLimitServiceError', side: 'local', meaning: 'the rate-limit service failed, and the request was rejected because of it'},
  {flag: 'IH', longName: 'InvalidEnvoyRequestHeaders', side: 'downstream', typicalCode: 400, meaning: 'the request carried an invalid value in a strictly checked x-envoy-* header'},
  {flag: 'SI', longName: 'StreamIdleTimeout', side: 'local', meaning: 'the stream was idle for longer than the stream idle timeout (408 or 504)'},
  {flag: 'DPE', longName: 'DownstreamProtocolError', side: 'downstream', meaning: 'the downstream request broke the HTTP protocol'},
  {flag: 'UPE', longName: 'UpstreamProtocolError', side: 'upstream', meaning: 'the upstream response broke the HTTP protocol'},
  {flag: 'UMSDR', longName: 'UpstreamMaxStreamDurationReached', side: 'upstream', meaning: 'the upstream request reached its max stream duration'},
  {flag: 'RFCF', longName: 'ResponseFromCacheFilter', side: 'local', meaning: 'the response came from the HTTP cache filter, not from the upstream'},
  {flag: 'NFCF', longName: 'NoFilterConfigFound', side: 'local', typicalCode: 500, meaning: 'a filter\'s configuration (ECDS, e.g. a Wasm plugin) had not arrived in time'},
  {flag: 'OM', longName: 'OverloadManagerTerminated', side: 'local', meaning: 'the overload manager terminated the request (the proxy is short of memory or connections)'},
  {flag: 'DF', longName: 'DnsResolutionFailed', side: 'upstream', typicalCode: 503, meaning: 'DNS resolution of the upstream failed (dynamic forward proxy)'},
  {flag: 'DO', longName: 'DropOverload', side: 'upstream', typicalCode: 503, meaning: 'the request was dropped by the cluster\'s EDS drop_overloads setting'},
  {flag: 'DR', longName: 'DownstreamRemoteReset', side: 'downstream', meaning: 'the downstream reset the stream (e.g. an HTTP/2 RST_STREAM from the client)'},
  {flag: 'UDO', longName: 'UnconditionalDropOverload', side: 'upstream', typicalCode: 503, meaning: 'every request is dropped because drop_overloads is set to 100%'},
]

const BY_SHORT = new Map(FLAGS.map((info) => [info.flag, info]))
const BY_LONG = new Map(FLAGS.map((info) => [info.longName, info]))

/** Every response flag this version of meshdbg knows, in Envoy's documentation order. */
export const RESPONSE_FLAGS: readonly ResponseFlagInfo[] = FLAGS

export interface FlagLookup {
  flag: string
  known: boolean
  info?: ResponseFlagInfo
}

/** Looks a flag up by its short or long name; unknown flags come back with known: false. */
export function describeResponseFlag(flag: string): FlagLookup {
  const info = BY_SHORT.get(flag) ?? BY_LONG.get(flag)
  return info ? {flag: info.flag, known: true, info} : {flag, known: false}
}

/** `UT,URX` → ['UT', 'URX']; `-` and '' → []. */
export function splitResponseFlags(value: string | null | undefined): string[] {
  if (!value || value === '-') return []
  return value.split(',').map((flag) => flag.trim()).filter((flag) => flag !== '' && flag !== '-')
}

export interface DetailInfo {
  /** The value as logged, e.g. `upstream_reset_before_response_started{connection_termination}`. */
  value: string
  /** The part before `{` or `[`, e.g. `upstream_reset_before_response_started`. */
  base: string
  /** The text inside `{...}` or `[...]`, e.g. `connection_termination` or a policy name. */
  argument?: string
  known: boolean
  meaning: string
}

const DETAILS: Record<string, string> = {
  via_upstream: 'the upstream application sent this response itself; the proxy only passed it on',
  response_timeout: 'the proxy gave up waiting for the upstream: the route timeout expired',
  upstream_per_try_timeout: 'one attempt timed out (the per-try timeout of the retry policy)',
  upstream_reset_before_response_started: 'the upstream connection or stream was reset before any response arrived',
  upstream_reset_after_response_started: 'the upstream connection or stream was reset in the middle of the response',
  upstream_response_timeout: 'the upstream did not answer in time',
  route_not_found: 'no route matched the request\'s host and path',
  cluster_not_found: 'the matching route names a cluster the proxy does not have',
  filter_chain_not_found: 'no listener filter chain matched the connection (wrong port, SNI, ALPN or TLS mode)',
  no_healthy_upstream: 'the cluster has no healthy endpoint',
  maintenance_mode: 'the cluster is in maintenance mode (runtime upstream.maintenance_mode)',
  overload_manager: 'the overload manager rejected the request',
  direct_response: 'a route answered directly (direct_response), without an upstream',
  downstream_remote_disconnect: 'the downstream client closed the connection before the response was complete',
  downstream_local_disconnect: 'the proxy closed the downstream connection',
  downstream_remote_reset: 'the downstream client reset the stream',
  stream_idle_timeout: 'the stream sat idle for longer than the stream idle timeout',
  request_overall_timeout: 'the whole request took longer than the connection manager\'s request_timeout',
  request_headers_timeout: 'the request headers did not arrive within request_headers_timeout',
  max_duration_timeout: 'the stream reached its max_stream_duration',
  duration_timeout: 'the connection reached its maximum duration',
  rbac_access_denied_matched_policy: 'an AuthorizationPolicy (Envoy RBAC filter) denied the request',
  ext_authz_denied: 'the external authorization service said no',
  ext_authz_error: 'the external authorization service could not be reached or failed',
  jwt_authn_access_denied: 'JWT authentication (RequestAuthentication) rejected the token',
  request_rate_limited: 'a rate limit rejected the request',
  local_rate_limited: 'the local rate limit rejected the request',
  rate_limit_error: 'the rate-limit service failed',
  fault_filter_abort: 'fault injection aborted the request',
  fault_filter_delay_injected: 'fault injection delayed the request',
  upstream_max_stream_duration_reached: 'the upstream stream reached its max duration',
  upstream_retry_limit_exceeded: 'every retry failed',
  internal_redirect: 'the request was redirected internally',
  admin_filter_response: 'the admin interface answered',
  missing_host_header: 'the request had no Host header',
  absolute_path_rejected: 'the request used an absolute URL, which this listener rejects',
  path_normalization_failed: 'the path could not be normalised',
  invalid_envoy_request_headers: 'an x-envoy-* request header had an invalid value',
  http1_codec_error: 'the HTTP/1 request was malformed',
  http2_codec_error: 'the HTTP/2 request was malformed',
  codec_error: 'the request was malformed',
  'http1.codec_error': 'the HTTP/1 request was malformed',
  'http2.codec_error': 'the HTTP/2 request was malformed',
  early_upstream_reset: 'the upstream reset the stream before the request was complete',
  lua_response: 'a Lua filter answered',
  wasm_fail_stream: 'a Wasm plugin failed and closed the stream',
  filter_config_not_found: 'a filter\'s configuration (ECDS) was missing',
  cluster_not_ready: 'the cluster was still warming up',
  dns_resolution_failure: 'DNS resolution of the upstream failed',
  drop_overload: 'the request was dropped by the cluster\'s drop_overloads setting',
}

/**
 * `%RESPONSE_CODE_DETAILS%` values are `name`, `name{argument}` or `name[argument]`; Envoy replaces
 * spaces with underscores in them.
 */
export function describeResponseCodeDetails(value: string): DetailInfo {
  const match = /^([^{[]+)(?:[{[](.*)[}\]])?$/.exec(value)
  const base = match ? match[1] : value
  const argument = match?.[2]
  const meaning = DETAILS[base]
  if (meaning) return {value, base, argument, known: true, meaning}
  if (base.startsWith('upstream_reset')) return {value, base, argument, known: true, meaning: 'the upstream connection or stream was reset'}
  if (base.startsWith('rbac_access_denied')) return {value, base, argument, known: true, meaning: DETAILS.rbac_access_denied_matched_policy}
  if (base.startsWith('ext_authz')) return {value, base, argument, known: true, meaning: 'the external authorization filter stopped the request'}
  return {value, base, argument, known: false, meaning: `unrecognised details "${value}" (see Envoy's response_code_details reference)`}
}

export interface TransportFailureInfo {
  value: string
  meaning: string
  /** True for TLS handshake and certificate failures: look at mTLS settings. */
  tls: boolean
}

/** `%UPSTREAM_TRANSPORT_FAILURE_REASON%`: why the upstream connection could not be used. */
export function describeTransportFailure(value: string): TransportFailureInfo {
  const lower = value.toLowerCase()
  const tls = /tls|ssl|certificate|cert_|handshake|alert|verify|san|wrong_version_number|x509/.test(lower)
  let meaning: string
  if (lower.includes('connection refused') || lower.includes('delayed_connect_error:_111') || lower.includes('connect_error:_111')) {
    meaning = 'the upstream refused the connection: nothing listens on that port (app not ready, wrong targetPort)'
  } else if (lower.includes('connection timeout') || lower.includes('timed out')) {
    meaning = 'the upstream did not accept the connection in time (network policy, firewall, dead pod)'
  } else if (lower.includes('connection termination') || lower.includes('connection reset') || lower.includes('remote_connection_failure')) {
    meaning = 'the upstream closed or reset the connection while it was being set up'
  } else if (lower.includes('certificate_verify_failed') || lower.includes('verify')) {
    meaning = 'TLS: the upstream\'s certificate was not trusted, or its SAN did not match (different root CA, wrong DestinationRule subjectAltNames)'
  } else if (lower.includes('wrong_version_number') || lower.includes('http_request')) {
    meaning = 'TLS: the proxy spoke TLS but the upstream answered in plaintext (DestinationRule tls mode vs a server without a sidecar)'
  } else if (lower.includes('alert') || lower.includes('handshake')) {
    meaning = 'TLS: the handshake failed (mTLS mode mismatch, expired or missing certificate)'
  } else if (tls) {
    meaning = 'TLS: the secure connection to the upstream failed'
  } else {
    meaning = `the upstream connection failed: ${value}`
  }
  return {value, meaning, tls}
}
