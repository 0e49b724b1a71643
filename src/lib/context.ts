import type {Scope} from './scope.js'

/** What library code needs from the command that runs it: settings, a deadline and a scope. */
export interface RunContext {
  /** `-n` as given (undefined when not given: the kubeconfig context decides). */
  readonly namespace?: string
  readonly context?: string
  readonly kubeconfig?: string
  /** --as / --as-group: Kubernetes impersonation for every API call. */
  readonly impersonate?: {readonly user?: string; readonly groups: readonly string[]}
  /** The whole command's deadline, from --timeout. */
  readonly timeoutMs: number
  /** --snapshot: answer every cluster read from this archive (meshdbg snapshot) instead of the network. */
  readonly snapshot?: string
  /** Aborted when the deadline passes or the user interrupts. */
  readonly signal: AbortSignal
  readonly scope: Scope
  /** Progress and notes for humans, on stderr (silent with --json or -o json/yaml). */
  note(message: string): void
  /** Shows a spinner on a TTY stderr while `work` runs. */
  spin<T>(text: string, work: Promise<T>): Promise<T>
}
