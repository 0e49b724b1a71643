import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'
import {Writable} from 'node:stream'

import type {KubeConfig} from '@kubernetes/client-node'
import WebSocket from 'ws'

import type {RunContext} from '../context.js'
import {MeshdbgError} from '../errors.js'
import {openKube, statusMessage, type KubeSession} from './session.js'

export interface PodRef {
  name: string
  namespace: string
}

/** Why the most recent tunnel of a forward failed; the HTTP layer turns it into the error. */
export type ForwardFailure =
  | {kind: 'upgrade'; status: number; message?: string}
  | {kind: 'pod-error'; text: string}
  | {kind: 'closed'; code: number; reason: string}
  | {kind: 'network'; message: string; code?: string}

/**
 * A local 127.0.0.1 listener that tunnels each accepted connection to one pod port through its own
 * WebSocket (v4.channel.k8s.io, client-node's PortForward protocol). One per (pod, port) per command, so an
 * HTTP agent with keep-alive reuses the tunnel across requests.
 */
export interface PodForward {
  readonly pod: PodRef
  readonly podPort: number
  readonly localPort: number
  /** Increments on every tunnel failure, so a caller can tell whether its request saw one. */
  readonly failureCount: number
  readonly lastFailure?: ForwardFailure
}

// Only v4 (what the kubelet picks for port-forward anyway): v5 changes the close semantics.
const PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io']
const MAX_STATUS_BODY = 64 * 1024

/** The forward for (pod, port), opened on first use and closed with the command's scope. */
export async function podForward(ctx: RunContext, pod: PodRef, podPort: number): Promise<PodForward> {
  const session = openKube(ctx)
  const forwards = ctx.scope.memo(FORWARDS, () => new Map<string, Promise<Forward>>())
  const key = `${pod.namespace}/${pod.name}:${podPort}`
  let forward = forwards.get(key)
  if (!forward) {
    forward = Forward.open(ctx, session, pod, podPort)
    forwards.set(key, forward)
  }
  return forward
}

const FORWARDS = Symbol.for('meshdbg.kube.forwards')

class Forward implements PodForward {
  failureCount = 0
  lastFailure?: ForwardFailure
  localPort = 0
  private readonly sockets = new Set<Socket>()
  private readonly webSockets = new Set<WebSocket>()
  private readonly portForward: V4PortForward
  private closed = false

  private constructor(
    private readonly server: Server,
    kubeConfig: KubeConfig,
    readonly pod: PodRef,
    readonly podPort: number,
    handshakeTimeoutMs: number,
  ) {
    this.portForward = new V4PortForward(new StatusAwareHandler(kubeConfig, handshakeTimeoutMs, (ws) => this.track(ws)))
  }

  static async open(ctx: RunContext, session: KubeSession, pod: PodRef, podPort: number): Promise<Forward> {
    const server = createServer()
    const forward = new Forward(server, session.kubeConfig, pod, podPort, ctx.timeoutMs)
    server.on('connection', (socket) => forward.tunnel(socket))
    ctx.scope.defer(() => forward.close())
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    forward.localPort = (server.address() as AddressInfo).port
    return forward
  }

  private track(ws: WebSocket): void {
    this.webSockets.add(ws)
    ws.once('close', () => this.webSockets.delete(ws))
    if (this.closed) terminate(ws)
  }

  private fail(failure: ForwardFailure): void {
    this.lastFailure = failure
    this.failureCount++
  }

  private tunnel(socket: Socket): void {
    if (this.closed) {
      socket.destroy()
      return
    }
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    // Failures are reported through lastFailure; an unhandled socket error would crash the CLI.
    socket.on('error', () => {})
    const errorText: Buffer[] = []
    const errorChannel = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (chunk.length > 0) errorText.push(chunk)
        done()
      },
    })
    let localEnded = false
    socket.once('end', () => (localEnded = true))
    socket.once('close', () => (localEnded = true))
    this.portForward
      .portForward(this.pod.namespace, this.pod.name, [this.podPort], socket, errorChannel, socket)
      .then((ws) => {
        // client-node never closes the local socket when the WebSocket goes: without this, a
        // refused pod port or a dropped stream hangs the HTTP client until its timeouts.
        ws.once('close', (code: number, reason: Buffer) => {
          const text = Buffer.concat(errorText).toString('utf8').trim()
          if (text !== '') {
            this.fail({kind: 'pod-error', text})
            socket.destroy()
          } else if (code === 1000 || localEnded) {
            socket.end()
          } else {
            this.fail({kind: 'closed', code, reason: reason.toString('utf8')})
            socket.destroy()
          }
        })
        ws.on('error', (error: Error & {code?: string}) => {
          this.fail({kind: 'network', message: error.message, code: error.code})
          socket.destroy()
        })
        socket.once('close', () => {
          if (ws.readyState === WebSocket.OPEN) ws.close()
          else if (ws.readyState === WebSocket.CONNECTING) terminate(ws)
        })
        if (socket.destroyed) terminate(ws)
      })
      .catch((error: unknown) => {
        this.fail(upgradeFailure(error))
        socket.destroy()
      })
  }

  async close(): Promise<void> {
    this.closed = true
    for (const ws of this.webSockets) terminate(ws)
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/**
 * client-node's PortForward framing (v4.channel.k8s.io: one data and one error channel per port,
 * each opening with the port as 2 little-endian bytes), with the same call shape. Its class is not
 * used because importing it loads client-node's whole generated API (CoreV1Api for its
 * service/deployment helpers): about 60 ms of every live command's start-up.
 */
class V4PortForward {
  constructor(private readonly handler: StatusAwareHandler) {}

  async portForward(namespace: string, podName: string, ports: number[], output: Socket, errorOutput: Writable, input: Socket): Promise<WebSocket> {
    const [port] = ports
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}/portforward?ports=${port}`
    const prefixPending = [true, true]
    const ws = await this.handler.connect(path, null, (channel, payload) => {
      if (channel > 1) return false
      let data = payload
      if (prefixPending[channel]) {
        data = data.subarray(2)
        prefixPending[channel] = false
      }
      if (data.length === 0) return true
      if (channel === 1) errorOutput.write(data)
      else if (!output.destroyed) output.write(data)
      return true
    })
    input.on('data', (chunk: Buffer) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([0]), chunk]))
    })
    input.once('end', () => {
      if (ws.readyState === WebSocket.OPEN) ws.close()
    })
    return ws
  }
}

class UpgradeRejected extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`Unexpected server response: ${status}`)
  }
}

function upgradeFailure(error: unknown): ForwardFailure {
  if (error instanceof UpgradeRejected) return {kind: 'upgrade', status: error.status, message: statusMessage(error.body)}
  const inner = (error as {error?: unknown}).error ?? error
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

  async connect(
    path: string,
    _textHandler: ((text: string) => boolean) | null,
    binaryHandler: ((stream: number, buff: Buffer) => boolean) | null,
  ): Promise<WebSocket> {
    const cluster = this.kubeConfig.getCurrentCluster()
    if (!cluster) throw new MeshdbgError('usage', 'no cluster in the current kubeconfig context')
    const url = cluster.server.replace(/\/+$/, '').replace(/^http/, 'ws') + path
    const options: WebSocket.ClientOptions = {handshakeTimeout: this.handshakeTimeoutMs}
    await this.kubeConfig.applyToHTTPSOptions(options)
    return new Promise<WebSocket>((resolve, reject) => {
      let settled = false
      const ws = new WebSocket(url, PORT_FORWARD_PROTOCOLS, options)
      this.track(ws)
      ws.on('unexpected-response', (request, response) => {
        const chunks: Buffer[] = []
        let size = 0
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_STATUS_BODY) chunks.push(chunk)
          size += chunk.length
        })
        const finish = () => {
          if (settled) return
          settled = true
          reject(new UpgradeRejected(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')))
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
        if (!isBinary || !binaryHandler || data.length === 0) return
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
