import {Command, Flags, type Interfaces} from '@oclif/core'

import {colorEnabled} from './color.js'
import type {RunContext} from './context.js'
import {parseTimerDuration} from './duration.js'
import {type ErrorKind, ExitCode, isMeshdbgError, MeshdbgError, usageError} from './errors.js'
import {TABLE_OUTPUTS} from './flags.js'
import {escapeTerminal, escapeTerminalLines} from './render/escape.js'
import {Scope} from './scope.js'
import {createProgress} from './spinner.js'
import {usageErrorFromParser} from './usage-errors.js'
import {exitOnStdoutError} from './stdout.js'

// A command's own flag of a base flag's name (a repeatable --context) replaces it, in the types as in oclif's parse.
export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<Omit<(typeof MeshdbgCommand)['baseFlags'], keyof T['flags']> & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * What `--json` prints, for every command and every exit code: the same keys whether the command
 * succeeded, found problems (exit 10) or failed, so scripts read `.result` without first checking
 * the shape. `result` is the command's typed result (null when it failed before having one);
 * `error` is there exactly when `status` is not 0; `warnings` holds the notes a human would have
 * seen on stderr (a section missing from a dump, an istiod left out, skipped lines).
 */
export interface JsonEnvelope<R> {
  /** The exit code. */
  status: number
  result: R | null
  error?: {kind: ErrorKind; message: string; hint?: string}
  warnings?: string[]
}

/** The longest a Node timer can wait (~24.8 days): what `--timeout 0` (no deadline) means for per-request timeouts. */
const NO_DEADLINE_MS = 2 ** 31 - 1

const NODE_ERROR_EXIT: Record<string, number> = {
  ECONNREFUSED: ExitCode.connection,
  ECONNRESET: ExitCode.connection,
  EPIPE: ExitCode.connection,
  UND_ERR_SOCKET: ExitCode.connection,
  UND_ERR_CLOSED: ExitCode.connection,
  UND_ERR_HEADERS_TIMEOUT: ExitCode.timeout,
  UND_ERR_BODY_TIMEOUT: ExitCode.timeout,
  UND_ERR_CONNECT_TIMEOUT: ExitCode.timeout,
  ETIMEDOUT: ExitCode.timeout,
}

/**
 * The base of every meshdbg command. It owns the global flags, the output format, the deadline,
 * spinners (stderr only, TTY only, never with json/yaml), the scope that closes port-forwards, and
 * the mapping of errors to one-line messages and documented exit codes.
 */
export abstract class MeshdbgCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  /** The `-o` values and default of a command that does not declare its own -o flag (outputFlag, tableOutputFlags). */
  static outputFormats: readonly string[] = ['short', 'json', 'yaml']
  static defaultOutput = 'short'
  /**
   * istioctl's listener/route/all use `--verbose` (default true) to pick the table layout; there it
   * cannot also mean stack traces, which those commands show with DEBUG=meshdbg only.
   */
  static verboseIsTableSwitch = false
  /** `-o` names a file to write (meshdbg snapshot), not a format: no format check, and --json may go with it. */
  static outputIsPath = false

  static override baseFlags = {
    namespace: Flags.string({char: 'n', summary: 'Namespace (default: the kubeconfig context\'s, else "default").', helpGroup: 'GLOBAL'}),
    context: Flags.string({summary: 'Kubeconfig context to use.', helpGroup: 'GLOBAL'}),
    // -c as in istioctl; a command with its own -c (access-log's --container) redefines kubeconfig without it.
    kubeconfig: Flags.string({char: 'c', summary: 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).', helpGroup: 'GLOBAL'}),
    as: Flags.string({summary: 'Username to impersonate for every Kubernetes API call (kubectl --as).', helpGroup: 'GLOBAL'}),
    'as-group': Flags.string({summary: 'Group to impersonate, with --as (kubectl --as-group).', multiple: true, helpGroup: 'GLOBAL'}),
    // Commands declare their own -o with the values they take (outputFlags); this one is for commands that do not.
    output: Flags.string({char: 'o', summary: 'Output format (see the command\'s description for the values it takes).', helpGroup: 'GLOBAL'}),
    timeout: Flags.string({
      summary: 'Deadline for the whole command, e.g. 500ms, 3s, 2m; 0 for none (also --request-timeout).',
      default: '30s',
      aliases: ['request-timeout'],
      helpGroup: 'GLOBAL',
    }),
    snapshot: Flags.string({summary: 'Read the cluster from a snapshot archive (meshdbg snapshot) instead of the network.', helpGroup: 'GLOBAL'}),
    'no-color': Flags.boolean({summary: 'Disable colour (also NO_COLOR=1 or TERM=dumb; FORCE_COLOR=1 forces it on).', helpGroup: 'GLOBAL'}),
    verbose: Flags.boolean({summary: 'Show stack traces for errors (also: DEBUG=meshdbg).', helpGroup: 'GLOBAL'}),
    help: Flags.help({char: 'h', summary: 'Show help for this command.', helpGroup: 'GLOBAL'}),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** Every positional value, for commands that take any number of them (`strict = false`). */
  protected argvValues: string[] = []
  protected outputFormat = 'short'
  /** `-o wide`: the table with the columns a terminal hides. */
  protected wideOutput = false
  protected readonly scope = new Scope()
  /** Notes collected for the --json envelope's `warnings`. */
  private readonly warnings: string[] = []
  private readonly abort = new AbortController()
  private deadline?: NodeJS.Timeout
  private timeoutMs = 30_000

  public override async init(): Promise<void> {
    await super.init()
    const ctor = this.ctor as unknown as typeof MeshdbgCommand
    const allFlags = {...ctor.baseFlags, ...this.ctor.flags} as Record<string, {type?: string; allowNo?: boolean}>
    const booleans = new Map(Object.entries(allFlags).filter(([, flag]) => flag.type === 'boolean').map(([name, flag]) => [name, Boolean(flag.allowNo)]))
    this.argv = normaliseBooleanAssignments(this.argv, booleans)
    const {args, argv, flags, metadata} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: ctor.baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.argvValues = argv as string[]
    const outputGiven = flags.output !== undefined && !metadata.flags.output?.setFromDefault && !ctor.outputIsPath
    if (outputGiven && this.jsonEnabled()) throw usageError('--json and -o/--output cannot be used together (--json prints the typed result, -o the output format)')
    this.outputFormat = ctor.outputIsPath ? ctor.defaultOutput : this.resolveOutput(flags.output as string | undefined)
    const timeoutMs = parseTimerDuration(flags.timeout as string, 'timeout')
    // --timeout 0 is no deadline (as kubectl's --request-timeout 0).
    this.timeoutMs = timeoutMs === 0 ? NO_DEADLINE_MS : timeoutMs
    if (timeoutMs > 0) {
      this.deadline = setTimeout(() => this.abort.abort(new MeshdbgError('timeout', `timed out after ${flags.timeout} (raise --timeout)`)), this.timeoutMs)
      this.deadline.unref()
    }
    exitOnStdoutError()
  }

  /** -o as given (or the command's default), checked against what the command takes. */
  private resolveOutput(given: string | undefined): string {
    const ctor = this.ctor as unknown as typeof MeshdbgCommand
    // A command's own -o flag (outputFlag/tableOutputFlags) lists its values, and oclif checked them.
    const declared = (this.ctor.flags as Record<string, {options?: readonly string[]}> | undefined)?.output?.options
    const output = given ?? ctor.defaultOutput
    if (declared === undefined && !ctor.outputFormats.includes(output)) {
      throw usageError(`output format "${output}" not supported (use ${ctor.outputFormats.join(', ')})`)
    }
    this.wideOutput = output === 'wide'
    return output
  }

  /** True when the rendered output is a table (-o short, table or wide). */
  protected get tableOutput(): boolean {
    return (TABLE_OUTPUTS as readonly string[]).includes(this.outputFormat)
  }

  /** True when stdout is for machines: --json, -o json or -o yaml. */
  protected get structuredOutput(): boolean {
    return this.jsonEnabled() || this.outputFormat === 'json' || this.outputFormat === 'yaml'
  }

  protected get colorEnabled(): boolean {
    const flags = this.flags as {'no-color'?: boolean} | undefined
    return !this.structuredOutput && colorEnabled({noColorFlag: flags?.['no-color'], env: process.env, isTTY: Boolean(process.stdout.isTTY)})
  }

  /** Writes rendered output to stdout (nothing in --json mode, where the returned result is printed). */
  protected write(text: string): void {
    if (this.jsonEnabled() || text === '') return
    process.stdout.write(text)
  }

  /**
   * A line on stderr that scripts should see even with -o json/yaml or --json (stdout stays
   * machine-readable): e.g. that key material was redacted from the output.
   */
  protected notice = (message: string): void => {
    process.stderr.write(escapeTerminal(message) + '\n')
  }

  /** Writes a rendered table; with --no-headers, without the header line of each table in it. */
  protected writeTable(text: string): void {
    const flags = this.flags as {'no-headers'?: boolean}
    this.write(flags['no-headers'] ? withoutHeaderLines(text) : text)
  }

  protected runContext(): RunContext {
    // A multi-cluster command declares --context repeatable (kube/contexts.ts): its first value is the base context.
    const flags = this.flags as {namespace?: string; context?: string | string[]; kubeconfig?: string; as?: string; 'as-group'?: string[]; 'no-color'?: boolean; snapshot?: string}
    const quiet = this.structuredOutput
    const json = this.jsonEnabled()
    const color = colorEnabled({noColorFlag: flags['no-color'], env: process.env, isTTY: Boolean(process.stderr.isTTY)})
    const progress = createProgress(process.stderr, {quiet, signal: this.abort.signal, color})
    return {
      namespace: flags.namespace,
      context: Array.isArray(flags.context) ? flags.context[0] : flags.context,
      kubeconfig: flags.kubeconfig,
      impersonate: flags.as === undefined && !flags['as-group']?.length ? undefined : {user: flags.as, groups: flags['as-group'] ?? []},
      timeoutMs: this.timeoutMs,
      snapshot: flags.snapshot,
      signal: this.abort.signal,
      scope: this.scope,
      note: (message: string) => {
        if (json) this.warnings.push(message)
        else progress.note(message)
      },
      spin: progress.spin,
    }
  }

  /** For `--watch`: --timeout then bounds each poll (src/lib/watch.ts), not the whole run. */
  protected disarmDeadline(): void {
    if (this.deadline) clearTimeout(this.deadline)
    this.deadline = undefined
  }

  /** The --json envelope of a successful run. */
  protected override toSuccessJson(result: unknown): JsonEnvelope<unknown> {
    return {status: ExitCode.ok, result: result ?? null, ...(this.warnings.length > 0 ? {warnings: this.warnings} : {})}
  }

  protected override async catch(thrown: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<never> {
    // --help / -h end the parse with exit 0, help for an unknown name with 2 (already reported): not errors to format.
    if (thrown.code === 'EEXIT') throw thrown
    const error = usageErrorFromParser(thrown) ?? thrown
    const exitCode = exitCodeFor(error)
    const message = messageFor(error)
    const verboseFlag = !(this.ctor as unknown as typeof MeshdbgCommand).verboseIsTableSwitch && Boolean((this.flags as {verbose?: boolean} | undefined)?.verbose)
    const showStack = verboseFlag || /(^|,)meshdbg(\*|,|$)|^\*$/.test(process.env.DEBUG ?? '')
    if (this.jsonEnabled()) {
      const meshdbgError = isMeshdbgError(error) ? error : undefined
      const envelope: JsonEnvelope<unknown> = {
        status: exitCode,
        result: meshdbgError?.result ?? null,
        error: {kind: meshdbgError?.kind ?? errorKindFor(exitCode), message, ...(meshdbgError?.hint ? {hint: meshdbgError.hint} : {})},
        ...(this.warnings.length > 0 ? {warnings: this.warnings} : {}),
      }
      this.logJson(envelope)
    } else {
      process.stderr.write(`Error: ${escapeTerminal(message)}\n`)
      if (showStack && error.stack) process.stderr.write(escapeTerminalLines(error.stack) + '\n')
    }
    process.exitCode = exitCode
    // exit() ends the process at once, dropping output a pipe has not taken yet (the end of a
    // 500-proxy report): wait until stdout and stderr have written everything before it.
    await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))))
    return this.exit(exitCode)
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    if (this.deadline) clearTimeout(this.deadline)
    await this.scope.close()
    return super.finally(error)
  }
}

function exitCodeFor(error: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string; cause?: unknown}): number {
  if (isMeshdbgError(error)) return error.exitCode
  if (typeof error.oclif?.exit === 'number') return error.oclif.exit
  const code = error.code ?? (error.cause as {code?: string} | undefined)?.code
  if (code && NODE_ERROR_EXIT[code] !== undefined) return NODE_ERROR_EXIT[code]
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return ExitCode.timeout
  return ExitCode.internal
}

/** Every error is one line on stderr, whatever text (a body, a kubelet message) went into it. */
function messageFor(error: Error & {oclif?: {exit?: number}}): string {
  if (isMeshdbgError(error)) return oneLine(error.hint ? `${error.message}. Hint: ${error.hint}` : error.message)
  const first = (error.message || String(error)).split('\n').find((line) => line.trim() !== '') ?? String(error)
  if (typeof error.oclif?.exit === 'number') return first
  const code = (error as {code?: string}).code
  if (code && NODE_ERROR_EXIT[code] !== undefined) return first
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return `timed out: ${first} (raise --timeout)`
  return `internal error: ${first} (rerun with DEBUG=meshdbg for the stack trace, and report it)`
}

const oneLine = (text: string): string => text.replace(/\s*[\r\n]+\s*/g, ' ').trim()

function errorKindFor(exitCode: number): ErrorKind {
  if (exitCode === ExitCode.usage) return 'usage'
  if (exitCode === ExitCode.timeout) return 'timeout'
  if (exitCode === ExitCode.connection) return 'connection'
  return 'internal'
}

/** Drops the first line of every blank-line-separated block: the header of each table. */
export function withoutHeaderLines(text: string): string {
  return text
    .split(/(\n\n+)/)
    .map((part) => (/^\n+$/.test(part) ? part : part.replace(/^[^\n]*(\n|$)/, '')))
    .join('')
}

/**
 * istioctl users write `--verbose=false`; oclif booleans take `--no-verbose` (when the flag allows
 * it) or nothing. `booleanFlags` maps each boolean flag's name to whether it has a `--no-` form.
 */
export function normaliseBooleanAssignments(argv: string[], booleanFlags: ReadonlyMap<string, boolean>): string[] {
  const result: string[] = []
  for (const arg of argv) {
    const match = /^--([a-z][a-z0-9-]*)=(true|false)$/i.exec(arg)
    if (!match || !booleanFlags.has(match[1])) result.push(arg)
    else if (match[2].toLowerCase() === 'true') result.push(`--${match[1]}`)
    else if (booleanFlags.get(match[1])) result.push(`--no-${match[1]}`)
    // `--flag=false` on a flag without a --no- form is its default: nothing to pass.
  }
  return result
}
