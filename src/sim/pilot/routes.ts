// RDS after pilot/pkg/networking/core/v1alpha3/httproute.go and route/route.go (Istio 1.17): per
// outbound HTTP port a RouteConfiguration named by the port with a virtual host per service
// (VirtualService routes when one binds to "mesh", the default route otherwise), and per gateway
// server port `http.<port>` with virtual hosts from the VirtualServices bound to that Gateway.
import type {IstioConfig, SimPod, SimService} from '../model.js'
import {subsetKey, configPath} from './clusters.js'
import {type PushContext, envoyDuration, fqdn, isHttp, resolveHost, sidecarScope, virtualServicesFor} from './context.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** route/retry/retry.go DefaultPolicy (what a route gets when the VirtualService sets no retries). */
export function defaultRetryPolicy(): J {
  return {retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', num_retries: 2,
    retry_host_predicate: [{name: 'envoy.retry_host_predicates.previous_hosts', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate'}}],
    host_selection_retry_max_attempts: '5', retriable_status_codes: [503]}
}

/** retry.go ConvertPolicy: attempts 0 disables retries; retryOn may carry status codes. */
export function retryPolicy(retries: J | undefined): J | undefined {
  if (!retries) return defaultRetryPolicy()
  if (!retries.attempts) return undefined
  const out: J = {...defaultRetryPolicy(), num_retries: Number(retries.attempts)}
  if (retries.retryOn) {
    const parts = String(retries.retryOn).split(',').map((p) => p.trim()).filter(Boolean)
    const codes = parts.filter((p) => /^\d+$/.test(p)).map(Number)
    let on = parts.filter((p) => !/^\d+$/.test(p)).join(',')
    if (codes.length && !on.includes('retriable-status-codes')) on += `${on ? ',' : ''}retriable-status-codes`
    out.retry_on = on
    out.retriable_status_codes = codes
  }
  if (retries.perTryTimeout) out.per_try_timeout = envoyDuration(retries.perTryTimeout)
  return out
}

/** route.go translateRouteMatch for the uri / headers / method matches the stories use. */
function routeMatch(m: J | undefined): J {
  const out: J = {}
  const uri = m?.uri as J | undefined
  if (uri?.exact !== undefined) out.path = uri.exact
  else if (uri?.regex !== undefined) out.safe_regex = {regex: uri.regex}
  else out.prefix = uri?.prefix ?? '/'
  out.case_sensitive = !(m?.ignoreUriCase === true)
  const headers = Object.entries((m?.headers ?? {}) as Record<string, J>).map(([name, v]) => ({name, string_match: v.exact !== undefined ? {exact: v.exact} : v.prefix !== undefined ? {prefix: v.prefix} : {safe_regex: {regex: v.regex}}}))
  if (m?.method) headers.push({name: ':method', string_match: m.method.exact !== undefined ? {exact: m.method.exact} : {prefix: m.method.prefix ?? ''}})
  if (headers.length) out.headers = headers
  return out
}

/** route.go GetDestinationCluster: the destination's port, else the only service port, else the listener port. */
function destinationCluster(ctx: PushContext, d: J, vs: IstioConfig, listenerPort: number): string {
  const host = resolveHost(String(d.host ?? ''), vs.metadata.namespace)
  const svc = ctx.services.find((s) => fqdn(s) === host)
  const port = d.port?.number ?? (svc?.ports.length === 1 ? svc.ports[0].port : listenerPort)
  return subsetKey('outbound', d.subset ?? '', host, Number(port))
}

/** route.go translateRoute + applyHTTPRouteDestination for one HTTP rule and one of its matches. */
export function translateRoute(ctx: PushContext, vs: IstioConfig, http: J, match: J | undefined, listenerPort: number): J | undefined {
  if (match?.port !== undefined && Number(match.port) !== listenerPort) return undefined
  const out: J = {match: routeMatch(match), metadata: {filter_metadata: {istio: {config: configPath(vs)}}}}
  const name = [http.name, match?.name].filter(Boolean).join('.')
  if (name) out.name = name
  if (http.redirect) {
    out.redirect = {...(http.redirect.authority ? {host_redirect: http.redirect.authority} : {}), ...(http.redirect.uri ? {path_redirect: http.redirect.uri} : {})}
  } else if (http.directResponse) {
    out.direct_response = {status: http.directResponse.status}
  } else {
    const timeout = envoyDuration(http.timeout) ?? '0s'
    const action: J = {timeout}
    const retry = retryPolicy(http.retries)
    if (retry) action.retry_policy = retry
    const dests = ((http.route as J[] | undefined) ?? []).filter((d) => d.weight || (http.route as J[]).length === 1)
    const weighted = dests.map((d) => ({name: destinationCluster(ctx, d.destination, vs, listenerPort), weight: d.weight || 100}))
    if (weighted.length === 1) action.cluster = weighted[0].name
    else action.weighted_clusters = {clusters: weighted, total_weight: weighted.reduce((n, w) => n + w.weight, 0)}
    if (http.rewrite?.uri) action.prefix_rewrite = http.rewrite.uri
    if (http.rewrite?.authority) action.host_rewrite_literal = http.rewrite.authority
    action.max_grpc_timeout = timeout
    out.route = action
  }
  if (http.fault) {
    const f: J = {'@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault'}
    if (http.fault.delay) f.delay = {fixed_delay: envoyDuration(http.fault.delay.fixedDelay), percentage: {numerator: Math.round((http.fault.delay.percentage?.value ?? 100) * 10000), denominator: 'MILLION'}}
    if (http.fault.abort) f.abort = {http_status: http.fault.abort.httpStatus, percentage: {numerator: Math.round((http.fault.abort.percentage?.value ?? 100) * 10000), denominator: 'MILLION'}}
    out.typed_per_filter_config = {'envoy.filters.http.fault': f}
  }
  // route.go getRouteOperation: host:port/path for one cluster, the VirtualService's name otherwise.
  const path = out.match.prefix !== undefined ? `${out.match.prefix}*` : out.match.path ?? out.match.safe_regex?.regex ?? '/*'
  const single = /^outbound\|(\d+)\|[^|]*\|(.+)$/.exec(out.route?.cluster ?? '')
  out.decorator = {operation: single ? `${single[2]}:${single[1]}${path}` : `${vs.metadata.name}:${listenerPort}${path}`}
  return out
}

/** httproute.go: every rule × match of a VirtualService, in order. */
export function virtualServiceRoutes(ctx: PushContext, vs: IstioConfig, listenerPort: number): J[] {
  return ((vs.spec.http as J[] | undefined) ?? []).flatMap((http) => {
    const matches = (http.match as J[] | undefined) ?? [undefined]
    return matches.map((m) => translateRoute(ctx, vs, http, m, listenerPort)).filter((r): r is J => r !== undefined)
  })
}

/** route.go BuildDefaultHTTPOutboundRoute. */
function defaultRoute(cluster: string, operation: string): J {
  return {name: 'default', match: {prefix: '/'}, route: {cluster, timeout: '0s', retry_policy: defaultRetryPolicy(), max_grpc_timeout: '0s'}, decorator: {operation}}
}

/** httproute.go generateVirtualHostDomains (1.17: FQDN, short forms for the proxy's namespace, the VIP). */
function serviceDomains(svc: SimService, port: number, proxyNamespace: string): string[] {
  const f = fqdn(svc)
  const withPort = (h: string) => [h, `${h}:${port}`]
  return [...withPort(f), ...(svc.namespace === proxyNamespace ? withPort(svc.name) : []), ...withPort(`${svc.name}.${svc.namespace}.svc`), ...withPort(`${svc.name}.${svc.namespace}`), ...withPort(svc.clusterIP)]
}

/** Sidecar outbound RDS: one RouteConfiguration per HTTP service port. */
export function sidecarRoutes(ctx: PushContext, proxy: SimPod): J[] {
  const visible = sidecarScope(ctx, proxy)
  const byPort = new Map<number, SimService[]>()
  for (const svc of ctx.services.filter(visible)) for (const p of svc.ports) if (isHttp(p)) byPort.set(p.port, [...(byPort.get(p.port) ?? []), svc])
  const meshVs = virtualServicesFor(ctx, 'mesh')
  return [...byPort].sort((a, b) => a[0] - b[0]).map(([port, svcs]) => ({
    name: String(port),
    virtual_hosts: [
      ...svcs.map((svc) => {
        const vs = meshVs.find((v) => ((v.spec.hosts as string[] | undefined) ?? []).some((h) => resolveHost(h, v.metadata.namespace) === fqdn(svc)))
        const routes = vs ? virtualServiceRoutes(ctx, vs, port) : [defaultRoute(subsetKey('outbound', '', fqdn(svc), port), `${fqdn(svc)}:${port}/*`)]
        return {name: `${fqdn(svc)}:${port}`, domains: serviceDomains(svc, port, proxy.namespace), routes, include_request_attempt_count: true}
      }),
      {name: 'allow_any', domains: ['*'], routes: [{name: 'allow_any', match: {prefix: '/'}, route: {cluster: 'PassthroughCluster', timeout: '0s', max_grpc_timeout: '0s'}}], include_request_attempt_count: true},
    ],
    validate_clusters: false, max_direct_response_body_size_bytes: 1048576, ignore_port_in_host_matching: true,
  }))
}

export interface GatewayServer {gateway: IstioConfig; server: J; targetPort: number}

/** The Gateway servers whose selector matches this router pod, with the container port each binds. */
export function gatewayServers(ctx: PushContext, pod: SimPod): GatewayServer[] {
  const svc = ctx.services.find((s) => s.namespace === pod.namespace && s.selector && Object.entries(s.selector).every(([k, v]) => pod.labels[k] === v))
  return ctx.configs.filter((c) => c.kind === 'Gateway' && Object.entries((c.spec.selector ?? {}) as Record<string, string>).every(([k, v]) => pod.labels[k] === v))
    .flatMap((gateway) => ((gateway.spec.servers as J[] | undefined) ?? []).map((server) => ({gateway, server,
      // gateway.go: servers listen on the service port's targetPort when a Service maps it.
      targetPort: svc?.ports.find((p) => p.port === Number(server.port?.number))?.targetPort ?? Number(server.port?.number)})))
}

/**
 * gateway.go buildGatewayHTTPRouteConfig: `http.<port>`, a virtual host per (host, port) of the
 * VirtualServices bound to a Gateway serving that port, or a 404 blackhole host when none binds.
 */
export function gatewayRoutes(ctx: PushContext, pod: SimPod): J[] {
  const byPort = new Map<number, GatewayServer[]>()
  for (const gs of gatewayServers(ctx, pod)) {
    if (!['HTTP', 'HTTP2', 'GRPC', 'HTTPS'].includes(String(gs.server.port?.protocol ?? '').toUpperCase()) || gs.server.tls?.mode === 'PASSTHROUGH') continue
    byPort.set(gs.targetPort, [...(byPort.get(gs.targetPort) ?? []), gs])
  }
  return [...byPort].sort((a, b) => a[0] - b[0]).map(([port, servers]) => {
    const vhosts = new Map<string, J>()
    for (const {gateway, server} of servers) {
      const gwName = `${gateway.metadata.namespace}/${gateway.metadata.name}`
      for (const vs of virtualServicesFor(ctx, gwName)) {
        for (const host of (vs.spec.hosts as string[] | undefined) ?? []) {
          const serverHosts = ((server.hosts as string[] | undefined) ?? []).map((h) => (h.includes('/') ? h.split('/')[1] : h))
          if (!serverHosts.some((h) => h === '*' || h === host || (h.startsWith('*.') && host.endsWith(h.slice(1))))) continue
          const key = `${host}:${server.port.number}`
          const routes = virtualServiceRoutes(ctx, vs, Number(server.port.number))
          const existing = vhosts.get(key)
          if (existing) existing.routes.push(...routes)
          else vhosts.set(key, {name: key, domains: [host, `${host}:*`], routes, include_request_attempt_count: true})
        }
      }
    }
    const virtualHosts = vhosts.size ? [...vhosts.values()] : [{name: 'blackhole:' + port, domains: ['*'], routes: [{name: 'default', match: {prefix: '/'}, direct_response: {status: 404}}], include_request_attempt_count: true}]
    return {name: `http.${port}`, virtual_hosts: virtualHosts, validate_clusters: false, max_direct_response_body_size_bytes: 1048576, ignore_port_in_host_matching: true}
  })
}
