// The pods/log subresource: container start-up lines, and Istio access logs (TEXT or JSON) of the
// scripted traffic through the proxies' accepted config (src/sim/traffic.ts).
import type {IncomingMessage, ServerResponse} from 'node:http'
import {status} from './apiserver.js'
import {sendJson} from './http-json.js'
import type {Scenario, SimPod} from './model.js'
import {accessLogWindow, istioLogStamp, kubeletStamp, trafficClock} from './log-timeline.js'

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

/** pilot-agent's start-up lines, each at its own time from the container's start (its own log stamps). */
function proxyStartup(pod: SimPod, startMs: number): Array<{line: string; ms: number}> {
  const lines: Array<[number, string]> = [
    [102.391, `info\tFLAG: --concurrency="0"`],
    [102.447, `info\tFLAG: --domain="${pod.namespace}.svc.cluster.local"`],
    [118.102, `info\tVersion ${pod.proxy?.istioVersion}-${'f'.repeat(40)}-Clean`],
    [118.411, `info\tProxy role\tips=[${pod.ip}] type=${pod.proxy?.kind} id=${pod.name}.${pod.namespace} domain=${pod.namespace}.svc.cluster.local`],
    [301.223, `info\tsds\tSDS server for workload certificates started, listening on "var/run/secrets/workload-spiffe-uds/socket"`],
    [402.117, `info\txdsproxy\tInitializing with upstream address "istiod.istio-system.svc:15012" and cluster "Kubernetes"`],
    [623.018, `info\tcache\tgenerated new workload certificate\tlatency=211.392101ms ttl=23h59m59.376999712s`],
    [623.092, `info\tcache\tRoot cert has changed, start rotating root cert`],
    [1511.23, `info\tads\tADS: new connection for node:${pod.name}.${pod.namespace}-1`],
    [1901.873, `info\tReadiness succeeded in 1.804337s`],
    [1902.218, `info\tEnvoy proxy is ready`],
  ]
  // The runtime stamps a line a few µs after the process wrote it.
  return lines.map(([offset, text]) => ({line: `${istioLogStamp(startMs + offset)}\t${text}`, ms: startMs + offset + 0.012}))
}

interface Stamped {line: string; ms: number}

/** The container's log up to `nowMs`, each line with its kubelet timestamp, oldest first. */
function historyFor(scenario: Scenario, pod: SimPod, container: string, nowMs: number, window: {afterMs?: number; tail?: number}): Stamped[] {
  const clock = trafficClock(scenario)
  const started = clock.containerStartMs
  const scripted = pod.logs?.[container]
  // Scripted lines (a test's hostile input, say): one every 3 s up to now.
  if (scripted) return scripted.map((line, i) => ({line, ms: nowMs - (scripted.length - i) * 3000}))
  if (pod.initContainers?.some((c) => c.name === container)) return [{line: `${istioLogStamp(started - 2000)}\tinfo\tIstio iptables environment:`, ms: started - 2000 + 0.012}]
  if (container === 'istio-proxy') {
    const startup = proxyStartup(pod, started)
    // Access logs follow the scripted traffic through the proxies' accepted config: a mesh without
    // pushes (the scale scenario) has none.
    if (!scenario.live) return startup
    const encoding = scenario.meshConfig.accessLogEncoding
    const written = accessLogWindow(scenario, pod, {upToMs: nowMs, afterMs: window.afterMs, tail: window.tail}, clock)
    return [...startup, ...written.map((w) => ({line: formatAccessLog(w.entry, encoding), ms: w.stampMs}))]
  }
  if (container === 'discovery') {
    // istiod starts before the proxies connect, and pushes once the VirtualService arrives.
    const at = (ms: number, text: string): Stamped => ({line: `${istioLogStamp(ms)}\tinfo\t${text}`, ms: ms + 0.012})
    return [
      at(started - 110_000, 'FLAG: --monitoringAddr=":15014"'),
      at(started - 109_592, 'ads\tAll caches have been synced up in 401.233ms, marking server ready'),
      ...scenario.pods.filter((p) => p.proxy?.istiod === pod.name).map((p, i) => at(started + 1511.23 + i * 0.001, `ads\tADS: new connection for node:${p.name}.${p.namespace}-${i + 1}`)),
      at(clock.anchorMs - 900, 'ads\tPush debounce stable[42] 1 for config VirtualService:istioinaction/catalog-v1-v2: 100.2ms since last change, 100.2ms since last push, full=true'),
    ]
  }
  // An application container: its banner, then a line now and then over the history.
  const spanMs = nowMs - clock.anchorMs
  return [
    {line: `Server listening on port ${pod.containers.find((c) => c.name === container)?.ports?.[0]?.containerPort ?? 8080}`, ms: started + 2400},
    ...Array.from({length: 10}, (_, n) => ({line: `GET /items 200 ${3 + (n % 5)}ms - 502`, ms: clock.anchorMs + (spanMs * n) / 10})),
  ]
}

/** A query parameter that must be an integer of at least `min` (ValidatePodLogOptions). */
function intParam(q: URLSearchParams, name: string, min: number): number | undefined | string {
  const text = q.get(name)
  if (text === null) return undefined
  const n = Number(text)
  if (!Number.isInteger(n)) return `${name}: Invalid value: "${text}": must be an integer`
  if (n < min) return `${name}: Invalid value: ${n}: ${min === 0 ? 'must be greater than or equal to 0' : 'must be greater than 0'}`
  return n
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
  // pkg/apis/core/validation ValidatePodLogOptions, answered as the API server does (422 Invalid).
  const sinceSeconds = intParam(q, 'sinceSeconds', 1)
  const tail = intParam(q, 'tailLines', 0)
  const limitBytes = intParam(q, 'limitBytes', 1)
  const sinceTimeText = q.get('sinceTime')
  const sinceTime = sinceTimeText === null ? undefined : Date.parse(sinceTimeText)
  const invalid = [sinceSeconds, tail, limitBytes].filter((v): v is string => typeof v === 'string')
  if (sinceSeconds !== undefined && sinceTimeText !== null) invalid.push('[]: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified')
  if (invalid.length) {
    sendJson(res, 422, status(422, 'Invalid', `PodLogOptions "${pod.name}" is invalid: ${invalid.length === 1 ? invalid[0] : `[${invalid.join(', ')}]`}`))
    return undefined
  }
  if (sinceTime !== undefined && Number.isNaN(sinceTime)) {
    sendJson(res, 400, status(400, 'BadRequest', `parsing time "${sinceTimeText}" as "2006-01-02T15:04:05Z07:00": cannot parse "${sinceTimeText}" as "2006"`))
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
  const now = Date.now()
  // The kubelet keeps lines stamped at or after the since moment, then the last tailLines of those.
  const sinceMs = typeof sinceSeconds === 'number' ? now - sinceSeconds * 1000 : sinceTime
  const tailLines = typeof tail === 'number' ? tail : undefined
  let stamped = historyFor(scenario, pod, container, now, {afterMs: sinceMs === undefined ? undefined : sinceMs - 1, tail: tailLines})
  if (sinceMs !== undefined) stamped = stamped.filter((l) => l.ms >= sinceMs)
  if (tailLines !== undefined) stamped = tailLines === 0 ? [] : stamped.slice(-tailLines)
  const withTs = q.get('timestamps') === 'true' || q.get('timestamps') === '1'
  // limitBytes counts what is sent, timestamps included, and may cut a line (kubelet logs.go logWriter).
  let remaining = typeof limitBytes === 'number' ? limitBytes : Number.POSITIVE_INFINITY
  const send = (lines: Stamped[]) => {
    if (!lines.length || remaining <= 0) return
    let bytes = Buffer.from(lines.map((l) => `${withTs ? `${kubeletStamp(l.ms)} ` : ''}${l.line}\n`).join(''))
    if (bytes.length > remaining) bytes = bytes.subarray(0, remaining)
    remaining -= bytes.length
    res.write(bytes)
  }
  res.writeHead(200, {'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private'})
  send(stamped)
  const follow = q.get('follow') === 'true' || q.get('follow') === '1'
  if (!follow || remaining <= 0) {
    res.end()
    return undefined
  }
  // New lines as the clock reaches them: the proxy's from the same timeline as the history (a later
  // read returns them too), an application's one per tick.
  let seenUpTo = now
  let n = 10
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) return stop()
    const upTo = Date.now()
    if (container === 'istio-proxy') {
      send(scenario.live ? accessLogWindow(scenario, pod, {afterMs: seenUpTo, upToMs: upTo}).map((w) => ({line: formatAccessLog(w.entry, scenario.meshConfig.accessLogEncoding), ms: w.stampMs})) : [])
    } else if (!pod.initContainers?.some((c) => c.name === container)) {
      send([{line: `GET /items 200 ${3 + (n % 5)}ms - 502`, ms: upTo}])
      n++
    }
    seenUpTo = upTo
    if (remaining <= 0) stop()
  }, 100)
  const stop = () => {
    clearInterval(timer)
    if (!res.writableEnded) res.end()
  }
  req.on('close', stop)
  res.on('close', stop)
  return stop
}
