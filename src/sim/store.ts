// The write side of the model: one resourceVersion counter for the cluster (as etcd's revision) and
// change events, so istiod (src/sim/xds.ts) and watches see every write made through the API.

export interface ChangeEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  /** Plural resource name, e.g. `virtualservices`, `services`, `pods`. */
  resource: string
  namespace?: string
  name: string
  /** The object as served after (or, for DELETED, before) the change. */
  object: Record<string, unknown>
  resourceVersion: string
}

export class MeshStore {
  private revision = 200_000
  private listeners = new Set<(event: ChangeEvent) => void>()

  get resourceVersion(): string {
    return String(this.revision)
  }

  next(): string {
    this.revision++
    return String(this.revision)
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(event: ChangeEvent): void {
    for (const listener of [...this.listeners]) listener(event)
  }
}
