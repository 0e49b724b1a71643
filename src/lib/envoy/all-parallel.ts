import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'

import type {InputText} from '../input.js'
import {type AllParts, joinAllParts, renderAllParts, renderAllSummary} from '../render/all-summary.js'
import {type AllFilter, type AllSections, selectAllSections} from './all-sections.js'
import {
  ALL_KINDS,
  type LocatedSection,
  locateSections,
  projectedKinds,
  SECTION_BY_TYPE,
  type SectionKind,
  type SectionSource,
  sectionDump,
  sectionSource,
} from './configdump.js'
import {JsonScanner} from './json-scan.js'

/**
 * `proxy-config all` on one thread, or on two for a large dump: the main thread scans the dump and
 * hands the EDS and listener sections, as soon as the scan has found each, to a worker thread that
 * summarises and renders them while the main thread does the other sections. A worker costs
 * ~30-50 ms to start, so only dumps of PARALLEL_MIN_BYTES or more use one. Output is the same
 * either way (the same selection and render code runs on each part); anything unusual (the scan
 * doubts, a section type repeated, a worker error) takes the one-thread path, as does a process
 * limited to one core.
 */
export const PARALLEL_MIN_BYTES = 32 << 20

/** The sections the worker takes: on sidecar dumps about half of the work, and found after the clusters. */
const WORKER_KINDS: ReadonlySet<SectionKind> = new Set<SectionKind>(['Endpoints', 'Listeners'])

type PartField = 'bootstrap' | 'clusters' | 'listeners' | 'routes' | 'secrets' | 'endpoints'

/** Where each section kind's rows and table live in AllSections and renderAllParts. */
export const PART_OF_KIND: Record<Exclude<SectionKind, 'ScopedRoutes' | 'Ecds'>, {field: PartField; index: number}> = {
  Bootstrap: {field: 'bootstrap', index: 0},
  Clusters: {field: 'clusters', index: 1},
  Listeners: {field: 'listeners', index: 2},
  Routes: {field: 'routes', index: 3},
  Secrets: {field: 'secrets', index: 4},
  Endpoints: {field: 'endpoints', index: 5},
}

export interface SectionRequest {
  kind: 'Endpoints' | 'Listeners'
  /** A one-section dump: {"configs":[<the section's bytes>]}. */
  bytes: Uint8Array
  origin: string
  filter: AllFilter
  now: number
  verbose: boolean
  wantRows: boolean
}

export type SectionReply = {kind: SectionKind; text: string | undefined; rows?: unknown; error?: undefined} | {kind: SectionKind; error: string}

export interface AllOutput {
  sections: AllSections
  text: string
  /** 2 when a worker thread did part of it. */
  threads: 1 | 2
}

export interface AllOptions {
  withHeaders: boolean
  verbose: boolean
  /** Leave the bootstrap version lines out of the text (--no-headers). */
  withoutBootstrap?: boolean
  /** The caller returns the rows (--json): the worker sends them back too. */
  wantRows: boolean
  now?: Date
  /** Below this size one thread does it all (tests lower it). */
  parallelMinBytes?: number
  /** The cores this process may use (default: as the OS says, taskset included). */
  cores?: number
  /** The worker's module (tests running the TypeScript sources point it at the build). */
  workerUrl?: URL
}

export async function summarizeAll(input: InputText, filter: AllFilter, options: AllOptions): Promise<AllOutput> {
  const now = options.now ?? new Date()
  const bytes = input.bytes ?? Buffer.from(input.text, 'utf8')
  // On one core (e.g. under taskset) a second thread only adds its start-up and copies.
  if (bytes.length >= (options.parallelMinBytes ?? PARALLEL_MIN_BYTES) && (options.cores ?? availableParallelism()) > 1) {
    const parallel = await summarizeOnTwoThreads(input, bytes, filter, {...options, now})
    if (parallel) return parallel
  }
  return oneThread(sectionSource(input), filter, {...options, now})
}

function oneThread(source: SectionSource, filter: AllFilter, options: AllOptions & {now: Date}): AllOutput {
  const sections = selectAllSections(source, filter, options.now)
  return {sections, text: renderAllSummary(sections, options), threads: 1}
}

/** A copy of one section as a dump of its own, in a fresh buffer (a view would clone all 150 MB). */
function oneSectionDump(bytes: Buffer, section: LocatedSection): Uint8Array {
  const head = Buffer.from('{"configs":[')
  const tail = Buffer.from(']}')
  const copy = new Uint8Array(head.length + (section.end - section.begin) + tail.length)
  copy.set(head, 0)
  copy.set(bytes.subarray(section.begin, section.end), head.length)
  copy.set(tail, copy.length - tail.length)
  return copy
}

async function summarizeOnTwoThreads(input: InputText, bytes: Buffer, filter: AllFilter, options: AllOptions & {now: Date}): Promise<AllOutput | undefined> {
  const worker = new Worker(options.workerUrl ?? new URL('./all-worker.js', import.meta.url))
  const replies = new Map<SectionKind, SectionReply>()
  let failed: unknown
  let sending!: {send(request: SectionRequest): void; finish(): void}
  const done = new Promise<void>((resolve) => {
    let expected = 0
    let sent = false
    const settle = () => sent && replies.size >= expected && resolve()
    worker.on('message', (reply: SectionReply) => {
      replies.set(reply.kind, reply)
      settle()
    })
    worker.on('error', (error) => {
      failed = error
      resolve()
    })
    sending = {
      send(request: SectionRequest) {
        expected++
        worker.postMessage(request, [request.bytes.buffer as ArrayBuffer])
      },
      finish() {
        sent = true
        settle()
      },
    }
  })
  try {
    const scanner = new JsonScanner(bytes)
    const mainKinds = ALL_KINDS.filter((kind) => !WORKER_KINDS.has(kind))
    const seen = new Map<SectionKind, number>()
    const located = locateSections(scanner, projectedKinds(mainKinds, true), (section) => {
      const kind = SECTION_BY_TYPE.get(section.type)
      if (kind === undefined) return
      seen.set(kind, (seen.get(kind) ?? 0) + 1)
      if (!WORKER_KINDS.has(kind) || seen.get(kind)! > 1) return
      sending.send({kind: kind as SectionRequest['kind'], bytes: oneSectionDump(bytes, section), origin: input.origin, filter, now: options.now.getTime(), verbose: options.verbose, wantRows: options.wantRows})
    })
    sending.finish()
    // The last section of a kind counts: a repeated worker kind is left to the one-thread path.
    if (!located || [...WORKER_KINDS].some((kind) => (seen.get(kind) ?? 0) > 1)) return undefined
    const present = new Set(seen.keys())
    const mainSource: SectionSource = {
      has: (kind) => present.has(kind) && !WORKER_KINDS.has(kind),
      dumpWith: (kind) => {
        const dump = sectionDump(scanner, input.origin, located, [kind], true)
        if (dump === undefined) throw new OneThreadInstead()
        return dump
      },
    }
    const mine = selectAllSections(mainSource, filter, options.now)
    const partial: Partial<AllSections> = {...mine}
    for (const kind of WORKER_KINDS) delete partial[PART_OF_KIND[kind as 'Endpoints' | 'Listeners'].field]
    const parts: AllParts = renderAllParts(partial, options)
    await done
    if (failed) return undefined
    const sections: AllSections = {...mine, missing: mine.missing.filter((kind) => !WORKER_KINDS.has(kind) || !present.has(kind))}
    for (const kind of WORKER_KINDS) {
      const part = PART_OF_KIND[kind as 'Endpoints' | 'Listeners']
      const reply = replies.get(kind)
      if (reply === undefined) {
        // Not in the dump: what the one-thread path prints for a missing section.
        parts[part.index] = renderAllParts({[part.field]: kind === 'Endpoints' ? [] : undefined}, options)[part.index]
        continue
      }
      if (reply.error !== undefined) return undefined
      parts[part.index] = [parts[part.index][0], reply.text]
      ;(sections as unknown as Record<string, unknown>)[part.field] = reply.rows ?? (kind === 'Endpoints' ? [] : undefined)
    }
    return {sections, text: joinAllParts(parts, options), threads: 2}
  } catch {
    // Whatever went wrong (bad data included), the one-thread path says it exactly as it always does.
    return undefined
  } finally {
    await worker.terminate()
  }
}

/** A section the scan located does not parse: the one-thread path falls back to the full parse. */
class OneThreadInstead extends Error {}
