import {statSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'

import {collectGarbage} from '../gc.js'
import type {InputText} from '../input.js'
import {type AllParts, joinAllParts, renderAllParts, renderAllSummary} from '../render/all-summary.js'
import {type AllFilter, type AllSections, selectAllSections} from './all-sections.js'
import {type ConfigDump, scanSectionType, type SectionKind, type SectionSource, sectionSource} from './configdump.js'
import {JsonScanner, type Projection, ScanDoubt} from './json-scan.js'
import {TABLE_PROJECTIONS} from './table-projections.js'

/**
 * `proxy-config all` on one thread, or on a pool of worker threads (one per core) for a large dump.
 *
 * In parallel, the dump stays one buffer in shared memory. The main thread only finds the sections
 * and splits each big section's lists (clusters, EDS assignments, route configurations) into
 * element ranges of about RANGE_BYTES (JsonScanner.splitElements: in pretty-printed dumps by native
 * searches for the line break between two elements, so the main thread does not walk the lists
 * and the bytes are walked once, by the workers, which verify the ranges); the workers project each range
 * to the members its table reads (written as compact JSON text, a fraction of the bytes), and once
 * all ranges of a section are back, one worker parses the section's projected text natively,
 * selects and renders its table with the same code as the one-thread path, and sends back only the
 * text (and the rows for --json). Nothing but the raw bytes is ever decoded on the main thread.
 * For a file (AllOptions.reread), every thread lets go of the dump once all ranges are projected,
 * and only then are the projected sections finished, so that the dump and the parsed sections are
 * never in memory together.
 *
 * Output is the same either way (test/unit/fastpath-equivalence.test.ts runs both); anything
 * unusual (the scan doubts, a section type repeated, a worker error, bad data) takes the one-thread
 * path, which then reports it exactly as it always does. A worker costs ~30-50 ms to start, so only
 * dumps of PARALLEL_MIN_BYTES or more use them, and a process limited to one core never does.
 */
export const PARALLEL_MIN_BYTES = 32 << 20

/**
 * Bytes of dump per projection task: large enough that a task's message costs nothing next to its
 * work (~10 ms), small enough that the ranges of a 150 MB dump balance over the workers.
 */
export const RANGE_BYTES = 4 << 20

/** The sections `proxy-config all` prints (others, such as ScopedRoutes and ECDS, are skipped). */
type PrintedKind = Exclude<SectionKind, 'ScopedRoutes' | 'Ecds'>
type PartField = 'bootstrap' | 'clusters' | 'listeners' | 'routes' | 'secrets' | 'endpoints'

/** Where each section kind's rows and table live in AllSections and renderAllParts. */
export const PART_OF_KIND: Record<PrintedKind, {field: PartField; index: number}> = {
  Bootstrap: {field: 'bootstrap', index: 0},
  Clusters: {field: 'clusters', index: 1},
  Listeners: {field: 'listeners', index: 2},
  Routes: {field: 'routes', index: 3},
  Secrets: {field: 'secrets', index: 4},
  Endpoints: {field: 'endpoints', index: 5},
}

const isPrinted = (kind: SectionKind | undefined): kind is PrintedKind => kind !== undefined && kind in PART_OF_KIND

/** What every task of one run needs besides the dump. */
export interface RunSettings {
  origin: string
  filter: AllFilter
  now: number
  verbose: boolean
  wantRows: boolean
}

/** One member of a projected section: a list split into ranges (joined again in order), or one value. */
export interface ProjectedMember {
  name: string
  list: boolean
  chunks: Uint8Array[]
}

export type WorkerTask =
  /** The dump, in shared memory: sent once to each worker. */
  | {op: 'dump'; dump: Uint8Array; settings: RunSettings}
  /**
   * Project section `kind`'s member `member` with its projection: the elements of a range from
   * splitElements, [begin, stop) (list), or the one value at `begin` that ends at `stop`.
   */
  | {op: 'project'; id: number; kind: PrintedKind; member: string; begin: number; stop: number; list: boolean}
  /** Select and render section `kind`: from its projected members, or (raw) by parsing a copy of its bytes. */
  | {op: 'finish'; id: number; kind: PrintedKind; type: string; members?: ProjectedMember[]; raw?: Uint8Array}
  /** Every projection is done: drop the dump (the main thread lets go of it too). */
  | {op: 'release'}

export type WorkerReply = {id: number; error: string} | {id: number; error?: undefined; bytes?: Uint8Array; text?: string; rows?: unknown}

export interface AllOutput {
  sections: AllSections
  text: string
  /** How many worker threads did the work (0: all on the main thread). */
  workers: number
}

export interface AllOptions {
  withHeaders: boolean
  verbose: boolean
  /** Leave the bootstrap version lines out of the text (--no-headers). */
  withoutBootstrap?: boolean
  /** The caller returns the rows (--json): the workers send them back too. */
  wantRows: boolean
  now?: Date
  /** Below this size one thread does it all (tests lower it). */
  parallelMinBytes?: number
  /** Bytes of dump per projection task (tests lower it, so that small dumps are split too). */
  rangeBytes?: number
  /** The cores this process may use (default: as the OS says, taskset included). */
  cores?: number
  /** The worker's module (tests running the TypeScript sources point it at the build). */
  workerUrl?: URL
  /** Workers from prestartWorkers (closed when done). */
  workers?: WorkerPool
  /**
   * Reads the dump again (a -f file). With it and the input passed in a holder (holdInput), the
   * dump's ~150 MB are freed once the workers have projected it, instead of staying for the rest of
   * the run beside everything the workers parse and render; the one-thread path, should it be
   * needed after that (bad data), reads the file again.
   */
  reread?: () => Promise<InputText>
}

export interface WorkerPool {
  readonly size: number
  close(): Promise<void>
}

export async function summarizeAll(input: InputText | HeldInput, filter: AllFilter, options: AllOptions): Promise<AllOutput> {
  const now = options.now ?? new Date()
  const held: HeldInput = 'origin' in input ? {input} : input
  const large = inputSize(held) >= (options.parallelMinBytes ?? PARALLEL_MIN_BYTES)
  // On one core (e.g. under taskset) workers only add their start-up.
  const cores = options.cores ?? availableParallelism()
  const pool = options.workers ?? (large && cores > 1 ? new Pool(cores, options.workerUrl ?? WORKER_URL) : undefined)
  try {
    if (pool && large) {
      const parallel = await summarizeInParallel(held, pool, {origin: inputOrigin(held), filter, now: now.getTime(), verbose: options.verbose, wantRows: options.wantRows}, options)
      if (parallel) return parallel
      // The workers may still have ranges queued (all are sent at once): stop them before the
      // one-thread path needs the cores.
      await pool.close()
    }
    held.input ??= await options.reread!()
    // Below the parallel size the dump is small: sections stay lazy, parsed as the tables ask.
    const source = large ? detachedSource(held) : sectionSource(held.input)
    if (large) {
      // The dump is only freed once the job that resumed the command after reading it has ended
      // (measured: collected within this turn, its 149 MB of bytes stayed), so collect in a later turn.
      await new Promise((resolve) => setImmediate(resolve))
      collectGarbage()
    }
    const sections = selectAllSections(source, filter, now)
    return {sections, text: renderAllSummary(sections, options), workers: 0}
  } finally {
    await pool?.close()
  }
}

const WORKER_URL = new URL('./all-worker.js', import.meta.url)

/**
 * Worker threads for a `-f` file large enough to use them, started before it is read so that they
 * boot meanwhile; pass them to summarizeAll (which closes them), or close them if it is not called.
 * Undefined for small files, stdin and other non-regular files, and on one core.
 */
export function prestartWorkers(file: string | undefined, options: Pick<AllOptions, 'cores' | 'parallelMinBytes' | 'workerUrl'> = {}): WorkerPool | undefined {
  const cores = options.cores ?? availableParallelism()
  if (!file || file === '-' || cores < 2) return undefined
  try {
    const info = statSync(file)
    if (!info.isFile() || info.size < (options.parallelMinBytes ?? PARALLEL_MIN_BYTES)) return undefined
  } catch {
    // The read reports it.
    return undefined
  }
  return new Pool(cores, options.workerUrl ?? WORKER_URL)
}

/**
 * The input, until the parallel path lets go of it (AllOptions.reread). Its memory is only freed
 * if nothing else refers to it, and a suspended async function can keep a reference in a variable
 * it no longer uses (or even in a temporary): only this holder is passed around, and each use of
 * the input is a function call of its own (inputSize, inputOrigin, startProjections).
 */
export interface HeldInput {
  input?: InputText
}

/** `load()`'s input in a holder, awaited in a frame of its own (which ends), for summarizeAll. */
export async function holdInput(load: () => Promise<InputText>): Promise<HeldInput> {
  return {input: await load()}
}

function inputSize(held: HeldInput): number {
  return held.input!.bytes?.length ?? Buffer.byteLength(held.input!.text, 'utf8')
}

function inputOrigin(held: HeldInput): string {
  return held.input!.origin
}

/**
 * The one-thread path's sections, all taken from the dump before the holder lets go of it: the
 * projected sections are parsed while the dump is located anyway, so the dump stayed beside them and
 * beside everything the tables build from them (the peak) only for the few sections parsed whole
 * (listeners, bootstrap, secrets). Each section is handed out once, then dropped.
 */
function detachedSource(held: HeldInput): SectionSource {
  const source = sectionSource(held.input!)
  const dumps = new Map<SectionKind, ConfigDump>()
  for (const kind of Object.keys(PART_OF_KIND) as PrintedKind[]) if (source.has(kind)) dumps.set(kind, source.dumpWith(kind))
  held.input = undefined
  return {
    has: (kind) => dumps.has(kind),
    dumpWith(kind) {
      const dump = dumps.get(kind)!
      dumps.delete(kind)
      return dump
    },
  }
}

/** The bytes in shared memory (as read by readInputText for large files; else copied once). */
function shared(bytes: Buffer): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.length))
  copy.set(bytes)
  return copy
}

/**
 * The order in which queued projections go out. EDS first: its finishing task is the longest and
 * can only start once all its ranges are back, so the worker that takes it starts it while the other
 * still projects the clusters and routes (in dump order, EDS comes after the clusters).
 */
const PROJECT_FIRST: readonly PrintedKind[] = ['Endpoints', 'Clusters', 'Routes', 'Listeners', 'Bootstrap', 'Secrets']

type Slot = {worker: Worker; bytes: number; running: number; finishing: number}
type Waiting = {task: WorkerTask & {id: number}; cost: number; transfer: ArrayBuffer[]; resolve: (reply: WorkerReply) => void; reject: (error: unknown) => void}

/**
 * The workers. Projections are handed out in dump order to the worker with the fewest bytes
 * outstanding, at most `queueBytes` each (enough to keep a worker busy while the main thread,
 * which cannot answer during the scan, scans on); the rest wait here and go to whichever worker
 * replies first, so the workers end their projections together whatever each range costs.
 * Finishing tasks are large and of uneven cost: they go, largest first, to a worker with nothing
 * left to do, and while one waits, the least loaded worker gets no more projections so that it
 * starts the finishing task soon (its section's ranges are done) while the others project on.
 * Any failure rejects everything pending.
 */
class Pool implements WorkerPool {
  private readonly slots: Slot[] = []
  private readonly pending = new Map<number, {resolve: (reply: WorkerReply) => void; reject: (error: unknown) => void; slot: Slot; bytes: number; finishing: boolean}>()
  private readonly waiting: Waiting[] = []
  private readonly projections: Waiting[] = []
  /** Bytes of dump queued per worker at most (set by summarizeInParallel from the range size). */
  queueBytes = 4 * RANGE_BYTES
  private nextId = 0
  private failure: unknown
  private closing: Promise<void> | undefined

  constructor(readonly size: number, url: URL) {
    for (let i = 0; i < size; i++) {
      const slot: Slot = {worker: new Worker(url), bytes: 0, running: 0, finishing: 0}
      const fail = (error: unknown) => this.fail(error)
      slot.worker.on('error', fail)
      slot.worker.on('exit', (code) => fail(new Error(`worker exited (${code})`)))
      slot.worker.on('message', (reply: WorkerReply) => {
        const task = this.pending.get(reply.id)
        if (!task) return
        this.pending.delete(reply.id)
        task.slot.bytes -= task.bytes
        task.slot.running--
        if (task.finishing) task.slot.finishing--
        this.pump()
        if (reply.error === undefined) task.resolve(reply)
        else task.reject(new Error(reply.error))
      })
      this.slots.push(slot)
    }
  }

  private fail(error: unknown): void {
    this.failure ??= error
    for (const task of [...this.pending.values(), ...this.waiting, ...this.projections]) task.reject(error)
    this.pending.clear()
    this.waiting.length = 0
    this.projections.length = 0
  }

  broadcast(task: WorkerTask): void {
    for (const {worker} of this.slots) worker.postMessage(task)
  }

  private send(slot: Slot, task: WorkerTask & {id: number}, bytes: number, transfer: ArrayBuffer[], settle: Pick<Waiting, 'resolve' | 'reject'>): void {
    const finishing = task.op === 'finish'
    slot.bytes += bytes
    slot.running++
    if (finishing) slot.finishing++
    this.pending.set(task.id, {...settle, slot, bytes, finishing})
    slot.worker.postMessage(task, transfer)
  }

  /** A projection of `bytes` bytes of dump: sent when a worker has room for it. */
  project(task: WorkerTask & {id: number}, bytes: number): Promise<WorkerReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      // Queued by section (PROJECT_FIRST), in dump order within one.
      const rank = PROJECT_FIRST.indexOf((task as {kind: PrintedKind}).kind)
      let at = this.projections.length
      while (at > 0 && PROJECT_FIRST.indexOf((this.projections[at - 1].task as {kind: PrintedKind}).kind) > rank) at--
      this.projections.splice(at, 0, {task, cost: bytes, transfer: [], resolve, reject})
      this.pump()
    })
  }

  /** A finishing task of estimated `cost`, sent when a worker is idle. */
  finish(task: WorkerTask & {id: number}, cost: number, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiting.push({task, cost, transfer, resolve, reject})
      this.waiting.sort((a, b) => b.cost - a.cost)
      this.pump()
    })
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.running > 0 || this.waiting.length === 0) continue
      const next = this.waiting.shift()!
      this.send(slot, next.task, 0, next.transfer, next)
    }
    if (this.projections.length === 0) return
    // A worker busy finishing gets no projections (they would wait behind it), nor, while a
    // finishing task waits, the projecting worker with the fewest bytes left (it takes that task next).
    const projecting = this.slots.filter((slot) => slot.finishing === 0)
    let draining: Slot | undefined
    if (this.waiting.length > 0) for (const slot of projecting) if (!draining || slot.bytes < draining.bytes) draining = slot
    for (;;) {
      let slot: Slot | undefined
      for (const other of projecting) if (other !== draining && other.bytes < this.queueBytes && (!slot || other.bytes < slot.bytes)) slot = other
      const next = slot && this.projections.shift()
      if (!next) return
      this.send(slot!, next.task, next.cost, next.transfer, next)
    }
  }

  id(): number {
    return this.nextId++
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      for (const {worker} of this.slots) worker.removeAllListeners('exit')
      await Promise.all(this.slots.map(({worker}) => worker.terminate()))
    })()
    return this.closing
  }
}

/** A section as found by the scan: its bytes (parsed whole by a worker) or its projected members. */
interface SectionPlan {
  kind: PrintedKind
  type: string
  raw?: Uint8Array
  members?: Array<{name: string; list: boolean; chunks: Array<Promise<Uint8Array>>}>
  /** Bytes of dump behind it. */
  size: number
}

/**
 * One structural pass over the dump that finds the sections and hands each projected list's
 * element ranges to the pool as it goes, so the workers start while the scan continues. The same
 * checks as locateSections (configdump.ts): a doubt returns undefined (the one-thread path then
 * decides). A section type that repeats is left to the one-thread path too (the last one counts).
 */
function planSections(scanner: JsonScanner, pool: Pool, rangeBytes: number): Map<PrintedKind, SectionPlan> | undefined {
  const plans = new Map<PrintedKind, SectionPlan>()
  const project = (kind: PrintedKind, member: string, begin: number, stop: number, list: boolean): Promise<Uint8Array> => {
    const chunk = pool.project({op: 'project', id: pool.id(), kind, member, begin, stop, list}, stop - begin).then((reply) => (reply as {bytes: Uint8Array}).bytes)
    // Awaited only when its section is finished: a failure before that must not be an unhandled rejection.
    chunk.catch(() => undefined)
    return chunk
  }
  let configs = false

  const planMember = (kind: PrintedKind, keep: Projection, name: string, at: number, plan: SectionPlan['members'] & object): number => {
    const kept = keep.names.indexOf(name)
    if (kept < 0) return scanner.skipValue(at)
    const sub = keep.subs[kept]
    if (sub === true || scanner.bytes[at] !== 0x5b) {
      const end = scanner.skipValue(at)
      // A copy (Buffer's slice() would be a view of the shared dump, which cannot be transferred).
      const chunk = sub === true ? Promise.resolve(new Uint8Array(scanner.bytes.subarray(at, end))) : project(kind, name, at, end, false)
      plan.push({name, list: false, chunks: [chunk]})
      return end
    }
    const chunks: Array<Promise<Uint8Array>> = []
    const end = scanner.splitElements(at, rangeBytes, (begin, stop) => chunks.push(project(kind, name, begin, stop, true)))
    plan.push({name, list: true, chunks})
    return end
  }

  const planSection = (begin: number): number => {
    let type: string | undefined
    let kind: PrintedKind | undefined
    let keep: Projection | undefined
    const early: Array<{name: string; at: number}> = []
    const members: NonNullable<SectionPlan['members']> = []
    const end = scanner.members(begin, (name, at) => {
      if (name === '@type') {
        if (type !== undefined) throw new ScanDoubt(at)
        const section = scanSectionType(scanner, at)
        type = section.type
        const valueEnd = section.end
        const found = section.kind
        kind = isPrinted(found) ? found : undefined
        keep = kind && TABLE_PROJECTIONS[kind]
        return valueEnd
      }
      // Before "@type" (an unusual key order) the kind is unknown: such members are planned after.
      if (type === undefined) {
        early.push({name, at})
        return scanner.skipValue(at)
      }
      return keep ? planMember(kind!, keep, name, at, members) : scanner.skipValue(at)
    })
    // Sections without "@type" are skipped by the full parse; leave such dumps to it.
    if (type === undefined) throw new ScanDoubt(begin)
    if (kind === undefined) return end
    if (plans.has(kind)) throw new ScanDoubt(begin)
    if (keep) {
      // Members in the order of the dump, so that a repeated name keeps the last, as JSON.parse does.
      const before: typeof members = []
      for (const {name, at} of early) planMember(kind, keep, name, at, before)
      plans.set(kind, {kind, type, members: [...before, ...members], size: end - begin})
    } else {
      // A copy, transferred to the worker that parses it: the dump may be gone by then.
      plans.set(kind, {kind, type, raw: new Uint8Array(scanner.bytes.subarray(begin, end)), size: end - begin})
    }
    return end
  }

  try {
    const end = scanner.members(scanner.skipSpace(0), (name, at) => {
      if (name !== 'configs') return scanner.skipValue(at)
      // A repeated "configs" (JSON.parse keeps the last): rare enough to leave to the full parse.
      if (configs) throw new ScanDoubt(at)
      configs = true
      return scanner.elements(at, planSection)
    })
    if (!configs || scanner.skipSpace(end) !== scanner.bytes.length) return undefined
    return plans
  } catch (error) {
    if (error instanceof ScanDoubt) return undefined
    throw error
  }
}

/**
 * Rough cost of finishing a section, per MB of projected text (or of dump, for sections parsed
 * whole), from profiles of generated 150 MB dumps: only the order of the waiting tasks depends on it.
 */
const FINISH_COST: Record<PrintedKind, number> = {Endpoints: 110, Clusters: 160, Routes: 65, Listeners: 30, Bootstrap: 30, Secrets: 30}

/** `after`: what a projected section waits for besides its own chunks. */
async function finish(pool: Pool, plan: SectionPlan, after?: Promise<void>): Promise<WorkerReply> {
  if (plan.raw) return pool.finish({op: 'finish', id: pool.id(), kind: plan.kind, type: plan.type, raw: plan.raw}, plan.size * FINISH_COST[plan.kind], [plan.raw.buffer as ArrayBuffer])
  const members: ProjectedMember[] = []
  for (const member of plan.members!) members.push({name: member.name, list: member.list, chunks: await Promise.all(member.chunks)})
  await after
  const chunks = members.flatMap((member) => member.chunks)
  const projected = chunks.reduce((sum, chunk) => sum + chunk.length, 0)
  return pool.finish({op: 'finish', id: pool.id(), kind: plan.kind, type: plan.type, members}, projected * FINISH_COST[plan.kind], chunks.map((chunk) => chunk.buffer as ArrayBuffer))
}

/** Shares the dump with the workers and plans its sections (no reference to the dump outlives it). */
function startProjections(held: HeldInput, pool: Pool, settings: RunSettings, rangeBytes: number): Map<PrintedKind, SectionPlan> | undefined {
  const dump = shared(held.input!.bytes ?? Buffer.from(held.input!.text, 'utf8'))
  pool.broadcast({op: 'dump', dump, settings})
  pool.queueBytes = 4 * rangeBytes
  return planSections(new JsonScanner(Buffer.from(dump.buffer, dump.byteOffset, dump.length)), pool, rangeBytes)
}

async function summarizeInParallel(held: HeldInput, workers: WorkerPool, settings: RunSettings, options: AllOptions): Promise<AllOutput | undefined> {
  const pool = workers as Pool
  const finished: Array<Promise<unknown>> = []
  try {
    const plans = startProjections(held, pool, settings, options.rangeBytes ?? RANGE_BYTES)
    if (!plans) return undefined
    // With reread, the dump is let go of once every projection is back, and the projected sections
    // are finished only then: finished while the cluster ranges were still projected, EDS and routes
    // made the peak, ~150 MB higher with the dump than after it (the sections parsed whole, from
    // copies, finish whenever a worker is free).
    let released: Promise<void> | undefined
    if (options.reread) {
      const projected = [...plans.values()].flatMap((plan) => (plan.members ?? []).flatMap((member) => member.chunks))
      released = Promise.all(projected).then(() => {
        held.input = undefined
        pool.broadcast({op: 'release'})
        // Now, not when V8 would: the main thread allocates next to nothing while the workers
        // finish, so the dump's ~150 MB of shared memory would stay referenced until the end. After
        // the finishing tasks waiting for this have been sent (they are sent from microtasks).
        setImmediate(collectGarbage)
      })
      // A failed projection fails its section too, which is handled below.
      released.catch(() => undefined)
    }
    // The sections the dump lacks, as the one-thread path reports them (and its empty EDS table).
    const absent = selectAllSections({has: () => false, dumpWith: () => ({}) as never}, settings.filter, new Date(settings.now))
    const sections: AllSections = {...absent, missing: absent.missing.filter((kind) => !isPrinted(kind) || !plans.has(kind))}
    const parts: AllParts = renderAllParts(absent, options)
    for (const plan of plans.values()) {
      const part = PART_OF_KIND[plan.kind]
      finished.push(
        finish(pool, plan, released).then((reply) => {
          parts[part.index] = [parts[part.index][0], (reply as {text?: string}).text]
          ;(sections as unknown as Record<string, unknown>)[part.field] = (reply as {rows?: unknown}).rows ?? (plan.kind === 'Endpoints' ? [] : undefined)
        }),
      )
    }
    await Promise.all(finished)
    return {sections, text: joinAllParts(parts, options), workers: pool.size}
  } catch {
    // Whatever went wrong (bad data included), the one-thread path says it exactly as it always does.
    await Promise.allSettled(finished)
    return undefined
  }
}
