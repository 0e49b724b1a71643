// pods/portforward over WebSocket, as the kubelet's wsstream serves it (v4.channel.k8s.io).
import type {IncomingMessage} from 'node:http'
import type {Duplex} from 'node:stream'
import type {WebSocket, WebSocketServer} from 'ws'
import {notFound, status} from './apiserver.js'
import type {Scenario, SimPod} from './model.js'
import {SPDY_WS_PROTOCOL, SpdySession} from './spdy.js'

export type Fault =
  | {kind: 'forbidden'} | {kind: 'not-found'} | {kind: 'upgrade-500'}
  | {kind: 'refused'}
  | {kind: 'close-after'; bytes: number} | {kind: 'reset-after'; bytes: number} | {kind: 'stall'; afterBytes?: number}
  | {kind: 'slow-first-byte'; ms: number} | {kind: 'truncated-json'} | {kind: 'http-status'; status: number; body?: string}
  | {kind: 'istiod-401'}
  // The upgrade refused with a Status whose message the test picks (peer text in the user's error line).
  | {kind: 'status'; code: number; message: string}
  /** The target resets the connection after `bytes`; the kubelet says so on the error channel. */
  | {kind: 'reset-after-partial'; bytes: number}
  /**
   * The target closes a kept-alive connection as the next request arrives, unanswered (a server
   * ending an idle connection just as the client reuses it); the kubelet then ends the stream
   * cleanly. Once per setFault: the race is rare, a retry meets a working tunnel.
   */
  | {kind: 'close-on-reuse'}

export interface ForwardContext {
  scenario: Scenario
  wss: WebSocketServer
  /** A second server for kubectl's SPDY tunnel: its subprotocol is not a valid RFC 7230 token for `ws`. */
  spdyWss: WebSocketServer
  spdySessions: Set<SpdySession>
  liveSockets: Set<WebSocket>
  timers: Set<NodeJS.Timeout>
  faultFor(pod: SimPod, port: number): Fault | undefined
  /** One-shot faults that already fired. */
  spentFaults?: WeakSet<object>
  /** The local port of the server behind `pod:port`, or undefined when nothing listens there. */
  portServer(pod: SimPod, port: number): Promise<number | undefined>
  /** A new connection to `pod:port` (what the kubelet dials in the pod's netns), or undefined when nothing listens there. */
  dialPod(pod: SimPod, port: number): Promise<Duplex | undefined>
}

const SUPPORTED = ['v4.channel.k8s.io']

function rejectUpgrade(socket: Duplex, code: number, body: unknown): void {
  const text = JSON.stringify(body)
  const reason = {400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error'}[code] ?? 'Error'
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
}

/**
 * The most pod bytes one message carries: the runtime copies the pod's connection to the stream
 * with Go's io.Copy (a 32 KiB buffer; containerd's portForward, CRI-O's alike) and the kubelet's
 * wsstream sends each Write as one binary message. The client must cope with exactly this framing.
 */
const KUBELET_COPY_BUFFER = 32 * 1024

/**
 * `bytes` on `channel`, as the kubelet frames them: at most one copy buffer per message, each one
 * unmasked binary frame whose payload starts with the channel byte (what ws.send of a prefixed
 * copy put on the wire). ws.send would need the channel byte and the data in one buffer, a copy of
 * every forwarded byte (a fifth of the simulator's CPU in a `diagnose -A`): the frame header and
 * the channel byte go in a few bytes of their own, corked with the data as is into one writev per
 * message, as ws writes its frames and as the kubelet writes each message (so a reader's socket
 * reads still tend to end where messages do). Writing to the upgraded socket beside ws keeps the
 * order of ws's own frames: without compression ws writes each frame synchronously.
 */
function sendChannel(ws: WebSocket, socket: Duplex, channel: number, bytes: Buffer): void {
  if (ws.readyState !== ws.OPEN) return
  for (let at = 0; at < bytes.length; at += KUBELET_COPY_BUFFER) {
    const piece = bytes.subarray(at, at + KUBELET_COPY_BUFFER)
    const length = piece.length + 1
    // FIN + binary; then the length in the shortest form (no piece needs the 64-bit one).
    const header = length < 126 ? Buffer.from([0x82, length, channel]) : Buffer.from([0x82, 126, length >> 8, length & 0xff, channel])
    socket.cork()
    socket.write(header)
    socket.write(piece)
    socket.uncork()
  }
}

function portPrefix(channel: number, port: number): Buffer {
  const b = Buffer.alloc(3)
  b[0] = channel
  b.writeUInt16LE(port, 1)
  return b
}

export function handlePortForwardUpgrade(ctx: ForwardContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward\/?$/.exec(url.pathname)
  if (!m) return rejectUpgrade(socket, 404, status(404, 'NotFound', 'the server could not find the requested resource'))
  const [, namespace, name] = m
  const pod = ctx.scenario.pods.find((p) => p.namespace === namespace && p.name === name)
  if (!pod) return rejectUpgrade(socket, 404, notFound('pods', name))
  const ports = url.searchParams.getAll('ports').flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean).map(Number)
  const rawSpdy = String(req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1'
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean)
  const spdy = rawSpdy || offered.includes(SPDY_WS_PROTOCOL)
  // kubectl's SPDY path names its ports inside the stream headers, not in the query.
  if (!spdy && (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))) {
    return rejectUpgrade(socket, 400, status(400, 'BadRequest', ports.length === 0 ? 'query parameter "port" is required' : `invalid port "${url.searchParams.get('ports')}"`))
  }
  const fault = (ports.length ? ports : [0]).map((p) => ctx.faultFor(pod, p)).find(Boolean)
  if (fault?.kind === 'forbidden') return rejectUpgrade(socket, 403, status(403, 'Forbidden', `pods "${name}" is forbidden: User "sim-user" cannot create resource "pods/portforward" in API group "" in the namespace "${namespace}"`, {name, kind: 'pods'}))
  if (fault?.kind === 'not-found') return rejectUpgrade(socket, 404, notFound('pods', name))
  if (fault?.kind === 'status') return rejectUpgrade(socket, fault.code, status(fault.code, 'InternalError', fault.message))
  if (fault?.kind === 'upgrade-500') return rejectUpgrade(socket, 500, status(500, 'InternalError', `error dialing backend: dial tcp ${pod.hostIP}:10250: connect: connection refused`))
  if (!pod.nodeName) return rejectUpgrade(socket, 400, status(400, 'BadRequest', `pod ${name} does not have a host assigned`))

  if (spdy) return serveSpdy(ctx, req, socket, head, pod, rawSpdy)
  if (offered.length > 0 && !offered.some((p) => SUPPORTED.includes(p))) {
    return rejectUpgrade(socket, 400, status(400, 'BadRequest', `requested protocol(s) are not supported: ${offered.join(', ')}`))
  }
  ctx.wss.handleUpgrade(req, socket, head, (ws) => serveForward(ctx, ws, socket, pod, ports))
}

function serveForward(ctx: ForwardContext, ws: WebSocket, socket: Duplex, pod: SimPod, ports: number[]): void {
  ctx.liveSockets.add(ws)
  const targets: Array<Duplex | undefined> = []
  const answered: boolean[] = []
  let open = ports.length
  const finishOne = () => {
    open--
    if (open <= 0 && ws.readyState === ws.OPEN) ws.close(1000)
  }
  ws.on('close', () => {
    ctx.liveSockets.delete(ws)
    for (const t of targets) t?.destroy()
  })
  ws.on('error', () => ws.terminate())
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return
    const channel = data[0]
    const index = channel >> 1
    const target = targets[index]
    if (channel % 2 !== 0 || !target) return
    const fault = answered[index] ? ctx.faultFor(pod, ports[index]) : undefined
    if (fault?.kind === 'close-on-reuse' && !ctx.spentFaults?.has(fault)) {
      ctx.spentFaults?.add(fault)
      target.destroy()
      return finishOne()
    }
    target.write(data.subarray(1))
  })

  ports.forEach((port, i) => {
    ws.send(portPrefix(2 * i, port))
    ws.send(portPrefix(2 * i + 1, port))
    const fault = ctx.faultFor(pod, port)
    const fail = (cause: string) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(`error forwarding port ${port} to pod ${pod.uid.replace(/-/g, '')}, uid : failed to execute portforward in network namespace "/var/run/netns/cni-${pod.uid}": failed to connect to localhost:${port} inside namespace "${pod.uid.replace(/-/g, '')}", IPv4: ${cause} IPv6 dial tcp6 [::1]:${port}: connect: connection refused `)]))
      finishOne()
    }
    if (fault?.kind === 'refused' || pod.phase !== 'Running') return fail(`dial tcp4 127.0.0.1:${port}: connect: connection refused`)
    ctx.dialPod(pod, port).then((target) => {
      if (ws.readyState !== ws.OPEN) return void target?.destroy()
      if (target === undefined) return fail(`dial tcp4 127.0.0.1:${port}: connect: connection refused`)
      targets[i] = target
      let sent = 0
      let firstByteAt: number | undefined
      const pending: Buffer[] = []
      const forward = (chunk: Buffer) => {
        if (ws.readyState !== ws.OPEN) return
        let piece = chunk
        if (fault?.kind === 'close-after' || fault?.kind === 'reset-after' || fault?.kind === 'stall' || fault?.kind === 'reset-after-partial') {
          const limit = fault.kind === 'stall' ? fault.afterBytes ?? 0 : fault.bytes
          const room = Math.max(0, limit - sent)
          if (piece.length > room) {
            if (room > 0) sendChannel(ws, socket, 2 * i, piece.subarray(0, room))
            sent += room
            if (fault.kind === 'close-after') ws.close(1011, 'simulated close')
            else if (fault.kind === 'reset-after-partial') {
              // As the kubelet reports a target that reset mid-stream: text on the error channel, then a normal close.
              ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(`error forwarding port ${port} to pod ${pod.uid.replace(/-/g, '')}, uid : failed to execute portforward in network namespace "/var/run/netns/cni-${pod.uid}": read/write error: read tcp4 127.0.0.1:46540->127.0.0.1:${port}: read: connection reset by peer`)]))
              target.destroy()
              ws.close(1000)
            }
            else if (fault.kind === 'reset-after') ws.terminate()
            else target.pause() // stall: the websocket stays open, nothing more arrives
            return
          }
        }
        sent += piece.length
        answered[i] = true
        sendChannel(ws, socket, 2 * i, piece)
      }
      target.on('data', (chunk: Buffer) => {
        if (fault?.kind === 'slow-first-byte') {
          if (firstByteAt === undefined) {
            firstByteAt = Date.now() + fault.ms
            pending.push(chunk)
            const timer = setTimeout(() => {
              ctx.timers.delete(timer)
              for (const c of pending.splice(0)) forward(c)
              if (target.readableEnded) finishOne()
            }, fault.ms)
            ctx.timers.add(timer)
            return
          }
          if (Date.now() < firstByteAt) return void pending.push(chunk)
        }
        forward(chunk)
      })
      target.on('end', () => {
        if (fault?.kind === 'slow-first-byte' && pending.length > 0) return
        if (fault?.kind === 'stall') return
        finishOne()
      })
      target.on('error', (error) => {
        if (sent === 0) fail(`dial tcp4 127.0.0.1:${port}: ${error.message}`)
        else finishOne()
      })
    }, () => fail(`dial tcp4 127.0.0.1:${port}: connect: connection refused`))
  })
}

function serveSpdy(ctx: ForwardContext, req: IncomingMessage, socket: Duplex, head: Buffer, pod: SimPod, raw: boolean): void {
  const spdyCtx = {
    pod,
    portServer: (port: number) => ctx.portServer(pod, port),
    refused: (port: number) => ctx.faultFor(pod, port)?.kind === 'refused' || pod.phase !== 'Running',
  }
  if (raw) {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n')
    const session = new SpdySession({write: (b) => socket.write(b), close: () => socket.destroy()}, spdyCtx)
    ctx.spdySessions.add(session)
    socket.on('data', (chunk: Buffer) => session.feed(chunk))
    socket.on('close', () => {
      ctx.spdySessions.delete(session)
      session.close()
    })
    socket.on('error', () => socket.destroy())
    if (head.length) session.feed(head)
    return
  }
  delete req.headers['sec-websocket-protocol']
  ctx.spdyWss.once('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${SPDY_WS_PROTOCOL}`))
  ctx.spdyWss.handleUpgrade(req, socket, head, (ws) => {
    ctx.liveSockets.add(ws)
    const session = new SpdySession({write: (b) => ws.readyState === ws.OPEN && ws.send(b), close: () => ws.close(1000)}, spdyCtx)
    ctx.spdySessions.add(session)
    ws.on('message', (data: Buffer) => session.feed(data))
    ws.on('close', () => {
      ctx.liveSockets.delete(ws)
      ctx.spdySessions.delete(session)
      session.close()
    })
    ws.on('error', () => ws.terminate())
  })
}
