import {setMaxListeners} from 'node:events'
import type {Socket} from 'node:net'
import {Duplex} from 'node:stream'

import type {KubeConfig} from '@kubernetes/client-node'
import type {Agent, buildConnector} from 'undici'
import WebSocket from 'ws'

import type {RunContext} from '../context.js'
import {MeshdbgError} from '../errors.js'
import {createForwardAgent} from '../transport/http.js'
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
 * An HTTP dispatcher to one pod port: every connection it opens is its own WebSocket tunnel
 * (v4.channel.k8s.io, client-node's PortForward protocol), handed to undici as the connection
 * itself. There is no local listener, so no other process can reach the pod through meshdbg's
 * credentials, and only requests that passed meshdbg's allow-list travel the tunnel. One per
 * (pod, port) per command; keep-alive reuses a tunnel across requests.
 */
export interface PodForward {
  readonly pod: PodRef
  readonly podPort: number
  /** The origin to send requests to (its host is never resolved: the tunnel is the connection). */
  readonly origin: string
  readonly dispatcher: Agent
  /** Increments on every tunnel failure, so a caller can tell whether its request saw one. */
  readonly failureCount: number
  readonly lastFailure?: ForwardFailure
  /** The signal to hand undici for a request of this forward made under `parent` (see Forward). */
  requestSignal(parent: AbortSignal): AbortSignal
}

/** The failure of one tunnel, as the error undici reports for the request that used it. */
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

class Forward implements PodForward {
  failureCount = 0
  lastFailure?: ForwardFailure
  readonly origin: string
  readonly dispatcher: Agent
  private readonly tunnels = new Set<Tunnel>()
  private readonly webSockets = new Set<WebSocket>()
  private readonly handler: StatusAwareHandler
  /**
   * One linked signal per caller signal, shared by the forward's requests: undici adds an abort
   * listener to every request's signal, and linking a fresh one per request (AbortSignal.any) was
   * ~20 us each in diagnose -A profiles. Its listeners are this forward's requests in flight or
   * queued, each removed as its request ends, so the warning limit is lifted on it alone (the
   * command's shared signal keeps its own limit and gets no listener).
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
    // What a kubectl port-forward user's client sends; Envoy and istiod ignore it.
    this.origin = `http://localhost:${podPort}`
    this.dispatcher = createForwardAgent(ctx.timeoutMs, ((_options, callback) => this.connect(callback)) as buildConnector.connector)
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

  /** undici's connector: resolves once the tunnel's WebSocket is open (or with why it is not). */
  private connect(callback: buildConnector.Callback): void {
    if (this.closed) return callback(new Error('the command is over: port-forward closed'), null)
    const group = groupFor(this.ctx, this.pod, this.podPort)
    if (!group) return this.connectAlone(callback)
    group.claim(this.podPort, (failure) => this.fail(failure), (ports, route) => this.openWebSocket(ports, route)).then(
      // A shared tunnel that ended before this port's first request: a tunnel of its own.
      (tunnel) => (tunnel ? this.hand(tunnel, callback) : this.connectAlone(callback)),
      (error: unknown) => callback(this.fail(upgradeFailure(error)), null),
    )
  }

  private connectAlone(callback: buildConnector.Callback): void {
    const tunnel = new Tunnel((failure) => this.fail(failure))
    this.openWebSocket([this.podPort], (channel, payload) => tunnel.fromPod(channel, payload)).then(
      (ws) => {
        tunnel.attach(ws)
        this.hand(tunnel, callback)
      },
      (error: unknown) => callback(this.fail(upgradeFailure(error)), null),
    )
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

  /** Gives undici an open tunnel as its connection. */
  private hand(tunnel: Tunnel, callback: buildConnector.Callback): void {
    if (this.closed) {
      tunnel.destroy()
      return callback(new Error('the command is over: port-forward closed'), null)
    }
    this.tunnels.add(tunnel)
    tunnel.once('close', () => this.tunnels.delete(tunnel))
    // undici reads and writes any Duplex; its typings name net.Socket.
    callback(null, tunnel as unknown as Socket)
  }

  async close(): Promise<void> {
    this.closed = true
    for (const ws of this.webSockets) terminate(ws)
    for (const tunnel of this.tunnels) tunnel.destroy()
    await this.dispatcher.destroy().catch(() => {})
  }
}

interface SharedChannels {
  /** This port's data channel on the WebSocket (its error channel is the next). */
  dataChannel: number
  /** Called once when this port's stream ends here; the group closes the WebSocket after the last. */
  release(): void
}

/**
 * One tunnel as the stream undici reads and writes: data channel 0 both ways, the kubelet's error
 * channel 1 collected. The first message on each channel carries the port (2 bytes, dropped).
 * client-node never ends its local socket when the WebSocket goes; here every close ends or
 * fails the stream, so a refused port or a dropped tunnel never leaves a request hanging. In a
 * TunnelGroup it is one port's channel pair of a shared WebSocket.
 */
class Tunnel extends Duplex {
  private ws?: WebSocket
  private readonly prefixPending = [true, true]
  private readonly errorText: Buffer[] = []
  /** Bytes of the pod's answer that arrived (for "reset after N bytes"). */
  private received = 0
  private localEnded = false
  private released = false
  /** The WebSocket closed: nothing more can travel this tunnel. */
  private over = false
  private readonly dataChannel: number
  /** Someone reads it (a tunnel of its own always; a shared one once its port is claimed). */
  private claimed: boolean

  constructor(
    private readonly fail: (failure: ForwardFailure) => TunnelError,
    private readonly shared?: SharedChannels,
  ) {
    // Each read() hands out one WebSocket message as it came: undici reads a socket with read(),
    // which on a byte stream joins every buffered message into a fresh buffer (a copy of each
    // answer, megabytes per proxy). The kubelet's messages are at most 32 KiB: two waiting pause
    // the WebSocket, about what the byte stream's 16 KiB mark held (a command with hundreds of
    // tunnels open must not buffer half a megabyte in each).
    super({allowHalfOpen: false, readableObjectMode: true, readableHighWaterMark: 2})
    this.dataChannel = shared?.dataChannel ?? 0
    this.claimed = shared === undefined
  }

  /** Open and unused by the pod's side so far: a claimer of a shared tunnel may still take it. */
  get usable(): boolean {
    return !this.destroyed && !this.over && this.ws?.readyState === WebSocket.OPEN
  }

  /** A shared tunnel's port was claimed: from now on its failures are its claimer's errors. */
  claim(): void {
    this.claimed = true
  }

  /**
   * Ends the stream with `failure`. A shared tunnel nobody claimed yet has no reader to tell: it
   * just ends (a claim that comes later finds it unusable and opens a tunnel of its own, which
   * meets the same failure with a reader).
   */
  private failWith(failure: ForwardFailure): void {
    if (this.claimed) this.destroy(this.fail(failure))
    else this.destroy()
  }

  /** Channel traffic from the handler; false closes the WebSocket (an unknown channel). */
  fromPod(channel: number, payload: Buffer): boolean {
    if (channel > 1) return false
    let data = payload
    if (this.prefixPending[channel]) {
      data = data.subarray(2)
      this.prefixPending[channel] = false
    }
    if (data.length === 0) return true
    if (channel === 1) {
      this.errorText.push(data)
      // On a shared WebSocket the kubelet ends only this port's streams after its error (one write
      // of the whole text): the WebSocket stays open for the others, so this is the end of it.
      if (this.shared && !this.destroyed) this.failWith({kind: 'pod-error', text: Buffer.concat(this.errorText).toString('utf8').trim(), received: this.received})
      return true
    }
    this.received += data.length
    // Backpressure: stop reading the WebSocket until undici asks for more.
    if (!this.destroyed && !this.push(data)) this.ws?.pause()
    return true
  }

  attach(ws: WebSocket): void {
    this.ws = ws
    ws.once('close', (code: number, reason: Buffer) => {
      this.over = true
      const text = Buffer.concat(this.errorText).toString('utf8').trim()
      if (this.destroyed) return
      if (text !== '') this.failWith({kind: 'pod-error', text, received: this.received})
      else if (code === 1000 || this.localEnded) this.push(null)
      else this.failWith({kind: 'closed', code, reason: reason.toString('utf8')})
    })
    ws.on('error', (error: Error & {code?: string}) => {
      if (!this.destroyed) this.failWith({kind: 'network', message: error.message, code: error.code})
    })
  }

  override _read(): void {
    this.ws?.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const ws = this.ws
    // A closing tunnel (the kubelet may refuse the port before the request is written): drop the
    // bytes; the WebSocket's close decides how the stream ends, with the kubelet's reason.
    if (!ws || ws.readyState !== WebSocket.OPEN) return done()
    ws.send(Buffer.concat([Buffer.from([this.dataChannel]), chunk]), done)
  }

  override _final(done: (error?: Error | null) => void): void {
    this.release()
    done()
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.release()
    done(error)
  }

  /** This side is done: its WebSocket closes (a shared one once every port's tunnel is done). */
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
