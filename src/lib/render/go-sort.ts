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
  pdqsort(new Slice(items, less), 0, length, bitLength(length))
  return items
}

/** Go's `lessSwap`: comparisons and swaps by position. */
interface Data {
  less(i: number, j: number): boolean
  swap(i: number, j: number): void
}

class Slice<T> implements Data {
  constructor(
    private readonly items: T[],
    private readonly lessFn: (a: T, b: T) => boolean,
  ) {}

  less(i: number, j: number): boolean {
    return this.lessFn(this.items[i], this.items[j])
  }

  swap(i: number, j: number): void {
    const item = this.items[i]
    this.items[i] = this.items[j]
    this.items[j] = item
  }
}

const SortedHint = {Unknown: 0, Increasing: 1, Decreasing: 2} as const
type SortedHint = (typeof SortedHint)[keyof typeof SortedHint]

/** math/bits.Len: the number of bits needed to represent n (0 for 0); lengths stay below 2^32. */
function bitLength(n: number): number {
  return 32 - Math.clz32(n)
}

function insertionSort(data: Data, a: number, b: number): void {
  for (let i = a + 1; i < b; i++) {
    for (let j = i; j > a && data.less(j, j - 1); j--) data.swap(j, j - 1)
  }
}

function siftDown(data: Data, lo: number, hi: number, first: number): void {
  let root = lo
  for (;;) {
    let child = 2 * root + 1
    if (child >= hi) return
    if (child + 1 < hi && data.less(first + child, first + child + 1)) child++
    if (!data.less(first + root, first + child)) return
    data.swap(first + root, first + child)
    root = child
  }
}

function heapSort(data: Data, a: number, b: number): void {
  const first = a
  const hi = b - a
  for (let i = Math.trunc((hi - 1) / 2); i >= 0; i--) siftDown(data, i, hi, first)
  for (let i = hi - 1; i >= 0; i--) {
    data.swap(first, first + i)
    siftDown(data, 0, i, first)
  }
}

function pdqsort(data: Data, a: number, b: number, limit: number): void {
  const maxInsertion = 12
  let wasBalanced = true
  let wasPartitioned = true
  for (;;) {
    const length = b - a
    if (length <= maxInsertion) {
      insertionSort(data, a, b)
      return
    }
    if (limit === 0) {
      heapSort(data, a, b)
      return
    }
    if (!wasBalanced) {
      breakPatterns(data, a, b)
      limit--
    }
    let [pivot, hint] = choosePivot(data, a, b)
    if (hint === SortedHint.Decreasing) {
      reverseRange(data, a, b)
      pivot = b - 1 - (pivot - a)
      hint = SortedHint.Increasing
    }
    if (wasBalanced && wasPartitioned && hint === SortedHint.Increasing && partialInsertionSort(data, a, b)) return
    if (a > 0 && !data.less(a - 1, pivot)) {
      a = partitionEqual(data, a, b, pivot)
      continue
    }
    const [mid, alreadyPartitioned] = partition(data, a, b, pivot)
    wasPartitioned = alreadyPartitioned
    const leftLength = mid - a
    const rightLength = b - mid
    const balanceThreshold = Math.trunc(length / 8)
    if (leftLength < rightLength) {
      wasBalanced = leftLength >= balanceThreshold
      pdqsort(data, a, mid, limit)
      a = mid + 1
    } else {
      wasBalanced = rightLength >= balanceThreshold
      pdqsort(data, mid + 1, b, limit)
      b = mid
    }
  }
}

function partition(data: Data, a: number, b: number, pivot: number): [newPivot: number, alreadyPartitioned: boolean] {
  data.swap(a, pivot)
  let i = a + 1
  let j = b - 1
  while (i <= j && data.less(i, a)) i++
  while (i <= j && !data.less(j, a)) j--
  if (i > j) {
    data.swap(j, a)
    return [j, true]
  }
  data.swap(i, j)
  i++
  j--
  for (;;) {
    while (i <= j && data.less(i, a)) i++
    while (i <= j && !data.less(j, a)) j--
    if (i > j) break
    data.swap(i, j)
    i++
    j--
  }
  data.swap(j, a)
  return [j, false]
}

function partitionEqual(data: Data, a: number, b: number, pivot: number): number {
  data.swap(a, pivot)
  let i = a + 1
  let j = b - 1
  for (;;) {
    while (i <= j && !data.less(a, i)) i++
    while (i <= j && data.less(a, j)) j--
    if (i > j) break
    data.swap(i, j)
    i++
    j--
  }
  return i
}

function partialInsertionSort(data: Data, a: number, b: number): boolean {
  const maxSteps = 5
  const shortestShifting = 50
  let i = a + 1
  for (let step = 0; step < maxSteps; step++) {
    while (i < b && !data.less(i, i - 1)) i++
    if (i === b) return true
    if (b - a < shortestShifting) return false
    data.swap(i, i - 1)
    if (i - a >= 2) {
      for (let j = i - 1; j >= 1; j--) {
        if (!data.less(j, j - 1)) break
        data.swap(j, j - 1)
      }
    }
    if (b - i >= 2) {
      for (let j = i + 1; j < b; j++) {
        if (!data.less(j, j - 1)) break
        data.swap(j, j - 1)
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

function breakPatterns(data: Data, a: number, b: number): void {
  const length = b - a
  if (length < 8) return
  const random = xorshift(length)
  const mask = BigInt(2 ** bitLength(length) - 1) // nextPowerOfTwo(length) - 1
  const middle = a + Math.trunc(length / 4) * 2
  for (let index = middle - 1; index <= middle + 1; index++) {
    let other = Number(random.next().value! & mask)
    if (other >= length) other -= length
    data.swap(index, a + other)
  }
}

function choosePivot(data: Data, a: number, b: number): [pivot: number, hint: SortedHint] {
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
      i = median(data, i - 1, i, i + 1, swaps)
      j = median(data, j - 1, j, j + 1, swaps)
      k = median(data, k - 1, k, k + 1, swaps)
    }
    j = median(data, i, j, k, swaps)
  }
  if (swaps.count === 0) return [j, SortedHint.Increasing]
  if (swaps.count === maxSwaps) return [j, SortedHint.Decreasing]
  return [j, SortedHint.Unknown]
}

/** Go's order2: the two positions ordered by their elements, counting a swap when reversed. */
function order2(data: Data, a: number, b: number, swaps: {count: number}): [number, number] {
  if (data.less(b, a)) {
    swaps.count++
    return [b, a]
  }
  return [a, b]
}

function median(data: Data, a: number, b: number, c: number, swaps: {count: number}): number {
  ;[a, b] = order2(data, a, b, swaps)
  ;[b, c] = order2(data, b, c, swaps)
  ;[a, b] = order2(data, a, b, swaps)
  return b
}

function reverseRange(data: Data, a: number, b: number): void {
  for (let i = a, j = b - 1; i < j; i++, j--) data.swap(i, j)
}
