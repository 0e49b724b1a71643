import {getHeapStatistics, setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

type Collect = (young?: boolean) => void

/**
 * V8's `gc`: a full collection of this thread's heap, or with `young` only the young generation
 * (a scavenge, well under 1 ms when little survives). Node exposes it only behind `--expose-gc`,
 * to contexts created after the flag is set, such as the one made here (~1 ms: keep the function
 * for repeated use). For the few places where meshdbg knows that much memory just became garbage
 * and V8 would not soon collect it.
 */
export function garbageCollector(): Collect {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as (options?: {type: 'minor' | 'major'}) => void
  return (young = false) => gc(young ? {type: 'minor'} : undefined)
}

/** A full garbage collection of this thread's heap, now. */
export function collectGarbage(): void {
  garbageCollector()()
}

/**
 * A check to call between units of work: a scavenge once this thread's ArrayBuffers (Buffers:
 * port-forward chunks, response bodies) hold more than `limitBytes`. A thread that moves
 * megabytes through buffers while allocating few objects fills its young generation slowly, and
 * V8 frees a dead buffer's memory only when it collects the buffer's object.
 */
export function buffersCollector(limitBytes: number): () => void {
  let collect: Collect | undefined
  return () => {
    // V8's external memory counts every ArrayBuffer; process.memoryUsage() would also read /proc.
    if (getHeapStatistics().external_memory < limitBytes) return
    collect ??= garbageCollector()
    collect(true)
  }
}

/**
 * A check to call between units of work: a full collection once this thread's heap has grown by
 * `growthBytes` since the last one this made. V8 lets a heap whose live part is ~50 MB grow to
 * ~150 MB before it marks (its limit scales with the live size), which is most of a long
 * command's peak RSS. A full collection of ~50 MB live took 35-50 ms in `diagnose -A` (~9 per
 * 500 proxies at 32 MB), little beside the ~60 MB of peak RSS it saved there (at 16 MB, ~25 MB
 * more for ~3% more wall time); one after every unit of work cost seconds.
 */
export function heapCollector(growthBytes: number): () => void {
  let collect: Collect | undefined
  let baseline = getHeapStatistics().used_heap_size
  return () => {
    if (getHeapStatistics().used_heap_size < baseline + growthBytes) return
    collect ??= garbageCollector()
    collect()
    baseline = getHeapStatistics().used_heap_size
  }
}
