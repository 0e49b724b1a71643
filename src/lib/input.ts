import {readFileSync} from 'node:fs'
import {open, stat} from 'node:fs/promises'

import {MeshdbgError, usageError} from './errors.js'

export interface InputText {
  /** The bytes as UTF-8 text (for files, decoded on first use). */
  readonly text: string
  /** A name for messages: the path, or "stdin". */
  readonly origin: string
  /** The raw bytes, when we have them: lets large dumps be scanned without decoding all of them. */
  readonly bytes?: Buffer
}

/** Input whose text is decoded only if someone asks for it. */
export function inputFromBytes(bytes: Buffer, origin: string): InputText {
  let decoded: string | undefined
  return {
    origin,
    bytes,
    get text(): string {
      if (decoded === undefined) {
        if (bytes.length > MAX_STRING_BYTES) throw new MeshdbgError('bad-data', `${origin}: too large to read as text (${bytes.length} bytes)`)
        decoded = bytes.toString('utf8')
      }
      return decoded
    },
  }
}

// V8's string length limit (2^29 - 24 characters on 64-bit).
const MAX_STRING_BYTES = 536_870_888

/** Reads all of stdin; gives up when `signal` aborts (the command's deadline), releasing stdin. */
async function readStdin(signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = []
  const reading = (async () => {
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  })()
  if (signal) {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        process.stdin.destroy()
        reject(signal.reason)
      }
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, {once: true})
      reading.then(
        () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        },
        reject,
      )
    })
  } else await reading
  return Buffer.concat(chunks)
}

/** Reads `-f PATH` (or `-` for stdin, within the command's deadline when `signal` is given). */
export async function readInputText(file: string, signal?: AbortSignal): Promise<InputText> {
  if (file === '-') return inputFromBytes(await readStdin(signal), 'stdin')
  try {
    // One blocking read: a CLI has nothing else to do meanwhile, and it avoids ~300 thread-pool
    // round trips (512 KiB each) for a 150 MB dump.
    return inputFromBytes(readFileSync(file), file)
  } catch (error) {
    throw inputError(file, error)
  }
}

/**
 * `-f PATH` (or `-` for stdin) as a stream, for inputs read line by line. The file is opened
 * first, so a missing or unreadable one is a usage error before any output.
 */
export async function openInputStream(file: string): Promise<NodeJS.ReadableStream> {
  if (file === '-') return process.stdin
  try {
    // Opening a directory succeeds on Linux; reading it would fail only once output has begun.
    if ((await stat(file)).isDirectory()) throw Object.assign(new Error('is a directory'), {code: 'EISDIR'})
    const handle = await open(file, 'r')
    return handle.createReadStream()
  } catch (error) {
    throw inputError(file, error)
  }
}

function inputError(file: string, error: unknown): MeshdbgError {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return usageError(`cannot read ${file}: no such file`)
  if (code === 'EISDIR') return usageError(`cannot read ${file}: it is a directory`)
  if (code === 'EACCES') return usageError(`cannot read ${file}: permission denied`)
  if (code === 'ERR_STRING_TOO_LONG') return new MeshdbgError('bad-data', `${file}: too large to read as text`)
  return usageError(`cannot read ${file}: ${(error as Error).message}`)
}
