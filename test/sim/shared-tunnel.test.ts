// Two ports of one pod on one port-forward WebSocket (planSharedTunnel): what diagnose plans for
// Envoy's admin port and pilot-agent's readiness, against the simulated kubelet's v4 channels.
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {MeshdbgError} from '../../src/lib/errors.js'
import {fetchFromPod} from '../../src/lib/kube/pod-fetch.js'
import {closePodForwards} from '../../src/lib/kube/port-forward.js'
import {planSharedTunnel} from '../../src/lib/kube/tunnel-plan.js'
import {Scope} from '../../src/lib/scope.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {GATEWAY} from './helpers.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})
afterEach(() => {
  sim.setFault({pod: GATEWAY.pod, namespace: GATEWAY.namespace, port: 15020}, undefined)
  sim.setFault({pod: GATEWAY.pod, namespace: GATEWAY.namespace, port: 15000}, undefined)
})

const pod = {name: GATEWAY.pod, namespace: GATEWAY.namespace}
const CLOSE = {connection: 'close'}

function contextOf(scope: Scope) {
  return {kubeconfig: sim.kubeconfigPath, timeoutMs: 10_000, signal: AbortSignal.timeout(20_000), scope, note: () => {}, spin: <T>(_: string, work: Promise<T>) => work}
}

/** `run` as one command: its forwards are closed when it ends, as a command's scope closes them. */
async function inCommand(run: (ctx: ReturnType<typeof contextOf>) => Promise<void>): Promise<void> {
  const scope = new Scope()
  try {
    await run(contextOf(scope))
  } finally {
    await scope.close()
  }
}

/** The port-forward upgrades for `pod` since `from` in the simulator's request log, by their query. */
function upgradesSince(from: number): string[] {
  return sim.requests
    .slice(from)
    .filter((request) => request.path.startsWith(`/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/portforward?`))
    .map((request) => request.path.split('?')[1])
}

const adminConnections = (port: number, from: number) => [...new Set(sim.adminRequests.slice(from).filter((r) => r.pod === pod.name && r.port === port).map((r) => r.connection))]

describe('a tunnel shared by the admin port and pilot-agent', () => {
  it('one upgrade carries both ports; the admin port keeps its tunnel for later requests', async () => {
    const requestsBefore = sim.requests.length
    const adminBefore = sim.adminRequests.length
    await inCommand(async (ctx) => {
      planSharedTunnel(ctx, pod, [15000, 15020])
      const [admin, agent] = await Promise.all([fetchFromPod(ctx, pod, 15000, '/server_info'), fetchFromPod(ctx, pod, 15020, '/healthz/ready', {acceptStatus: 'any', headers: CLOSE})])
      expect(admin.status).toBe(200)
      expect(JSON.parse(admin.text).state).toBe('LIVE')
      expect(agent.status).toBe(200)
      expect((await fetchFromPod(ctx, pod, 15000, '/ready')).text.trim()).toBe('LIVE')
      expect(upgradesSince(requestsBefore)).toEqual(['ports=15000&ports=15020'])
      expect(adminConnections(15000, adminBefore)).toHaveLength(1)
    })
  })

  it('a second pilot-agent request after the shared one ended opens a tunnel of its own', async () => {
    const requestsBefore = sim.requests.length
    await inCommand(async (ctx) => {
      planSharedTunnel(ctx, pod, [15000, 15020])
      await fetchFromPod(ctx, pod, 15000, '/server_info')
      expect((await fetchFromPod(ctx, pod, 15020, '/healthz/ready', {acceptStatus: 'any', headers: CLOSE})).status).toBe(200)
      expect((await fetchFromPod(ctx, pod, 15020, '/healthz/ready', {acceptStatus: 'any'})).status).toBe(200)
      expect(upgradesSince(requestsBefore)).toEqual(['ports=15000&ports=15020', 'ports=15020'])
    })
  })

  it('without a plan each port has its own upgrade', async () => {
    const requestsBefore = sim.requests.length
    await inCommand(async (ctx) => {
      await Promise.all([fetchFromPod(ctx, pod, 15000, '/server_info'), fetchFromPod(ctx, pod, 15020, '/healthz/ready', {acceptStatus: 'any'})])
      expect(upgradesSince(requestsBefore).sort()).toEqual(['ports=15000', 'ports=15020'])
    })
  })

  it('nothing listening on one port: its request fails at once with the kubelet error, the other port answers', async () => {
    sim.setFault({pod: GATEWAY.pod, namespace: GATEWAY.namespace, port: 15020}, {kind: 'refused'})
    await inCommand(async (ctx) => {
      planSharedTunnel(ctx, pod, [15000, 15020])
      const [admin, agent] = await Promise.all([
        fetchFromPod(ctx, pod, 15000, '/server_info'),
        fetchFromPod(ctx, pod, 15020, '/healthz/ready', {acceptStatus: 'any', headers: CLOSE}).catch((error: unknown) => error),
      ])
      expect(admin.status).toBe(200)
      expect(agent).toBeInstanceOf(MeshdbgError)
      expect((agent as MeshdbgError).message).toMatch(/port 15020/)
      // The kubelet's refusal, not the deadline (exit 5): the error channel ends that port's
      // stream while the WebSocket lives on for the other port.
      expect((agent as MeshdbgError).message).toMatch(/refused/i)
      expect((agent as MeshdbgError).exitCode).toBe(4)
      expect((await fetchFromPod(ctx, pod, 15000, '/ready')).status).toBe(200)
    })
  })

  it('a refused upgrade fails both ports with the API server reason', async () => {
    sim.setFault({pod: GATEWAY.pod, namespace: GATEWAY.namespace, port: 15000}, {kind: 'forbidden'})
    await inCommand(async (ctx) => {
      planSharedTunnel(ctx, pod, [15000, 15020])
      const failures = await Promise.all([
        fetchFromPod(ctx, pod, 15000, '/server_info').catch((error: unknown) => error),
        fetchFromPod(ctx, pod, 15020, '/healthz/ready', {acceptStatus: 'any', headers: CLOSE}).catch((error: unknown) => error),
      ])
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(MeshdbgError)
        expect((failure as MeshdbgError).message).toMatch(/forbidden/i)
      }
    })
  })

  it('closing the pod\'s forwards with a port never claimed lets the plan and its tunnel go', async () => {
    const requestsBefore = sim.requests.length
    await inCommand(async (ctx) => {
      planSharedTunnel(ctx, pod, [15000, 15020])
      expect((await fetchFromPod(ctx, pod, 15000, '/server_info')).status).toBe(200)
      await closePodForwards(ctx, pod)
      // A later read of the unclaimed port is a tunnel of its own, not the closed shared one.
      expect((await fetchFromPod(ctx, pod, 15020, '/healthz/ready', {acceptStatus: 'any'})).status).toBe(200)
      expect(upgradesSince(requestsBefore)).toEqual(['ports=15000&ports=15020', 'ports=15020'])
    })
  })
})
