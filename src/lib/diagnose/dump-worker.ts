// Worker thread of diagnose's dump reader (dump-readers.ts): reads a proxy's config dump answers
// or its `/clusters` answer down to what the checks need, and sends back only that.
import {parentPort} from 'node:worker_threads'

import {MeshdbgError} from '../errors.js'
import {answerInput, clusterHealthOf, NAME_LISTS, NameTable, routingOf, type DumpJob, type DumpJobReply} from './dump-readers.js'
import type {DiagnoseDumpPart} from './dump-reads.js'
import type {InputText} from '../input.js'
import type {ClusterHealth, DumpRouting} from './routing.js'

const table = new NameTable()

function digest(job: DumpJob): DumpRouting | ClusterHealth {
  if (job.op === 'cluster-health') return clusterHealthOf(answerInput(job.answer), job.proxy)
  const answers = Object.fromEntries(job.answers.map(([part, message]) => [part, answerInput(message)])) as Record<DiagnoseDumpPart, InputText>
  return routingOf(answers, job.proxy)
}

function answer(job: DumpJob): DumpJobReply {
  try {
    const {value, names} = table.encode(digest(job), NAME_LISTS[job.op])
    return {id: job.id, value: value as DumpRouting | ClusterHealth, names}
  } catch (error) {
    if (error instanceof MeshdbgError) return {id: job.id, error: {message: error.message, kind: error.kind, hint: error.hint, exitCode: error.exitCode}}
    return {id: job.id, error: {message: error instanceof Error ? error.message : String(error)}}
  }
}

parentPort?.on('message', (job: DumpJob) => {
  const reply = answer(job)
  parentPort?.postMessage(reply, 'names' in reply ? reply.names.lists.map(([, ids]) => ids.buffer as ArrayBuffer) : [])
})
