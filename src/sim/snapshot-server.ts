// `meshdbg sim --snapshot FILE`: a snapshot served as a cluster. The API server answers reads from
// the recorded objects (through the replay's own matching, so meshdbg sees what --snapshot sees),
// pod logs from the recorded logs, and port-forwards reach per-pod servers that answer the
// recorded admin, agent and istiod requests. kubectl works against it (discovery, Table output,
// WebSocket and SPDY port-forward come from the simulator's API server and tunnel).
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {WebSocketServer, type WebSocket} from 'ws'

import {isMeshdbgError} from '../lib/errors.js'
import {readSnapshot} from '../lib/snapshot/archive.js'
import {SnapshotReplay} from '../lib/snapshot/replay.js'
import {discoveryDoc, openApiV3, podTable, status} from './apiserver.js'
import {sendJson} from './http-json.js'
import type {Scenario, SimPod} from './model.js'
import {handlePortForwardUpgrade} from './portforward.js'
import {dialInProcess} from './pod-pipe.js'
import type {SpdySession} from './spdy.js'

export interface SnapshotServer {
  url: string
  kubeconfigPath: string
  replay: SnapshotReplay
  close(): Promise<void>
}

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** `contextName`: the one to serve from a multi-context archive (required there, as for --snapshot). */
export async function serveSnapshot(path: string, contextName?: string): Promise<SnapshotServer> {
  const replay = new SnapshotReplay(path, readSnapshot(path), contextName)
  const sockets = new Set<Socket>()
  const liveSockets = new Set<WebSocket>()
  const spdySessions = new Set<SpdySession>()
  const timers = new Set<NodeJS.Timeout>()
  const portServers = new Map<string, Promise<{server: Server; port: number} | undefined>>()
  const wss = new WebSocketServer({noServer: true, perMessageDeflate: false, handleProtocols: (protocols) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false)})
  const spdyWss = new WebSocketServer({noServer: true, perMessageDeflate: false})
  const istioVersion = recordedIstioVersion(replay)

  // The recorded ports of each pod: a port with no recorded answer is closed, as in the pod.
  const openPorts = new Map<string, Set<number>>()
  for (const entry of replay.manifest.entries) {
    if (entry.source.kind !== 'pod' || entry.error) continue
    const key = `${entry.source.namespace}/${entry.source.pod}`
    openPorts.set(key, (openPorts.get(key) ?? new Set()).add(entry.source.port))
  }
  const scenario = {pods: recordedPods(replay)} as unknown as Scenario

  const portServer = (pod: SimPod, port: number) => {
    if (!openPorts.get(`${pod.namespace}/${pod.name}`)?.has(port)) return Promise.resolve(undefined)
    const key = `${pod.namespace}/${pod.name}:${port}`
    let entry = portServers.get(key)
    if (!entry) {
      const server = createServer((req, res) => answerPod(replay, {name: pod.name, namespace: pod.namespace}, port, req, res))
      server.on('connection', (socket) => track(sockets, socket))
      entry = new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({server, port: (server.address() as {port: number}).port})))
      portServers.set(key, entry)
    }
    return entry
  }

  const server = createServer((req, res) => answerApi(replay, istioVersion, req, res))
  server.keepAliveTimeout = 5000
  server.on('connection', (socket) => track(sockets, socket))
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    handlePortForwardUpgrade({scenario, wss, spdyWss, spdySessions, liveSockets, timers, faultFor: () => undefined,
      portServer: async (pod, port) => (await portServer(pod, port))?.port,
      dialPod: async (pod, port) => {
        const target = await portServer(pod, port)
        return target === undefined ? undefined : dialInProcess(target.server)
      }}, req, socket, head)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as {port: number}).port}`
  const dir = mkdtempSync(join(tmpdir(), 'meshdbg-sim-snapshot-'))
  const kubeconfigPath = join(dir, 'kubeconfig')
  const context = replay.manifest.contexts[0]
  writeFileSync(kubeconfigPath, kubeconfigYaml(url, context?.name ?? 'snapshot', context?.namespace ?? 'default'), {mode: 0o600})

  return {
    url,
    kubeconfigPath,
    replay,
    async close() {
      for (const timer of timers) clearInterval(timer)
      for (const session of spdySessions) session.close()
      for (const ws of liveSockets) ws.terminate()
      const servers = (await Promise.all(portServers.values())).filter((found) => found !== undefined)
      for (const socket of sockets) socket.destroy()
      await Promise.all([server, ...servers.map((found) => found.server)].map((each) => new Promise((resolve) => each.close(resolve))))
      wss.close()
      spdyWss.close()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

function track(sockets: Set<Socket>, socket: Socket): void {
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
}

function answerApi(replay: SnapshotReplay, istioVersion: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://snapshot')
  const path = url.pathname.replace(/\/+$/, '') || '/'
  if (path === '/version') return sendJson(res, 200, {major: '1', minor: '32', gitVersion: 'v1.32.2', platform: 'linux/amd64'})
  const doc = discoveryDoc(path, istioVersion) ?? openApiV3(path, istioVersion)
  if (doc) return sendJson(res, 200, doc)
  if (req.method !== 'GET') return sendJson(res, 405, status(405, 'MethodNotAllowed', 'a snapshot is read-only'))
  try {
    const log = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(path)
    if (log) {
      const number = (name: string) => (url.searchParams.has(name) ? Number(url.searchParams.get(name)) : undefined)
      const text = replay.podLog({namespace: decodeURIComponent(log[1]), name: decodeURIComponent(log[2])}, url.searchParams.get('container') ?? 'istio-proxy', {
        sinceSeconds: number('sinceSeconds'),
        tailLines: number('tailLines'),
        timestamps: url.searchParams.get('timestamps') === 'true',
      })
      res.writeHead(200, {'Content-Type': 'text/plain'})
      return void res.end(text)
    }
    const body = replay.apiGet(path + url.search) as J
    if (/as=Table/.test(String(req.headers.accept ?? '')) && body.kind === 'PodList') return sendJson(res, 200, podTable(body.items ?? [], replay.manifest.capturedAt))
    return sendJson(res, 200, body)
  } catch (error) {
    const code = (error as {code?: unknown}).code
    if (typeof code === 'number') {
      res.writeHead(code, {'Content-Type': 'application/json'})
      return void res.end(String((error as {body?: unknown}).body ?? ''))
    }
    if (isMeshdbgError(error)) return sendJson(res, error.kind === 'not-found' ? 404 : 400, status(error.kind === 'not-found' ? 404 : 400, error.kind === 'not-found' ? 'NotFound' : 'BadRequest', error.message))
    return sendJson(res, 500, status(500, 'InternalError', (error as Error).message))
  }
}

function answerPod(replay: SnapshotReplay, pod: {name: string; namespace: string}, port: number, req: IncomingMessage, res: ServerResponse): void {
  const method = req.method === 'POST' ? 'POST' : 'GET'
  try {
    const answer = replay.podAnswer(pod, port, method, req.url ?? '/')
    res.writeHead(answer.status, {'Content-Type': /^\s*[[{]/.test(answer.text) ? 'application/json' : 'text/plain'})
    res.end(answer.text)
  } catch (error) {
    // Not recorded (or failed at capture): the answer a proxy gives to an unknown path.
    res.writeHead(404, {'Content-Type': 'text/plain'})
    res.end(`${isMeshdbgError(error) ? error.message : String(error)}\n`)
  }
}

/** The pods of the recorded collections, shaped as the tunnel needs them (name, namespace, uid, phase, node). */
function recordedPods(replay: SnapshotReplay): Array<Pick<SimPod, 'name' | 'namespace' | 'uid' | 'phase' | 'nodeName' | 'hostIP'>> {
  const pods: Array<Pick<SimPod, 'name' | 'namespace' | 'uid' | 'phase' | 'nodeName' | 'hostIP'>> = []
  for (const collection of replay.manifest.collections.filter((each) => /\/pods$/.test(each.path))) {
    const list = replay.apiGet(collection.path) as {items?: J[]}
    for (const pod of list.items ?? []) {
      pods.push({
        name: pod.metadata?.name,
        namespace: pod.metadata?.namespace,
        uid: pod.metadata?.uid ?? `${pod.metadata?.namespace}-${pod.metadata?.name}`,
        phase: pod.status?.phase ?? 'Running',
        nodeName: pod.spec?.nodeName ?? 'snapshot-node',
        hostIP: pod.status?.hostIP ?? '127.0.0.1',
      } as Pick<SimPod, 'name' | 'namespace' | 'uid' | 'phase' | 'nodeName' | 'hostIP'>)
    }
  }
  return pods
}

/** The Istio version of the recorded istiod (its image tag), for the discovery documents' CRD versions. */
function recordedIstioVersion(replay: SnapshotReplay): string {
  for (const collection of replay.manifest.collections.filter((each) => /\/pods$/.test(each.path))) {
    const list = replay.apiGet(collection.path) as {items?: J[]}
    for (const pod of list.items ?? []) {
      if (pod.metadata?.labels?.app !== 'istiod') continue
      const tag = /:(\d+\.\d+\.\d+)/.exec(pod.spec?.containers?.[0]?.image ?? '')?.[1]
      if (tag) return tag
    }
  }
  return '1.24.0'
}

function kubeconfigYaml(url: string, context: string, namespace: string): string {
  const name = JSON.stringify(context)
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: ${url}
  name: ${name}
contexts:
- context:
    cluster: ${name}
    user: snapshot
    namespace: ${JSON.stringify(namespace)}
  name: ${name}
current-context: ${name}
preferences: {}
users:
- name: snapshot
  user:
    token: snapshot
`
}
