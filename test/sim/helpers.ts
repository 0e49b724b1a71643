// Raw clients for the simulator: a v4.channel.k8s.io port-forward with `ws`, HTTP/1.1 through it.
import WebSocket from 'ws'
import {catalogFix} from '../../src/sim/catalog.js'
import type {Simulator} from '../../src/sim/index.js'

export interface ForwardResult {
  protocol?: string
  closeCode?: number
  /** Every binary message received, in order (including the two port-prefix frames). */
  frames: Buffer[]
  data: Buffer
  errorText: string
  upgradeStatus?: number
  upgradeBody?: string
  error?: string
}

export function forward(sim: Simulator, target: {pod: string; namespace: string; port: number | string}, send?: string | Buffer, options: {protocols?: string[]; closeAfterMs?: number} = {}): Promise<ForwardResult> {
  const protocols = options.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']
  return new Promise((resolve) => {
    const result: ForwardResult = {frames: [], data: Buffer.alloc(0), errorText: ''}
    const ws = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/api/v1/namespaces/${target.namespace}/pods/${target.pod}/portforward?ports=${target.port}`, protocols, {
      headers: {Authorization: 'Bearer sim-token'}, rejectUnauthorized: false,
    })
    const seen = new Set<number>()
    let timer: NodeJS.Timeout | undefined
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({...result, upgradeStatus: res.statusCode, upgradeBody: body}))
    })
    ws.on('open', () => {
      result.protocol = ws.protocol
      if (send !== undefined) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(send)]))
      if (options.closeAfterMs !== undefined) timer = setTimeout(() => ws.terminate(), options.closeAfterMs)
    })
    ws.on('message', (m: Buffer) => {
      result.frames.push(m)
      const channel = m[0]
      if (!seen.has(channel)) {
        seen.add(channel) // the first message per channel is the port prefix
        return
      }
      if (channel === 0) result.data = Buffer.concat([result.data, m.subarray(1)])
      else result.errorText += m.subarray(1).toString()
    })
    ws.on('close', (code) => {
      if (timer) clearTimeout(timer)
      resolve({...result, closeCode: code})
    })
    ws.on('error', (e) => {
      if (!result.upgradeStatus) result.error = e.message
    })
  })
}

export interface HttpReply {status: number; headers: Record<string, string>; body: string; raw: ForwardResult}

export function parseHttp(raw: Buffer): {status: number; headers: Record<string, string>; body: string} {
  const text = raw.toString('utf8')
  const split = text.indexOf('\r\n\r\n')
  const head = split >= 0 ? text.slice(0, split) : text
  const [statusLine, ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const l of lines) {
    const i = l.indexOf(':')
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
  }
  return {status: Number(statusLine.split(' ')[1] ?? 0), headers, body: split >= 0 ? text.slice(split + 4) : ''}
}

/** One HTTP request to `pod:port` through a fresh port-forward. */
export async function podHttp(sim: Simulator, target: {pod: string; namespace: string; port: number}, path: string, options: {method?: string; headers?: Record<string, string>} = {}): Promise<HttpReply> {
  const extra = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  const raw = await forward(sim, target, `${options.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: localhost:${target.port}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`)
  return {...parseHttp(raw.data), raw}
}

export const GATEWAY = {pod: 'istio-ingressgateway-6bb8fb6549-hcdnc', namespace: 'istio-system'}
export const WEBAPP = {pod: 'webapp-7c5d7b8c6b-4vzd9', namespace: 'istioinaction'}
export const SLEEP = {pod: 'sleep-6f8cfb8c8f-wncwh', namespace: 'default'}
export const LEGACY = {pod: 'sleep-legacy-7d9f6b5c4-kq2xj', namespace: 'default'}
export const PENDING = {pod: 'reviews-v1-8c5d9f6c7-pnd4g', namespace: 'default'}
export const HTTPBIN = {pod: 'httpbin-5c5f9d7b8d-lt6hx', namespace: 'default'}
export const RATINGS = {pod: 'ratings-v1-77f6b4c8d5-m2j7r', namespace: 'default'}
export const SLOW_CATALOG = {pod: 'catalog-v2-6d4c8b7d9f-zqgfl', namespace: 'istioinaction'}
export const ISTIOD_A = {pod: 'istiod-8d74787f-n4c7b', namespace: 'istio-system'}
export const ISTIOD_B = {pod: 'istiod-8d74787f-x2k9p', namespace: 'istio-system'}

const PLURALS: Record<string, string> = {DestinationRule: 'destinationrules', VirtualService: 'virtualservices', Gateway: 'gateways', AuthorizationPolicy: 'authorizationpolicies', PeerAuthentication: 'peerauthentications'}
const XDS_TYPES = ['cds', 'lds', 'rds'] as const

/**
 * Writes the objects of scenarios/fixes/<fix>.yaml through the API, as `kubectl apply -f` does
 * (create, else merge-patch the spec), or deletes them. With `waitFor`, resolves once istiod has
 * pushed the change to that proxy and its Envoy acknowledged CDS, LDS and RDS.
 */
export async function applyFix(sim: Simulator, fix: string, options: {waitFor?: {pod: string; namespace: string}; remove?: boolean} = {}): Promise<void> {
  const pod = options.waitFor && sim.scenario.pods.find((p) => p.name === options.waitFor!.pod && p.namespace === options.waitFor!.namespace)
  const before = pod ? sim.scenario.xds!.status(pod)?.cds?.sent : undefined
  for (const o of catalogFix(fix)) {
    const base = `${sim.url}/apis/${o.apiVersion}/namespaces/${o.metadata.namespace}/${PLURALS[o.kind]}`
    const json = {'content-type': 'application/json'}
    let r = options.remove
      ? await fetch(`${base}/${o.metadata.name}`, {method: 'DELETE'})
      : await fetch(base, {method: 'POST', headers: json, body: JSON.stringify({apiVersion: o.apiVersion, kind: o.kind, metadata: {name: o.metadata.name, namespace: o.metadata.namespace}, spec: o.spec})})
    if (r.status === 409) r = await fetch(`${base}/${o.metadata.name}`, {method: 'PATCH', headers: {'content-type': 'application/merge-patch+json'}, body: JSON.stringify({spec: o.spec})})
    if (!r.ok) throw new Error(`${fix}: ${o.kind} ${o.metadata.name}: HTTP ${r.status}`)
  }
  if (!pod) return
  for (;;) {
    const status = sim.scenario.xds!.status(pod)
    if (status?.cds?.sent !== before && XDS_TYPES.every((t) => status?.[t]?.acked === status?.[t]?.sent)) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
