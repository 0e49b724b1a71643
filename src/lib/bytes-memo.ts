/**
 * Values read from byte ranges, found again by the bytes themselves: the answers of many proxies
 * of one namespace repeat each other byte for byte, and comparing a range with the text kept
 * (memcmp, ~40 GB/s here) costs far less than reading it again, or than hashing it (SHA-1,
 * 1.7 GB/s). Exact: a value is found only for text equal to the text it was read from.
 *
 * The texts live in one buffer of `maxKeptBytes`, written round and round: a text kept drops the
 * ones it overwrites (the oldest, as callers meet each namespace's answers over and over, never
 * many at once). One buffer, not a copy per text: a worker thread's heap stays small, so it
 * rarely collects, and dropped copies piled up as memory outside it (+30 MB of peak RSS over 500
 * sidecars). Values are shared between callers and must not be changed.
 */
export class BytesMemo<T> {
  private arena: Buffer | undefined
  /** Where the next text goes. */
  private next = 0
  /** Kept texts (where in the arena) and their values, by text length. */
  private readonly byLength = new Map<number, Array<{start: number; value: T}>>()

  constructor(private readonly maxKeptBytes: number) {}

  /** The value kept for text equal to `bytes[begin, end)`. */
  lookup(bytes: Buffer, begin = 0, end = bytes.length): T | undefined {
    const length = end - begin
    const entries = this.arena === undefined ? undefined : this.byLength.get(length)
    for (const entry of entries ?? []) {
      if (bytes.compare(this.arena!, entry.start, entry.start + length, begin, end) === 0) return entry.value
    }
    return undefined
  }

  /** Keeps `value`, read from `bytes[begin, end)` (copied), if it fits at all. */
  keep(bytes: Buffer, value: T, begin = 0, end = bytes.length): void {
    const length = end - begin
    if (length === 0 || length > this.maxKeptBytes || this.lookup(bytes, begin, end) !== undefined) return
    // Pages are touched only as texts are written.
    const arena = (this.arena ??= Buffer.allocUnsafeSlow(this.maxKeptBytes))
    const start = this.next + length <= arena.length ? this.next : 0
    for (const [size, entries] of this.byLength) {
      const kept = entries.filter((entry) => entry.start >= start + length || entry.start + size <= start)
      if (kept.length === 0) this.byLength.delete(size)
      else if (kept.length !== entries.length) this.byLength.set(size, kept)
    }
    bytes.copy(arena, start, begin, end)
    this.byLength.set(length, [...(this.byLength.get(length) ?? []), {start, value}])
    this.next = start + length
  }
}
