// The pods/log subresource: scripted container logs, Istio access logs in TEXT or JSON encoding.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {status} from './apiserver.js'
import {sendJson} from './http-json.js'
import type {Scenario, SimPod} from './model.js'
import {nonce} from './sync.js'
import {liveAccessLogEntry} from './traffic.js'

export interface AccessLogEntry {
  start_time: string
  method?: string
  path?: string
  protocol?: string
  response_code: number
  response_flags: string
  response_code_details: string
  connection_termination_details?: string
  upstream_transport_failure_reason?: string
  bytes_received: number
  bytes_sent: number
  duration: number
  upstream_service_time?: string
  x_forwarded_for?: string
  user_agent?: string
  request_id?: string
  authority?: string
  upstream_host?: string
  upstream_cluster?: string
  upstream_local_address?: string
  downstream_local_address?: string
  downstream_remote_address?: string
  requested_server_name?: string
  route_name?: string
}

const d = (v: string | number | undefined) => (v === undefined || v === '' ? '-' : String(v))

export function formatAccessLog(e: AccessLogEntry, encoding: 'TEXT' | 'JSON'): string {
  if (encoding === 'JSON') {
    const keys: Array<keyof AccessLogEntry> = ['authority', 'bytes_received', 'bytes_sent', 'connection_termination_details', 'downstream_local_address', 'downstream_remote_address', 'duration', 'method', 'path', 'protocol', 'request_id', 'requested_server_name', 'response_code', 'response_code_details', 'response_flags', 'route_name', 'start_time', 'upstream_cluster', 'upstream_host', 'upstream_local_address', 'upstream_service_time', 'upstream_transport_failure_reason', 'user_agent', 'x_forwarded_for']
    return JSON.stringify(Object.fromEntries(keys.map((k) => [k, e[k] ?? null])))
  }
  const request = e.method ? `${e.method} ${e.path} ${e.protocol}` : '- - -'
  return `[${e.start_time}] "${request}" ${e.response_code} ${e.response_flags} ${d(e.response_code_details)} ${d(e.connection_termination_details)} "${d(e.upstream_transport_failure_reason)}" ${e.bytes_received} ${e.bytes_sent} ${e.duration} ${d(e.upstream_service_time)} "${d(e.x_forwarded_for)}" "${d(e.user_agent)}" "${d(e.request_id)}" "${d(e.authority)}" "${d(e.upstream_host)}" ${d(e.upstream_cluster)} ${d(e.upstream_local_address)} ${d(e.downstream_local_address)} ${d(e.downstream_remote_address)} ${d(e.requested_server_name)} ${d(e.route_name)}`
}

function at(base: string, ms: number): string {
  return new Date(Date.parse(base) + ms).toISOString()
}

/** The n-th scripted request a proxy logs (deterministic). */
export function accessLogEntry(scenario: Scenario, pod: SimPod, n: number): AccessLogEntry {
  const start = at('2025-05-09T08:45:00.000Z', n * 1637 + 41_636)
  const rid = nonce(`${pod.name}/req/${n}`)
  const catalogPods = scenario.pods.filter((p) => p.labels.app === 'catalog' && p.phase === 'Running')
  if (pod.proxy?.kind === 'router') {
    // Round-robin starting at the slow pod: every request it gets times out (story 2, ~30%).
    const first = Math.max(0, catalogPods.findIndex((p) => p.slow))
    const target = catalogPods[(first + n) % Math.max(1, catalogPods.length)]
    const slow = target?.slow === true
    const v2 = target?.labels.version === 'v2'
    return {
      start_time: start, method: 'GET', path: '/items', protocol: 'HTTP/1.1',
      response_code: slow ? 504 : 200, response_flags: slow ? 'UT' : '-', response_code_details: slow ? 'response_timeout' : 'via_upstream',
      bytes_received: 0, bytes_sent: slow ? 24 : 502, duration: slow ? 501 : 12 + (n % 7), upstream_service_time: slow ? undefined : String(10 + (n % 7)),
      x_forwarded_for: '172.18.0.1', user_agent: 'curl/8.7.1', request_id: rid, authority: 'catalog.istioinaction.io:30000',
      upstream_host: target ? `${target.ip}:3000` : undefined, upstream_cluster: `outbound|80|${v2 ? 'version-v2' : 'version-v1'}|catalog.istioinaction.svc.cluster.local`,
      upstream_local_address: `${pod.ip}:${58078 + (n % 1000)}`, downstream_local_address: `${pod.ip}:8080`, downstream_remote_address: `172.18.0.1:${61108 + (n % 1000)}`,
    }
  }
  const inboundPort = pod.containers.flatMap((c) => c.ports ?? []).find(() => true)?.containerPort ?? 8080
  if (pod.labels.app === 'webapp' && n % 4 === 3) {
    // A sidecar-less client under STRICT mTLS: nothing matches, the connection is reset.
    return {start_time: start, response_code: 0, response_flags: 'NR', response_code_details: 'filter_chain_not_found', bytes_received: 0, bytes_sent: 0, duration: 0,
      downstream_local_address: `${pod.ip}:${inboundPort}`, downstream_remote_address: `10.10.0.21:${43000 + n}`}
  }
  if (pod.labels.app === 'webapp' && n % 4 === 1) {
    return {start_time: start, method: 'GET', path: '/items', protocol: 'HTTP/1.1', response_code: 403, response_flags: '-', response_code_details: 'rbac_access_denied_matched_policy[none]',
      bytes_received: 0, bytes_sent: 19, duration: 0, x_forwarded_for: '172.18.0.1', user_agent: 'curl/8.7.1', request_id: rid, authority: 'webapp.istioinaction.io',
      downstream_local_address: `${pod.ip}:${inboundPort}`, downstream_remote_address: `10.10.0.7:${50000 + n}`, requested_server_name: 'outbound_.80_._.webapp.istioinaction.svc.cluster.local', route_name: 'default'}
  }
  const dc = pod.slow && n % 3 === 0
  return {
    start_time: start, method: 'GET', path: pod.labels.app === 'webapp' ? '/api/catalog' : '/items', protocol: 'HTTP/1.1',
    response_code: dc ? 0 : 200, response_flags: dc ? 'DC' : '-', response_code_details: dc ? 'downstream_remote_disconnect' : 'via_upstream',
    bytes_received: 0, bytes_sent: dc ? 0 : 502, duration: dc ? 500 : 3 + (n % 5), upstream_service_time: dc ? undefined : String(2 + (n % 5)),
    x_forwarded_for: '172.18.0.1', user_agent: 'curl/8.7.1', request_id: rid, authority: pod.labels.app === 'catalog' ? 'catalog.istioinaction.svc.cluster.local' : `${pod.labels.app ?? pod.name}.${pod.namespace}`,
    upstream_host: `${pod.ip}:${inboundPort}`, upstream_cluster: `inbound|${inboundPort}||`, upstream_local_address: `127.0.0.6:${40000 + n}`,
    downstream_local_address: `${pod.ip}:${inboundPort}`, downstream_remote_address: `10.10.0.7:${50000 + n}`,
    requested_server_name: `outbound_.80_._.${pod.labels.app ?? pod.name}.${pod.namespace}.svc.cluster.local`, route_name: 'default',
  }
}

/** A live mesh's n-th line: the scripted traffic through the accepted config, one request every ~1.6 s up to now. */
function liveEntry(scenario: Scenario, pod: SimPod, n: number): AccessLogEntry | undefined {
  const now = Date.now()
  return liveAccessLogEntry(scenario, pod, n, (k) => (n < 20 ? now - Math.max(0, 480 - k) * 1637 : now))
}

function envoyDebugLines(pod: SimPod, n: number, levelOf: (logger: string) => string | undefined): string[] {
  const out: string[] = []
  const ts = at('2025-05-09T08:45:41.636Z', n * 1637).replace('Z', '142Z')
  const on = (logger: string) => ['trace', 'debug'].includes(levelOf(logger) ?? 'warning')
  if (pod.proxy?.kind === 'router' && on('router')) {
    out.push(`${ts}\tdebug\tenvoy router external/envoy/source/common/router/router.cc:1222\t[C${18119 + n}][S${1242000000000 + n}] upstream timeout\tthread=23`)
  }
  if (on('http')) out.push(`${ts}\tdebug\tenvoy http external/envoy/source/common/http/filter_manager.cc:984\t[C${18119 + n}][S${1242000000000 + n}] Sending local reply with details response_timeout\tthread=23`)
  if (on('rbac')) {
    out.push(`${ts}\tdebug\tenvoy rbac external/envoy/source/extensions/filters/http/rbac/rbac_filter.cc:114\tchecking request: requestedServerName: outbound_.80_._.${pod.labels.app ?? pod.name}.${pod.namespace}.svc.cluster.local, sourceIP: 10.10.0.7:50312, directRemoteIP: 10.10.0.7:50312, remoteIP: 172.18.0.1:0,localAddress: ${pod.ip}:8080, ssl: uriSanPeerCertificate: spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account, dnsSanPeerCertificate: , subjectPeerCertificate: , headers: ':authority', 'webapp.istioinaction.io'\n':path', '/items'\n':method', 'GET'\n, dynamicMetadata: \tthread=24`)
    out.push(`${ts}\tdebug\tenvoy rbac external/envoy/source/extensions/filters/http/rbac/rbac_filter.cc:169\tshadow denied, matched policy none\tthread=24`)
    out.push(`${ts}\tdebug\tenvoy rbac external/envoy/source/extensions/filters/http/rbac/rbac_filter.cc:218\tenforced denied, matched policy none\tthread=24`)
  }
  return out
}

const PROXY_STARTUP = (pod: SimPod) => [
  `2025-05-09T07:40:01.102391Z\tinfo\tFLAG: --concurrency="0"`,
  `2025-05-09T07:40:01.102447Z\tinfo\tFLAG: --domain="${pod.namespace}.svc.cluster.local"`,
  `2025-05-09T07:40:01.118102Z\tinfo\tVersion ${pod.proxy?.istioVersion}-${'f'.repeat(40)}-Clean`,
  `2025-05-09T07:40:01.118411Z\tinfo\tProxy role\tips=[${pod.ip}] type=${pod.proxy?.kind} id=${pod.name}.${pod.namespace} domain=${pod.namespace}.svc.cluster.local`,
  `2025-05-09T07:40:01.301223Z\tinfo\tsds\tSDS server for workload certificates started, listening on "var/run/secrets/workload-spiffe-uds/socket"`,
  `2025-05-09T07:40:01.402117Z\tinfo\txdsproxy\tInitializing with upstream address "istiod.istio-system.svc:15012" and cluster "Kubernetes"`,
  `2025-05-09T07:40:01.623018Z\tinfo\tcache\tgenerated new workload certificate\tlatency=211.392101ms ttl=23h59m59.376999712s`,
  `2025-05-09T07:40:01.623092Z\tinfo\tcache\tRoot cert has changed, start rotating root cert`,
  `2025-05-09T07:40:02.511230Z\tinfo\tads\tADS: new connection for node:${pod.name}.${pod.namespace}-1`,
  `2025-05-09T07:40:02.901873Z\tinfo\tReadiness succeeded in 1.804337s`,
  `2025-05-09T07:40:02.902218Z\tinfo\tEnvoy proxy is ready`,
]

function historyFor(scenario: Scenario, pod: SimPod, container: string, levelOf: (l: string) => string | undefined): string[] {
  const scripted = pod.logs?.[container]
  if (scripted) return [...scripted]
  if (container === 'istio-proxy') {
    const lines = PROXY_STARTUP(pod)
    for (let n = 0; n < 20; n++) {
      const entry = scenario.live ? liveEntry(scenario, pod, n) : accessLogEntry(scenario, pod, n)
      if (!entry) break
      lines.push(formatAccessLog(entry, scenario.meshConfig.accessLogEncoding))
      if (!scenario.live) lines.push(...envoyDebugLines(pod, n, levelOf))
    }
    return lines
  }
  if (container === 'discovery') {
    return [
      '2025-05-09T07:38:11.004127Z\tinfo\tFLAG: --monitoringAddr=":15014"',
      `2025-05-09T07:38:11.412001Z\tinfo\tads\tAll caches have been synced up in 401.233ms, marking server ready`,
      ...scenario.pods.filter((p) => p.proxy?.istiod === pod.name).map((p, i) => `2025-05-09T07:40:02.${String(511230 + i).padStart(6, '0')}Z\tinfo\tads\tADS: new connection for node:${p.name}.${p.namespace}-${i + 1}`),
      '2025-05-09T08:40:12.000000Z\tinfo\tads\tPush debounce stable[42] 1 for config VirtualService:istioinaction/catalog-v1-v2: 100.2ms since last change, 100.2ms since last push, full=true',
    ]
  }
  return [
    `Server listening on port ${pod.containers.find((c) => c.name === container)?.ports?.[0]?.containerPort ?? 8080}`,
    ...Array.from({length: 10}, (_, n) => `GET /items 200 ${3 + (n % 5)}ms - 502`),
  ]
}

/** Serves `GET .../pods/<pod>/log`; returns a stopper when it keeps the response open (follow). */
export function serveLog(scenario: Scenario, pod: SimPod, req: IncomingMessage, res: ServerResponse, q: URLSearchParams, levelOf: (logger: string) => string | undefined = () => undefined): (() => void) | undefined {
  const names = pod.containers.map((c) => c.name)
  let container = q.get('container') ?? ''
  if (!container) {
    if (names.length !== 1) {
      sendJson(res, 400, status(400, 'BadRequest', `a container name must be specified for pod ${pod.name}, choose one of: [${names.join(' ')}]${pod.initContainers?.length ? ` or one of the init containers: [${pod.initContainers.map((c) => c.name).join(' ')}]` : ''}`))
      return undefined
    }
    container = names[0]
  }
  if (!names.includes(container) && !pod.initContainers?.some((c) => c.name === container)) {
    sendJson(res, 400, status(400, 'BadRequest', `container ${container} is not valid for pod ${pod.name}`))
    return undefined
  }
  if (q.get('previous') === 'true' && pod.restarts === 0) {
    sendJson(res, 400, status(400, 'BadRequest', `previous terminated container "${container}" in pod "${pod.name}" not found`))
    return undefined
  }
  if (pod.phase !== 'Running') {
    sendJson(res, 400, status(400, 'BadRequest', `container "${container}" in pod "${pod.name}" is waiting to start: ContainerCreating`))
    return undefined
  }
  const history = pod.initContainers?.some((c) => c.name === container) ? ['2025-05-09T07:39:58.001Z\tinfo\tIstio iptables environment:'] : historyFor(scenario, pod, container, levelOf)
  // Kubelet timestamps: the history spans the last hour, one line every few seconds.
  const now = Date.now()
  let stamped = history.map((line, i) => ({line, ts: now - (history.length - i) * 3000}))
  const since = Number(q.get('sinceSeconds') ?? '')
  if (Number.isFinite(since) && since > 0) stamped = stamped.filter((l) => l.ts >= now - since * 1000)
  const tail = Number(q.get('tailLines') ?? '')
  if (q.get('tailLines') !== null && Number.isInteger(tail) && tail >= 0) stamped = tail === 0 ? [] : stamped.slice(-tail)
  const withTs = q.get('timestamps') === 'true' || q.get('timestamps') === '1'
  const fmt = (line: string, ts: number) => `${withTs ? new Date(ts).toISOString().replace('Z', '000000Z').replace(/\.(\d{3})000000Z$/, '.$1000000Z') + ' ' : ''}${line}\n`
  res.writeHead(200, {'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private'})
  res.write(stamped.map((l) => fmt(l.line, l.ts)).join(''))
  const follow = q.get('follow') === 'true' || q.get('follow') === '1'
  if (!follow) {
    res.end()
    return undefined
  }
  let n = 20
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) return stop()
    const live = scenario.live && container === 'istio-proxy' ? liveEntry(scenario, pod, n) : undefined
    const lines = scenario.live && container === 'istio-proxy'
      ? (live ? [formatAccessLog(live, scenario.meshConfig.accessLogEncoding)] : [])
      : container === 'istio-proxy'
        ? [formatAccessLog(accessLogEntry(scenario, pod, n), scenario.meshConfig.accessLogEncoding), ...envoyDebugLines(pod, n, levelOf)]
        : [`GET /items 200 ${3 + (n % 5)}ms - 502`]
    n++
    res.write(lines.map((l) => fmt(l, Date.now())).join(''))
  }, 100)
  const stop = () => {
    clearInterval(timer)
    if (!res.writableEnded) res.end()
  }
  req.on('close', stop)
  res.on('close', stop)
  return stop
}
