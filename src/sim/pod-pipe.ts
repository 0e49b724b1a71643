// A connection from the simulated kubelet to a simulated pod port that stays inside the process.
import type {Server} from 'node:http'
import {Duplex} from 'node:stream'

/**
 * One end of an in-memory connection. The kubelet end replaces a loopback TCP connection to the
 * pod's port server: every forwarded byte crossed the kernel twice more (and the simulator, which
 * stands in for 500 Envoys on the client's own cores, paid for both). The pod end is what the
 * port's HTTP server reads and writes; it has the few socket methods node:http calls, so idle
 * keep-alive connections still time out as they did over TCP.
 */
class PipeEnd extends Duplex {
  peer!: PipeEnd
  /** The peer's write callback, held while this end's reader is full (backpressure). */
  private waiting?: () => void
  private timeoutMs = 0
  private timer?: NodeJS.Timeout
  readonly remoteAddress = '127.0.0.1'
  readonly remoteFamily = 'IPv4'
  readonly localAddress = '127.0.0.1'

  constructor() {
    super({allowHalfOpen: false})
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.touch()
    this.peer.touch()
    if (this.peer.destroyed) return done()
    if (this.peer.push(chunk)) done()
    else this.peer.waiting = () => done()
  }

  override _final(done: (error?: Error | null) => void): void {
    this.peer.push(null)
    done()
  }

  override _read(): void {
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.()
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.timer) clearTimeout(this.timer)
    this._read()
    // A TCP peer sees a reset as an error and a close as the end of the stream.
    if (!this.peer.destroyed) {
      if (error) this.peer.destroy(Object.assign(new Error('read ECONNRESET'), {code: 'ECONNRESET'}))
      else this.peer.push(null)
    }
    done(error)
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    this.timeoutMs = ms
    if (onTimeout) this.once('timeout', onTimeout)
    this.touch()
    return this
  }

  setNoDelay(): this {
    return this
  }

  setKeepAlive(): this {
    return this
  }

  touch(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (this.timeoutMs > 0 && !this.destroyed) {
      this.timer = setTimeout(() => this.emit('timeout'), this.timeoutMs)
      this.timer.unref()
    }
  }
}

/** A new connection to `server` (an HTTP server standing in for a pod port); returns the dialing end. */
export function dialInProcess(server: Server): Duplex {
  const kubelet = new PipeEnd()
  const pod = new PipeEnd()
  kubelet.peer = pod
  pod.peer = kubelet
  server.emit('connection', pod)
  return kubelet
}
