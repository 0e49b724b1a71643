/**
 * Exit codes are part of meshdbg's contract with scripts and runbooks: they are documented in the
 * README and in every command's --help, and tests assert them.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  notFound: 3,
  connection: 4,
  timeout: 5,
  badData: 6,
  /** stdout could not be written (a full disk, an I/O error); a closed pipe (`| head`) is not an error. */
  output: 7,
  /** Commands that report problems they found (sync drift, failed checks) use 10 and up. */
  problemsFound: 10,
  /** `diagnose`: at least one check failed or could not run. */
  checksFailed: 11,
} as const


export const EXIT_CODE_HELP: ReadonlyArray<[number, string]> = [
  [ExitCode.ok, 'success'],
  [ExitCode.internal, 'internal error (a bug: rerun with DEBUG=meshdbg and report it)'],
  [ExitCode.usage, 'usage error: bad flag, argument, kubeconfig or context'],
  [ExitCode.notFound, 'target not found, not running, or not part of the mesh'],
  [ExitCode.connection, 'connection or port-forward failure (forbidden, refused, reset, non-200)'],
  [ExitCode.timeout, 'timed out (see --timeout)'],
  [ExitCode.badData, 'unusable data from a proxy or file (malformed, truncated, wrong kind)'],
  [ExitCode.output, 'could not write the output (disk full, I/O error)'],
  [ExitCode.problemsFound, 'the command ran and found problems (e.g. sync-status --fail-on, diff)'],
  [ExitCode.checksFailed, 'diagnose: a check failed or could not run (warnings alone: 10 with --fail-on warn)'],
]

export function exitCodeHelpSection(): string {
  return EXIT_CODE_HELP.map(([code, text]) => `  ${String(code).padEnd(3)} ${text}`).join('\n')
}

export type ErrorKind =
  | 'usage'
  | 'not-found'
  | 'not-meshed'
  | 'forbidden'
  | 'connection'
  | 'timeout'
  | 'bad-data'
  | 'problems-found'
  | 'internal'

const EXIT_BY_KIND: Record<ErrorKind, number> = {
  usage: ExitCode.usage,
  'not-found': ExitCode.notFound,
  'not-meshed': ExitCode.notFound,
  forbidden: ExitCode.connection,
  connection: ExitCode.connection,
  timeout: ExitCode.timeout,
  'bad-data': ExitCode.badData,
  'problems-found': ExitCode.problemsFound,
  internal: ExitCode.internal,
}

/** An expected failure: printed as one line (no stack trace) with its exit code. */
export class MeshdbgError extends Error {
  readonly kind: ErrorKind
  readonly exitCode: number
  readonly hint?: string
  /** For problems-found errors: the command's typed result, still printed with --json. */
  readonly result?: unknown

  constructor(kind: ErrorKind, message: string, options: {hint?: string; cause?: unknown; exitCode?: number; result?: unknown} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'MeshdbgError'
    this.kind = kind
    this.exitCode = options.exitCode ?? EXIT_BY_KIND[kind]
    this.hint = options.hint
    this.result = options.result
  }
}

export const usageError = (message: string, hint?: string) => new MeshdbgError('usage', message, {hint})
export const badDataError = (message: string, hint?: string) => new MeshdbgError('bad-data', message, {hint})
export const notFoundError = (message: string, hint?: string) => new MeshdbgError('not-found', message, {hint})

export function isMeshdbgError(error: unknown): error is MeshdbgError {
  return error instanceof MeshdbgError
}
