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

// A forward's requests share one signal linked to the caller's (undici listens on it per request).
describe('the abort signal a forward hands undici', () => {
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
})
