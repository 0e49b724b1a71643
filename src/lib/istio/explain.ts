import type {AccessLogEntry} from '../envoy/access-log.js'
import {parseSubsetKey} from '../envoy/istio-names.js'
import {describeResponseCodeDetails, describeResponseFlag, describeTransportFailure} from '../envoy/response-flags.js'
import {shellArg} from '../render/shell-quote.js'

/**
 * Turns one access-log entry into plain words: what happened, why (one cause per flag and per
 * detail field), and which meshdbg command to run next. Pure: the pod and namespace used in the
 * suggested commands come from the caller (or from a `kubectl logs --prefix` decoration).
 */

export interface ExplainCause {
  /** The response flag this cause comes from. */
  flag?: string
  /** The field value this cause comes from (response code details, transport failure, termination). */
  detail?: string
  meaning: string
}

export interface Explanation {
  summary: string
  causes: ExplainCause[]
  /** Commands to run next, each `command  # why`. */
  next: string[]
}

export interface ExplainOptions {
  /** The pod (or workload) that wrote the line, used in suggested commands. */
  pod?: string
  namespace?: string
}

interface Upstream {
  /** `catalog v2 at 10.10.0.13:3000`, `the local app on port 3000`, ... */
  words: string
  /** `catalog.istioinaction.svc.cluster.local` for outbound clusters. */
  fqdn?: string
  service?: string
  namespace?: string
  subset?: string
  direction?: string
}

/** Milliseconds in the words people use: 501 → "0.5 s", 30 → "30 ms". */
export function formatSeconds(ms: number): string {
  if (ms < 100) return `${ms} ms`
  return `${Number((ms / 1000).toFixed(1))} s`
}

function subsetWords(subset: string): string {
  const version = /^(?:version-)?(v\d[\w.-]*)$/i.exec(subset)
  return version ? version[1] : `(subset ${subset})`
}

export function describeUpstream(entry: AccessLogEntry): Upstream {
  const cluster = entry.upstreamCluster ?? ''
  // Waypoints reach pods through an internal HBONE listener: envoy://connect_originate/<pod ip:port>.
  const host = entry.upstreamHost?.replace(/^envoy:\/\/connect_originate\//, '')
  const at = host ? ` at ${host}` : ''
  if (cluster === 'BlackHoleCluster') return {words: 'BlackHoleCluster (the mesh blocks destinations outside its registry: outboundTrafficPolicy REGISTRY_ONLY)'}
  if (cluster === 'PassthroughCluster') return {words: `a destination outside the mesh registry (PassthroughCluster)${at}`}
  if (cluster.startsWith('InboundPassthroughCluster')) return {words: `the local app${at} (inbound passthrough)`, direction: 'inbound'}
  const key = parseSubsetKey(cluster)
  if (key && key.direction === 'inbound' && !key.hostname) {
    return {words: `the local app on port ${key.port}`, direction: 'inbound'}
  }
  if (key && key.hostname) {
    const labels = key.hostname.split('.')
    const kube = key.hostname.endsWith('.svc.cluster.local') || /\.svc(\.|$)/.test(key.hostname)
    const service = kube ? labels[0] : key.hostname
    const namespace = kube ? labels[1] : undefined
    const direction = key.direction
    // Waypoint clusters carry `protocol` or `protocol/subset` where sidecar clusters carry the subset.
    const subset = direction === 'inbound-vip' ? key.subset.split('/')[1] ?? '' : key.subset
    const name = subset ? `${service} ${subsetWords(subset)}` : service
    const where = direction === 'inbound-vip' ? ' (through the waypoint)' : direction === 'inbound' ? ' (the local app)' : ''
    return {words: `${name}${at}${where}`, fqdn: key.hostname, service, namespace, subset: subset || undefined, direction}
  }
  if (cluster) return {words: `${cluster}${at}`}
  if (host) return {words: host}
  return {words: 'the upstream'}
}

/** The pod's name as data (unquoted), or undefined when neither the caller nor the line says. */
function podOf(entry: AccessLogEntry, options: ExplainOptions): string | undefined {
  if (options.pod) return options.pod
  // `pod/name/container` from kubectl --prefix
  const source = entry.source?.split('/')
  if (source && source.length >= 2 && source[0] === 'pod') return source[1]
  return undefined
}

function portOf(address: string | null): string | undefined {
  if (!address) return undefined
  const match = /:(\d+)$/.exec(address)
  return match?.[1]
}

function has(entry: AccessLogEntry, flag: string): boolean {
  return entry.responseFlags.includes(flag)
}

function detailBase(entry: AccessLogEntry): string | undefined {
  return entry.responseCodeDetails ? describeResponseCodeDetails(entry.responseCodeDetails).base : undefined
}

function request(entry: AccessLogEntry): string {
  if (entry.kind === 'tcp') return 'the connection'
  return [entry.method, entry.path].filter(Boolean).join(' ') || 'the request'
}

export function explainEntry(entry: AccessLogEntry, options: ExplainOptions = {}): Explanation {
  const causes = collectCauses(entry)
  const next = new Set<string>()
  const pod = podOf(entry, options) ?? ''
  // Every argument below that comes from the line (or a flag) goes through shellArg; placeholders
  // such as <pod> and <route> stay readable: they are meant to be replaced, not pasted.
  const podArg = shellArg(pod, '<pod>') + (options.namespace ? ` -n ${shellArg(options.namespace, '<namespace>')}` : '')
  const meshdbg = (command: string, why: string) => next.add(`meshdbg ${command.replace('<pod>', () => podArg)}  # ${why}`)
  const kubectl = (command: string, why: string) => next.add(`kubectl ${command}  # ${why}`)
  const upstream = describeUpstream(entry)
  const details = detailBase(entry)
  const code = entry.responseCode
  const duration = entry.durationMs === null ? undefined : formatSeconds(entry.durationMs)
  const port = portOf(entry.downstreamLocalAddress)
  const clusterName = entry.upstreamCluster
  const fqdnArgs = upstream.fqdn ? ` --fqdn ${shellArg(upstream.fqdn, '<fqdn>')}` : ''
  const summaries: string[] = []

  const timedOut = has(entry, 'UT') || details === 'response_timeout'
  const clientLeft = (has(entry, 'DC') || details === 'downstream_remote_disconnect' || has(entry, 'DR')) && code === 0
  const filterChain = details === 'filter_chain_not_found' || (entry.kind === 'tcp' && has(entry, 'NR'))

  if (filterChain) {
    summaries.push('a connection arrived that no listener filter chain accepts: most often a plaintext client (no sidecar) calling a workload whose PeerAuthentication is STRICT, which only accepts mTLS')
    kubectl('get peerauthentication -A', 'STRICT here, PERMISSIVE for this workload or namespace fixes plaintext clients')
    meshdbg('proxy-config listener <pod> --port 15006', 'the inbound filter chains and the TLS they require')
  }
  if (timedOut) {
    const after = duration ? ` after ${duration}` : ''
    const who = /gateway/.test(pod) ? 'the gateway' : 'the proxy'
    summaries.push(`${who} timed out${after} waiting for ${upstream.words}${code ? ` and answered ${code} itself` : ''}: the route timeout (VirtualService timeout) expired before the upstream answered`)
    meshdbg('proxy-config route <pod> --name <route> -o json', `the timeout of the route${port ? ` for port ${port} (sidecars name it "${port}", gateways "http.${port}")` : ''}`)
    meshdbg('access-log <pod> --summary', 'is one upstream host slower than its peers?')
  }
  if (clientLeft) {
    const after = duration ? ` after ${duration}` : ''
    summaries.push(`the client went away: the caller closed the connection${after} before ${upstream.direction === 'inbound' ? 'the app' : upstream.words} answered, so nothing was sent back (code 0). Usually the caller gave up first, e.g. a gateway or client timeout`)
    if (entry.requestId) kubectl(`logs <caller-pod> -c istio-proxy | grep ${shellArg(entry.requestId, '<request-id>')}`, 'the caller\'s side of the same request (expect 504 UT there)')
    else meshdbg('access-log <caller-pod> --flags UT', 'the caller\'s timeouts')
  } else if (has(entry, 'DC') || has(entry, 'DR')) {
    summaries.push(`the client closed the connection before the exchange finished (response ${code})`)
  }
  if (has(entry, 'UAEX') || details?.startsWith('ext_authz')) {
    summaries.push(`the external authorizer (CUSTOM AuthorizationPolicy) denied ${request(entry)}${code ? ` with ${code}` : ''}`)
  }
  if (details?.startsWith('rbac_access_denied')) {
    const policy = entry.responseCodeDetails ? describeResponseCodeDetails(entry.responseCodeDetails).argument : undefined
    const why = policy === 'none' || policy === undefined
      ? 'no ALLOW policy matched it (once any ALLOW policy applies to a workload, everything else is denied)'
      : `policy ${policyWords(policy)} matched it (DENY policies are checked before ALLOW)`
    summaries.push(`an AuthorizationPolicy denied ${request(entry)}${code ? ` (${code})` : ''}: ${why}`)
  }
  if (has(entry, 'UAEX') || details?.startsWith('rbac_access_denied') || details?.startsWith('ext_authz')) {
    meshdbg('authz <pod>', 'the policies applied to this workload, in evaluation order CUSTOM, DENY, ALLOW')
    meshdbg('log <pod> --level rbac:debug', 'then repeat the request: the proxy logs which policy matched')
  }
  if (details === 'jwt_authn_access_denied') {
    const reason = describeResponseCodeDetails(entry.responseCodeDetails ?? '').argument
    summaries.push(`the JWT was rejected${reason ? `: ${reason.replace(/_/g, ' ')}` : ''} (RequestAuthentication)`)
    kubectl('get requestauthentication -A -o yaml', 'the issuers and JWKS this workload accepts')
    meshdbg('log <pod> --level jwt:debug', 'then repeat the request: the proxy logs why the token failed')
  }
  if (has(entry, 'NR') && !filterChain) {
    summaries.push(`no route matched ${entry.authority ?? 'the host'}${entry.path ? ` ${entry.path}` : ''}: no VirtualService or Gateway route serves this host and path on this proxy`)
    meshdbg(`proxy-config listener <pod>${port ? ` --port ${port}` : ''}`, 'the listener that took the request')
    meshdbg(`proxy-config route <pod>${port ? ` --name <route>` : ''}`, `is there a virtual host for ${entry.authority ?? 'the :authority'}?`)
  }
  if (has(entry, 'NC') || details === 'cluster_not_found') {
    summaries.push(`the route sends traffic to a cluster this proxy does not have${clusterName ? ` (${clusterName})` : ''}: typically a VirtualService subset that no DestinationRule defines`)
    // Envoy often logs no upstream cluster for NC: the route says which one it wanted.
    meshdbg('proxy-config route <pod> --name <route> -o json', 'the cluster the route sends to')
    meshdbg(`proxy-config cluster <pod>${fqdnArgs}`, 'which subsets exist')
    if (upstream.namespace) kubectl(`get destinationrule -n ${shellArg(upstream.namespace, '<namespace>')}`, `does one define the subset${upstream.subset ? ` ${upstream.subset}` : ''}?`)
  }
  if (has(entry, 'UH') || details === 'no_healthy_upstream') {
    summaries.push(`no healthy endpoint for ${upstream.words}: usually no ready pod matches the service (or subset) at all`)
    meshdbg(`proxy-config cluster <pod>${fqdnArgs}`, 'the cluster exists?')
    if (clusterName) meshdbg(`proxy-config endpoint <pod> --cluster ${shellArg(clusterName, '<cluster>')}`, 'its endpoints and their health')
    if (upstream.service && upstream.namespace) kubectl(`get endpoints ${shellArg(upstream.service, '<service>')} -n ${shellArg(upstream.namespace, '<namespace>')}`, 'ready pods behind the service')
  }
  if (has(entry, 'UF')) {
    const reason = entry.upstreamTransportFailureReason ? describeTransportFailure(entry.upstreamTransportFailureReason) : undefined
    summaries.push(`the proxy could not connect to ${upstream.words}${reason ? `: ${reason.meaning}` : ''}`)
    if (clusterName) meshdbg(`proxy-config endpoint <pod> --cluster ${shellArg(clusterName, '<cluster>')}`, 'is the endpoint healthy and on the right port?')
    meshdbg(`proxy-config cluster <pod>${fqdnArgs} -o json`, 'the TLS settings used towards it (DestinationRule tls mode)')
  }
  if (has(entry, 'UO')) {
    summaries.push(`circuit breaking: the connection pool towards ${upstream.words} was full`)
    meshdbg(`proxy-config cluster <pod>${fqdnArgs} -o json`, 'circuitBreakers thresholds (DestinationRule connectionPool)')
  }
  if (has(entry, 'URX')) {
    summaries.push(`every retry towards ${upstream.words} failed`)
    meshdbg('proxy-config route <pod> --name <route> -o json', 'the retry policy (VirtualService retries)')
  }
  if (has(entry, 'UC') || details === 'upstream_reset_before_response_started') {
    const arg = entry.responseCodeDetails ? describeResponseCodeDetails(entry.responseCodeDetails).argument : undefined
    summaries.push(`${upstream.words} closed or reset the connection before answering${arg ? ` (${arg.replace(/_/g, ' ')})` : ''}: often a keep-alive race, the app idles connections out sooner than the proxy`)
    meshdbg(`proxy-config cluster <pod>${fqdnArgs} -o json`, 'the idle timeout (DestinationRule connectionPool.http.idleTimeout): keep it below the app\'s keep-alive')
  } else if (has(entry, 'UR')) {
    summaries.push(`${upstream.words} reset the stream`)
  }
  if (has(entry, 'LR')) summaries.push('the proxy reset the stream itself')
  if (has(entry, 'RL')) {
    summaries.push(`a rate limit rejected ${request(entry)}`)
    meshdbg('proxy-config listener <pod> -o json', 'the local_ratelimit / ratelimit filters')
  }
  if (has(entry, 'DI') || has(entry, 'FI')) {
    summaries.push(`fault injection ${has(entry, 'FI') ? 'aborted' : 'delayed'} ${request(entry)} on purpose`)
    kubectl('get virtualservice -A -o yaml', 'look for a fault: section')
  }
  if (has(entry, 'NFCF')) summaries.push('a filter configuration (ECDS, e.g. a WasmPlugin) had not arrived in time')
  if (has(entry, 'SI')) summaries.push(`the stream to ${upstream.words} sat idle past the stream idle timeout`)

  if (summaries.length === 0) {
    const unknown = entry.responseFlags.filter((flag) => !describeResponseFlag(flag).known)
    if (details === 'via_upstream' || (entry.responseFlags.length === 0 && code > 0)) {
      const took = duration ? ` in ${duration}` : ''
      summaries.push(code >= 400
        ? `${upstream.words} answered ${code} itself${took}: the application returned the error, the mesh only passed it on`
        : `OK: ${upstream.words} answered ${code}${took}`)
      if (code >= 500 && upstream.service && upstream.namespace) kubectl(`logs -n ${shellArg(upstream.namespace, '<namespace>')} -l ${shellArg(`app=${upstream.service}`, 'app=<service>')}`, 'the application\'s own logs')
    } else if (entry.kind === 'tcp' && entry.responseFlags.length === 0) {
      summaries.push(`a TCP connection to ${upstream.words}${duration ? ` lasted ${duration}` : ''} and closed normally`)
    } else if (unknown.length > 0) {
      summaries.push(`response ${code} with flag${unknown.length > 1 ? 's' : ''} ${unknown.join(',')} that this meshdbg does not know (newer Envoy?)`)
    } else {
      summaries.push(causes.length > 0 ? `response ${code}: ${causes[0].meaning}` : `response ${code}`)
    }
  }
  return {summary: capitalise(summaries.join('; ')), causes, next: [...next]}
}

function policyWords(policy: string): string {
  const match = /ns\[([^\]]+)\]-policy\[([^\]]+)\]-rule\[(\d+)\]/.exec(policy)
  return match ? `${match[2]} (namespace ${match[1]}, rule ${match[3]})` : policy
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function collectCauses(entry: AccessLogEntry): ExplainCause[] {
  const causes: ExplainCause[] = []
  for (const flag of entry.responseFlags) {
    const lookup = describeResponseFlag(flag)
    causes.push({flag, meaning: lookup.info ? `${lookup.info.longName}: ${lookup.info.meaning}` : 'unknown flag (newer Envoy than this meshdbg?)'})
  }
  if (entry.responseCodeDetails) {
    const info = describeResponseCodeDetails(entry.responseCodeDetails)
    causes.push({detail: entry.responseCodeDetails, meaning: info.meaning})
  }
  if (entry.connectionTerminationDetails) {
    causes.push({detail: entry.connectionTerminationDetails, meaning: `connection termination: ${entry.connectionTerminationDetails.replace(/_/g, ' ')}`})
  }
  if (entry.upstreamTransportFailureReason) {
    causes.push({detail: entry.upstreamTransportFailureReason, meaning: describeTransportFailure(entry.upstreamTransportFailureReason).meaning})
  }
  if (entry.responseCode === 0 && entry.kind === 'http') {
    causes.push({detail: 'response code 0', meaning: 'no response was sent downstream (the exchange ended before one existed)'})
  }
  return causes
}
