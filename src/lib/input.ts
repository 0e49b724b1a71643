import {readFile} from 'node:fs/promises'

import {MeshdbgError, usageError} from './errors.js'

export interface InputText {
  text: string
  /** A name for messages: the path, or "stdin". */
  origin: string
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads `-f PATH` (or `-` for stdin) as UTF-8 text. */
export async function readInputText(file: string): Promise<InputText> {
  if (file === '-') return {text: await readStdin(), origin: 'stdin'}
  try {
    // One decode of the whole buffer: readFile(file, 'utf8') decodes chunk by chunk into a rope
    // that JSON.parse then has to flatten.
    return {text: (await readFile(file)).toString('utf8'), origin: file}
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw usageError(`cannot read ${file}: no such file`)
    if (code === 'EISDIR') throw usageError(`cannot read ${file}: it is a directory`)
    if (code === 'EACCES') throw usageError(`cannot read ${file}: permission denied`)
    if (code === 'ERR_STRING_TOO_LONG') throw new MeshdbgError('bad-data', `${file}: too large to read as text`)
    throw usageError(`cannot read ${file}: ${(error as Error).message}`)
  }
}
