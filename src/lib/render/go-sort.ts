/**
 * Go's `sort.Slice`, ported step for step (Go >= 1.19: pattern-defeating quicksort, the algorithm
 * of istioctl >= 1.16; after src/sort/zsortfunc.go and slice.go, Copyright The Go Authors,
 * BSD-style licence).
 *
 * Why hand-written: istioctl sorts its tables with `sort.Slice` and comparators that tie on rows
 * that print differently (listeners on the same port, address and type; filter chains with the
 * same destination; route configurations, whose comparator is not even a strict weak order, as a
 * non-numeric name is "not less" than anything both ways). Where items tie, the printed order is
 * whatever Go's algorithm does with them, and runbooks that diff or awk istioctl's output need
 * meshdbg's bytes to be the same. No library sort reproduces that: Array.prototype.sort is a
 * stable merge sort. Go's algorithm is deterministic (its pattern breaking uses a xorshift seeded
 * by the length), so an exact port gives exactly istioctl's order; test/fixtures/go-sort holds
 * goldens made by Go itself.
 *
 * `less(a, b)` is called on elements, in the same sequence as Go calls `less(i, j)` on positions,
 * so a comparator with side effects or inconsistencies behaves as in Go. The sort is in place.
 */
export function goSortSlice<T>(items: T[], less: (a: T, b: T) => boolean): T[] {
  const length = items.length
  pdqsort(items as unknown[], less as Less, 0, length, bitLength(length))
  return items
}

/**
 * goSortSlice for a comparator that is a strict weak order (clusters, endpoints: every key compared
 * field by field). When no two items tie, the sorted order is unique, so every correct sort gives
 * Go's result and the engine's native sort (about twice as fast on 30,000 clusters) is used; when
 * any two tie, only Go's algorithm gives istioctl's order, and the port runs on the original order.
 */
export function goSortSliceWeakOrder<T>(items: T[], less: (a: T, b: T) => boolean, compare?: (a: T, b: T) => number): T[] {
  // `compare` (the same order, three-way) saves the native sort a second call of `less` per comparison.
  const sorted = items.slice().sort(compare ?? ((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0)))
  for (let i = 1; i < sorted.length; i++) {
    if (!less(sorted[i - 1], sorted[i])) return goSortSlice(items, less)
  }
  for (let i = 0; i < sorted.length; i++) items[i] = sorted[i]
  return items
}

/** Go's `lessSwap` is the slice itself plus the comparator on its elements (swap is inlined). */
type Less = (a: unknown, b: unknown) => boolean

function swap(data: unknown[], i: number, j: number): void {
  const item = data[i]
  data[i] = data[j]
  data[j] = item
}

const SortedHint = {Unknown: 0, Increasing: 1, Decreasing: 2} as const
type SortedHint = (typeof SortedHint)[keyof typeof SortedHint]

/** math/bits.Len: the number of bits needed to represent n (0 for 0); lengths stay below 2^32. */
function bitLength(n: number): number {
  return 32 - Math.clz32(n)
}

function insertionSort(data: unknown[], less: Less, a: number, b: number): void {
  for (let i = a + 1; i < b; i++) {
    for (let j = i; j > a && less(data[j], data[j - 1]); j--) swap(data, j, j - 1)
  }
}

function siftDown(data: unknown[], less: Less, lo: number, hi: number, first: number): void {
  let root = lo
  for (;;) {
    let child = 2 * root + 1
    if (child >= hi) return
    if (child + 1 < hi && less(data[first + child], data[first + child + 1])) child++
    if (!less(data[first + root], data[first + child])) return
    swap(data, first + root, first + child)
    root = child
  }
}

function heapSort(data: unknown[], less: Less, a: number, b: number): void {
  const first = a
  const hi = b - a
  for (let i = Math.trunc((hi - 1) / 2); i >= 0; i--) siftDown(data, less, i, hi, first)
  for (let i = hi - 1; i >= 0; i--) {
    swap(data, first, first + i)
    siftDown(data, less, 0, i, first)
  }
}

function pdqsort(data: unknown[], less: Less, a: number, b: number, limit: number): void {
  const maxInsertion = 12
  let wasBalanced = true
  let wasPartitioned = true
  for (;;) {
    const length = b - a
    if (length <= maxInsertion) {
      insertionSort(data, less, a, b)
      return
    }
    if (limit === 0) {
      heapSort(data, less, a, b)
      return
    }
    if (!wasBalanced) {
      breakPatterns(data, a, b)
      limit--
    }
    let [pivot, hint] = choosePivot(data, less, a, b)
    if (hint === SortedHint.Decreasing) {
      reverseRange(data, a, b)
      pivot = b - 1 - (pivot - a)
      hint = SortedHint.Increasing
    }
    if (wasBalanced && wasPartitioned && hint === SortedHint.Increasing && partialInsertionSort(data, less, a, b)) return
    if (a > 0 && !less(data[a - 1], data[pivot])) {
      a = partitionEqual(data, less, a, b, pivot)
      continue
    }
    const [mid, alreadyPartitioned] = partition(data, less, a, b, pivot)
    wasPartitioned = alreadyPartitioned
    const leftLength = mid - a
    const rightLength = b - mid
    const balanceThreshold = Math.trunc(length / 8)
    if (leftLength < rightLength) {
      wasBalanced = leftLength >= balanceThreshold
      pdqsort(data, less, a, mid, limit)
      a = mid + 1
    } else {
      wasBalanced = rightLength >= balanceThreshold
      pdqsort(data, less, mid + 1, b, limit)
      b = mid
    }
  }
}

function partition(data: unknown[], less: Less, a: number, b: number, pivot: number): [newPivot: number, alreadyPartitioned: boolean] {
  swap(data, a, pivot)
  let i = a + 1
  let j = b - 1
  while (i <= j && less(data[i], data[a])) i++
  while (i <= j && !less(data[j], data[a])) j--
  if (i > j) {
    swap(data, j, a)
    return [j, true]
  }
  swap(data, i, j)
  i++
  j--
  for (;;) {
    while (i <= j && less(data[i], data[a])) i++
    while (i <= j && !less(data[j], data[a])) j--
    if (i > j) break
    swap(data, i, j)
    i++
    j--
  }
  swap(data, j, a)
  return [j, false]
}

function partitionEqual(data: unknown[], less: Less, a: number, b: number, pivot: number): number {
  swap(data, a, pivot)
  let i = a + 1
  let j = b - 1
  for (;;) {
    while (i <= j && !less(data[a], data[i])) i++
    while (i <= j && less(data[a], data[j])) j--
    if (i > j) break
    swap(data, i, j)
    i++
    j--
  }
  return i
}

function partialInsertionSort(data: unknown[], less: Less, a: number, b: number): boolean {
  const maxSteps = 5
  const shortestShifting = 50
  let i = a + 1
  for (let step = 0; step < maxSteps; step++) {
    while (i < b && !less(data[i], data[i - 1])) i++
    if (i === b) return true
    if (b - a < shortestShifting) return false
    swap(data, i, i - 1)
    if (i - a >= 2) {
      for (let j = i - 1; j >= 1; j--) {
        if (!less(data[j], data[j - 1])) break
        swap(data, j, j - 1)
      }
    }
    if (b - i >= 2) {
      for (let j = i + 1; j < b; j++) {
        if (!less(data[j], data[j - 1])) break
        swap(data, j, j - 1)
      }
    }
  }
  return false
}

const UINT64 = 64

/** Go's `xorshift` (a uint64), seeded with the length of the range being sorted. */
function* xorshift(seed: number): Generator<bigint> {
  let state = BigInt(seed)
  for (;;) {
    state = BigInt.asUintN(UINT64, state ^ (state << 13n))
    state ^= state >> 17n
    state = BigInt.asUintN(UINT64, state ^ (state << 5n))
    yield state
  }
}

function breakPatterns(data: unknown[], a: number, b: number): void {
  const length = b - a
  if (length < 8) return
  const random = xorshift(length)
  const mask = BigInt(2 ** bitLength(length) - 1) // nextPowerOfTwo(length) - 1
  const middle = a + Math.trunc(length / 4) * 2
  for (let index = middle - 1; index <= middle + 1; index++) {
    let other = Number(random.next().value! & mask)
    if (other >= length) other -= length
    swap(data, index, a + other)
  }
}

function choosePivot(data: unknown[], less: Less, a: number, b: number): [pivot: number, hint: SortedHint] {
  const shortestNinther = 50
  const maxSwaps = 4 * 3
  const length = b - a
  const swaps = {count: 0}
  const quarter = Math.trunc(length / 4)
  let i = a + quarter
  let j = a + quarter * 2
  let k = a + quarter * 3
  if (length >= 8) {
    if (length >= shortestNinther) {
      i = median(data, less, i - 1, i, i + 1, swaps)
      j = median(data, less, j - 1, j, j + 1, swaps)
      k = median(data, less, k - 1, k, k + 1, swaps)
    }
    j = median(data, less, i, j, k, swaps)
  }
  if (swaps.count === 0) return [j, SortedHint.Increasing]
  if (swaps.count === maxSwaps) return [j, SortedHint.Decreasing]
  return [j, SortedHint.Unknown]
}

/** Go's order2: the two positions ordered by their elements, counting a swap when reversed. */
function order2(data: unknown[], less: Less, a: number, b: number, swaps: {count: number}): [number, number] {
  if (less(data[b], data[a])) {
    swaps.count++
    return [b, a]
  }
  return [a, b]
}

function median(data: unknown[], less: Less, a: number, b: number, c: number, swaps: {count: number}): number {
  ;[a, b] = order2(data, less, a, b, swaps)
  ;[b, c] = order2(data, less, b, c, swaps)
  ;[a, b] = order2(data, less, a, b, swaps)
  return b
}

function reverseRange(data: unknown[], a: number, b: number): void {
  for (let i = a, j = b - 1; i < j; i++, j--) swap(data, i, j)
}
