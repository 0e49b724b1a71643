// Proxies to the API server beyond an http(s) proxy-url: `proxy-url: socks5://` (as kubectl) and
// HTTPS_PROXY / NO_PROXY from the environment. The kubeconfig names a host that does not resolve
// (.invalid), which only the proxies map to the simulator: a connection that skips them fails.
import {writeFileSync} from 'node:fs'
import {createServer as createHttpServer, type Server as HttpServer} from 'node:http'
import {type AddressInfo, connect, createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {runCli} from '../helpers/cli.js'

const API_HOST = 'meshdbg-sim.invalid'
let sim: Simulator
let socks: Server
let httpProxy: HttpServer
const socksTargets: string[] = []
const connectTargets: string[] = []
const sockets = new Set<Socket>()

const track = (...list: Socket[]) => {
  for (const socket of list) {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  }
}
const upstreamHost = (host: string) => (host === API_HOST ? '127.0.0.1' : host)

/** A minimal SOCKS5 server (no authentication, CONNECT only) that records where it connected. */
function socksServer(): Server {
  return createServer((client) => {
    track(client)
    client.once('data', () => {
      client.write(Buffer.from([5, 0]))
      client.once('data', (request: Buffer) => {
        let host: string
        let offset: number
        if (request[3] === 3) {
          host = request.subarray(5, 5 + request[4]).toString()
          offset = 5 + request[4]
        } else {
          host = [...request.subarray(4, 8)].join('.')
          offset = 8
        }
        const port = request.readUInt16BE(offset)
        socksTargets.push(`${host}:${port}`)
        const upstream = connect(port, upstreamHost(host), () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
          upstream.pipe(client)
          client.pipe(upstream)
        })
        track(upstream)
      })
    })
  })
}

function connectProxy(): HttpServer {
  const proxy = createHttpServer((_request, response) => response.writeHead(405).end())
  proxy.on('connect', (request, client: Socket, head: Buffer) => {
    connectTargets.push(request.url ?? '')
    const [host, port] = (request.url ?? '').split(':')
    const upstream = connect(Number(port), upstreamHost(host), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    track(client, upstream)
  })
  return proxy
}

const listen = (server: Server | HttpServer) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))

function kubeconfig(name: string, proxyUrl?: string): string {
  const yaml = sim
    .kubeconfigYaml()
    .replace(/^(\s+)certificate-authority-data: .*$/m, '$1insecure-skip-tls-verify: true')
    .replace(/^(\s+)server: https:\/\/127\.0\.0\.1:(\d+)$/m, `$1server: https://${API_HOST}:$2${proxyUrl ? `\n$1proxy-url: ${proxyUrl}` : ''}`)
  const path = join(tmpdir(), `meshdbg-${name}-${process.pid}.yaml`)
  writeFileSync(path, yaml)
  return path
}

let socksPort = 0
let proxyPort = 0
beforeAll(async () => {
  sim = await startSimulator({scenario: 'catalog', tls: true})
  socks = socksServer()
  httpProxy = connectProxy()
  socksPort = await listen(socks)
  proxyPort = await listen(httpProxy)
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await Promise.all([socks, httpProxy].map((server) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))))
  await sim?.close()
})

const apiServer = () => `${API_HOST}:${new URL(sim.url).port}`
const live = (args: string[], env: NodeJS.ProcessEnv) => runCli([...args, '--timeout', '8s'], {env: {HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '', ...env}, killAfterMs: 30_000})

describe('proxies to the API server', () => {
  it('proxy-url socks5:// carries the REST calls, the port-forward and the log streams; the proxy resolves the name', async () => {
    const path = kubeconfig('socks', `socks5://127.0.0.1:${socksPort}`)
    socksTargets.length = 0
    const listeners = await live(['pc', 'listener', 'deploy/istio-ingressgateway', '-n', 'istio-system'], {KUBECONFIG: path})
    // Nothing else on stderr: no proxy library warnings.
    expect(listeners.stderr).toMatch(/^deploy\/istio-ingressgateway: using pod istio-ingressgateway-[^\n]+\n$/)
    expect(listeners.code).toBe(0)
    expect(listeners.stdout).toContain('Route: http.8080')
    const logs = await live(['access-log', 'deploy/istio-ingressgateway', '-n', 'istio-system', '--tail', '5'], {KUBECONFIG: path})
    expect(logs.code).toBe(0)
    // REST (at least the deployment and its pods), the WebSocket and the log stream.
    expect(socksTargets.length).toBeGreaterThanOrEqual(3)
    expect(new Set(socksTargets)).toEqual(new Set([apiServer()]))
  })

  it('HTTPS_PROXY carries every connection when the kubeconfig has no proxy-url; NO_PROXY skips it', async () => {
    const path = kubeconfig('env-proxy')
    connectTargets.length = 0
    const proxied = await live(['pc', 'listener', 'deploy/istio-ingressgateway', '-n', 'istio-system'], {KUBECONFIG: path, HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`})
    expect(proxied.code).toBe(0)
    expect(proxied.stderr).toMatch(/^deploy\/istio-ingressgateway: using pod istio-ingressgateway-[^\n]+\n$/)
    expect(proxied.stdout).toContain('Route: http.8080')
    expect(connectTargets.length).toBeGreaterThanOrEqual(2)
    expect(new Set(connectTargets)).toEqual(new Set([apiServer()]))

    connectTargets.length = 0
    const bypassed = await live(['pc', 'listener', 'deploy/istio-ingressgateway', '-n', 'istio-system'], {KUBECONFIG: path, HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: '.invalid'})
    // Straight to a name that does not resolve.
    expect(bypassed.code).toBe(4)
    expect(bypassed.stderr).toMatch(/cannot reach the Kubernetes API server at https:\/\/meshdbg-sim\.invalid:\d+ \(ENOTFOUND\)/)
    expect(connectTargets).toEqual([])
  })

  it('an unsupported proxy scheme is a usage error', async () => {
    const path = kubeconfig('socks4', `socks4://127.0.0.1:${socksPort}`)
    const result = await live(['pc', 'listener', 'deploy/istio-ingressgateway', '-n', 'istio-system'], {KUBECONFIG: path})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/proxy-url of cluster "sim" .* uses socks4:\/\/ \(supported: http:\/\/, https:\/\/, socks5:\/\/\)/)
  })
})
