// Envoy's admin API (the subset Istio tools use), served per simulated proxy.
import {createHash, X509Certificate} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {envoyReadyAnswer, envoyState, SERVER_STATE_GAUGE} from './envoy-state.js'
import {proxyCertificates, type ProxyCertificates} from './mesh-ca.js'
import {applyMask, DUMP_FIELDS, dumpResourceItems, filterByName, nameFilter, shortType} from '../lib/envoy/dump-query.js'
import {buildConfigDump, bootstrapNode, clusterCounts, clusterMembership, envoyVersionFor, liveClusters, listenerAddresses} from './envoy-config.js'
import {commandLineOptions, versionedServerStats} from './envoy-versions.js'
import {trafficClock} from './log-timeline.js'
import type {Scenario, SimPod} from './model.js'
import {statsInclusionPatterns, statsMatcher} from './stats-matcher.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** pilot-agent starts Envoy once its SDS and xDS proxy are up (the start-up lines in logs.ts). */
const ENVOY_STARTED_AFTER_MS = 402

const LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off']
const LOGGERS = ['admin', 'alternate_protocols_cache', 'aws', 'assert', 'backtrace', 'cache_filter', 'client', 'config', 'connection', 'conn_handler', 'decompression', 'dns', 'dubbo', 'envoy_bug', 'ext_authz', 'ext_proc', 'file', 'filter', 'forward_proxy', 'grpc', 'happy_eyeballs', 'hc', 'health_checker', 'http', 'http2', 'hystrix', 'init', 'io', 'jwt', 'kafka', 'key_value_store', 'lua', 'main', 'matcher', 'misc', 'mongo', 'multi_connection', 'oauth2', 'quic', 'quic_stream', 'pool', 'rbac', 'rds', 'redis', 'router', 'runtime', 'stats', 'secret', 'tap', 'testing', 'thrift', 'tracing', 'upstream', 'udp', 'wasm', 'websocket'].sort()


const HELP: Array<[string, string, boolean]> = [
  ['/', 'Admin home page', false], ['/certs', 'print certs on machine', false], ['/clusters', 'upstream cluster status', false],
  ['/config_dump', 'dump current Envoy configs (experimental)', false], ['/contention', 'dump current Envoy mutex contention stats (if enabled)', false],
  ['/cpuprofiler', 'enable/disable the CPU profiler', true], ['/drain_listeners', 'drain listeners', true], ['/healthcheck/fail', 'cause the server to fail health checks', true],
  ['/healthcheck/ok', 'cause the server to pass health checks', true], ['/heapprofiler', 'enable/disable the heap profiler', true], ['/help', 'print out list of admin commands', false],
  ['/hot_restart_version', 'print the hot restart compatibility version', false], ['/init_dump', 'dump current Envoy init manager information (experimental)', false],
  ['/listeners', 'print listener info', false], ['/logging', 'query/change logging levels', true], ['/memory', 'print current allocation/heap usage', false],
  ['/quitquitquit', 'exit the server', true], ['/ready', 'print server state, return 200 if LIVE, otherwise return 503', false],
  ['/reopen_logs', 'reopen access logs', true], ['/reset_counters', 'reset all counters to zero', true], ['/runtime', 'print runtime values', false],
  ['/runtime_modify', 'Adds or modifies runtime values as passed in query parameters. To delete a previously added key, use an empty string as the value. Note that deletion only applies to overrides added via this endpoint; values loaded from disk can be modified via override but not deleted. E.g. ?key1=value1&key2=value2...', true],
  ['/server_info', 'print server version/status information', false], ['/stats', 'print server stats', false],
  ['/stats/prometheus', 'print server stats in prometheus format', false], ['/stats/recentlookups', 'Show recent stat-name lookups', false],
]

export function helpText(): string {
  return HELP.map(([p, h, post]) => `  ${p}${post ? ' (POST)' : ''}: ${h}\n`).join('')
}

export function envoyJson(value: unknown): string {
  return JSON.stringify(value, null, 1)
}

/** What /certs shows of a certificate that does not change with the time of the request. */
interface ParsedCert {serialNumber: string; sans: J[]; validFrom: Date; validTo: Date}

function parseCert(pem: string): ParsedCert {
  const x = new X509Certificate(pem)
  const sans = (x.subjectAltName ?? '').split(/,\s*/).filter(Boolean).map((s) => {
    const [kind, ...rest] = s.split(':')
    const v = rest.join(':')
    return kind === 'URI' ? {uri: v} : kind === 'DNS' ? {dns: v} : {ip_address: v}
  })
  return {serialNumber: x.serialNumber.toLowerCase(), sans, validFrom: new Date(x.validFrom), validTo: new Date(x.validTo)}
}

function certInfo(cert: ParsedCert, isCa: boolean): J {
  const days = Math.floor((cert.validTo.getTime() - Date.now()) / 86_400_000)
  return {path: '<inline>', serial_number: cert.serialNumber, subject_alt_names: isCa ? [] : cert.sans, days_until_expiration: String(days), valid_from: cert.validFrom.toISOString().replace('.000Z', 'Z'), expiration_time: cert.validTo.toISOString().replace('.000Z', 'Z')}
}

/** An admin answer as sent: status, body, content type. */
type Answer = [number, string | Buffer, string | undefined]

/**
 * Envoy admin answers of the scenarios whose config never changes (`cacheDumps`: the scale
 * scenario, where each proxy's config is generated once), kept as the bytes sent. A real Envoy
 * answers a 2,000-service sidecar's filtered config_dump or /clusters in milliseconds; rebuilding
 * and re-serialising megabytes of JSON per request made the simulator, not the client, what a
 * `diagnose -A` over 500 proxies measured. Bodies are Buffers (outside V8's heap, whose ~4 GB limit
 * 500 sidecars' strings and objects passed) counted by their real size; answers are kept per pod
 * object (a replaced pod starts empty) while their total stays under `budgetBytes`; past it,
 * answers are built per request.
 */
export class AdminAnswerCache {
  private readonly byPod = new WeakMap<SimPod, Map<string, Answer>>()
  /** Each distinct body once: sidecars of one namespace share their routes answer. */
  private readonly bodies = new Map<string, Buffer>()
  private usedBytes = 0

  constructor(private readonly budgetBytes = 2 * 1024 ** 3) {}

  get(pod: SimPod, key: string): Answer | undefined {
    return this.byPod.get(pod)?.get(key)
  }

  /** Keeps the answer if the budget allows; returns the body to send (the kept Buffer, or `text`). */
  set(pod: SimPod, key: string, status: number, text: string, contentType: string | undefined): string | Buffer {
    const digest = createHash('sha1').update(text).digest('base64')
    let body = this.bodies.get(digest)
    if (body === undefined) {
      const bytes = Buffer.byteLength(text)
      if (this.usedBytes + bytes > this.budgetBytes) return text
      this.bodies.set(digest, (body = Buffer.from(text)))
      this.usedBytes += bytes
    }
    let answers = this.byPod.get(pod)
    if (!answers) this.byPod.set(pod, (answers = new Map()))
    answers.set(key, [status, body, contentType])
    return body
  }
}

export class EnvoyAdmin {
  readonly loggers = new Map<string, string>()
  private fixedDump?: {text: string; parsed?: J; responses: Map<string, [number, Buffer]>}
  private parsedCerts?: {issued: ProxyCertificates; leaf: ParsedCert; root: ParsedCert}

  /**
   * Bytes to serve as this pod's whole /config_dump (benchmarks, fault tests). Parsed once and each
   * masked answer cached, so the simulator's JavaScript does not dominate timings the way Envoy's
   * C++ never would; replaced wholesale by the next assignment.
   */
  get configDumpText(): string | undefined {
    return this.fixedDump?.text
  }

  set configDumpText(text: string | undefined) {
    this.fixedDump = text === undefined ? undefined : {text, responses: new Map()}
  }

  constructor(readonly pod: SimPod, readonly scenario: Scenario, private answers: AdminAnswerCache) {
    for (const l of LOGGERS) this.loggers.set(l, l === 'misc' ? 'error' : 'warning')
  }

  private dump(includeEds: boolean): J {
    if (this.fixedDump !== undefined) return (this.fixedDump.parsed ??= JSON.parse(this.fixedDump.text) as J)
    return buildConfigDump(this.pod, this.scenario, includeEds)
  }

  private activeLoggers(): string {
    return `active loggers:\n${[...this.loggers].map(([n, l]) => `  ${n}: ${l}\n`).join('')}\n`
  }

  handle(req: IncomingMessage, res: ServerResponse, sendAnswer: (status: number, body: string | Buffer, contentType?: string) => void): void {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const path = url.pathname
    const q = url.searchParams
    const method = req.method ?? 'GET'
    let send = sendAnswer
    if (this.scenario.cacheDumps && this.fixedDump === undefined && method === 'GET' && (path === '/config_dump' || path === '/clusters')) {
      const key = `${path}?${q}`
      const cached = this.answers.get(this.pod, key)
      if (cached) return sendAnswer(...cached)
      send = (status, body, contentType) => {
        sendAnswer(status, status === 200 && typeof body === 'string' ? this.answers.set(this.pod, key, status, body, contentType) : body, contentType)
      }
    }
    const post = HELP.find(([p]) => p === path)?.[2]
    if (post && method !== 'POST') return send(405, `Method ${method} not allowed, POST required.`)
    const json = (value: unknown) => send(200, envoyJson(value), 'application/json')
    switch (path) {
      case '/config_dump': return this.configDump(q, send)
      case '/clusters': return q.get('format') === 'json' ? json(this.clustersJson()) : send(200, this.clustersText())
      case '/listeners': {
        const ls = listenerAddresses(this.pod, this.scenario)
        return q.get('format') === 'json'
          ? json({listener_statuses: ls.map((l) => ({name: l.name, local_address: l.internal ? {envoy_internal_address: {server_listener_name: l.name}} : {socket_address: {address: l.address, port_value: l.port}}}))})
          : send(200, ls.map((l) => `${l.name}::${l.internal ? `envoy://${l.name}/` : `${l.address}:${l.port}`}\n`).join(''))
      }
      case '/certs': return json(this.certs())
      case '/server_info': return json(this.serverInfo())
      case '/ready': return send(...envoyReadyAnswer(this.pod, this.scenario))
      case '/logging': return this.logging(q, send)
      case '/stats': return this.stats(q, send)
      case '/stats/prometheus': return send(200, this.prometheus())
      case '/memory': return json({allocated: '12024744', heap_size: '14680064', pageheap_unmapped: '0', pageheap_free: '0', total_thread_cache: '2785280', total_physical_bytes: '17301504'})
      case '/runtime': return json({layers: ['global config', 'admin'], entries: {'re2.max_program_size.error_level': {layer_values: ['32768', ''], final_value: '32768'}}})
      case '/hot_restart_version': return send(200, '11.104')
      case '/help': return send(200, `admin commands are:\n${helpText()}`)
      case '/': return send(200, '<html><head><title>Envoy Admin</title></head><body><table class=\'home-table\'></table></body></html>', 'text/html; charset=UTF-8')
      case '/quitquitquit': case '/healthcheck/fail': case '/healthcheck/ok': case '/reset_counters': case '/drain_listeners': case '/reopen_logs':
        return send(200, 'OK\n')
      default: return send(404, `invalid path. admin commands are:\n${helpText()}`)
    }
  }

  private configDump(q: URLSearchParams, send: (status: number, body: string | Buffer, contentType?: string) => void): void {
    const fixed = this.fixedDump
    if (fixed === undefined) return this.buildConfigDumpResponse(q, send)
    const key = q.toString()
    const cached = fixed.responses.get(key)
    if (cached) return send(cached[0], cached[1], 'application/json')
    this.buildConfigDumpResponse(q, (status, body, contentType) => {
      if (status !== 200) return send(status, body, contentType)
      // Kept encoded: re-encoding megabytes of text per request is simulator CPU no Envoy spends.
      const bytes = Buffer.from(body)
      fixed.responses.set(key, [status, bytes])
      send(status, bytes, contentType)
    })
  }

  private buildConfigDumpResponse(q: URLSearchParams, send: (status: number, body: string, contentType?: string) => void): void {
    const resource = q.get('resource') ?? ''
    const mask = q.get('mask') ?? ''
    const nameRegex = q.get('name_regex') ?? ''
    if (!resource && !mask && !nameRegex && this.configDumpText !== undefined) return send(200, this.configDumpText, 'application/json')
    let dump: J
    try {
      dump = this.dump(q.has('include_eds'))
    } catch {
      return send(200, this.configDumpText ?? '', 'application/json') // a deliberately broken dump stays broken
    }
    const regex = nameRegex ? nameFilter(nameRegex) : undefined
    if (regex !== undefined && !(regex instanceof RegExp)) return send(regex.status, regex.text)
    const configs: J[] = (dump.configs as J[]).map((c) => (regex ? filterByName(c, regex) : c))
    const maskPaths = mask ? mask.split(',').map((p) => p.trim()).filter(Boolean) : []
    if (resource) {
      const answer = dumpResourceItems(configs, resource, maskPaths)
      return answer.status === 200 ? send(200, envoyJson({configs: answer.configs}), 'application/json') : send(answer.status, answer.text)
    }
    if (maskPaths.length) {
      const kept: J[] = []
      for (const c of configs) {
        const fields = DUMP_FIELDS[shortType(c['@type'])]
        if (!fields || !maskPaths.every((p) => p.split('.')[0] in fields)) continue
        kept.push({'@type': c['@type'], ...applyMask(c, maskPaths)})
      }
      if (kept.length === 0) return send(400, `FieldMask paths: "${maskPaths.join('" paths: "')}" could not be successfully applied to any configs.`)
      return send(200, envoyJson({configs: kept}), 'application/json')
    }
    return send(200, envoyJson({configs}), 'application/json')
  }

  clustersJson(): J {
    return {cluster_statuses: liveClusters(this.pod, this.scenario).map(({cluster, added_via_api, hosts}) => ({
      name: cluster.name,
      ...(added_via_api ? {added_via_api: true} : {}),
      ...(cluster.type === 'EDS' ? {observability_name: cluster.name, eds_service_name: cluster.name} : {observability_name: cluster.name}),
      circuit_breakers: {thresholds: [{max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295}, {priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3}]},
      ...(hosts.length ? {host_statuses: hosts.map((h, i) => ({
        address: h.internal ? {envoy_internal_address: {server_listener_name: h.internal.listener, ...(h.internal.id ? {endpoint_id: h.internal.id} : {})}} : h.port === 0 && !/^\d/.test(h.ip) ? {pipe: {path: h.ip}} : {socket_address: {address: h.ip, port_value: h.port}},
        stats: [{name: 'cx_connect_fail'}, {name: 'cx_total', value: String(3 + i)}, {name: 'rq_error'}, {name: 'rq_success', value: String(10 + i)}, {name: 'rq_timeout'}, {name: 'rq_total', value: String(10 + i)}, {type: 'GAUGE', name: 'cx_active', value: '1'}, {type: 'GAUGE', name: 'rq_active'}],
        health_status: {eds_health_status: h.healthy ? 'HEALTHY' : 'UNHEALTHY'},
        weight: 1,
        locality: {},
      }))} : {}),
    }))}
  }

  clustersText(): string {
    const lines: string[] = []
    for (const {cluster, added_via_api, hosts} of liveClusters(this.pod, this.scenario)) {
      const n = cluster.name
      for (const prio of ['default_priority', 'high_priority']) {
        const hi = prio === 'high_priority'
        lines.push(`${n}::${prio}::max_connections::${hi ? 1024 : 4294967295}`, `${n}::${prio}::max_pending_requests::${hi ? 1024 : 4294967295}`, `${n}::${prio}::max_requests::${hi ? 1024 : 4294967295}`, `${n}::${prio}::max_retries::${hi ? 3 : 4294967295}`)
      }
      lines.push(`${n}::added_via_api::${added_via_api}`)
      if (cluster.type === 'EDS') lines.push(`${n}::eds_service_name::${n}`)
      hosts.forEach((h, i) => {
        // Envoy prints an internal address as envoy://<listener>/<endpoint id>; pipes have no port.
        const a = h.internal ? `envoy://${h.internal.listener}/${h.internal.id}` : h.port === 0 && !/^\d/.test(h.ip) ? h.ip : `${h.ip}:${h.port}`
        lines.push(`${n}::${a}::cx_active::1`, `${n}::${a}::cx_connect_fail::0`, `${n}::${a}::cx_total::${3 + i}`, `${n}::${a}::rq_active::0`, `${n}::${a}::rq_error::0`, `${n}::${a}::rq_success::${10 + i}`, `${n}::${a}::rq_timeout::0`, `${n}::${a}::rq_total::${10 + i}`,
          `${n}::${a}::hostname::`, `${n}::${a}::health_flags::${h.healthy ? 'healthy' : '/failed_eds_health'}`, `${n}::${a}::weight::1`, `${n}::${a}::region::`, `${n}::${a}::zone::`, `${n}::${a}::sub_zone::`, `${n}::${a}::canary::false`, `${n}::${a}::priority::0`, `${n}::${a}::success_rate::-1`, `${n}::${a}::local_origin_success_rate::-1`)
      })
    }
    return lines.join('\n') + '\n'
  }

  private certs(): J {
    const issued = proxyCertificates(this.pod, this.scenario)
    // Parsing two certificates per request was most of a /certs answer's CPU; issued certificates
    // are memoised objects, so the same object means the same PEM text.
    if (this.parsedCerts?.issued !== issued) this.parsedCerts = {issued, leaf: parseCert(issued.leaf), root: parseCert(issued.root)}
    const chain = certInfo(this.parsedCerts.leaf, false)
    const ca = certInfo(this.parsedCerts.root, true)
    const contexts = this.pod.proxy?.kind === 'router' ? 2 : 4
    return {certificates: Array.from({length: contexts}, () => ({ca_cert: [ca], cert_chain: [chain]}))}
  }

  serverInfo(): J {
    const v = envoyVersionFor(this.pod.proxy!.istioVersion)
    const uptime = `${this.uptimeSeconds()}s`
    return {
      version: `${v.sha}/${v.major}.${v.minor}.${v.patch}/Clean/RELEASE/BoringSSL`,
      state: envoyState(this.pod, this.scenario).state,
      hot_restart_version: '11.104',
      command_line_options: commandLineOptions(this.pod.proxy!.istioVersion),
      node: {...bootstrapNode(this.pod, this.scenario), extensions: [{name: 'envoy.filters.http.rbac', category: 'envoy.filters.http'}, {name: 'envoy.filters.network.http_connection_manager', category: 'envoy.filters.network'}, {name: 'envoy.filters.network.tcp_proxy', category: 'envoy.filters.network'}]},
      uptime_current_epoch: uptime,
      uptime_all_epochs: uptime,
    }
  }

  /** Envoy started with the container whose log the pod serves (src/sim/log-timeline.ts), not with this process. */
  private uptimeSeconds(): number {
    return Math.floor((Date.now() - trafficClock(this.scenario).containerStartMs - ENVOY_STARTED_AFTER_MS) / 1000)
  }

  private logging(q: URLSearchParams, send: (status: number, body: string) => void): void {
    const params = [...q.entries()]
    const usage = 'usage: /logging?<name>=<level> (change single level)\nusage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\nusage: /logging?level=<level> (change all levels)\nlevels: trace debug info warning error critical off \n'
    // Envoy >= ~1.23 (every Envoy this simulator pretends to be) answers a rejected change with 400, error line first.
    const fail = (why: string) => send(400, `error: ${why}\n\n${usage}${this.activeLoggers()}`)
    if (params.length === 0) return send(200, this.activeLoggers())
    if (params.length > 1) return fail('invalid number of parameters')
    const [name, value] = params[0]
    if (name === 'level') {
      if (!LEVELS.includes(value)) return fail('unknown logger level')
      for (const l of this.loggers.keys()) this.loggers.set(l, value)
      return send(200, this.activeLoggers())
    }
    if (name === 'paths') {
      const pairs = value.split(',').filter(Boolean).map((p) => p.split(':'))
      if (pairs.some((p) => p.length !== 2 || !p[0] || !p[1])) return fail('empty logger name or empty logger level')
      if (pairs.some(([, l]) => !LEVELS.includes(l))) return fail('unknown logger level')
      if (pairs.some(([n]) => !this.loggers.has(n))) return fail('unknown logger name')
      const seen = new Set<string>()
      for (const [n, l] of pairs) {
        if (seen.has(n)) continue // the first match wins
        seen.add(n)
        this.loggers.set(n, l)
      }
      return send(200, this.activeLoggers())
    }
    if (!name || !value) return fail('empty logger name or empty logger level')
    if (!LEVELS.includes(value)) return fail('unknown logger level')
    if (!this.loggers.has(name)) return fail('unknown logger name')
    this.loggers.set(name, value)
    return send(200, this.activeLoggers())
  }

  /** The pod's answer time when the scenario sets one (story 2's slow pod, whose requests time out). */
  private latencyMs(): number | undefined {
    const proxies = this.scenario.live?.proxies
    return (proxies?.[`${this.pod.name}.${this.pod.namespace}`] ?? proxies?.[this.pod.name])?.latencyMs
  }

  /** The bootstrap's stats matcher, fixed when Envoy starts (new annotations take a new pod, and a new EnvoyAdmin). */
  private statsMatcher?: (name: string) => boolean

  /** Whether Envoy created the stat `name`. */
  private created(name: string): boolean {
    this.statsMatcher ??= statsMatcher(statsInclusionPatterns(this.pod))
    return this.statsMatcher(name)
  }

  private statValues(): Array<[string, number]> {
    const clusters = clusterCounts(this.pod, this.scenario)
    const dyn = clusters.dynamic
    const seed = [...this.pod.name].reduce((a, c) => a + c.charCodeAt(0), 0)
    const values: Array<[string, number]> = [
      ['cluster_manager.active_clusters', clusters.total], ['cluster_manager.cds.update_attempt', 12], ['cluster_manager.cds.update_rejected', this.scenario.xds?.status(this.pod)?.cds?.error !== undefined ? 1 : 0], ['cluster_manager.cds.update_success', 11],
      ['cluster_manager.warming_clusters', envoyState(this.pod, this.scenario).warmingClusters], ['listener_manager.total_listeners_warming', envoyState(this.pod, this.scenario).warmingListeners], ['listener_manager.lds.update_attempt', 12], ['listener_manager.lds.update_rejected', this.scenario.xds?.status(this.pod)?.lds?.error !== undefined ? 1 : 0],
      ['listener_manager.lds.update_success', 11], ['listener_manager.total_listeners_active', listenerAddresses(this.pod, this.scenario).length], ['listener_manager.workers_started', 1],
      ['server.concurrency', 2], ['server.live', 1], ['server.state', SERVER_STATE_GAUGE[envoyState(this.pod, this.scenario).state]], ['server.total_connections', 3 + (seed % 7)], ['server.uptime', this.uptimeSeconds()],
      ['cluster.xds-grpc.upstream_cx_total', 1], ['cluster.xds-grpc.upstream_rq_total', 4],
      ['cluster_manager.cluster_added', dyn + 5],
      ...versionedServerStats(this.pod.proxy!.istioVersion),
    ]
    return values.filter(([name]) => this.created(name)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  /**
   * Envoy's `cluster.<name>.membership_*` gauges of every live cluster whose stats the bootstrap's
   * stats matcher lets Envoy create (stats-matcher.ts: by default only xds-grpc's; Envoy has
   * dozens more per cluster, the simulator serves these four). Only /stats text and JSON carry
   * them: its Prometheus output has no per-cluster metrics.
   */
  private clusterStatValues(filter: RegExp | undefined): Array<[string, number]> {
    const values: Array<[string, number]> = []
    for (const {name, healthy, total} of clusterMembership(this.pod, this.scenario)) {
      for (const [stat, value] of [['degraded', 0], ['excluded', 0], ['healthy', healthy], ['total', total]] as const) {
        const statName = `cluster.${name}.membership_${stat}`
        if (this.created(statName) && (!filter || filter.test(statName))) values.push([statName, value])
      }
    }
    return values
  }

  /**
   * clusterStatValues as sorted `name: value` lines. A scenario whose config never changes keeps
   * them per filter (bodies shared between pods, as its other answers): building and matching
   * thousands of names per request made every diagnose's two /stats calls most of the simulator's
   * CPU, where Envoy reads gauges it already has.
   */
  private clusterStatText(filter: RegExp | undefined): string | Buffer {
    const build = () => this.clusterStatValues(filter).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([n, v]) => `${n}: ${v}\n`).join('')
    if (!this.scenario.cacheDumps || this.fixedDump !== undefined) return build()
    const key = `/stats#cluster-gauges?${filter?.source ?? ''}`
    const cached = this.answers.get(this.pod, key)
    if (cached) return cached[1]
    return this.answers.set(this.pod, key, 200, build(), undefined)
  }

  private stats(q: URLSearchParams, send: (status: number, body: string | Buffer, contentType?: string) => void): void {
    const format = q.get('format')
    if (format && !['json', 'prometheus', 'text'].includes(format)) return send(404, 'usage: /stats?format=json  or /stats?format=prometheus')
    if (format === 'prometheus') return send(200, this.prometheus())
    let filter: RegExp | undefined
    const f = q.get('filter')
    if (f) {
      try {
        filter = new RegExp(f)
      } catch (error) {
        return send(400, `Invalid re2 regex: ${(error as Error).message}`)
      }
    }
    const values = this.statValues().filter(([n]) => !filter || filter.test(n))
    const byName = (a: [string, number], b: [string, number]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
    if (format === 'json') {
      const all = [...values, ...this.clusterStatValues(filter)].sort(byName)
      return send(200, JSON.stringify({stats: [...all.map(([name, value]) => ({name, value})), {histograms: {supported_quantiles: [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100], computed_quantiles: []}}]}), 'application/json')
    }
    const perCluster = this.clusterStatText(filter)
    if (values.length === 0) return send(200, perCluster)
    const lines = (pairs: Array<[string, number]>) => pairs.map(([n, v]) => `${n}: ${v}\n`).join('')
    if (perCluster.length === 0) return send(200, lines(values))
    const parsed = perCluster.toString().split('\n').filter(Boolean).map((line): [string, number] => {
      const at = line.lastIndexOf(': ')
      return [line.slice(0, at), Number(line.slice(at + 2))]
    })
    send(200, lines([...values, ...parsed].sort(byName)))
  }

  prometheus(): string {
    const lines: string[] = []
    for (const [name, value] of this.statValues()) {
      const metric = `envoy_${name.replace(/[.-]/g, '_')}`
      lines.push(`# TYPE ${metric} ${/update_|total|cluster_added/.test(name) ? 'counter' : 'gauge'}`, `${metric}{} ${value}`)
    }
    if (this.pod.proxy?.kind) {
      const app = this.pod.labels.app ?? this.pod.name
      const version = this.pod.labels.version ?? 'unknown'
      lines.push('# TYPE istio_requests_total counter')
      lines.push(`istio_requests_total{reporter="destination",source_workload="istio-ingressgateway",source_workload_namespace="istio-system",destination_workload="${app}",destination_workload_namespace="${this.pod.namespace}",destination_service="${app}.${this.pod.namespace}.svc.cluster.local",destination_version="${version}",response_code="200",response_flags="-"} 172`)
      if (this.latencyMs() !== undefined) lines.push(`istio_requests_total{reporter="destination",source_workload="istio-ingressgateway",source_workload_namespace="istio-system",destination_workload="${app}",destination_workload_namespace="${this.pod.namespace}",destination_service="${app}.${this.pod.namespace}.svc.cluster.local",destination_version="${version}",response_code="0",response_flags="DC"} 41`)
    }
    return lines.join('\n') + '\n'
  }
}
