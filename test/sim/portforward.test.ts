import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {connect} from 'node:net'
import {GATEWAY, LEGACY, PENDING, SLEEP, forward, parseHttp, podHttp} from './helpers.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

const READY = 'GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'

describe('pods/portforward handshake (kubelet wsstream, v4)', () => {
  it('picks v4.channel.k8s.io although v5 is offered first, and sends the little-endian port prefixes', async () => {
    const r = await forward(sim, {...GATEWAY, port: 15000}, READY)
    expect(r.protocol).toBe('v4.channel.k8s.io')
    expect([...r.frames[0]]).toEqual([0x00, 0x98, 0x3a])
    expect([...r.frames[1]]).toEqual([0x01, 0x98, 0x3a])
    const reply = parseHttp(r.data)
    expect(reply.status).toBe(200)
    expect(reply.body).toBe('LIVE\n')
    expect(r.closeCode).toBe(1000) // the target ended
  })

  it('logs what reached the pod and the upgrade request', async () => {
    const before = sim.adminRequests.length
    await podHttp(sim, {...SLEEP, port: 15000}, '/server_info')
    expect(sim.adminRequests.slice(before)).toEqual([{pod: SLEEP.pod, namespace: SLEEP.namespace, port: 15000, method: 'GET', path: '/server_info', connection: expect.any(Number)}])
    expect(sim.requests.some((r) => r.path.startsWith(`/api/v1/namespaces/default/pods/${SLEEP.pod}/portforward?ports=15000`) && r.headers.authorization === 'Bearer sim-token')).toBe(true)
  })

  it('rejects a client that offers no supported subprotocol', async () => {
    const r = await forward(sim, {...GATEWAY, port: 15000}, READY, {protocols: ['v5.channel.k8s.io']})
    expect(r.upgradeStatus).toBe(400)
  })

  it('writes kubelet-like text on the error channel and closes 1000 when nothing listens', async () => {
    const r = await forward(sim, {...LEGACY, port: 15000}, READY)
    expect(r.protocol).toBe('v4.channel.k8s.io')
    expect(r.errorText).toMatch(/^error forwarding port 15000 to pod .*connection refused/)
    expect(r.data.length).toBe(0)
    expect(r.closeCode).toBe(1000)
  })

  it('answers 404 Status for a missing pod and 400 for a pod with no node', async () => {
    const missing = await forward(sim, {pod: 'nope', namespace: 'default', port: 15000})
    expect(missing.upgradeStatus).toBe(404)
    expect(JSON.parse(missing.upgradeBody!)).toMatchObject({kind: 'Status', reason: 'NotFound', code: 404, message: 'pods "nope" not found'})
    const pending = await forward(sim, {...PENDING, port: 15000})
    expect(pending.upgradeStatus).toBe(400)
    expect(JSON.parse(pending.upgradeBody!).message).toBe(`pod ${PENDING.pod} does not have a host assigned`)
  })

  it('serves two ports on one connection with channel pairs 0/1 and 2/3', async () => {
    // Port 15021 gets no request and stays open, as on a real pod: hang up ourselves.
    const r = await forward(sim, {...GATEWAY, port: '15000,15021'}, READY, {closeAfterMs: 200})
    expect(parseHttp(r.data).body).toBe('LIVE\n')
    expect(r.frames.slice(0, 4).map((f) => [...f])).toEqual([[0, 0x98, 0x3a], [1, 0x98, 0x3a], [2, 0xad, 0x3a], [3, 0xad, 0x3a]])
  })
  it('frames the pod\'s bytes as the kubelet does: at most 32 KiB (its io.Copy buffer) per message', async () => {
    const dump = JSON.stringify({configs: [{pad: 'x'.repeat(300_000)}]})
    sim.setConfigDump({pod: SLEEP.pod, namespace: SLEEP.namespace}, dump)
    try {
      const r = await forward(sim, {...SLEEP, port: 15000}, 'GET /config_dump HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
      expect(parseHttp(r.data).body).toBe(dump)
      const data = r.frames.filter((f) => f[0] === 0).slice(1)
      expect(Math.max(...data.map((f) => f.length - 1))).toBe(32 * 1024)
      expect(data.length).toBeGreaterThanOrEqual(Math.ceil(dump.length / (32 * 1024)))
    } finally {
      sim.setConfigDump({pod: SLEEP.pod, namespace: SLEEP.namespace}, undefined)
    }
  })

  it('puts each message on the wire as one final, unmasked binary frame of minimal length encoding, channel byte first', async () => {
    // Read below the ws client, which would accept a fragmented or oddly encoded message alike.
    const dump = JSON.stringify({configs: [{pad: 'y'.repeat(100_000)}]})
    sim.setConfigDump({pod: SLEEP.pod, namespace: SLEEP.namespace}, dump)
    try {
      const wire = await rawForward(sim, {...SLEEP, port: 15000}, 'GET /config_dump HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
      const {frames, end} = wireFrames(wire, wire.indexOf('\r\n\r\n') + 4)
      expect(end).toBe(wire.length)
      for (const f of frames) {
        expect(f.fin).toBe(true) // no fragments
        expect(f.rsv).toBe(0) // no compression
        expect(f.masked).toBe(false) // a server does not mask
        expect(f.minimal).toBe(true)
      }
      expect(frames.at(-1)!.opcode).toBe(8)
      const data = frames.slice(0, -1)
      expect(data.every((f) => f.opcode === 2 && f.payload.length <= 32 * 1024 + 1)).toBe(true)
      expect(data.slice(0, 2).map((f) => [...f.payload])).toEqual([[0, 0x98, 0x3a], [1, 0x98, 0x3a]])
      const body = data.slice(2)
      expect(body.every((f) => f.payload[0] === 0)).toBe(true)
      // The response head, then the body in copy-buffer pieces.
      expect(body.length).toBe(1 + Math.ceil(dump.length / (32 * 1024)))
      expect(parseHttp(Buffer.concat(body.map((f) => f.payload.subarray(1)))).body).toBe(dump)
    } finally {
      sim.setConfigDump({pod: SLEEP.pod, namespace: SLEEP.namespace}, undefined)
    }
  })
})

describe('faults', () => {
  const target = {pod: SLEEP.pod, namespace: SLEEP.namespace}
  const withFault = async <T>(fault: Parameters<Simulator['setFault']>[1], port: number | undefined, fn: () => Promise<T>): Promise<T> => {
    sim.setFault({...target, port}, fault)
    try {
      return await fn()
    } finally {
      sim.setFault({...target, port}, undefined)
    }
  }

  it.each([
    ['forbidden', 403, 'Forbidden'],
    ['not-found', 404, 'NotFound'],
    ['upgrade-500', 500, 'InternalError'],
  ] as const)('%s fails the upgrade with a Status body', async (kind, code, reason) => {
    const r = await withFault({kind}, 15000, () => forward(sim, {...target, port: 15000}, READY))
    expect(r.upgradeStatus).toBe(code)
    expect(JSON.parse(r.upgradeBody!)).toMatchObject({kind: 'Status', status: 'Failure', reason, code})
  })

  it('applies a port-specific fault only to that port', async () => {
    const r = await withFault({kind: 'forbidden'}, 15020, () => forward(sim, {...target, port: 15000}, READY))
    expect(r.upgradeStatus).toBeUndefined()
    expect(parseHttp(r.data).status).toBe(200)
  })

  it('refused: error channel text, then close 1000', async () => {
    const r = await withFault({kind: 'refused'}, undefined, () => forward(sim, {...target, port: 15000}, READY))
    expect(r.errorText).toContain('connection refused')
    expect(r.closeCode).toBe(1000)
  })

  it('close-after: exactly N bytes, then a non-1000 close frame', async () => {
    const r = await withFault({kind: 'close-after', bytes: 100}, undefined, () => forward(sim, {...target, port: 15000}, 'GET /config_dump HTTP/1.1\r\nHost: x\r\n\r\n'))
    expect(r.data.length).toBe(100)
    expect(r.closeCode).toBe(1011)
  })

  it('reset-after: the TCP connection drops without a close frame', async () => {
    const r = await withFault({kind: 'reset-after', bytes: 50}, undefined, () => forward(sim, {...target, port: 15000}, 'GET /config_dump HTTP/1.1\r\nHost: x\r\n\r\n'))
    expect(r.data.length).toBe(50)
    expect(r.closeCode).toBe(1006)
  })

  it('stall: the websocket stays open after the given bytes', async () => {
    const r = await withFault({kind: 'stall', afterBytes: 10}, undefined, () => forward(sim, {...target, port: 15000}, READY, {closeAfterMs: 300}))
    expect(r.data.length).toBe(10)
    expect(r.closeCode).toBe(1006) // we gave up, the server never closed
  })

  it('slow-first-byte still delivers the whole response', async () => {
    const r = await withFault({kind: 'slow-first-byte', ms: 100}, undefined, () => podHttp(sim, {...target, port: 15000}, '/ready'))
    expect(r.status).toBe(200)
    expect(r.body).toBe('LIVE\n')
  })

  it('truncated-json: a complete HTTP response whose JSON does not parse', async () => {
    const r = await withFault({kind: 'truncated-json'}, undefined, () => podHttp(sim, {...target, port: 15000}, '/config_dump'))
    expect(r.status).toBe(200)
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body))
    expect(() => JSON.parse(r.body)).toThrow()
  })

  it('http-status replaces the answer', async () => {
    const r = await withFault({kind: 'http-status', status: 503, body: 'no healthy upstream'}, 15000, () => podHttp(sim, {...target, port: 15000}, '/config_dump'))
    expect(r.status).toBe(503)
    expect(r.body).toBe('no healthy upstream')
  })
})

/** A v4 port-forward over a plain socket: every byte the server sent after the request, until it closes. */
function rawForward(sim: Simulator, target: {pod: string; namespace: string; port: number}, request: string): Promise<Buffer> {
  const url = new URL(sim.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname)
    const chunks: Buffer[] = []
    let sent = false
    socket.on('connect', () => socket.write(`GET /api/v1/namespaces/${target.namespace}/pods/${target.pod}/portforward?ports=${target.port} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sim-token\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n`))
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      const wire = Buffer.concat(chunks)
      const head = wire.indexOf('\r\n\r\n')
      // The server waits for the answer to its close frame before it hangs up.
      if (sent && wireFrames(wire, head + 4).frames.at(-1)?.opcode === 8) socket.end()
      if (!sent && head >= 0) {
        sent = true
        // One masked binary frame: channel 0, then the request.
        const payload = Buffer.concat([Buffer.from([0]), Buffer.from(request)])
        const mask = Buffer.from([1, 2, 3, 4])
        socket.write(Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4])]))
      }
    })
    socket.on('close', () => resolve(Buffer.concat(chunks)))
    socket.on('error', reject)
  })
}

interface WireFrame {fin: boolean; rsv: number; masked: boolean; opcode: number; minimal: boolean; payload: Buffer}

/** The complete WebSocket frames in `wire` from `at`, and where the first incomplete one starts. */
function wireFrames(wire: Buffer, at: number): {frames: WireFrame[]; end: number} {
  const frames: WireFrame[] = []
  while (at + 2 <= wire.length) {
    const [b0, b1] = [wire[at], wire[at + 1]]
    let length = b1 & 0x7f
    let head = 2
    if (length === 126) {
      if (at + 4 > wire.length) break
      length = wire.readUInt16BE(at + 2)
      head = 4
    } else if (length === 127) {
      if (at + 10 > wire.length) break
      length = Number(wire.readBigUInt64BE(at + 2))
      head = 10
    }
    const minimal = head === 2 || (head === 4 && length >= 126) || (head === 10 && length > 0xffff)
    if (b1 & 0x80) head += 4
    if (at + head + length > wire.length) break
    frames.push({fin: (b0 & 0x80) !== 0, rsv: b0 & 0x70, masked: (b1 & 0x80) !== 0, opcode: b0 & 0x0f, minimal, payload: wire.subarray(at + head, at + head + length)})
    at += head + length
  }
  return {frames, end: at}
}
