import {constants, openSync} from 'node:fs'
import {type FileHandle, open, stat} from 'node:fs/promises'
import {Socket} from 'node:net'
import {PassThrough} from 'node:stream'

import {MeshdbgError, usageError} from './errors.js'
import {DEFAULT_MAX_BYTES} from './limits.js'
import {readRegularFile} from './read-shared.js'

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

/**
 * The most meshdbg reads from stdin or one `-f` file: the same cap as a proxy's admin response, so
 * `yes | meshdbg ... -f -` fails at once with exit 6 instead of growing to gigabytes.
 */
export const MAX_INPUT_BYTES = DEFAULT_MAX_BYTES

const tooLarge = (origin: string, limit: number) =>
  new MeshdbgError('bad-data', `${origin}: larger than ${formatMiB(limit)}; refusing to read it`)

const MIB = 1024 * 1024
const formatMiB = (bytes: number) => (bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`)

/**
 * `stream` seen through a pass-through that the deadline destroys at once, with the deadline's
 * error (destroying a file stream itself waits for its pending read, which a device may never
 * finish). When the reader stops (the end, an error, the deadline), the source is destroyed too,
 * which releases stdin or closes the pipe.
 */
function underDeadline(stream: NodeJS.ReadableStream & {destroy?: () => void}, signal: AbortSignal | undefined): NodeJS.ReadableStream {
  if (!signal) return stream
  const through = new PassThrough()
  const onAbort = () => through.destroy(signal.reason)
  stream.on('error', (error) => through.destroy(error))
  through.once('close', () => {
    signal.removeEventListener('abort', onAbort)
    stream.destroy?.()
  })
  stream.pipe(through)
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, {once: true})
  return through
}

/** Reads a stream to its end, giving up when `signal` aborts or more than `maxBytes` arrive. */
async function readAll(stream: NodeJS.ReadableStream & {destroy?: () => void}, origin: string, signal: AbortSignal | undefined, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of underDeadline(stream, signal)) {
    size += (chunk as Buffer).length
    // Leaving the loop destroys the stream, which releases stdin or the file.
    if (size > maxBytes) throw tooLarge(origin, maxBytes)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
}

type OpenedInput =
  /** Size known, reads cannot stall. */
  | {kind: 'regular'; handle: FileHandle; size: number}
  /** A FIFO or process substitution (`<(cmd)`): its writer may be slow, or never come. */
  | {kind: 'pipe'; stream: Socket}
  /** A character device (`/dev/null`...). */
  | {kind: 'device'; handle: FileHandle}

/** Opens `-f PATH`; the caller reads it according to its kind. */
async function openInput(file: string): Promise<OpenedInput> {
  const info = await stat(file)
  // Opening a directory succeeds on Linux; reading it would fail only once output has begun.
  if (info.isDirectory()) throw Object.assign(new Error('is a directory'), {code: 'EISDIR'})
  if (info.isFIFO()) {
    // A plain open would wait for a writer, and a read for data, each in a thread-pool thread
    // that no deadline can free and that even process.exit waits for. Non-blocking, the pipe is
    // watched by the event loop instead (as stdin is), and destroying it ends the wait.
    const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
    return {kind: 'pipe', stream: new Socket({fd, readable: true, writable: false})}
  }
  const handle = await open(file, 'r')
  return info.isFile() ? {kind: 'regular', handle, size: info.size} : {kind: 'device', handle}
}

/**
 * Reads `-f PATH` (or `-` for stdin) whole. Stdin, FIFOs, process substitution and devices are read
 * within the command's deadline (`signal`); every input is capped at `maxBytes` (exit 6 beyond it).
 */
export async function readInputText(file: string, signal?: AbortSignal, maxBytes = MAX_INPUT_BYTES): Promise<InputText> {
  if (file === '-') return inputFromBytes(await readAll(process.stdin, 'stdin', signal, maxBytes), 'stdin')
  let input: OpenedInput
  try {
    input = await openInput(file)
  } catch (error) {
    throw inputError(file, error)
  }
  try {
    if (input.kind === 'pipe') return inputFromBytes(await readAll(input.stream, file, signal, maxBytes), file)
    if (input.kind === 'device') return inputFromBytes(await readAll(input.handle.createReadStream(), file, signal, maxBytes), file)
    if (input.size > maxBytes) throw tooLarge(file, maxBytes)
    try {
      // A regular file cannot stall: one blocking read of its known size, which avoids ~300
      // thread-pool round trips (512 KiB each) for a 150 MB dump.
      return inputFromBytes(readRegularFile(input.handle.fd, input.size), file)
    } finally {
      await input.handle.close()
    }
  } catch (error) {
    throw error instanceof MeshdbgError || error === signal?.reason ? error : inputError(file, error)
  }
}

/**
 * `-f PATH` (or `-` for stdin) as a stream, for inputs read line by line. The file is opened
 * first, so a missing or unreadable one is a usage error before any output. Stdin, FIFOs and
 * devices end with the deadline (`signal`); a regular file is read to its end, as it cannot stall.
 */
export async function openInputStream(file: string, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
  if (file === '-') return underDeadline(process.stdin, signal)
  let input: OpenedInput
  try {
    input = await openInput(file)
  } catch (error) {
    throw inputError(file, error)
  }
  if (input.kind === 'pipe') return underDeadline(input.stream, signal)
  return input.kind === 'regular' ? input.handle.createReadStream() : underDeadline(input.handle.createReadStream(), signal)
}

function inputError(file: string, error: unknown): MeshdbgError {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return usageError(`cannot read ${file}: no such file`)
  if (code === 'EISDIR') return usageError(`cannot read ${file}: it is a directory`)
  if (code === 'EACCES') return usageError(`cannot read ${file}: permission denied`)
  if (code === 'ERR_STRING_TOO_LONG') return new MeshdbgError('bad-data', `${file}: too large to read as text`)
  return usageError(`cannot read ${file}: ${(error as Error).message}`)
}
