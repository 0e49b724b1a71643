// The API server's JSON answers and request bodies, shared by the core REST handlers and the
// writable resources.
import type {IncomingMessage, ServerResponse} from 'node:http'

/** A JSON answer with the headers a real API server sends. */
export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(code, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Audit-Id': '00000000-0000-0000-0000-000000000000', 'Cache-Control': 'no-cache, private'})
  res.end(text)
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
