import {MeshdbgError, usageError} from './errors.js'

/** The parts of oclif's parser errors meshdbg reads (they are not exported as types we can rely on). */
interface ParserError extends Error {
  /** RequiredArgsError: the missing arguments. */
  args?: Array<{name: string; description?: string; options?: readonly string[]}>
  oclif?: {exit?: number}
}

/**
 * oclif's parser errors are multi-line ("Missing 1 required arg:\n<name> <description>\nSee more
 * help with --help"); meshdbg prints one line, so this keeps what a user needs in it: which
 * argument or flag, the value given, and why it was refused. Returns undefined for other errors.
 */
export function usageErrorFromParser(error: ParserError): MeshdbgError | undefined {
  const name = error.constructor?.name
  const lines = (error.message ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'See more help with --help')
  if (name === 'RequiredArgsError' && error.args && error.args.length > 0) {
    const missing = error.args.map((arg) => {
      const what = arg.name.toUpperCase()
      if (arg.options && arg.options.length > 0) return `${what} (one of: ${arg.options.join(', ')})`
      return arg.description ? `${what} (${arg.description.replace(/\.$/, '')})` : what
    })
    return usageError(`missing argument ${missing.join('; missing argument ')}`)
  }
  // A flag's own parser failed (integer flags, min/max): "Parsing --port \n\tExpected an integer but received: abc".
  const parsing = /^Parsing --(\S+)\s*$/.exec(lines[0] ?? '')
  if (parsing) {
    const reason = lines.slice(1).join(' ') || 'invalid value'
    return usageError(`invalid value for --${parsing[1]}: ${lowerFirst(reason)}`)
  }
  const option = /^Expected --([^=\s]+)=(.*) to be one of: (.*)$/.exec(lines[0] ?? '')
  if (option) {
    if (option[1] === 'output') return usageError(`output format "${option[2]}" not supported (use ${option[3]})`)
    return usageError(`invalid value "${option[2]}" for --${option[1]} (use ${option[3]})`)
  }
  const argOption = /^Expected (.*) to be one of: (.*)$/.exec(lines[0] ?? '')
  if (name === 'ArgInvalidOptionError' && argOption) return usageError(`invalid argument "${argOption[1]}" (use ${argOption[2]})`)
  const parserErrors = ['CLIParseError', 'UnexpectedArgsError', 'NonExistentFlagsError', 'FlagInvalidOptionError', 'ArgInvalidOptionError', 'FailedFlagValidationError', 'ViolatedFlagConstraintError', 'InvalidArgsSpecError']
  if (name !== undefined && parserErrors.includes(name)) {
    // "The following error occurred:\n  --a=x cannot also be provided when using --b": the list is the message.
    const body = /^The following errors? occurred:$/.test(lines[0] ?? '') ? lines.slice(1) : lines
    return usageError(body.map(stripAnsi).join('; '))
  }
  return undefined
}

const lowerFirst = (text: string): string => (/^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text)
// oclif dims the constraint list; the one-line message is plain text.
// eslint-disable-next-line no-control-regex
const stripAnsi = (text: string): string => text.replace(/\u001B\[[0-9;]*m/g, '')
