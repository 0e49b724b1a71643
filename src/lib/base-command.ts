import {Command, Flags, type Interfaces} from '@oclif/core'

import type {RunContext} from './context.js'
import {parseTimerDuration} from './duration.js'
import {ExitCode, isMeshdbgError, MeshdbgError} from './errors.js'
import {Scope} from './scope.js'
import {createProgress} from './spinner.js'
import {exitOnStdoutError} from './stdout.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof MeshdbgCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

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

  /** The `-o` values a command accepts, and its default. */
  static outputFormats: readonly string[] = ['short', 'json', 'yaml']
  static defaultOutput = 'short'
  /**
   * istioctl's listener/route/all use `--verbose` (default true) to pick the table layout; there it
   * cannot also mean stack traces, which those commands show with DEBUG=meshdbg only.
   */
  static verboseIsTableSwitch = false

  static override baseFlags = {
    namespace: Flags.string({char: 'n', summary: 'Namespace (default: the kubeconfig context\'s, else "default").', helpGroup: 'GLOBAL'}),
    context: Flags.string({summary: 'Kubeconfig context to use.', helpGroup: 'GLOBAL'}),
    kubeconfig: Flags.string({summary: 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).', helpGroup: 'GLOBAL'}),
    output: Flags.string({char: 'o', summary: 'Output format (see the command\'s description for the values it takes).', helpGroup: 'GLOBAL'}),
    timeout: Flags.string({summary: 'Deadline for the whole command, e.g. 500ms, 3s, 2m.', default: '30s', helpGroup: 'GLOBAL'}),
    'no-color': Flags.boolean({summary: 'Disable colour (also: NO_COLOR=1, or when stdout is not a terminal).', helpGroup: 'GLOBAL'}),
    verbose: Flags.boolean({summary: 'Show stack traces for errors (also: DEBUG=meshdbg).', helpGroup: 'GLOBAL'}),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** Every positional value, for commands that take any number of them (`strict = false`). */
  protected argvValues: string[] = []
  protected outputFormat = 'short'
  protected readonly scope = new Scope()
  private readonly abort = new AbortController()
  private deadline?: NodeJS.Timeout
  private timeoutMs = 30_000

  public override async init(): Promise<void> {
    await super.init()
    const ctor = this.ctor as unknown as typeof MeshdbgCommand
    const allFlags = {...ctor.baseFlags, ...this.ctor.flags} as Record<string, {type?: string; allowNo?: boolean}>
    const booleans = new Map(Object.entries(allFlags).filter(([, flag]) => flag.type === 'boolean').map(([name, flag]) => [name, Boolean(flag.allowNo)]))
    this.argv = normaliseBooleanAssignments(this.argv, booleans)
    const {args, argv, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: ctor.baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.argvValues = argv as string[]
    const output = (flags.output as string | undefined) ?? ctor.defaultOutput
    if (!ctor.outputFormats.includes(output)) {
      throw new MeshdbgError('usage', `output format "${output}" not supported (use ${ctor.outputFormats.join(', ')})`)
    }
    this.outputFormat = output
    this.timeoutMs = parseTimerDuration(flags.timeout as string, 'timeout')
    this.deadline = setTimeout(() => this.abort.abort(new MeshdbgError('timeout', `timed out after ${flags.timeout} (raise --timeout)`)), this.timeoutMs)
    this.deadline.unref()
    exitOnStdoutError()
  }

  /** True when stdout is for machines: --json, -o json or -o yaml. */
  protected get structuredOutput(): boolean {
    return this.jsonEnabled() || this.outputFormat === 'json' || this.outputFormat === 'yaml'
  }

  protected get colorEnabled(): boolean {
    const flags = this.flags as {'no-color'?: boolean} | undefined
    return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && !flags?.['no-color'] && !this.structuredOutput
  }

  /** Writes rendered output to stdout (nothing in --json mode, where the returned result is printed). */
  protected write(text: string): void {
    if (this.jsonEnabled() || text === '') return
    process.stdout.write(text)
  }

  protected runContext(): RunContext {
    const flags = this.flags as {namespace?: string; context?: string; kubeconfig?: string}
    const quiet = this.structuredOutput
    return {
      namespace: flags.namespace,
      context: flags.context,
      kubeconfig: flags.kubeconfig,
      timeoutMs: this.timeoutMs,
      signal: this.abort.signal,
      scope: this.scope,
      ...createProgress(process.stderr, {quiet, signal: this.abort.signal}),
    }
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<never> {
    const exitCode = exitCodeFor(error)
    const message = messageFor(error)
    const verboseFlag = !(this.ctor as unknown as typeof MeshdbgCommand).verboseIsTableSwitch && Boolean((this.flags as {verbose?: boolean} | undefined)?.verbose)
    const showStack = verboseFlag || /(^|,)meshdbg(\*|,|$)|^\*$/.test(process.env.DEBUG ?? '')
    if (this.jsonEnabled()) {
      const meshdbgError = isMeshdbgError(error) ? error : undefined
      this.logJson({
        status: exitCode,
        error: {kind: meshdbgError?.kind ?? (exitCode === 2 ? 'usage' : 'internal'), message, hint: meshdbgError?.hint},
        result: meshdbgError?.result,
      })
    } else {
      process.stderr.write(`Error: ${message}\n`)
      if (showStack && error.stack) process.stderr.write(error.stack + '\n')
    }
    process.exitCode = exitCode
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
