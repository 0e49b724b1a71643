/**
 * Owns what a command opens (port-forwards, sockets, timers) so that everything is closed when the
 * command ends, whether it succeeded, failed or was interrupted: the process must never linger.
 */
export class Scope {
  private readonly closers: Array<() => unknown> = []
  private closed = false
  private readonly memos = new Map<symbol, unknown>()

  /**
   * Per-command state (a Kubernetes client, a port-forward) created on first use and shared by
   * every later caller in the same command; it lives exactly as long as the scope.
   */
  memo<T>(key: symbol, create: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, create())
    return this.memos.get(key) as T
  }

  defer(closer: () => unknown): void {
    if (this.closed) {
      void Promise.resolve().then(closer).catch(() => {})
      return
    }
    this.closers.push(closer)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const closers = this.closers.splice(0).reverse()
    for (const closer of closers) {
      try {
        await closer()
      } catch {
        // Closing is best effort; the command's own outcome is what matters.
      }
    }
  }
}
