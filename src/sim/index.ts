// A simulated Kubernetes cluster with an Istio mesh, in-process: a fake kube-apiserver (REST +
// v4.channel.k8s.io port-forward) and, behind each pod, the HTTP servers a real pod would run.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {WebSocketServer, type WebSocket} from 'ws'
import {handleAgent, handleAgentDebug} from './agent.js'
import {type ApiFault, ApiFaults} from './api-faults.js'
import {handleRest, status} from './apiserver.js'
import {sendJson} from './http-json.js'
import {buildCatalogScenario} from './catalog.js'
import {readCert} from './certs.js'
import {AdminAnswerCache, EnvoyAdmin} from './envoy-admin.js'
import {handleIstiod} from './istiod.js'
import {serveLog} from './logs.js'
import type {Scenario, SimPod} from './model.js'
import {handlePortForwardUpgrade, type Fault} from './portforward.js'
import {dialInProcess} from './pod-pipe.js'
import {buildScaleScenario} from './scale.js'
import type {SpdySession} from './spdy.js'
import {MeshStore} from './store.js'
import {XdsServer} from './xds.js'
import {handleZtunnelAdmin} from './ztunnel-admin.js'

export type {Fault} from './portforward.js'
export type {ApiFault} from './api-faults.js'
export type {Scenario, SimPod, SimService, SimWorkload, IstioConfig, SimProxy, SyncState} from './model.js'
export {buildCatalogScenario, catalogFix} from './catalog.js'
export {buildScaleScenario} from './scale.js'

export interface SimulatorOptions {
  scenario?: 'catalog' | 'scale' | Scenario
  tls?: boolean
}

export interface Simulator {
  url: string
  kubeconfigPath: string
  kubeconfigYaml(options?: {namespace?: string; token?: string}): string
  scenario: Scenario
  setFault(target: {pod: string; namespace: string; port?: number}, fault: Fault | undefined): void
  /** A fault of the API server on requests whose path (and query) starts with / matches `match`. */
  setApiFault(match: string | RegExp, fault: ApiFault | undefined): void
  setConfigDump(pod: {pod: string; namespace: string}, text: string | undefined): void
  requests: Array<{method: string; path: string; headers: Record<string, string | string[] | undefined>}>
  /** `connection` numbers the TCP connection (one per port-forward tunnel) the request came on. */
  adminRequests: Array<{pod: string; namespace: string; port: number; method: string; path: string; connection: number}>
  /** Writes made through the API, as change events (what istiod watches). */
  store: MeshStore
  close(): Promise<void>
}

/** Ports a meshed pod's sidecar listens on, besides the admin port. */
const PROXY_PORTS = [15001, 15006, 15020, 15021, 15053, 15090]

interface PortServer {server: Server; port: number}

class SimulatorImpl implements Simulator {
  url = ''
  kubeconfigPath = ''
  requests: Simulator['requests'] = []
  adminRequests: Simulator['adminRequests'] = []
  private connectionIds = new WeakMap<object, number>()
  private connectionCount = 0
  /** One-shot faults (`close-on-reuse`) that already fired. */
  private spentFaults = new WeakSet<object>()
  private server!: Server
  private wss = new WebSocketServer({noServer: true, perMessageDeflate: false, handleProtocols: (protocols) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false)})
  private spdyWss = new WebSocketServer({noServer: true, perMessageDeflate: false})
  private spdySessions = new Set<SpdySession>()
  private faults = new Map<string, Fault>()
  private apiFaults = new ApiFaults()
  private admins = new Map<string, EnvoyAdmin>()
  private adminAnswers = new AdminAnswerCache()
  private portServers = new Map<string, Promise<PortServer | undefined>>()
  private sockets = new Set<Socket>()
  private liveSockets = new Set<WebSocket>()
  private timers = new Set<NodeJS.Timeout>()
  private issuedTokens = new Set<string>()
  private closeHooks = new Set<() => void>()
  readonly store = new MeshStore()
  private xds?: XdsServer
  private tmpDir = ''
  private closed = false

  constructor(public scenario: Scenario, private tls: boolean) {}

  async start(): Promise<void> {
    if (this.scenario.live) {
      this.xds = new XdsServer(this.scenario, this.store)
      this.scenario.xds = this.xds
    }
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res)
    this.server = this.tls
      ? createHttpsServer({cert: readCert('apiserver.pem'), key: readCert('apiserver.key')}, onRequest)
      : createHttpServer(onRequest)
    this.server.keepAliveTimeout = 5000
    this.server.on(this.tls ? 'secureConnection' : 'connection', (s: Socket) => this.track(s))
    if (this.tls) this.server.on('connection', (s: Socket) => this.track(s))
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.log(req)
      if (this.apiFaults.applyUpgrade(req, socket)) return
      handlePortForwardUpgrade({
        scenario: this.scenario, wss: this.wss, spdyWss: this.spdyWss, spdySessions: this.spdySessions, liveSockets: this.liveSockets, timers: this.timers,
        faultFor: (pod, port) => this.faultFor(pod, port),
        spentFaults: this.spentFaults,
        portServer: async (pod, port) => (await this.portServer(pod, port))?.port,
        dialPod: async (pod, port) => {
          const target = await this.portServer(pod, port)
          return target === undefined || this.closed ? undefined : dialInProcess(target.server)
        },
      }, req, socket, head)
    })
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    const address = this.server.address() as {port: number}
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`
    this.tmpDir = mkdtempSync(join(tmpdir(), 'meshdbg-sim-'))
    this.kubeconfigPath = join(this.tmpDir, 'kubeconfig')
    writeFileSync(this.kubeconfigPath, this.kubeconfigYaml())
  }

  private track(s: Socket): void {
    this.sockets.add(s)
    s.on('close', () => this.sockets.delete(s))
  }

  private log(req: IncomingMessage): void {
    this.requests.push({method: req.method ?? 'GET', path: req.url ?? '/', headers: {...req.headers}})
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.log(req)
    if (this.apiFaults.apply(req, res)) return
    handleRest({scenario: this.scenario, store: this.store, issuedTokens: this.issuedTokens, serveLog: (rq, rs, ns, pod, q) => {
      const p = this.scenario.pods.find((x) => x.namespace === ns && x.name === pod)!
      const stop = serveLog(this.scenario, p, rq, rs, q)
      if (stop) {
        this.closeHooks.add(stop)
        rs.on('close', () => this.closeHooks.delete(stop))
      }
    }}, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, status(500, 'InternalError', `simulator: ${(error as Error).message}`))
      else res.destroy()
    })
  }

  kubeconfigYaml(options: {namespace?: string; token?: string} = {}): string {
    const cluster = this.tls
      ? `    certificate-authority-data: ${Buffer.from(readCert('apiserver-ca.pem')).toString('base64')}\n`
      : '    insecure-skip-tls-verify: true\n'
    return `apiVersion: v1
kind: Config
clusters:
- cluster:
${cluster}    server: ${this.url}
  name: sim
contexts:
- context:
    cluster: sim
    user: sim-user
${options.namespace ? `    namespace: ${options.namespace}\n` : ''}  name: sim
current-context: sim
preferences: {}
users:
- name: sim-user
  user:
    token: ${options.token ?? 'sim-token'}
`
  }

  setFault(target: {pod: string; namespace: string; port?: number}, fault: Fault | undefined): void {
    const key = `${target.namespace}/${target.pod}/${target.port ?? '*'}`
    if (fault) this.faults.set(key, fault)
    else this.faults.delete(key)
  }

  setApiFault(match: string | RegExp, fault: ApiFault | undefined): void {
    this.apiFaults.set(match, fault)
  }

  faultFor(pod: SimPod, port: number): Fault | undefined {
    return this.faults.get(`${pod.namespace}/${pod.name}/${port}`) ?? this.faults.get(`${pod.namespace}/${pod.name}/*`)
  }

  setConfigDump(target: {pod: string; namespace: string}, text: string | undefined): void {
    const pod = this.scenario.pods.find((p) => p.namespace === target.namespace && p.name === target.pod)
    if (!pod) throw new Error(`no pod ${target.pod} in namespace ${target.namespace}`)
    this.admin(pod).configDumpText = text
  }

  private admin(pod: SimPod): EnvoyAdmin {
    const key = `${pod.namespace}/${pod.name}`
    let admin = this.admins.get(key)
    if (!admin || admin.pod !== pod) {
      const previous = admin
      admin = new EnvoyAdmin(pod, this.scenario, this.adminAnswers)
      if (previous) admin.configDumpText = previous.configDumpText
      this.admins.set(key, admin)
    }
    return admin
  }

  /** What listens on `pod:port`; undefined when the port is closed. */
  private roleOf(pod: SimPod, port: number): 'envoy' | 'agent' | 'agent-debug' | 'health' | 'prometheus' | 'istiod' | 'ztunnel' | 'app' | undefined {
    if (pod.ztunnel && port === 15000) return 'ztunnel'
    const proxy = pod.proxy
    if (proxy) {
      if (port === proxy.adminPort) return 'envoy'
      if (port === 15020) return 'agent'
      if (port === 15004 && proxy.agentDebugPort) return 'agent-debug'
      if (port === 15021) return 'health'
      if (port === 15090) return 'prometheus'
      if (PROXY_PORTS.includes(port)) return 'app'
    }
    if (pod.istiod && (port === 8080 || port === 15014)) return 'istiod'
    if (pod.containers.some((c) => c.ports?.some((p) => p.containerPort === port))) return 'app'
    return undefined
  }

  private portServer(pod: SimPod, port: number): Promise<PortServer | undefined> {
    if (this.closed) return Promise.resolve(undefined)
    const role = this.roleOf(pod, port)
    if (!role) return Promise.resolve(undefined)
    const key = `${pod.namespace}/${pod.name}/${port}`
    let entry = this.portServers.get(key)
    if (!entry) {
      entry = new Promise<PortServer | undefined>((resolve) => {
        const server = createHttpServer((req, res) => this.servePodPort(pod, port, req, res))
        server.keepAliveTimeout = 5000
        server.on('connection', (s: Socket) => this.track(s))
        server.on('error', () => resolve(undefined))
        server.listen(0, '127.0.0.1', () => resolve({server, port: (server.address() as {port: number}).port}))
      })
      this.portServers.set(key, entry)
    }
    return entry
  }

  private servePodPort(podAtStart: SimPod, port: number, req: IncomingMessage, res: ServerResponse): void {
    // The model may have been replaced since the server started: look the pod up again.
    const pod = this.scenario.pods.find((p) => p.namespace === podAtStart.namespace && p.name === podAtStart.name) ?? podAtStart
    const path = req.url ?? '/'
    let connection = this.connectionIds.get(req.socket)
    if (connection === undefined) this.connectionIds.set(req.socket, (connection = ++this.connectionCount))
    this.adminRequests.push({pod: pod.name, namespace: pod.namespace, port, method: req.method ?? 'GET', path, connection})
    const fault = this.faultFor(pod, port)
    const role = this.roleOf(pod, port)
    const envoyHeaders = role === 'envoy' || role === 'prometheus' || role === 'health'
    // Cached admin answers come as Buffers (envoy-admin.ts AdminAnswerCache).
    const send = (code: number, body: string | Buffer, contentType?: string) => {
      if (res.destroyed) return
      let text = body
      let statusCode = code
      if (fault?.kind === 'http-status') {
        statusCode = fault.status
        text = fault.body ?? `simulated HTTP ${fault.status}\n`
      } else if (fault?.kind === 'truncated-json' && text.length > 1) {
        text = typeof text === 'string' ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text.subarray(0, Math.max(1, Math.floor(text.length / 2)))
      }
      const headers: Record<string, string | number> = {
        'content-type': contentType ?? (envoyHeaders ? 'text/plain; charset=UTF-8' : 'text/plain; charset=utf-8'),
        'content-length': Buffer.byteLength(text),
      }
      if (envoyHeaders) Object.assign(headers, {'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff', server: 'envoy'})
      res.writeHead(statusCode, headers)
      res.end(req.method === 'HEAD' ? undefined : text)
    }
    req.resume()
    req.on('end', () => {
      switch (role) {
        case 'envoy': return this.admin(pod).handle(req, res, send)
        case 'prometheus': {
          const p = new URL(path, 'http://x').pathname
          return p.startsWith('/stats/prometheus') ? send(200, this.admin(pod).prometheus()) : send(404, 'NR route_not_found')
        }
        case 'health': {
          const p = new URL(path, 'http://x').pathname
          return p.startsWith('/healthz/ready') ? send(200, '') : send(404, '')
        }
        case 'agent': return handleAgent(pod, this.scenario, this.admin(pod), req, send)
        case 'agent-debug': return handleAgentDebug(pod, this.scenario, req, send)
        case 'ztunnel': return handleZtunnelAdmin(pod, this.scenario, req, send)
        case 'istiod': {
          if (port === 15014 || fault?.kind === 'istiod-401') {
            const auth = String(req.headers.authorization ?? '')
            const token = auth.startsWith('Bearer ') ? auth.slice(7) : ''
            if (fault?.kind === 'istiod-401' || (port === 15014 && !this.issuedTokens.has(token) && new URL(path, 'http://x').pathname.startsWith('/debug'))) {
              res.writeHead(401, {'content-length': 0})
              return void res.end()
            }
          }
          return handleIstiod(pod, port, this.scenario, (p) => this.admin(p), req, send)
        }
        default: return this.serveApp(pod, port, path, send)
      }
    })
  }

  private serveApp(pod: SimPod, port: number, path: string, send: (code: number, body: string, contentType?: string) => void): void {
    if (pod.labels.app === 'catalog' && port === 3000 && path.startsWith('/items')) {
      return send(200, JSON.stringify([{id: 1, color: 'amber', department: 'Eyewear', name: 'Elinor Glasses', price: '282.00'}, {id: 2, color: 'cyan', department: 'Clothing', name: 'Atlas Shirt', price: '127.00'}]), 'application/json; charset=utf-8')
    }
    send(200, `${pod.labels.app ?? pod.name} ok\n`)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.xds?.close()
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const hook of [...this.closeHooks]) hook()
    this.apiFaults.close()
    for (const session of this.spdySessions) session.close()
    for (const ws of this.liveSockets) ws.terminate()
    const servers = (await Promise.all(this.portServers.values())).filter((s): s is PortServer => s !== undefined)
    for (const s of this.sockets) s.destroy()
    await Promise.all([this.server, ...servers.map((s) => s.server)].map((server) => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections?.()
    })))
    this.wss.close()
    this.spdyWss.close()
    if (this.tmpDir) rmSync(this.tmpDir, {recursive: true, force: true})
  }
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const scenario = typeof options.scenario === 'object' ? options.scenario
    : options.scenario === 'scale' ? buildScaleScenario() : buildCatalogScenario()
  const sim = new SimulatorImpl(scenario, options.tls ?? false)
  await sim.start()
  return sim
}
