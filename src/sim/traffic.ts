// Traffic that follows the config of a live mesh: each scripted request walks the client proxy's
// accepted listeners, routes, clusters and endpoints, then the server proxy's inbound filter chains
// and authorization policies, and yields the access-log lines both Envoys would write. Pure: the
// scenario and the proxies' accepted config in, log entries out.
import type {MeshView} from './envoy-config.js'
import type {AccessLogEntry} from './logs.js'
import type {Scenario, SimPod} from './model.js'
import {authorize} from './pilot/authz.js'
import {durationMs, fqdn, pushContext} from './pilot/context.js'
import {nonce} from './sync.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** One scripted request: from a pod (or `external`, through the ingress gateway) to host:port. */
export interface TrafficSpec {from: string; host: string; port: number; path?: string; method?: string}

export interface LoggedRequest {pod: SimPod; entry: AccessLogEntry}

const EXTERNAL_IP = '172.18.0.1'

function envoyOf(s: Scenario, pod: SimPod): MeshView | undefined {
  return s.xds?.envoyView(pod)
}

/** Envoy's domain matching: exact, then `*.suffix` / `prefix*`, then `*` (port-insensitive here). */
function findVirtualHost(rc: J, authority: string): J | undefined {
  const host = authority.replace(/:\d+$/, '')
  const hosts = (rc.virtual_hosts ?? []) as J[]
  const has = (vh: J, test: (d: string) => boolean) => (vh.domains as string[]).some(test)
  return hosts.find((vh) => has(vh, (d) => d === authority || d === host)) ??
    hosts.find((vh) => has(vh, (d) => (d.startsWith('*') && d !== '*' && host.endsWith(d.slice(1))) || (d.endsWith(':*') && d.slice(0, -2) === host))) ??
    hosts.find((vh) => has(vh, (d) => d === '*'))
}

function findRoute(vh: J, path: string, method: string): J | undefined {
  return ((vh.routes ?? []) as J[]).find((r) => {
    const m = r.match ?? {}
    const pathOk = m.path !== undefined ? m.path === path : m.safe_regex ? new RegExp(`^${m.safe_regex.regex}$`).test(path) : path.startsWith(m.prefix ?? '/')
    const headersOk = ((m.headers ?? []) as J[]).every((h) => h.name === ':method' && (h.string_match?.exact === undefined || h.string_match.exact === method))
    return pathOk && headersOk
  })
}

/** A weighted choice that is deterministic in the request number. */
function pickCluster(action: J, k: number): string {
  if (action.cluster) return action.cluster
  const clusters = (action.weighted_clusters?.clusters ?? []) as Array<{name: string; weight: number}>
  const total = clusters.reduce((n, c) => n + c.weight, 0) || 1
  let at = (k * 37) % total
  for (const c of clusters) {
    if (at < c.weight) return c.name
    at -= c.weight
  }
  return clusters[0]?.name ?? ''
}

/** The pods, outcome and log lines of request number `k` of `spec`. */
export function playRequest(s: Scenario, spec: TrafficSpec, k: number, startMs: number): LoggedRequest[] {
  const out: LoggedRequest[] = []
  const ctx = pushContext(s)
  const method = spec.method ?? 'GET'
  const path = spec.path ?? '/'
  const rid = nonce(`${spec.from}/${spec.host}/${k}`)
  const start = new Date(startMs).toISOString()
  const base = {start_time: start, method, path, protocol: 'HTTP/1.1', x_forwarded_for: EXTERNAL_IP, user_agent: 'curl/8.7.1', request_id: rid, authority: spec.host}

  // The client side: the ingress gateway for external traffic, the pod's own sidecar otherwise.
  const source = spec.from === 'external' ? undefined : s.pods.find((p) => p.name === spec.from || `${p.name}.${p.namespace}` === spec.from)
  let client: SimPod | undefined
  let listenerPort = spec.port
  if (spec.from === 'external') {
    const gw = s.pods.find((p) => p.proxy?.kind === 'router' && s.services.some((svc) => svc.namespace === p.namespace && svc.selector && Object.entries(svc.selector).every(([a, b]) => p.labels[a] === b) && svc.ports.some((sp) => sp.port === spec.port)))
    const svc = gw && s.services.find((x) => x.namespace === gw.namespace && x.selector && Object.entries(x.selector).every(([a, b]) => gw.labels[a] === b))
    client = gw
    listenerPort = svc?.ports.find((p) => p.port === spec.port)?.targetPort ?? spec.port
  } else if (source?.proxy) {
    client = source
  }

  let target: {pod: SimPod; port: number} | undefined
  let timeoutMs: number | undefined
  let cluster = ''
  if (client) {
    const view = envoyOf(s, client)
    const listener = view?.listeners.find((l) => l.name === `0.0.0.0_${listenerPort}`)
    const rdsName = listener?.filter_chains?.[0]?.filters?.[0]?.typed_config?.rds?.route_config_name
    const rc = view?.routes.find((r) => r.name === rdsName)
    const clientBase = {...base, downstream_local_address: `${client.ip}:${listenerPort}`, downstream_remote_address: `${source?.ip ?? EXTERNAL_IP}:${50000 + (k % 10000)}`}
    const vh = rc && findVirtualHost(rc, spec.host)
    const route = vh && findRoute(vh, path, method)
    if (!route) {
      out.push({pod: client, entry: {...clientBase, response_code: 404, response_flags: 'NR', response_code_details: 'route_not_found', bytes_received: 0, bytes_sent: 0, duration: 0}})
      return out
    }
    if (route.direct_response) {
      out.push({pod: client, entry: {...clientBase, response_code: route.direct_response.status, response_flags: '-', response_code_details: 'direct_response', bytes_received: 0, bytes_sent: 0, duration: 0, route_name: route.name}})
      return out
    }
    cluster = pickCluster(route.route ?? {}, k)
    timeoutMs = durationMs(route.route?.timeout)
    const known = view!.clusters.some((c) => c.name === cluster)
    if (!known) {
      out.push({pod: client, entry: {...clientBase, response_code: 503, response_flags: 'NC', response_code_details: 'cluster_not_found', bytes_received: 0, bytes_sent: 0, duration: 0, upstream_cluster: cluster, route_name: route.name}})
      return out
    }
    const eds = view!.eds.find((e) => e.name === cluster)
    const healthy = (eds?.pods ?? []).filter((p) => p.ready)
    if (!healthy.length) {
      out.push({pod: client, entry: {...clientBase, response_code: 503, response_flags: 'UH', response_code_details: 'no_healthy_upstream', bytes_received: 0, bytes_sent: 19, duration: 0, upstream_cluster: cluster, route_name: route.name}})
      return out
    }
    target = {pod: healthy[k % healthy.length], port: eds!.port}
  } else {
    // No proxy on the client: plaintext straight to a pod of the service.
    const svc = s.services.find((x) => fqdn(x) === spec.host || `${x.name}.${x.namespace}` === spec.host || (x.name === spec.host && x.namespace === source?.namespace))
    const port = svc?.ports.find((p) => p.port === spec.port)
    const pods = svc ? s.pods.filter((p) => p.namespace === svc.namespace && p.phase === 'Running' && p.ready && Object.entries(svc.selector ?? {}).every(([a, b]) => p.labels[a] === b)) : []
    if (!svc || !port || !pods.length) return out
    target = {pod: pods[k % pods.length], port: port.targetPort}
  }

  // The server side: its inbound chain for the transport the client speaks, then authorization.
  const server = target.pod
  const latency = s.live?.proxies[`${server.name}.${server.namespace}`]?.latencyMs ?? s.live?.proxies[server.name]?.latencyMs ?? 3 + (k % 5)
  const upstreamHost = `${server.ip}:${target.port}`
  const timedOut = timeoutMs !== undefined && timeoutMs > 0 && latency > timeoutMs
  const clientEntry = (code: number, flags: string, details: string, bytes: number, duration: number): LoggedRequest => ({pod: client!, entry: {
    ...base, response_code: code, response_flags: flags, response_code_details: details, bytes_received: 0, bytes_sent: bytes, duration,
    upstream_service_time: flags === '-' ? String(Math.max(1, duration - 2)) : undefined, upstream_host: upstreamHost, upstream_cluster: cluster,
    upstream_local_address: `${client!.ip}:${58078 + (k % 1000)}`, downstream_local_address: `${client!.ip}:${listenerPort}`, downstream_remote_address: `${source?.ip ?? EXTERNAL_IP}:${61108 + (k % 1000)}`,
    ...(client!.proxy?.kind === 'router' ? {authority: spec.host} : {}),
  }})
  if (server.proxy) {
    const inbound = envoyOf(s, server)?.listeners.find((l) => l.name === 'virtualInbound')
    const transport = client ? 'tls' : 'raw_buffer'
    const chain = ((inbound?.filter_chains ?? []) as J[]).find((c) => c.filter_chain_match?.destination_port === target!.port && c.filter_chain_match?.transport_protocol === transport)
    const serverAddr = {downstream_local_address: `${server.ip}:${target.port}`, downstream_remote_address: `${client?.ip ?? source?.ip ?? EXTERNAL_IP}:${43000 + (k % 10000)}`}
    if (!chain) {
      // listener_inbound.go: with STRICT mTLS no chain accepts plaintext; the connection is reset.
      out.push({pod: server, entry: {start_time: start, response_code: 0, response_flags: 'NR', response_code_details: 'filter_chain_not_found', bytes_received: 0, bytes_sent: 0, duration: 0, ...serverAddr}})
      if (client) out.push(clientEntry(503, 'UC', 'upstream_reset_before_response_started{connection_termination}', 95, 1))
      return out
    }
    // cluster_builder.go: the SNI of an outbound cluster is outbound_.<port>_.<subset>_.<host>.
    const sni = cluster ? cluster.split('|').map((part, i) => (i === 0 ? 'outbound' : part)).join('_.') : undefined
    const principal = client ? `cluster.local/ns/${client.namespace}/sa/${client.serviceAccount}` : undefined
    const decision = authorize(ctx, server, {path, method, port: target.port, principal, sourceNamespace: client?.namespace})
    const serverBase = {...base, ...serverAddr, upstream_host: upstreamHost, upstream_cluster: `inbound|${target.port}||`, upstream_local_address: `127.0.0.6:${40000 + (k % 10000)}`, requested_server_name: client ? sni : undefined, route_name: 'default'}
    if (!decision.allowed) {
      out.push({pod: server, entry: {...serverBase, upstream_host: undefined, upstream_cluster: undefined, upstream_local_address: undefined, response_code: 403, response_flags: decision.flag, response_code_details: decision.details, bytes_received: 0, bytes_sent: 19, duration: 0}})
      if (client) out.push(clientEntry(403, '-', 'via_upstream', 19, 2))
      return out
    }
    if (timedOut) {
      out.push({pod: server, entry: {...serverBase, response_code: 0, response_flags: 'DC', response_code_details: 'downstream_remote_disconnect', bytes_received: 0, bytes_sent: 0, duration: timeoutMs!}})
    } else {
      out.push({pod: server, entry: {...serverBase, response_code: 200, response_flags: '-', response_code_details: 'via_upstream', bytes_received: 0, bytes_sent: 502, duration: latency, upstream_service_time: String(Math.max(1, latency - 1))}})
    }
  }
  if (client) out.push(timedOut ? {pod: client, entry: {...clientEntry(504, 'UT', 'response_timeout', 24, timeoutMs! + 1).entry, upstream_service_time: undefined}} : clientEntry(200, '-', 'via_upstream', 502, latency + 2))
  return out
}
