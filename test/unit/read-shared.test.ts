import {closeSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {readRegularFile, SHARED_READ_MIN_BYTES} from '../../src/lib/read-shared.js'

describe('readRegularFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdbg-read-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  const withFile = (bytes: Buffer, read: (fd: number) => Buffer): Buffer => {
    const file = join(dir, 'f')
    writeFileSync(file, bytes)
    const fd = openSync(file, 'r')
    try {
      return read(fd)
    } finally {
      closeSync(fd)
    }
  }

  const large = Buffer.alloc(SHARED_READ_MIN_BYTES + 3, 'x{"a": 1}\n')

  it('reads a large file into shared memory (worker threads then read it without a copy)', () => {
    const read = withFile(large, (fd) => readRegularFile(fd, large.length))
    expect(read.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(read.equals(large)).toBe(true)
  })

  it('reads small files as readFileSync does', () => {
    const read = withFile(Buffer.from('{"configs": []}'), (fd) => readRegularFile(fd, 15))
    expect(read.buffer).not.toBeInstanceOf(SharedArrayBuffer)
    expect(read.toString()).toBe('{"configs": []}')
  })

  it('reads to the end of a file that grew or shrank after its size was taken', () => {
    expect(withFile(large, (fd) => readRegularFile(fd, large.length - 5)).equals(large)).toBe(true)
    expect(withFile(large, (fd) => readRegularFile(fd, large.length + 5)).equals(large)).toBe(true)
  })
})
