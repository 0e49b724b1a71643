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
  private readonly byLength = new Map<number, Array<KeptText<T>>>()

  constructor(private readonly maxKeptBytes: number) {}

  /** The value kept for text equal to `bytes[begin, end)`. */
  lookup(bytes: Buffer, begin = 0, end = bytes.length): T | undefined {
    return this.lookupKept(bytes, begin, end)?.value
  }

  /** The kept text equal to `bytes[begin, end)`, to ask for again with startsAt. */
  lookupKept(bytes: Buffer, begin = 0, end = bytes.length): KeptText<T> | undefined {
    const length = end - begin
    const entries = this.arena === undefined ? undefined : this.byLength.get(length)
    for (const entry of entries ?? []) {
      if (bytes.compare(this.arena!, entry.start, entry.start + length, begin, end) === 0) return entry
    }
    return undefined
  }

  /**
   * True when `kept` is still kept and `bytes` holds its text at `begin` (what follows is not
   * compared: the caller knows the text is a whole value, such as a JSON object, that ends there).
   */
  startsAt(kept: KeptText<T>, bytes: Buffer, begin: number): boolean {
    if (kept.dropped || this.arena === undefined || begin + kept.length > bytes.length) return false
    return bytes.compare(this.arena, kept.start, kept.start + kept.length, begin, begin + kept.length) === 0
  }

  /** Keeps `value`, read from `bytes[begin, end)` (copied), if it fits at all; the text kept (undefined when it does not fit). */
  keep(bytes: Buffer, value: T, begin = 0, end = bytes.length): KeptText<T> | undefined {
    const length = end - begin
    if (length === 0 || length > this.maxKeptBytes) return undefined
    const known = this.lookupKept(bytes, begin, end)
    if (known !== undefined) return known
    // Pages are touched only as texts are written.
    const arena = (this.arena ??= Buffer.allocUnsafeSlow(this.maxKeptBytes))
    const start = this.next + length <= arena.length ? this.next : 0
    for (const [size, entries] of this.byLength) {
      const kept = entries.filter((entry) => {
        const clear = entry.start >= start + length || entry.start + size <= start
        if (!clear) entry.dropped = true
        return clear
      })
      if (kept.length === 0) this.byLength.delete(size)
      else if (kept.length !== entries.length) this.byLength.set(size, kept)
    }
    bytes.copy(arena, start, begin, end)
    const entry: KeptText<T> = {start, length, value, dropped: false}
    this.byLength.set(length, [...(this.byLength.get(length) ?? []), entry])
    this.next = start + length
    return entry
  }
}

/** A text a BytesMemo keeps: where in its arena, and its value; `dropped` once overwritten. */
export interface KeptText<T> {
  readonly start: number
  readonly length: number
  readonly value: T
  dropped: boolean
}
