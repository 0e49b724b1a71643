import {readFileSync, readSync} from 'node:fs'

/**
 * Regular files at least this large are read into shared memory: `proxy-config all` then hands
 * the one buffer to its worker threads without copying it (see envoy/all-parallel.ts).
 */
export const SHARED_READ_MIN_BYTES = 32 << 20

/** The rest of an open regular file of `size` bytes, read as readFileSync(fd) would. */
export function readRegularFile(fd: number, size: number): Buffer {
  if (size < SHARED_READ_MIN_BYTES) return readFileSync(fd)
  const bytes = Buffer.from(new SharedArrayBuffer(size))
  let at = 0
  while (at < size) {
    const count = readSync(fd, bytes, at, size - at, null)
    if (count === 0) return bytes.subarray(0, at)
    at += count
  }
  // A file still being written may have grown since its size was taken.
  const rest = readFileSync(fd)
  return rest.length === 0 ? bytes : Buffer.concat([bytes, rest])
}
