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

/**
 * Closes the command's forwards to `pod` (every port) and forgets them: a command that reads many
 * pods one after another (diagnose -A) releases each pod's tunnels and their buffers once it is
 * done with the pod instead of holding hundreds until it ends. A later read opens a new forward.
 */
export async function closePodForwards(ctx: RunContext, pod: PodRef): Promise<void> {
  const forwards = ctx.scope.memo(FORWARDS, () => new Map<string, Forward>())
  const prefix = `${pod.namespace}/${pod.name}:`
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
    const path = `/api/v1/namespaces/${encodeURIComponent(this.pod.namespace)}/pods/${encodeURIComponent(this.pod.name)}/portforward?ports=${this.podPort}`
    const tunnel = new Tunnel((failure) => this.fail(failure))
    // An upgrade is a GET: a 429 or a reset before the 101 is retried (a fan-out over 500 pods
    // must not lose one to a transient API server hiccup).
    retryIdempotent(this.ctx.signal, () => this.handler.connect(path, (channel, payload) => tunnel.fromPod(channel, payload)), (error) => {
      if (error instanceof UpgradeRejected) return error.status === 429 ? {kind: 'throttled', retryAfterMs: retryAfterMs(error.retryAfter)} : undefined
      return isConnectionReset(upgradeFailureCause(error)) ? {kind: 'reset'} : undefined
    }).then(
      (ws) => {
        if (this.closed) {
          terminate(ws)
          return callback(new Error('the command is over: port-forward closed'), null)
        }
        this.tunnels.add(tunnel)
        tunnel.once('close', () => this.tunnels.delete(tunnel))
        tunnel.attach(ws)
        // undici reads and writes any Duplex; its typings name net.Socket.
        callback(null, tunnel as unknown as Socket)
      },
      (error: unknown) => callback(this.fail(upgradeFailure(error)), null),
    )
  }

  async close(): Promise<void> {
    this.closed = true
    for (const ws of this.webSockets) terminate(ws)
    for (const tunnel of this.tunnels) tunnel.destroy()
    await this.dispatcher.destroy().catch(() => {})
  }
}

/**
 * One tunnel as the stream undici reads and writes: data channel 0 both ways, the kubelet's error
 * channel 1 collected. The first message on each channel carries the port (2 bytes, dropped).
 * client-node never ends its local socket when the WebSocket goes; here every close ends or
 * fails the stream, so a refused port or a dropped tunnel never leaves a request hanging.
 */
class Tunnel extends Duplex {
  private ws?: WebSocket
  private readonly prefixPending = [true, true]
  private readonly errorText: Buffer[] = []
  /** Bytes of the pod's answer that arrived (for "reset after N bytes"). */
  private received = 0
  private localEnded = false

  constructor(private readonly fail: (failure: ForwardFailure) => TunnelError) {
    // Each read() hands out one WebSocket message as it came: undici reads a socket with read(),
    // which on a byte stream joins every buffered message into a fresh buffer (a copy of each
    // answer, megabytes per proxy). The kubelet's messages are at most 32 KiB: two waiting pause
    // the WebSocket, about what the byte stream's 16 KiB mark held (a command with hundreds of
    // tunnels open must not buffer half a megabyte in each).
    super({allowHalfOpen: false, readableObjectMode: true, readableHighWaterMark: 2})
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
      const text = Buffer.concat(this.errorText).toString('utf8').trim()
      if (this.destroyed) return
      if (text !== '') this.destroy(this.fail({kind: 'pod-error', text, received: this.received}))
      else if (code === 1000 || this.localEnded) this.push(null)
      else this.destroy(this.fail({kind: 'closed', code, reason: reason.toString('utf8')}))
    })
    ws.on('error', (error: Error & {code?: string}) => {
      if (!this.destroyed) this.destroy(this.fail({kind: 'network', message: error.message, code: error.code}))
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
    ws.send(Buffer.concat([Buffer.from([0]), chunk]), done)
  }

  override _final(done: (error?: Error | null) => void): void {
    this.localEnded = true
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.close()
    done()
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.localEnded = true
    const ws = this.ws
    if (ws?.readyState === WebSocket.OPEN) ws.close()
    else if (ws) terminate(ws)
    done(error)
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

function terminate(ws: WebSocket): void {
  try {
    ws.terminate()
  } catch {
    // Already closing: nothing left to release.
  }
}
