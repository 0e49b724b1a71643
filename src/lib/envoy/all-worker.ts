// Worker thread of `proxy-config all` on large dumps (see all-parallel.ts): summarises and renders
// the sections it is sent, each as a one-section dump, and sends back the text (and the rows, when
// the command returns them), never the parsed section.
import {parentPort} from 'node:worker_threads'

import {inputFromBytes} from '../input.js'
import {renderAllParts} from '../render/all-summary.js'
import {selectAllSections} from './all-sections.js'
import {sectionSource} from './configdump.js'
import {PART_OF_KIND, type SectionRequest, type SectionReply} from './all-parallel.js'

parentPort?.on('message', (request: SectionRequest) => {
  let reply: SectionReply
  try {
    const bytes = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength)
    const sections = selectAllSections(sectionSource(inputFromBytes(bytes, request.origin)), request.filter, new Date(request.now))
    const part = PART_OF_KIND[request.kind]
    const rows = sections[part.field]
    reply = {kind: request.kind, text: renderAllParts({[part.field]: rows}, {verbose: request.verbose})[part.index][1], rows: request.wantRows ? rows : undefined}
  } catch (error) {
    reply = {kind: request.kind, error: String(error)}
  }
  parentPort!.postMessage(reply)
})
