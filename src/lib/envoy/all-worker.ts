// Worker thread of `proxy-config all` on large dumps (see all-parallel.ts): projects element ranges
// of the shared dump to JSON text, and selects and renders whole sections from that text, sending
// back only bytes of projected text, rendered tables and (for --json) rows.
import {parentPort} from 'node:worker_threads'

import {renderAllParts} from '../render/all-summary.js'
import {collectGarbage} from '../gc.js'
import {PART_OF_KIND, type ProjectedMember, type RunSettings, type WorkerReply, type WorkerTask} from './all-parallel.js'
import {selectAllSections} from './all-sections.js'
import {configDumpFromJson, type SectionKind} from './configdump.js'
import type {Json} from './fields.js'
import {ByteSink, JsonScanner, type Projection, ScanDoubt} from './json-scan.js'
import {TABLE_PROJECTIONS} from './table-projections.js'

let scanner: JsonScanner | undefined
let settings: RunSettings | undefined
const sink = new ByteSink(1 << 20)

/** The projected text of a range's elements, comma-separated (list), or of the one value at `begin`. */
function project(scan: JsonScanner, keep: Projection, task: Extract<WorkerTask, {op: 'project'}>, out: ByteSink): Uint8Array {
  if (!task.list) {
    if (scan.projectText(task.begin, keep, out) !== task.stop) throw new ScanDoubt(task.begin)
    return out.take()
  }
  let first = true
  scan.walkRange(task.begin, task.stop, (at) => {
    if (!first) out.byte(0x2c)
    first = false
    return scan.projectText(at, keep, out)
  })
  return out.take()
}

/**
 * The section as the one-thread path projects it: "@type" first, then each kept member in order.
 * Each chunk is decoded and dropped in turn (the garbage collector can then free its bytes while
 * the next ones are decoded), and the text is joined once, instead of concatenating all the bytes
 * first: the chunks, a copy of them and the text were alive together at the peak.
 */
function projectedSection(type: string, members: ProjectedMember[]): Json {
  const parts: string[] = [`{"@type":${JSON.stringify(type)}`]
  for (const member of members) {
    parts.push(`,${JSON.stringify(member.name)}:${member.list ? '[' : ''}`)
    const {chunks} = member
    for (let index = 0; index < chunks.length; index++) {
      if (index > 0) parts.push(',')
      parts.push(Buffer.from(chunks[index].buffer, chunks[index].byteOffset, chunks[index].length).toString('utf8'))
      chunks[index] = EMPTY
    }
    if (member.list) parts.push(']')
  }
  parts.push('}')
  const text = parts.join('')
  parts.length = 0
  try {
    return JSON.parse(text) as Json
  } catch {
    throw new ScanDoubt(0)
  }
}

const EMPTY = new Uint8Array(0)

function parseRaw(bytes: Uint8Array): Json {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')) as Json
  } catch {
    throw new ScanDoubt(0)
  }
}

/** The section's rows; its parsed text is garbage once this returns (rendering the rows allocates as much again). */
function selectRows(run: RunSettings, task: Extract<WorkerTask, {op: 'finish'}>): unknown {
  const section = task.raw ? parseRaw(task.raw) : projectedSection(task.type, task.members!)
  const dump = configDumpFromJson({configs: [section]}, run.origin)
  return selectAllSections({has: (kind: SectionKind) => kind === task.kind, dumpWith: () => dump}, run.filter, new Date(run.now))[PART_OF_KIND[task.kind].field]
}

function finish(run: RunSettings, task: Extract<WorkerTask, {op: 'finish'}>): {text?: string; rows?: unknown} {
  const rows = selectRows(run, task)
  // The projected chunks (or the raw copy) were transferred here for this task only.
  task.members = undefined
  task.raw = undefined
  const part = PART_OF_KIND[task.kind]
  return {text: renderAllParts({[part.field]: rows}, {verbose: run.verbose})[part.index][1], rows: run.wantRows ? rows : undefined}
}

parentPort?.on('message', (task: WorkerTask) => {
  if (task.op === 'dump') {
    scanner = new JsonScanner(Buffer.from(task.dump.buffer, task.dump.byteOffset, task.dump.byteLength))
    settings = task.settings
    return
  }
  if (task.op === 'release') {
    scanner = undefined
    collectGarbage()
    return
  }
  let reply: WorkerReply
  try {
    if (task.op === 'project') {
      const keep = TABLE_PROJECTIONS[task.kind]!
      const bytes = project(scanner!, keep.subs[keep.names.indexOf(task.member)] as Projection, task, sink)
      parentPort!.postMessage({id: task.id, bytes} satisfies WorkerReply, [bytes.buffer as ArrayBuffer])
      return
    }
    reply = {id: task.id, ...finish(settings!, task)}
  } catch (error) {
    reply = {id: task.id, error: String(error)}
  }
  parentPort!.postMessage(reply)
})
