import {availableParallelism} from 'node:os'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'

import {BytesMemo} from '../bytes-memo.js'
import {MeshdbgError, type ErrorKind} from '../errors.js'
import {inputFromBytes, type InputText} from '../input.js'
import type {BodyBuffers} from '../transport/http1.js'
import {assembleDiagnoseDump, readClusterStatuses, type DiagnoseDumpPart, type DumpReadMemos} from './dump-reads.js'
import {readEndpointStates, type EndpointStates} from './endpoint-states.js'
import {clusterHealth, dumpRouting, type ClusterHealth, type DumpRouting} from './routing.js'

/**
 * Reads a proxy's big Envoy admin answers (its filtered config dump and EDS dump, `/clusters`)
 * down to what the checks need. `diagnose -A` reads ~4 MB of them per sidecar of a 2,000-service mesh: scanning
 * and projecting them was most of the main thread's time, with the transport beside it on the same
 * thread. Worker threads take that work (the answers' bytes are moved to them, not copied) and send
 * back only the digests, a few names per proxy.
 */
export interface DumpReader {
  routing(answers: Record<DiagnoseDumpPart, InputText>, proxy: string): Promise<DumpRouting>
  clusterHealth(answer: InputText, proxy: string): Promise<ClusterHealth>
  /** The clusters' states by an ENDPOINT_STATES_PATH answer (list orders are the reader's: see NameLists). */
  endpointStates(answer: InputText, proxy: string): Promise<EndpointStates>
  /**
   * A buffer to read a big answer's body into (see WorkerDumpReader.bodyBuffer), or undefined:
   * the transport allocates one.
   */
  bodyBuffer: BodyBuffers
  /** Ends the worker threads, if any; jobs still queued fail. */
  close(): Promise<void>
}

export function routingOf(answers: Record<DiagnoseDumpPart, InputText>, proxy: string, memos?: DumpReadMemos): DumpRouting {
  return dumpRouting(assembleDiagnoseDump(answers, proxy, memos), memos?.routeConfigs)
}

export function clusterHealthOf(answer: InputText, proxy: string): ClusterHealth {
  return clusterHealth(readClusterStatuses(answer, proxy))
}

/** Reads on the calling thread: one proxy, or one core. */
export const inlineDumpReader: DumpReader = {
  routing: async (answers, proxy) => routingOf(answers, proxy),
  clusterHealth: async (answer, proxy) => clusterHealthOf(answer, proxy),
  endpointStates: async (answer) => readEndpointStates(answer),
  bodyBuffer: () => undefined,
  close: async () => {},
}

/** One answer as sent to a worker: its bytes (moved) when it has them, else its text. */
export interface AnswerMessage {
  origin: string
  bytes?: Uint8Array
  text?: string
}

export type DumpJob =
  | {id: number; op: 'routing'; proxy: string; answers: Array<[DiagnoseDumpPart, AnswerMessage]>}
  | {id: number; op: 'cluster-health'; proxy: string; answer: AnswerMessage}
  | {id: number; op: 'endpoint-states'; proxy: string; answer: AnswerMessage}

export type DumpJobOutcome = {id: number; value: Digest; names: NameLists} | {id: number; error: {message: string; kind?: ErrorKind; hint?: string; exitCode?: number}}

export type Digest = DumpRouting | ClusterHealth | EndpointStates

export type DumpJobReply = DumpJobOutcome & {
  /** The job's big bodies' memory, moved back for the next bodies (POOLED_MIN_BYTES and up). */
  spare: ArrayBuffer[]
}

/** Bodies smaller than this are not worth lending a buffer for. */
export const POOLED_MIN_BYTES = 256 * 1024
/** Spare body buffers kept for reuse, in all: about what the default 6 proxies' big answers take at once. */
const SPARE_MAX_BYTES = 32 * 1024 * 1024

/**
 * The long lists of names in a digest (every used cluster, every cluster without endpoints: ~3,000
 * per 2,000-service sidecar, mostly the same from one proxy to the next), sent as indexes into a
 * table of names that each worker keeps for the run, with the names the table gained since its
 * last reply. Sent as strings, each proxy's names were new strings on the main thread that lived
 * as long as its checks: ~100 MB of garbage per 500 proxies, which V8 left to pile up.
 */
export interface NameLists {
  added: string[]
  lists: Array<[string, Int32Array]>
}

/** The digest members NameLists carry, by job. */
export const NAME_LISTS: Record<DumpJob['op'], readonly string[]> = {
  'routing': ['usedEdsClusters', 'warmingClusters', 'warmingListeners'],
  'cluster-health': ['empty'],
  'endpoint-states': ['clusters', 'empty', 'unserved'],
}

/**
 * Jobs whose lists are sets, sent in the order of their names' ids: Envoy lists endpoint configs
 * in an order of its own per process, and sorted ids let one namespace's sidecars' equal sets
 * decode to one array (ReceivedNames.lists), which what is derived from them is memoised by.
 */
export const UNORDERED_NAME_LISTS: ReadonlySet<DumpJob['op']> = new Set(['endpoint-states'])

/** A worker's table of names (see NameLists). */
export class NameTable {
  private readonly ids = new Map<string, number>()
  private added: string[] = []

  /** `value` without its NAME_LISTS members, and those as NameLists. */
  encode(value: object, keys: readonly string[], unordered = false): {value: object; names: NameLists} {
    const rest: Record<string, unknown> = {...value}
    const lists: Array<[string, Int32Array]> = []
    for (const key of keys) {
      const list = rest[key] as string[]
      const ids = new Int32Array(list.length)
      for (let k = 0; k < list.length; k++) {
        let id = this.ids.get(list[k])
        if (id === undefined) {
          id = this.ids.size
          this.ids.set(list[k], id)
          this.added.push(list[k])
        }
        ids[k] = id
      }
      if (unordered) ids.sort()
      lists.push([key, ids])
      rest[key] = []
    }
    const added = this.added
    this.added = []
    return {value: rest, names: {added, lists}}
  }
}

/** A worker's names as the main thread holds them: its table, and lists it sent before. */
interface ReceivedNames {
  table: string[]
  /**
   * Long lists by their ids: one namespace's sidecars send the same used clusters (2,000 names at
   * 2,000 services), decoded once into one frozen array, so what is read from it can be memoised
   * by that array (live.ts, the endpoints check's cluster health).
   */
  lists: BytesMemo<readonly string[]>
}

/** Lists shorter than this are decoded each time: a lookup costs about as much. */
const MEMO_LIST_MIN = 64
/** Ids kept to recognise lists (4 bytes a name): a few namespaces' used clusters. */
const LIST_MEMO_BYTES = 256 * 1024

/** The digest a worker sent, its NameLists put back with `received`'s strings (its table extended by the reply's names first). */
function decodeNames<T>(value: T, names: NameLists, received: ReceivedNames): T {
  const {table} = received
  for (const name of names.added) table.push(name)
  const out = value as Record<string, unknown>
  for (const [key, ids] of names.lists) {
    if (ids.length < MEMO_LIST_MIN) {
      out[key] = Array.from(ids, (id) => table[id])
      continue
    }
    const bytes = Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength)
    let list = received.lists.lookup(bytes)
    if (list === undefined) received.lists.keep(bytes, (list = Object.freeze(Array.from(ids, (id) => table[id]))))
    out[key] = list
  }
  return value
}

/** The answer a worker was sent, as an InputText again. */
export function answerInput(message: AnswerMessage): InputText {
  if (message.bytes) return inputFromBytes(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.length), message.origin)
  return {text: message.text ?? '', origin: message.origin}
}

/**
 * The answer's bytes, to move to a worker: a live answer's body is in a buffer lent for it
 * (bodyBuffer) or one of its own (the transport allocates one per body), and nothing reads it after
 * the dump reader; anything else (a slice of a shared pool) is sent as a copy, a snapshot's text as text.
 */
function answerMessage(input: InputText, transfer: ArrayBuffer[], lent: WeakSet<ArrayBuffer>): AnswerMessage {
  const bytes = input.bytes
  if (bytes === undefined) return {origin: input.origin, text: input.text}
  const buffer = bytes.buffer
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.length > 0 && (bytes.length === buffer.byteLength || lent.has(buffer))) {
    lent.delete(buffer)
    transfer.push(buffer)
    return {origin: input.origin, bytes: new Uint8Array(buffer, 0, bytes.length)}
  }
  return {origin: input.origin, bytes: Uint8Array.prototype.slice.call(bytes)}
}

/** Below this many proxies the worker's start (~30 ms) costs more than it saves. */
const WORKER_MIN_PROXIES = 4
/** The main thread keeps the transport and the checks; more workers than this only add memory. */
const MAX_WORKERS = 3
const WORKER_URL = new URL('./dump-worker.js', import.meta.url)
/**
 * A worker's young generation (V8's default is 48 MB): a job's projected answers, ~5-10 MB, are
 * garbage once its digest is sent, so half the default still holds a job's; at 16 MB and less the
 * CPU rose (jobs' projections were promoted and collected in old space).
 */
const WORKER_YOUNG_GENERATION_MB = 24

export interface DumpReaderOptions {
  cores?: number
  workerUrl?: URL
}

/**
 * For `proxies` proxies (Infinity when not known yet: workers start on the first job): worker
 * threads when several are read and a core is left for them (one fewer than the cores, at most
 * MAX_WORKERS), else the calling thread. Run from TypeScript sources (tests), where
 * the compiled worker is not beside this module, it reads on the calling thread.
 */
export function dumpReaderFor(proxies: number, options: DumpReaderOptions = {}): DumpReader {
  const cores = options.cores ?? availableParallelism()
  const url = options.workerUrl ?? WORKER_URL
  if (proxies < WORKER_MIN_PROXIES || cores < 2 || !existsSync(fileURLToPath(url))) return inlineDumpReader
  return new WorkerDumpReader(url, Math.min(MAX_WORKERS, cores - 1))
}

const sizeOf = (input: InputText): number => input.bytes?.length ?? input.text.length

type Pending = {resolve: (value: Digest) => void; reject: (error: unknown) => void; slot: Slot; bytes: number}
type Slot = {worker: Worker; bytes: number; jobs: number; failed?: Error; names: ReceivedNames}

class WorkerDumpReader implements DumpReader {
  private readonly slots: Slot[] = []
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  /**
   * Body buffers the workers gave back, lent again for the next big bodies: each answer in a fresh
   * multi-MB buffer cost ~1 s of first touches of new pages per 500 proxies, and the memory of the
   * ones a worker was done with stayed allocated until that worker's next collection.
   */
  private readonly spare: ArrayBuffer[] = []
  private spareBytes = 0
  /** Buffers lent out (only these, and buffers a body owns whole, are moved to a worker). */
  private readonly lent = new WeakSet<ArrayBuffer>()

  constructor(
    private readonly url: URL,
    private readonly count: number,
  ) {}

  routing(answers: Record<DiagnoseDumpPart, InputText>, proxy: string): Promise<DumpRouting> {
    const parts = Object.entries(answers) as Array<[DiagnoseDumpPart, InputText]>
    const bytes = parts.reduce((sum, [, input]) => sum + sizeOf(input), 0)
    return this.run(bytes, () => routingOf(answers, proxy), (id, transfer) => ({id, op: 'routing', proxy, answers: parts.map(([part, input]) => [part, answerMessage(input, transfer, this.lent)])})) as Promise<DumpRouting>
  }

  clusterHealth(answer: InputText, proxy: string): Promise<ClusterHealth> {
    return this.run(sizeOf(answer), () => clusterHealthOf(answer, proxy), (id, transfer) => ({id, op: 'cluster-health', proxy, answer: answerMessage(answer, transfer, this.lent)})) as Promise<ClusterHealth>
  }

  endpointStates(answer: InputText, proxy: string): Promise<EndpointStates> {
    return this.run(sizeOf(answer), () => readEndpointStates(answer), (id, transfer) => ({id, op: 'endpoint-states', proxy, answer: answerMessage(answer, transfer, this.lent)})) as Promise<EndpointStates>
  }

  /** The smallest spare buffer that holds `size` bytes, else a new one with room for a slightly bigger body next time. */
  readonly bodyBuffer = (size: number): Buffer | undefined => {
    if (size < POOLED_MIN_BYTES) return undefined
    let best = -1
    for (let k = 0; k < this.spare.length; k++) {
      const length = this.spare[k].byteLength
      if (length >= size && (best < 0 || length < this.spare[best].byteLength)) best = k
    }
    let buffer: ArrayBuffer
    if (best >= 0) {
      buffer = this.spare.splice(best, 1)[0]
      this.spareBytes -= buffer.byteLength
    } else {
      buffer = new ArrayBuffer(Math.ceil((size * 1.125) / 65_536) * 65_536)
    }
    this.lent.add(buffer)
    return Buffer.from(buffer, 0, size)
  }

  private keepSpare(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      if (this.spareBytes + buffer.byteLength > SPARE_MAX_BYTES) continue
      this.spare.push(buffer)
      this.spareBytes += buffer.byteLength
    }
  }

  /** The job on the least loaded worker; on this thread once every worker has stopped (their jobs fail). */
  private async run(bytes: number, inline: () => Digest, job: (id: number, transfer: ArrayBuffer[]) => DumpJob): Promise<Digest> {
    const slot = this.leastLoaded()
    if (!slot) return inline()
    const transfer: ArrayBuffer[] = []
    const message = job(this.nextId++, transfer)
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, {resolve, reject, slot, bytes})
      slot.bytes += bytes
      // A worker with nothing queued must not keep the process alive; one with jobs must (the
      // main thread may have nothing else to wait for meanwhile).
      if (slot.jobs++ === 0) slot.worker.ref()
      slot.worker.postMessage(message, transfer)
    })
  }

  private leastLoaded(): Slot | undefined {
    const working = this.slots.filter((slot) => !slot.failed)
    if (this.slots.length < this.count && working.every((slot) => slot.jobs > 0)) {
      const started = this.start()
      this.slots.push(started)
      working.push(started)
    }
    let best: Slot | undefined
    for (const slot of working) if (!best || slot.bytes < best.bytes) best = slot
    return best
  }

  private start(): Slot {
    const slot: Slot = {worker: new Worker(this.url, {resourceLimits: {maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB}}), bytes: 0, jobs: 0, names: {table: [], lists: new BytesMemo(LIST_MEMO_BYTES)}}
    slot.worker.unref()
    slot.worker.on('message', (reply: DumpJobReply) => {
      const pending = this.pending.get(reply.id)
      this.keepSpare(reply.spare)
      if (!pending) return
      this.settled(reply.id, pending)
      if ('error' in reply) {
        const {message, kind, hint, exitCode} = reply.error
        pending.reject(kind ? new MeshdbgError(kind, message, {hint, exitCode}) : new Error(message))
      } else {
        pending.resolve(decodeNames(reply.value, reply.names, slot.names))
      }
    })
    const fail = (error: Error) => {
      slot.failed ??= new MeshdbgError('internal', `a worker thread reading config dumps stopped: ${error.message}`)
      for (const [id, pending] of this.pending) {
        if (pending.slot !== slot) continue
        this.settled(id, pending)
        pending.reject(slot.failed)
      }
    }
    slot.worker.on('error', fail)
    slot.worker.on('exit', (code) => fail(new Error(`exit code ${code}`)))
    return slot
  }

  private settled(id: number, pending: Pending): void {
    this.pending.delete(id)
    pending.slot.bytes -= pending.bytes
    if (--pending.slot.jobs === 0) pending.slot.worker.unref()
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map(({worker}) => worker.terminate()))
  }
}
