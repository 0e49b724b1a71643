// Worker thread of diagnose's dump reader (dump-readers.ts): reads a proxy's config dump answers,
// its EDS dump or its `/clusters` answer down to what the checks need, and sends back only that.
import {parentPort} from 'node:worker_threads'

import {MeshdbgError} from '../errors.js'
import {answerInput, clusterHealthOf, NAME_LISTS, NameTable, POOLED_MIN_BYTES, routingOf, UNORDERED_NAME_LISTS, type AnswerMessage, type Digest, type DumpJob, type DumpJobOutcome, type DumpJobReply} from './dump-readers.js'
import {dumpReadMemos, type DiagnoseDumpPart} from './dump-reads.js'
import {EndpointItemMemo, readEndpointStates} from './endpoint-states.js'
import type {InputText} from '../input.js'

const table = new NameTable()
// This worker's route configurations and cluster items read so far: the proxies it reads share most of them.
const memos = dumpReadMemos()
const endpointItems = new EndpointItemMemo()

function digest(job: DumpJob): Digest {
  if (job.op === 'cluster-health') return clusterHealthOf(answerInput(job.answer), job.proxy)
  if (job.op === 'endpoint-states') return readEndpointStates(answerInput(job.answer), endpointItems)
  const answers = Object.fromEntries(job.answers.map(([part, message]) => [part, answerInput(message)])) as Record<DiagnoseDumpPart, InputText>
  return routingOf(answers, job.proxy, memos)
}

function answer(job: DumpJob): DumpJobOutcome {
  try {
    const {value, names} = table.encode(digest(job), NAME_LISTS[job.op], UNORDERED_NAME_LISTS.has(job.op))
    return {id: job.id, value: value as Digest, names}
  } catch (error) {
    if (error instanceof MeshdbgError) return {id: job.id, error: {message: error.message, kind: error.kind, hint: error.hint, exitCode: error.exitCode}}
    return {id: job.id, error: {message: error instanceof Error ? error.message : String(error)}}
  }
}

/** The job's big bodies, done with (digests hold copies of what they read): moved back to be reused. */
function spareOf(job: DumpJob): ArrayBuffer[] {
  const messages: AnswerMessage[] = job.op === 'routing' ? job.answers.map(([, message]) => message) : [job.answer]
  const spare: ArrayBuffer[] = []
  for (const {bytes} of messages) if (bytes && bytes.buffer.byteLength >= POOLED_MIN_BYTES && bytes.buffer instanceof ArrayBuffer) spare.push(bytes.buffer)
  return spare
}

parentPort?.on('message', (job: DumpJob) => {
  const reply: DumpJobReply = {...answer(job), spare: spareOf(job)}
  parentPort?.postMessage(reply, [...('names' in reply ? reply.names.lists.map(([, ids]) => ids.buffer as ArrayBuffer) : []), ...reply.spare])
})
