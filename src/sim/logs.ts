// The pods/log subresource: container start-up lines, and Istio access logs (TEXT or JSON) of the
// scripted traffic through the proxies' accepted config (src/sim/traffic.ts).
import type {IncomingMessage, ServerResponse} from 'node:http'
import {status} from './apiserver.js'
import {sendJson} from './http-json.js'
import type {Scenario, SimPod} from './model.js'
import {accessLogReader} from './traffic.js'

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

function historyFor(scenario: Scenario, pod: SimPod, container: string, nextEntry: () => AccessLogEntry | undefined): string[] {
  const scripted = pod.logs?.[container]
  if (scripted) return [...scripted]
  if (container === 'istio-proxy') {
    const lines = PROXY_STARTUP(pod)
    // Access logs follow the scripted traffic through the proxies' accepted config: a mesh without
    // pushes (the scale scenario) has none.
    for (let n = 0; n < 20 && scenario.live; n++) {
      const entry = nextEntry()
      if (!entry) break
      lines.push(formatAccessLog(entry, scenario.meshConfig.accessLogEncoding))
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
export function serveLog(scenario: Scenario, pod: SimPod, req: IncomingMessage, res: ServerResponse, q: URLSearchParams): (() => void) | undefined {
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
  // One request every ~1.6 s up to now for the history, then one per tick at the time it is played.
  const now = Date.now()
  let following = false
  const nextEntry = accessLogReader(scenario, pod, (k) => (following ? Date.now() : now - Math.max(0, 480 - k) * 1637))
  const history = pod.initContainers?.some((c) => c.name === container) ? ['2025-05-09T07:39:58.001Z\tinfo\tIstio iptables environment:'] : historyFor(scenario, pod, container, nextEntry)
  // Kubelet timestamps: the history spans the last hour, one line every few seconds.
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
  following = true
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) return stop()
    const live = scenario.live && container === 'istio-proxy' ? nextEntry() : undefined
    const lines = container === 'istio-proxy'
      ? (live ? [formatAccessLog(live, scenario.meshConfig.accessLogEncoding)] : [])
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
