import {getSystemErrorMap} from 'node:util'

import {ExitCode} from './errors.js'

/**
 * Ends the command on a stdout write error: one line and a documented exit code. oclif's own
 * listener rethrows every error but EPIPE (an uncaught exception: a stack trace), so this one is
 * put first and never returns to it.
 */
export function exitOnStdoutError(): void {
  process.stdout.prependListener('error', onStdoutError)
}

function onStdoutError(error: NodeJS.ErrnoException): never {
  // A reader that went away (`| head`) is not an error of ours.
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  const reason = (error.errno === undefined ? undefined : getSystemErrorMap().get(error.errno)?.[1]) ?? error.message
  process.stderr.write(`Error: cannot write the output: ${reason}${error.code ? ` (${error.code})` : ''}\n`)
  process.exit(ExitCode.output)
}
