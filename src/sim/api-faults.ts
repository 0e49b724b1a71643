// Faults of the API server itself (not of a pod): an endless body, throttling (429), a connection
// reset. Each rule matches requests by path (prefix string or RegExp on path + query) and fires a
// number of times (default once), on REST requests and on port-forward upgrades alike.
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Socket} from 'node:net'
import type {Duplex} from 'node:stream'

export type ApiFault =
  /** 200 with a JSON body that never ends (until the client goes away). */
  | {kind: 'endless-body'; times?: number}
  /** 429 Too Many Requests with Retry-After (seconds, default 1). */
  | {kind: 'throttle'; retryAfter?: string; times?: number}
  /** A TCP reset instead of an answer. */
  | {kind: 'reset'; times?: number}

interface Rule {
  match: string | RegExp
  fault: ApiFault
  remaining: number
}

const CHUNK = Buffer.from('{"metadata":{"name":"endless"}},'.repeat(2048))

export class ApiFaults {
  private rules: Rule[] = []
  private readonly responses = new Set<ServerResponse>()

  set(match: string | RegExp, fault: ApiFault | undefined): void {
    this.rules = this.rules.filter((rule) => String(rule.match) !== String(match))
    if (fault) this.rules.push({match, fault, remaining: fault.times ?? 1})
  }

  private take(url: string): ApiFault | undefined {
    const rule = this.rules.find((candidate) => candidate.remaining > 0 && (typeof candidate.match === 'string' ? url.startsWith(candidate.match) : candidate.match.test(url)))
    if (!rule) return undefined
    rule.remaining--
    return rule.fault
  }

  /** Answers a REST request with its fault; false when no fault applies. */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    const fault = this.take(req.url ?? '/')
    if (!fault) return false
    req.resume()
    switch (fault.kind) {
      case 'reset':
        ;(req.socket as Socket).resetAndDestroy()
        return true
      case 'throttle': {
        const body = JSON.stringify({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Too many requests, please try again later.', reason: 'TooManyRequests', code: 429})
        res.writeHead(429, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Retry-After': fault.retryAfter ?? '1'})
        res.end(body)
        return true
      }
      case 'endless-body': {
        this.responses.add(res)
        res.on('close', () => this.responses.delete(res))
        res.writeHead(200, {'Content-Type': 'application/json'})
        res.write('{"kind":"PodList","apiVersion":"v1","items":[')
        const pump = () => {
          while (!res.destroyed && res.write(CHUNK));
          if (!res.destroyed) res.once('drain', pump)
        }
        pump()
        return true
      }
    }
  }

  /** The same faults on a port-forward upgrade (before the 101); false when none applies. */
  applyUpgrade(req: IncomingMessage, socket: Duplex): boolean {
    const fault = this.take(req.url ?? '/')
    if (!fault) return false
    if (fault.kind === 'throttle') {
      const body = '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Too many requests","reason":"TooManyRequests","code":429}'
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: ${fault.retryAfter ?? '1'}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
    } else {
      ;(socket as Socket).resetAndDestroy?.() ?? socket.destroy()
    }
    return true
  }

  close(): void {
    for (const res of this.responses) res.destroy()
  }
}
