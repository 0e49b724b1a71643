import {setMaxListeners} from 'node:events'

import type {KubeConfig} from '@kubernetes/client-node'
import WebSocket from 'ws'

import type {RunContext} from '../context.js'
import {MeshdbgError} from '../errors.js'
import {TransportError, type HttpMethod, type HttpResponse, type TransportFailure} from '../transport/http.js'
import {BodyTooLarge, encodeRequestHead, ResponseReader, type BodyBuffers} from '../transport/http1.js'
import {isConnectionReset, retryAfterMs, retryIdempotent} from './api-retry.js'
import {openKube, statusMessage} from './session.js'
import {dropTunnelPlan, takeTunnelPlan} from './tunnel-plan.js'
import {USER_AGENT} from './user-agent.js'

export interface PodRef {
  name: string
  namespace: string
}

/** Why the most recent tunnel of a forward failed; the HTTP layer turns it into the error. */
export type ForwardFailure =
  | {kind: 'upgrade'; status: number; message?: string}
  /** The kubelet's error channel; `received` bytes of the pod's answer had arrived before it. */
  | {kind: 'pod-error'; text: string; received: number}
  | {kind: 'closed'; code: number; reason: string}
  | {kind: 'network'; message: string; code?: string}

/**
 * HTTP requests to one pod port: every connection is its own WebSocket tunnel (v4.channel.k8s.io,
 * client-node's PortForward protocol) read by meshdbg's HTTP/1.1 reader (transport/http1.ts).
 * There is no local listener, so no other process can reach the pod through meshdbg's
 * credentials, and only requests that passed meshdbg's allow-list travel the tunnel. One per
 * (pod, port) per command; requests take turns on one tunnel, kept open between them.
 */
export interface PodForward {
  readonly pod: PodRef
  readonly podPort: number
  /** Increments on every tunnel failure, so a caller can tell whether its request saw one. */
  readonly failureCount: number
  readonly lastFailure?: ForwardFailure
  /** The signal to give request() for a request of this forward made under `parent` (see Forward). */
  requestSignal(parent: AbortSignal): AbortSignal
  /**
   * Sends one request and reads its whole answer, bounded by maxBytes, the command's timeout (to
   * the head, then between pieces of the body) and the signal. Rejects with a TransportError.
   */
  request(request: ForwardRequest): Promise<HttpResponse>
}

export interface ForwardRequest {
  method: HttpMethod
  /** The request target, already checked (safeRequestPath). */
  path: string
  headers?: Record<string, string>
  signal: AbortSignal
  maxBytes: number
  /** Where a body of declared length goes (a buffer lent for this request alone); else a new one. */
  bodyBuffer?: BodyBuffers
}

/** The failure of one tunnel, as the error a request that used it fails with. */
export class TunnelError extends Error {
  constructor(readonly failure: ForwardFailure) {
    super(failure.kind === 'pod-error' ? failure.text : failure.kind === 'upgrade' ? `port-forward upgrade failed (HTTP ${failure.status})` : failure.kind === 'closed' ? `port-forward stream closed (code ${failure.code})` : failure.message)
    this.name = 'TunnelError'
  }
}

// Only v4 (what the kubelet picks for port-forward anyway): v5 changes the close semantics.
const PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io']
const MAX_STATUS_BODY = 64 * 1024

/** The forward for (pod, port), created on first use and closed with the command's scope. */
export async function podForward(ctx: RunContext, pod: PodRef, podPort: number): Promise<PodForward> {
  const forwards = ctx.scope.memo(FORWARDS, () => new Map<string, Forward>())
  const key = `${pod.namespace}/${pod.name}:${podPort}`
  let forward = forwards.get(key)
  if (!forward) {
    const created = new Forward(ctx, openKube(ctx).kubeConfig, pod, podPort)
    forward = created
    forwards.set(key, created)
    ctx.scope.defer(() => created.close())
  }
  return forward
}

const FORWARDS = Symbol.for('meshdbg.kube.forwards')
const GROUPS = Symbol.for('meshdbg.kube.tunnel-groups')

const podKey = (pod: PodRef) => `${pod.namespace}/${pod.name}`
const tunnelGroups = (ctx: RunContext) => ctx.scope.memo(GROUPS, () => new Map<string, TunnelGroup>())

/** The pod's shared tunnel still offering `port`, made from the pod's plan (planSharedTunnel) on first need. */
function groupFor(ctx: RunContext, pod: PodRef, port: number): TunnelGroup | undefined {
  const groups = tunnelGroups(ctx)
  const key = podKey(pod)
  const existing = groups.get(key)
  if (existing) return existing.offers(port) ? existing : undefined
  const ports = takeTunnelPlan(ctx, pod, port)
  if (!ports) return undefined
  const group: TunnelGroup = new TunnelGroup(ports, () => {
    if (groups.get(key) === group) groups.delete(key)
  })
  groups.set(key, group)
  return group
}

/**
 * Closes the command's forwards to `pod` (every port) and forgets them: a command that reads many
 * pods one after another (diagnose -A) releases each pod's tunnels and their buffers once it is
 * done with the pod instead of holding hundreds until it ends. A later read opens a new forward.
 */
export async function closePodForwards(ctx: RunContext, pod: PodRef): Promise<void> {
  const forwards = ctx.scope.memo(FORWARDS, () => new Map<string, Forward>())
  const prefix = `${podKey(pod)}:`
  dropTunnelPlan(ctx, pod)
  tunnelGroups(ctx).get(podKey(pod))?.destroy()
  const closing: Array<Promise<void>> = []
  for (const [key, forward] of forwards) {
    if (!key.startsWith(prefix)) continue
    forwards.delete(key)
    closing.push(forward.close())
  }
  await Promise.all(closing)
}

/** How long a tunnel with no request waits for the next before it closes. */
const KEEP_ALIVE_MS = 10_000
const FORWARD_CLOSED = 'the command is over: port-forward closed'

class Forward implements PodForward {
  failureCount = 0
  lastFailure?: ForwardFailure
  /** What a kubectl port-forward user's client sends as host; Envoy and istiod ignore it. */
  private readonly host: string
  private readonly webSockets = new Set<WebSocket>()
  private readonly handler: StatusAwareHandler
  /** Requests waiting for the tunnel, in order. */
  private readonly queue: Exchange[] = []
  /** The request on the tunnel now. */
  private active?: Exchange
  /** The open tunnel requests take turns on: each tunnel is an upgrade through the API server and a stream the kubelet sets up, far dearer than a request on an open one. */
  private tunnel?: Tunnel
  private opening = false
  private idleTimer?: NodeJS.Timeout
  /**
   * One linked signal per caller signal, shared by the forward's requests: each request adds an
   * abort listener to its signal while it runs, and linking a fresh one per request
   * (AbortSignal.any) was ~20 us each in diagnose -A profiles. Its listeners are this forward's
   * requests in flight or queued, each removed as its request ends, so the warning limit is lifted
   * on it alone (the command's shared signal keeps its own limit and gets no listener).
   */
  private readonly links = new WeakMap<AbortSignal, AbortSignal>()
  private closed = false

  constructor(
    private readonly ctx: RunContext,
    kubeConfig: KubeConfig,
    readonly pod: PodRef,
    readonly podPort: number,
  ) {
    this.handler = new StatusAwareHandler(kubeConfig, ctx.timeoutMs, (ws) => this.track(ws))
    this.host = `localhost:${podPort}`
  }

  requestSignal(parent: AbortSignal): AbortSignal {
    let link = this.links.get(parent)
    if (!link) {
      link = AbortSignal.any([parent])
      setMaxListeners(0, link)
      this.links.set(parent, link)
    }
    return link
  }

  request(request: ForwardRequest): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const exchange = new Exchange(request, this.host, this.ctx.timeoutMs, {resolve, reject}, (over, reuse) => this.exchangeOver(over, reuse))
      if (this.closed) return exchange.fail(lostConnection(FORWARD_CLOSED))
      if (exchange.settled) return
      this.queue.push(exchange)
      this.pump()
    })
  }

  private track(ws: WebSocket): void {
    this.webSockets.add(ws)
    ws.once('close', () => this.webSockets.delete(ws))
    if (this.closed) terminate(ws)
  }

  private fail(failure: ForwardFailure): TunnelError {
    this.lastFailure = failure
    this.failureCount++
    return new TunnelError(failure)
  }

  /** Puts the next waiting request on the tunnel, opening one when there is none. */
  private pump(): void {
    if (this.active || this.opening || this.closed || this.queue.length === 0) return
    if (this.tunnel && !this.tunnel.usable) this.drop(this.tunnel)
    if (!this.tunnel) return this.open()
    this.startNext(this.tunnel)
  }

  private startNext(tunnel: Tunnel): void {
    clearTimeout(this.idleTimer)
    const exchange = this.queue.shift()!
    this.active = exchange
    exchange.start(tunnel)
  }

  private open(): void {
    this.opening = true
    this.connect().then(
      (tunnel) => {
        this.opening = false
        if (this.closed) return tunnel.destroy()
        if (tunnel.hasEnded) {
          // It ended as it opened (the kubelet refused the port at once): the waiting requests
          // fail with why, as they would on it.
          const why = tunnel.endError ?? new Error('the port-forward stream closed before a request')
          for (const exchange of this.queue.splice(0)) exchange.fail(lostConnection(why.message), tunnel.endError)
          return
        }
        // The first request goes on it even while its WebSocket is closing: the close then tells
        // that request why (the kubelet's refusal), where a new tunnel would only meet it again.
        this.tunnel = tunnel
        if (this.queue.length > 0) this.startNext(tunnel)
        else this.idle(tunnel)
      },
      (error: Error) => {
        this.opening = false
        // The requests waiting for this tunnel fail with its error (a later one tries a new tunnel).
        for (const exchange of this.queue.splice(0)) exchange.fail(lostConnection(error.message), error)
      },
    )
  }

  /** Keeps `tunnel` for the next request, for KEEP_ALIVE_MS; anything it says meanwhile ends it. */
  private idle(tunnel: Tunnel): void {
    this.tunnel = tunnel
    tunnel.sink = {data: () => this.drop(tunnel), end: () => this.drop(tunnel)}
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => this.drop(tunnel), KEEP_ALIVE_MS).unref()
  }

  private drop(tunnel: Tunnel): void {
    if (this.tunnel === tunnel) {
      this.tunnel = undefined
      clearTimeout(this.idleTimer)
    }
    tunnel.close()
  }

  private exchangeOver(exchange: Exchange, reuse: boolean): void {
    if (this.active === exchange) {
      this.active = undefined
      const tunnel = this.tunnel
      if (tunnel && reuse && tunnel.usable) this.idle(tunnel)
      else if (tunnel) this.drop(tunnel)
    } else {
      const waiting = this.queue.indexOf(exchange)
      if (waiting >= 0) this.queue.splice(waiting, 1)
    }
    this.pump()
  }

  /** A tunnel for this forward's port: its share of the pod's planned tunnel, else one of its own. */
  private async connect(): Promise<Tunnel> {
    const group = groupFor(this.ctx, this.pod, this.podPort)
    if (group) {
      const shared = await group.claim(this.podPort, (failure) => this.fail(failure), (ports, route) => this.openWebSocket(ports, route)).catch((error: unknown) => {
        throw this.fail(upgradeFailure(error))
      })
      // A shared tunnel that ended before this port's first request: a tunnel of its own.
      if (shared) return shared
    }
    const tunnel = new Tunnel((failure) => this.fail(failure))
    try {
      tunnel.attach(await this.openWebSocket([this.podPort], (channel, payload) => tunnel.fromPod(channel, payload)))
    } catch (error) {
      throw this.fail(upgradeFailure(error))
    }
    return tunnel
  }

  /** One WebSocket carrying `ports` (data channel 2i and error channel 2i+1 for the i-th). */
  private openWebSocket(ports: readonly number[], route: (channel: number, payload: Buffer) => boolean): Promise<WebSocket> {
    const path = `/api/v1/namespaces/${encodeURIComponent(this.pod.namespace)}/pods/${encodeURIComponent(this.pod.name)}/portforward?${ports.map((port) => `ports=${port}`).join('&')}`
    // An upgrade is a GET: a 429 or a reset before the 101 is retried (a fan-out over 500 pods
    // must not lose one to a transient API server hiccup).
    return retryIdempotent(this.ctx.signal, () => this.handler.connect(path, route), (error) => {
      if (error instanceof UpgradeRejected) return error.status === 429 ? {kind: 'throttled', retryAfterMs: retryAfterMs(error.retryAfter)} : undefined
      return isConnectionReset(upgradeFailureCause(error)) ? {kind: 'reset'} : undefined
    })
  }

  async close(): Promise<void> {
    this.closed = true
    for (const exchange of [...this.queue, ...(this.active ? [this.active] : [])]) exchange.fail(lostConnection(FORWARD_CLOSED))
    if (this.tunnel) this.drop(this.tunnel)
    for (const ws of this.webSockets) terminate(ws)
  }
}

/** The failure of a request whose connection could not be used or ended before any answer. */
function lostConnection(message: string): TransportFailure {
  return {kind: 'socket', phase: 'headers', received: 0, message}
}

/** Where a tunnel's traffic goes: the request on it, or the forward while it idles. */
interface TunnelSink {
  data(bytes: Buffer): void
  /** The tunnel ended, cleanly (no error) or with the failure that ended it. */
  end(error?: TunnelError): void
}

/** One request on a tunnel: sends its head, reads the answer, keeps its deadline and its signal. */
class Exchange implements TunnelSink {
  settled = false
  private readonly reader: ResponseReader
  private readonly head: Buffer | Error
  /** The request asked for its connection to end with it (`connection: close`). */
  private readonly lastOnTunnel: boolean
  private timer?: NodeJS.Timeout
  private readonly stopWatching: () => void

  constructor(
    request: ForwardRequest,
    host: string,
    private readonly timeoutMs: number,
    private readonly settle: {resolve: (response: HttpResponse) => void; reject: (error: TransportError) => void},
    private readonly over: (exchange: Exchange, reuse: boolean) => void,
  ) {
    this.reader = new ResponseReader({maxBytes: request.maxBytes, bodyBuffer: request.bodyBuffer})
    try {
      this.head = encodeRequestHead(request.method, request.path, host, request.headers)
    } catch (error) {
      this.head = error as Error
    }
    this.lastOnTunnel = Object.entries(request.headers ?? {}).some(([name, value]) => name.toLowerCase() === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(value))
    const onAbort = () => this.fail({kind: 'aborted', received: this.reader.received})
    request.signal.addEventListener('abort', onAbort, {once: true})
    this.stopWatching = () => request.signal.removeEventListener('abort', onAbort)
    if (this.head instanceof Error) this.fail(lostConnection(this.head.message), this.head)
    else if (request.signal.aborted) onAbort()
  }

  start(tunnel: Tunnel): void {
    tunnel.sink = this
    // To the head, then between the body's pieces.
    this.timer = setTimeout(() => this.fail({kind: 'timeout', phase: this.reader.head ? 'body' : 'headers', received: this.reader.received}), this.timeoutMs)
    tunnel.send(this.head as Buffer)
  }

  data(bytes: Buffer): void {
    if (this.settled) return
    let used: number
    try {
      used = this.reader.feed(bytes)
    } catch (error) {
      if (error instanceof BodyTooLarge) return this.fail({kind: 'too-large', limit: error.limit, received: error.received})
      return this.fail({...this.cutShort(), message: (error as Error).message}, error)
    }
    if (!this.reader.done) {
      this.timer?.refresh()
      return
    }
    this.finish(used === bytes.length && this.reader.head!.keepAlive && !this.lastOnTunnel)
  }

  end(error?: TunnelError): void {
    if (this.settled) return
    // An answer read until the connection's end is whole when it ends cleanly.
    if (error === undefined && this.reader.end()) return this.finish(false)
    const phase = this.reader.head ? 'body' : 'headers'
    this.fail({...this.cutShort(), message: error?.message ?? (phase === 'body' ? 'the connection closed mid-response' : 'the connection closed')}, error)
  }

  /** Where the answer stood when it stopped. */
  private cutShort(): Omit<Extract<TransportFailure, {kind: 'socket'}>, 'message'> {
    return {kind: 'socket', phase: this.reader.head ? 'body' : 'headers', received: this.reader.received, declared: this.reader.declared}
  }

  fail(failure: TransportFailure, source?: unknown): void {
    if (this.settled) return
    this.settleWith(false)
    this.settle.reject(new TransportError(failure, source))
  }

  /** The answer is whole; `reuse`: its tunnel may carry the next request. */
  private finish(reuse: boolean): void {
    const head = this.reader.head!
    this.settleWith(reuse)
    this.settle.resolve({status: head.status, headers: head.headers, body: this.reader.body()})
  }

  private settleWith(reuse: boolean): void {
    this.settled = true
    clearTimeout(this.timer)
    this.stopWatching()
    this.over(this, reuse)
  }
}

interface SharedChannels {
  /** This port's data channel on the WebSocket (its error channel is the next). */
  dataChannel: number
  /** Called once when this port's stream ends here; the group closes the WebSocket after the last. */
  release(): void
}

/**
 * One tunnel: data channel 0 both ways, the kubelet's error channel 1 collected. The first message
 * on each channel carries the port (2 bytes, dropped). client-node never ends its local socket
 * when the WebSocket goes; here every close ends the tunnel's sink, with the failure when it
 * failed, so a refused port or a dropped tunnel never leaves a request hanging. In a TunnelGroup
 * it is one port's channel pair of a shared WebSocket.
 */
class Tunnel {
  sink?: TunnelSink
  /** What ended the tunnel, when a failure did. */
  endError?: TunnelError
  private ws?: WebSocket
  private readonly prefixPending = [true, true]
  private readonly errorText: Buffer[] = []
  /** Bytes of the pod's answers that arrived (for "reset after N bytes"). */
  private received = 0
  private localEnded = false
  private released = false
  /** The WebSocket closed: nothing more can travel this tunnel. */
  private over = false
  /** The sink was told the tunnel ended (once). */
  private ended = false
  private readonly dataChannel: number
  /** Someone uses it (a tunnel of its own always; a shared one once its port is claimed). */
  private claimed: boolean

  constructor(
    private readonly fail: (failure: ForwardFailure) => TunnelError,
    private readonly shared?: SharedChannels,
  ) {
    this.dataChannel = shared?.dataChannel ?? 0
    this.claimed = shared === undefined
  }

  /** The sink was told the tunnel ended (with endError when a failure ended it). */
  get hasEnded(): boolean {
    return this.ended
  }

  /** Open and not let go: a request may use it. */
  get usable(): boolean {
    return !this.ended && !this.over && !this.localEnded && this.ws?.readyState === WebSocket.OPEN
  }

  /** A shared tunnel's port was claimed: from now on its failures are its claimer's errors. */
  claim(): void {
    this.claimed = true
  }

  /**
   * Ends the tunnel with `failure`. A shared tunnel nobody claimed yet has no one to tell: it just
   * ends (a claim that comes later finds it unusable and opens a tunnel of its own, which meets
   * the same failure with a claimer).
   */
  private failWith(failure: ForwardFailure): void {
    // Only the first ending counts (a socket error after the close is not a second failure).
    if (this.ended) return
    this.endWith(this.claimed ? this.fail(failure) : undefined)
  }

  private endWith(error?: TunnelError): void {
    if (this.ended) return
    this.ended = true
    this.endError = error
    this.sink?.end(error)
    this.release()
  }

  /** Channel traffic from the handler; false closes the WebSocket (an unknown channel). */
  fromPod(channel: number, payload: Buffer): boolean {
    if (channel > 1) return false
    let data = payload
    if (this.prefixPending[channel]) {
      data = data.subarray(2)
      this.prefixPending[channel] = false
    }
    if (data.length === 0 || this.ended) return true
    if (channel === 1) {
      this.errorText.push(data)
      // On a shared WebSocket the kubelet ends only this port's streams after its error (one write
      // of the whole text): the WebSocket stays open for the others, so this is the end of it.
      if (this.shared) this.failWith({kind: 'pod-error', text: Buffer.concat(this.errorText).toString('utf8').trim(), received: this.received})
      return true
    }
    this.received += data.length
    this.sink?.data(data)
    return true
  }

  attach(ws: WebSocket): void {
    this.ws = ws
    ws.once('close', (code: number, reason: Buffer) => {
      this.over = true
      const text = Buffer.concat(this.errorText).toString('utf8').trim()
      if (text !== '') this.failWith({kind: 'pod-error', text, received: this.received})
      else if (code === 1000 || this.localEnded) this.endWith()
      else this.failWith({kind: 'closed', code, reason: reason.toString('utf8')})
    })
    ws.on('error', (error: Error & {code?: string}) => this.failWith({kind: 'network', message: error.message, code: error.code}))
  }

  send(bytes: Buffer): void {
    const ws = this.ws
    // A closing tunnel (the kubelet may refuse the port before the request is written): the bytes
    // are dropped; the WebSocket's close decides how the tunnel ends, with the kubelet's reason.
    if (!ws || ws.readyState !== WebSocket.OPEN) return
    const frame = Buffer.allocUnsafe(bytes.length + 1)
    frame[0] = this.dataChannel
    bytes.copy(frame, 1)
    ws.send(frame)
  }

  /** This side is done with the tunnel: its WebSocket closes (a shared one once every port's tunnel is done). */
  close(): void {
    this.sink = undefined
    this.release()
  }

  /** Ends the tunnel now, telling no one (its user is gone). */
  destroy(): void {
    this.sink = undefined
    this.ended = true
    this.release()
  }

  private release(): void {
    this.localEnded = true
    if (this.released) return
    this.released = true
    if (this.shared) this.shared.release()
    else if (this.ws) closeWebSocket(this.ws)
  }
}

/**
 * Several ports of one pod on one WebSocket (`ports=a&ports=b`, planned with planSharedTunnel):
 * one upgrade through the API server and one stream setup at the kubelet instead of one per port.
 * Each port's first connection claims its channel pair. v4.channel.k8s.io has no way to say that
 * one port's connection ended (the kubelet closes the WebSocket once every port's has), so a
 * claimer whose port is read more than once must end its connection itself (`connection: close`),
 * as pilot-agent's single readiness request does; a later connection to any of the ports is a
 * tunnel of its own.
 */
class TunnelGroup {
  private readonly tunnels: Tunnel[]
  /** The claiming forward's failure record, per port. */
  private readonly failTo: Array<(failure: ForwardFailure) => TunnelError>
  private readonly unclaimed: Set<number>
  private opening?: Promise<WebSocket>
  private ws?: WebSocket
  private released = 0

  constructor(
    readonly ports: readonly number[],
    private readonly forget: () => void,
  ) {
    this.failTo = ports.map(() => (failure: ForwardFailure) => new TunnelError(failure))
    this.tunnels = ports.map((_, i) => new Tunnel((failure) => this.failTo[i](failure), {dataChannel: 2 * i, release: () => this.release()}))
    this.unclaimed = new Set(ports.keys())
  }

  offers(port: number): boolean {
    return this.unclaimed.has(this.ports.indexOf(port))
  }

  /**
   * `port`'s tunnel once the WebSocket is open (the first claim opens it with `open`), or
   * undefined when it can no longer carry a connection (closed before this claim).
   */
  async claim(port: number, fail: (failure: ForwardFailure) => TunnelError, open: (ports: readonly number[], route: (channel: number, payload: Buffer) => boolean) => Promise<WebSocket>): Promise<Tunnel | undefined> {
    const index = this.ports.indexOf(port)
    this.unclaimed.delete(index)
    if (this.unclaimed.size === 0) this.forget()
    this.failTo[index] = fail
    this.opening ??= open(this.ports, (channel, payload) => this.tunnels[channel >> 1]?.fromPod(channel & 1, payload) ?? false).then((ws) => {
      this.ws = ws
      for (const tunnel of this.tunnels) tunnel.attach(ws)
      // Every port's tunnel was let go while the upgrade was under way (the pod's reads are over).
      if (this.released === this.tunnels.length) closeWebSocket(ws)
      return ws
    })
    try {
      await this.opening
    } catch (error) {
      // Later connections to these ports try a tunnel of their own.
      this.forget()
      throw error
    }
    const tunnel = this.tunnels[index]
    if (!tunnel.usable) return undefined
    tunnel.claim()
    return tunnel
  }

  private release(): void {
    if (++this.released === this.tunnels.length && this.ws) closeWebSocket(this.ws)
  }

  /** The pod's reads are over: unclaimed ports are let go, the WebSocket closed. */
  destroy(): void {
    this.forget()
    this.unclaimed.clear()
    for (const tunnel of this.tunnels) tunnel.destroy()
  }
}

class UpgradeRejected extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly retryAfter?: string | string[],
  ) {
    super(`Unexpected server response: ${status}`)
  }
}

/** ws reports a failed connection as an ErrorEvent-like object around the socket's error. */
function upgradeFailureCause(error: unknown): unknown {
  return (error as {error?: unknown}).error ?? error
}

function upgradeFailure(error: unknown): ForwardFailure {
  if (error instanceof UpgradeRejected) return {kind: 'upgrade', status: error.status, message: statusMessage(error.body)}
  const inner = upgradeFailureCause(error)
  const code = (inner as {code?: string}).code
  const message = (inner as {message?: string}).message ?? String(inner)
  return {kind: 'network', message, code}
}

/**
 * client-node's WebSocket handler loses the apiserver's Status body on a refused upgrade (403,
 * 404, 500 all become "Unexpected server response"). This one reads it from ws's public
 * `unexpected-response` event; PortForward takes a handler by its public constructor.
 */
class StatusAwareHandler {
  constructor(
    private readonly kubeConfig: KubeConfig,
    // The upgrade has its own deadline: a silent API server must not hold a tunnel open.
    private readonly handshakeTimeoutMs: number,
    private readonly track: (ws: WebSocket) => void,
  ) {}

  async connect(path: string, binaryHandler: (stream: number, buff: Buffer) => boolean): Promise<WebSocket> {
    const cluster = this.kubeConfig.getCurrentCluster()
    if (!cluster) throw new MeshdbgError('usage', 'no cluster in the current kubeconfig context')
    const url = cluster.server.replace(/\/+$/, '').replace(/^http/, 'ws') + path
    const options: WebSocket.ClientOptions = {handshakeTimeout: this.handshakeTimeoutMs}
    await this.kubeConfig.applyToHTTPSOptions(options)
    options.headers = {...options.headers, 'User-Agent': USER_AGENT}
    return new Promise<WebSocket>((resolve, reject) => {
      let settled = false
      const ws = new WebSocket(url, PORT_FORWARD_PROTOCOLS, options)
      this.track(ws)
      ws.on('unexpected-response', (request, response) => {
        const chunks: Buffer[] = []
        let size = 0
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          size += chunk.length
          // Enough to quote; an endless error body must not hold the tunnel (or memory).
          if (size >= MAX_STATUS_BODY) finish()
        })
        const finish = () => {
          if (settled) return
          settled = true
          reject(new UpgradeRejected(response.statusCode ?? 0, Buffer.concat(chunks).subarray(0, MAX_STATUS_BODY).toString('utf8'), response.headers['retry-after']))
          request.destroy()
          terminate(ws)
        }
        response.once('end', finish)
        response.once('error', finish)
        response.once('close', finish)
      })
      ws.once('open', () => {
        settled = true
        resolve(ws)
      })
      ws.on('error', (error) => {
        if (settled) return
        settled = true
        reject(error)
      })
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary || data.length === 0) return
        if (!binaryHandler(data.readUInt8(0), data.subarray(1))) ws.close()
      })
    })
  }
}

/** A close handshake when open; otherwise the socket dropped. */
function closeWebSocket(ws: WebSocket): void {
  if (ws.readyState === WebSocket.OPEN) ws.close()
  else terminate(ws)
}

function terminate(ws: WebSocket): void {
  try {
    ws.terminate()
  } catch {
    // Already closing: nothing left to release.
  }
}
