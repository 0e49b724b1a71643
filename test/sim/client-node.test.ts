// The simulator against the real Kubernetes client the CLI uses (imported lazily: it is heavy).
import {get as httpGet} from 'node:http'
import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'
import {Writable} from 'node:stream'
import {afterEach, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {GATEWAY, LEGACY} from './helpers.js'

let sim: Simulator | undefined
let local: Server | undefined
const sockets = new Set<Socket>()
afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets.clear()
  await new Promise<void>((resolve) => (local ? local.close(() => resolve()) : resolve()))
  local = undefined
  await sim?.close()
  sim = undefined
})

async function clientFor(s: Simulator) {
  const k8s = await import('@kubernetes/client-node')
  const kc = new k8s.KubeConfig()
  kc.loadFromString(s.kubeconfigYaml({namespace: 'istio-system'}))
  return {k8s, kc}
}

/** A local port forwarded with client-node's PortForward, closing the socket when the websocket closes. */
async function listenForward(s: Simulator, pod: {pod: string; namespace: string}, port: number): Promise<{port: number; errors: string[]}> {
  const {k8s, kc} = await clientFor(s)
  const pf = new k8s.PortForward(kc)
  const errors: string[] = []
  local = createServer((socket) => {
    sockets.add(socket)
    const errStream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (chunk.length > 0) errors.push(chunk.toString()) // client-node writes an empty chunk for the port prefix
        callback()
      },
    })
    pf.portForward(pod.namespace, pod.pod, [port], socket, errStream, socket).then((ws) => {
      const w = ws as unknown as {on(e: 'close', fn: () => void): void}
      w.on('close', () => socket.end())
    }, () => socket.destroy())
  })
  await new Promise<void>((resolve) => local!.listen(0, '127.0.0.1', resolve))
  return {port: (local.address() as AddressInfo).port, errors}
}

function httpGetText(port: number, path: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    httpGet({host: '127.0.0.1', port, path, agent: false}, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
      res.on('error', reject)
    }).on('error', reject)
  })
}

describe('@kubernetes/client-node against the simulator', () => {
  it('reads pods and lists with selectors (plain http, insecure-skip-tls-verify)', async () => {
    sim = await startSimulator()
    const {k8s, kc} = await clientFor(sim)
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const pod = await core.readNamespacedPod({name: GATEWAY.pod, namespace: GATEWAY.namespace})
    expect(pod.status?.phase).toBe('Running')
    const list = await core.listNamespacedPod({namespace: 'istio-system', labelSelector: 'app=istiod', fieldSelector: 'status.phase=Running'})
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['istiod-8d74787f-n4c7b', 'istiod-8d74787f-x2k9p'])
    const apps = kc.makeApiClient(k8s.AppsV1Api)
    const deploy = await apps.readNamespacedDeployment({name: 'istio-ingressgateway', namespace: 'istio-system'})
    expect(deploy.spec?.selector.matchLabels).toEqual({app: 'istio-ingressgateway', istio: 'ingressgateway'})
    await expect(core.readNamespacedPod({name: 'nope', namespace: 'default'})).rejects.toMatchObject({code: 404})
  })

  it('PortForward reaches Envoy admin, and a refused port reports on the error stream', async () => {
    sim = await startSimulator()
    const fwd = await listenForward(sim, GATEWAY, 15000)
    const r = await httpGetText(fwd.port, '/config_dump?mask=bootstrap')
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body).configs[0].bootstrap.node.metadata.ISTIO_VERSION).toBe('1.17.8')
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => local!.close(() => resolve()))
    local = undefined

    const refused = await listenForward(sim, LEGACY, 15000)
    await expect(httpGetText(refused.port, '/ready')).rejects.toThrow()
    expect(refused.errors.join('')).toContain('connection refused')
  })

  it('tls: true serves https with the committed CA in the kubeconfig', async () => {
    sim = await startSimulator({tls: true})
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(sim.kubeconfigYaml()).toContain('certificate-authority-data:')
    const {k8s, kc} = await clientFor(sim)
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const pod = await core.readNamespacedPod({name: GATEWAY.pod, namespace: GATEWAY.namespace})
    expect(pod.metadata?.name).toBe(GATEWAY.pod)
    const fwd = await listenForward(sim, GATEWAY, 15000)
    expect((await httpGetText(fwd.port, '/ready')).body).toBe('LIVE\n')
  })
})
