/** What `compute` made before for the same two objects, or what it makes now (kept, undefined included). */
export type PairMemo = <V>(first: object, second: object, compute: () => V) => V

/**
 * A PairMemo for one run: `diagnose -A`'s proxies share facts (one namespace's sidecars get the
 * same used-cluster list and cluster membership), and what is derived from the same pair need not
 * be derived 500 times. Held weakly by both objects; values are shared: read-only.
 */
export function pairMemo(): PairMemo {
  const bySecondOf = new WeakMap<object, WeakMap<object, unknown>>()
  return <V>(first: object, second: object, compute: () => V): V => {
    let bySecond = bySecondOf.get(first)
    if (bySecond === undefined) bySecondOf.set(first, (bySecond = new WeakMap()))
    if (bySecond.has(second)) return bySecond.get(second) as V
    const value = compute()
    bySecond.set(second, value)
    return value
  }
}
