import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, expect} from 'vitest'

/** A temporary directory for the test file (made before its tests, removed after): call `dir()` inside a test. */
export function scratchDirectory(prefix: string): {dir: () => string; fifo: (name: string) => string} {
  let scratch: string | undefined
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), prefix))
  })
  afterAll(() => {
    if (scratch) rmSync(scratch, {recursive: true, force: true})
  })
  const dir = () => scratch!
  return {
    dir,
    /** A named pipe in the directory, with no writer yet. */
    fifo: (name) => {
      const path = join(dir(), name)
      expect(spawnSync('mkfifo', [path]).status).toBe(0)
      return path
    },
  }
}
