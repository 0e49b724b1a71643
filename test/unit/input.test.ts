import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {MeshdbgError} from '../../src/lib/errors.js'
import {openInputStream, readInputText} from '../../src/lib/input.js'
import {scratchDirectory} from '../helpers/scratch.js'

const {dir: scratchDir, fifo} = scratchDirectory('meshdbg-input-unit-')

/** A writer for `path` (it blocks until meshdbg opens the FIFO for reading). */
function writeInto(path: string, shell: string): void {
  spawn('sh', ['-c', `${shell} > '${path}'`], {stdio: 'ignore'}).unref()
}

describe('readInputText', () => {
  it('reads a FIFO to its end', async () => {
    const path = fifo('text')
    writeInto(path, 'printf "{\\"configs\\": []}"')
    const input = await readInputText(path, AbortSignal.timeout(10_000))
    expect(input.text).toBe('{"configs": []}')
  })

  it('gives up on a FIFO nobody writes to when the signal aborts, with its reason', async () => {
    const deadline = new AbortController()
    const reading = readInputText(fifo('nobody'), deadline.signal)
    const reason = new MeshdbgError('timeout', 'timed out after 1s (raise --timeout)')
    setTimeout(() => deadline.abort(reason), 50)
    await expect(reading).rejects.toBe(reason)
  })

  it('stops reading a FIFO once more than maxBytes arrive (exit 6)', async () => {
    const path = fifo('endless')
    writeInto(path, 'yes')
    const error = await readInputText(path, AbortSignal.timeout(10_000), 4096).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(MeshdbgError)
    expect((error as MeshdbgError).exitCode).toBe(6)
    expect((error as MeshdbgError).message).toBe(`${path}: larger than 4096 bytes; refusing to read it`)
  })

  it('refuses a regular file over maxBytes from its size, and reads one at the limit', async () => {
    const path = join(scratchDir(), 'dump.json')
    writeFileSync(path, 'x'.repeat(4097))
    await expect(readInputText(path, undefined, 4096)).rejects.toThrow(`${path}: larger than 4096 bytes; refusing to read it`)
    expect((await readInputText(path, undefined, 4097)).text).toHaveLength(4097)
  })
})

describe('openInputStream', () => {
  it('a FIFO nobody writes to ends with the signal', async () => {
    const deadline = new AbortController()
    const stream = await openInputStream(fifo('stream'), deadline.signal)
    const reason = new Error('deadline')
    setTimeout(() => deadline.abort(reason), 50)
    await expect((async () => {
      for await (const chunk of stream) void chunk
    })()).rejects.toBe(reason)
  })
})
