import {describe, expect, it} from 'vitest'

import {DIAGNOSE_DUMP_PATHS, type DiagnoseDumpPart} from '../../src/lib/diagnose/dump-reads.js'
import {dumpReaderFor, inlineDumpReader, NameTable, type DumpReader} from '../../src/lib/diagnose/dump-readers.js'
import {ENDPOINT_STATES_PATH, type EndpointStates} from '../../src/lib/diagnose/endpoint-states.js'
import {MeshdbgError} from '../../src/lib/errors.js'
import {inputFromBytes, type InputText} from '../../src/lib/input.js'
import {buildScaleScenario} from '../../src/sim/scale.js'
import {AdminAnswerCache, EnvoyAdmin} from '../../src/sim/envoy-admin.js'

// The compiled worker (the suite runs after the build); from the sources the reader stays inline.
const WORKER_URL = new URL('../../dist/lib/diagnose/dump-worker.js', import.meta.url)

/** Answers as the transport hands them over: each body in an ArrayBuffer of its own. */
const owned = (text: string, origin = 'proxy'): InputText => {
  const bytes = Buffer.from(text, 'utf8')
  const own = Buffer.from(new ArrayBuffer(bytes.length))
  bytes.copy(own)
  return inputFromBytes(own, origin)
}

/** Two scale-scenario sidecars' answers (2,000 services), as the simulator serves them. */
function sidecarAnswers(): Array<{id: string; dump: Record<DiagnoseDumpPart, string>; clusters: string; eds: string}> {
  const scenario = buildScaleScenario()
  const pods = scenario.pods.filter((p) => p.proxy?.kind === 'sidecar').slice(0, 2)
  return pods.map((pod) => {
    const admin = new EnvoyAdmin(pod, scenario, new AdminAnswerCache(0))
    const get = (path: string) => {
      let body = ''
      admin.handle({url: `/${path}`, method: 'GET'} as never, {} as never, (_status, answer) => (body = answer.toString()))
      return body
    }
    const parts = Object.keys(DIAGNOSE_DUMP_PATHS) as DiagnoseDumpPart[]
    return {id: `${pod.name}.${pod.namespace}`, dump: Object.fromEntries(parts.map((part) => [part, get(DIAGNOSE_DUMP_PATHS[part])])) as Record<DiagnoseDumpPart, string>, clusters: get('clusters?format=json'), eds: get(ENDPOINT_STATES_PATH)}
  })
}

const inputs = (dump: Record<DiagnoseDumpPart, string>) => Object.fromEntries(Object.entries(dump).map(([part, text]) => [part, owned(text)])) as Record<DiagnoseDumpPart, InputText>

async function outcome<T>(read: Promise<T>): Promise<T | {error: string; kind?: string}> {
  try {
    return await read
  } catch (error) {
    return {error: (error as Error).message, kind: error instanceof MeshdbgError ? error.kind : undefined}
  }
}

describe('diagnose reads dumps on worker threads', () => {
  const sidecars = sidecarAnswers()

  it('starts workers only for several proxies, with a core to spare, from the compiled build', () => {
    expect(dumpReaderFor(1, {cores: 4, workerUrl: WORKER_URL})).toBe(inlineDumpReader)
    expect(dumpReaderFor(500, {cores: 1, workerUrl: WORKER_URL})).toBe(inlineDumpReader)
    expect(dumpReaderFor(500, {cores: 4, workerUrl: new URL('./no-such-worker.js', WORKER_URL)})).toBe(inlineDumpReader)
    expect(dumpReaderFor(500, {cores: 2, workerUrl: WORKER_URL})).not.toBe(inlineDumpReader)
  })

  it('gives the digests the calling thread gives, proxy after proxy, and moves the bodies instead of copying them', async () => {
    const reader = dumpReaderFor(500, {cores: 2, workerUrl: WORKER_URL})
    const firstUsed = new Map<string, readonly string[]>()
    try {
      for (const round of [1, 2]) {
        for (const sidecar of sidecars) {
          const expectedRouting = await inlineDumpReader.routing(inputs(sidecar.dump), sidecar.id)
          const expectedHealth = await inlineDumpReader.clusterHealth(owned(sidecar.clusters), sidecar.id)
          expect(expectedRouting.usedEdsClusters.length).toBeGreaterThan(100)
          expect(expectedHealth.empty.length).toBeGreaterThan(100)
          const dump = inputs(sidecar.dump)
          const clusters = owned(sidecar.clusters)
          const [routing, health] = await Promise.all([reader.routing(dump, sidecar.id), reader.clusterHealth(clusters, sidecar.id)])
          expect(routing, `round ${round}`).toEqual(expectedRouting)
          expect(health, `round ${round}`).toEqual(expectedHealth)
          // A long list the worker sent before is that same array, frozen (callers memoise by it).
          expect(Object.isFrozen(routing.usedEdsClusters)).toBe(true)
          if (round === 1) firstUsed.set(sidecar.id, routing.usedEdsClusters)
          else expect(routing.usedEdsClusters).toBe(firstUsed.get(sidecar.id))
          // Moved to the worker: nothing of it is left here.
          expect(clusters.bytes!.buffer.byteLength).toBe(0)
          expect(dump.routes.bytes!.buffer.byteLength).toBe(0)
        }
      }
      // A body sharing its memory with other data is copied, and stays readable here.
      const pooled = inputFromBytes(Buffer.from(sidecars[0].clusters, 'utf8').subarray(0), 'proxy')
      const shared = Buffer.concat([Buffer.from('xx'), pooled.bytes!]).subarray(2)
      const health = await reader.clusterHealth(inputFromBytes(shared, 'proxy'), 'p')
      expect(health).toEqual(await inlineDumpReader.clusterHealth(owned(sidecars[0].clusters), 'p'))
      expect(shared.toString('utf8', 0, 1)).toBe('{')
    } finally {
      await reader.close()
    }
  })

  it('gives the EDS dump states the calling thread gives, as sets, the same arrays again for the same sets in another order', async () => {
    const reader = dumpReaderFor(500, {cores: 2, workerUrl: WORKER_URL})
    const asSets = (states: EndpointStates) => ({clusters: [...states.clusters].sort(), empty: [...states.empty].sort(), unserved: [...states.unserved].sort()})
    // Envoy lists endpoint configs in its hash map's order, another in each process.
    const reversed = (text: string) => {
      const answer = JSON.parse(text) as {configs: unknown[]}
      return JSON.stringify({configs: [...answer.configs].reverse()}, null, 1)
    }
    try {
      const first = new Map<string, EndpointStates>()
      for (const round of [1, 2]) {
        for (const sidecar of sidecars) {
          const text = round === 1 ? sidecar.eds : reversed(sidecar.eds)
          const expected = await inlineDumpReader.endpointStates(owned(text), sidecar.id)
          expect(expected.clusters.length).toBeGreaterThan(1000)
          expect(expected.empty.length).toBeGreaterThan(100)
          const states = await reader.endpointStates(owned(text), sidecar.id)
          expect(asSets(states), `round ${round}`).toEqual(asSets(expected))
          if (round === 1) first.set(sidecar.id, states)
          else {
            expect(states.clusters).toBe(first.get(sidecar.id)!.clusters)
            expect(states.empty).toBe(first.get(sidecar.id)!.empty)
          }
        }
      }
    } finally {
      await reader.close()
    }
  })

  it('lends buffers for big bodies and lends again the ones the worker moves back', async () => {
    const reader = dumpReaderFor(500, {cores: 2, workerUrl: WORKER_URL})
    try {
      expect(reader.bodyBuffer(1000)).toBeUndefined()
      const text = sidecars[0].clusters
      const size = Buffer.byteLength(text)
      const lent = reader.bodyBuffer(size)!
      expect(lent.length).toBe(size)
      const capacity = lent.buffer.byteLength
      expect(capacity).toBeGreaterThan(size)
      lent.write(text)
      const memory = lent.buffer
      expect(await reader.clusterHealth(inputFromBytes(lent, 'proxy'), 'p')).toEqual(await inlineDumpReader.clusterHealth(owned(text), 'p'))
      // Moved to the worker though the body did not fill it, then back: a smaller body gets the
      // same memory (a new buffer for it would be sized from its own length).
      expect(memory.byteLength).toBe(0)
      const smaller = size - 200_000
      const again = reader.bodyBuffer(smaller)!
      expect(again.length).toBe(smaller)
      expect(again.buffer.byteLength).toBe(capacity)
      expect(reader.bodyBuffer(smaller)!.buffer.byteLength).not.toBe(capacity)
    } finally {
      await reader.close()
    }
  })

  it('reports a bad answer with the error the calling thread reports', async () => {
    const reader = dumpReaderFor(500, {cores: 2, workerUrl: WORKER_URL})
    try {
      for (const body of ['not json', '{"configs": [', '{"cluster_statuses": 3}', '{"configs": []}']) {
        const inline = await outcome(inlineDumpReader.clusterHealth(owned(body), 'bad.ns'))
        expect(await outcome(reader.clusterHealth(owned(body), 'bad.ns'))).toEqual(inline)
        const inlineStates = await outcome(inlineDumpReader.endpointStates(owned(body), 'bad.ns'))
        expect(await outcome(reader.endpointStates(owned(body), 'bad.ns'))).toEqual(inlineStates)
        const dump = {...inputs(sidecars[0].dump), routes: owned(body)}
        const inlineRouting = await outcome(inlineDumpReader.routing({...inputs(sidecars[0].dump), routes: owned(body)}, 'bad.ns'))
        expect(await outcome(reader.routing(dump, 'bad.ns'))).toEqual(inlineRouting)
      }
      expect(await outcome(reader.clusterHealth(owned('not json'), 'bad.ns'))).toMatchObject({kind: 'bad-data'})
    } finally {
      await reader.close()
    }
  })

  it('fails the jobs of a worker that stops, and reads later ones on the calling thread', async () => {
    // A worker that exits as soon as it starts.
    const dying = new URL(`data:text/javascript,process.exit(3)`)
    const reader: DumpReader = dumpReaderFor(500, {cores: 2, workerUrl: WORKER_URL})
    ;(reader as unknown as {url: URL}).url = dying
    try {
      const first = await outcome(reader.clusterHealth(owned(sidecars[0].clusters), 'p'))
      expect(first).toMatchObject({kind: 'internal'})
      expect((first as {error: string}).error).toMatch(/worker thread reading config dumps stopped/)
      expect(await reader.clusterHealth(owned(sidecars[0].clusters), 'p')).toEqual(await inlineDumpReader.clusterHealth(owned(sidecars[0].clusters), 'p'))
    } finally {
      await reader.close()
    }
  })
})

describe('names cross from a worker once', () => {
  it('sends each name once per table and puts the lists back in order', () => {
    const table = new NameTable()
    const first = table.encode({a: ['x', 'y', 'x'], b: ['z'], other: 1}, ['a', 'b'])
    expect(first.value).toEqual({a: [], b: [], other: 1})
    expect(first.names.added).toEqual(['x', 'y', 'z'])
    expect(first.names.lists.map(([key, ids]) => [key, [...ids]])).toEqual([['a', [0, 1, 0]], ['b', [2]]])
    const second = table.encode({a: ['z', 'w'], b: []}, ['a', 'b'])
    expect(second.names.added).toEqual(['w'])
    expect(second.names.lists.map(([key, ids]) => [key, [...ids]])).toEqual([['a', [2, 3]], ['b', []]])
  })
})
