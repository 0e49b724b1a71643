import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {MeshdbgError} from '../../src/lib/errors.js'
import {fetchFromPod} from '../../src/lib/kube/pod-fetch.js'
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

const pod = {name: GATEWAY.pod, namespace: GATEWAY.namespace}

function contextOf(signal: AbortSignal, scope: Scope) {
  return {kubeconfig: sim.kubeconfigPath, timeoutMs: 20_000, signal, scope, note: () => {}, spin: <T>(_: string, work: Promise<T>) => work}
}

// A forward's requests share one signal linked to the caller's (each request listens on it while it runs).
describe('the abort signal of a forward\'s requests', () => {
  it('many requests queued on one forward: all answered, no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    const scope = new Scope()
    try {
      const ctx = contextOf(AbortSignal.timeout(20_000), scope)
      const answers = await Promise.all(Array.from({length: 14}, () => fetchFromPod(ctx, pod, 15000, '/server_info')))
      expect(answers.map((a) => a.status)).toEqual(Array(14).fill(200))
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([])
    } finally {
      process.off('warning', onWarning)
      await scope.close()
    }
  })

  it('each caller keeps its own deadline on a shared forward', async () => {
    const scope = new Scope()
    try {
      const first = contextOf(AbortSignal.timeout(20_000), scope)
      expect((await fetchFromPod(first, pod, 15000, '/server_info')).status).toBe(200)
      // Same scope, so the same forward; a caller whose signal goes while its requests wait on it.
      const controller = new AbortController()
      const second = {...first, signal: controller.signal}
      const pending = Array.from({length: 3}, () => fetchFromPod(second, pod, 15000, '/server_info').catch((error: unknown) => error))
      controller.abort()
      for (const failure of await Promise.all(pending)) {
        expect(failure).toBeInstanceOf(MeshdbgError)
        expect((failure as MeshdbgError).exitCode).toBe(5)
      }
      // The first caller's signal was not aborted with the second's.
      expect((await fetchFromPod(first, pod, 15000, '/server_info')).status).toBe(200)
    } finally {
      await scope.close()
    }
  })

  it('requests wait their turn on one tunnel; one aborted while waiting leaves the others and the tunnel alone', async () => {
    const scope = new Scope()
    try {
      const ctx = contextOf(AbortSignal.timeout(20_000), scope)
      const upgradesBefore = sim.requests.filter((request) => request.path.includes('/portforward')).length
      const controller = new AbortController()
      const paths = ['/server_info', '/ready', '/server_info', '/stats?filter=update_rejected']
      const pending = paths.map((path, index) => fetchFromPod(index === 2 ? {...ctx, signal: controller.signal} : ctx, pod, 15000, path).catch((error: unknown) => error))
      controller.abort()
      const [info, ready, aborted, stats] = await Promise.all(pending)
      expect(aborted).toBeInstanceOf(MeshdbgError)
      expect((aborted as MeshdbgError).exitCode).toBe(5)
      expect([info, ready, stats].map((answer) => (answer as {status: number}).status)).toEqual([200, 200, 200])
      expect((stats as {text: string}).text).toContain('update_rejected')
      // One upgrade carried every answered request, in the order asked.
      expect(sim.requests.filter((request) => request.path.includes('/portforward')).length - upgradesBefore).toBe(1)
      const asked = sim.adminRequests.filter((request) => request.pod === pod.name).slice(-3).map((request) => request.path)
      expect(asked).toEqual(['/server_info', '/ready', '/stats?filter=update_rejected'])
    } finally {
      await scope.close()
    }
  })
})
