// A kubeconfig `proxy-url` must carry every connection to the API server: REST calls, the
// port-forward WebSocket and streamed logs. The kubeconfig names a host that does not resolve
// (.invalid), which only the CONNECT proxy on loopback maps to the simulator: a connection that
// skips the proxy fails.
import {writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {connect, type AddressInfo, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {runCli} from '../helpers/cli.js'

let sim: Simulator
let proxy: Server
const tunnels: string[] = []
const sockets = new Set<Socket>()
let kubeconfigPath = ''
const API_HOST = 'meshdbg-sim.invalid'

beforeAll(async () => {
  sim = await startSimulator({scenario: 'catalog', tls: true})
  proxy = createServer((_request, response) => response.writeHead(405).end())
  proxy.on('connect', (request, client: Socket, head: Buffer) => {
    tunnels.push(request.url ?? '')
    const [host, port] = (request.url ?? '').split(':')
    const upstream = connect(Number(port), host === API_HOST ? '127.0.0.1' : host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    }
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  const yaml = sim
    .kubeconfigYaml()
    .replace(/^(\s+)certificate-authority-data: .*$/m, '$1insecure-skip-tls-verify: true')
    .replace(/^(\s+)server: https:\/\/127\.0\.0\.1:(\d+)$/m, `$1server: https://${API_HOST}:$2\n$1proxy-url: ${proxyUrl}`)
  expect(yaml).toContain(`proxy-url: ${proxyUrl}`)
  expect(yaml).toContain(`server: https://${API_HOST}:`)
  kubeconfigPath = join(tmpdir(), `meshdbg-proxy-url-${process.pid}.yaml`)
  writeFileSync(kubeconfigPath, yaml)
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise<void>((resolve) => proxy?.close(() => resolve()))
  await sim?.close()
})

const live = (args: string[]) => runCli([...args, '--timeout', '5s'], {env: {KUBECONFIG: kubeconfigPath}, killAfterMs: 15_000})
const apiServer = () => `${API_HOST}:${new URL(sim.url).port}`

describe('kubeconfig proxy-url', () => {
  it('tunnels the pod lookup and the port-forward through the proxy', async () => {
    tunnels.length = 0
    const result = await live(['pc', 'listener', 'deploy/istio-ingressgateway', '-n', 'istio-system'])
    expect(result.stderr).toContain('using pod istio-ingressgateway-')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Route: http.8080')
    // At least one tunnel for the REST lookup and one for the port-forward WebSocket.
    expect(tunnels.length).toBeGreaterThanOrEqual(2)
    expect(new Set(tunnels)).toEqual(new Set([apiServer()]))
    expect(sim.requests.some((request) => request.path.includes('/portforward'))).toBe(true)
  })

  it('tunnels streamed pod logs through the proxy', async () => {
    tunnels.length = 0
    const result = await live(['access-log', 'deploy/istio-ingressgateway', '-n', 'istio-system', '--tail', '5'])
    expect(result.code).toBe(0)
    expect(result.stdout.split('\n').length).toBeGreaterThan(2)
    expect(tunnels.length).toBeGreaterThanOrEqual(2)
    expect(new Set(tunnels)).toEqual(new Set([apiServer()]))
  })
})
