import {describe, expect, it} from 'vitest'

import {withoutHeaderLines} from '../../src/lib/base-command.js'
import {usageErrorFromParser} from '../../src/lib/usage-errors.js'

describe('--no-headers', () => {
  it('drops the first line of every blank-line-separated table', () => {
    expect(withoutHeaderLines('NAME  PORT\na     1\nb     2\n')).toBe('a     1\nb     2\n')
    expect(withoutHeaderLines('H1\nr1\n\nH2\nr2\nr3\n')).toBe('r1\n\nr2\nr3\n')
    expect(withoutHeaderLines('NAME  PORT\n')).toBe('')
  })
})

// Stand-ins named like oclif's parser errors: the parser is matched by class name and fields.
class RequiredArgsError extends Error {
  constructor(readonly args: Array<{name: string; description?: string; options?: string[]}>) {
    super(`Missing ${args.length} required arg:\n${args.map((arg) => arg.name).join('\n')}\nSee more help with --help`)
  }
}
class NonExistentFlagsError extends Error {}

describe('oclif parser errors as one line', () => {
  it('names a missing argument with its values, or its description', () => {
    const error = usageErrorFromParser(new RequiredArgsError([{name: 'view', options: ['syncz', 'adsz']}, {name: 'target', description: 'A pod.'}]))
    expect(error?.exitCode).toBe(2)
    expect(error?.message).toBe('missing argument VIEW (one of: syncz, adsz); missing argument TARGET (A pod)')
  })

  it('keeps the reason of a flag parser failure', () => {
    const parsing = new Error('Parsing --port \n\tExpected an integer but received: abc\nSee more help with --help')
    expect(usageErrorFromParser(parsing)?.message).toBe('invalid value for --port: expected an integer but received: abc')
  })

  it('lists the allowed values of an option flag', () => {
    const option = new Error('Expected --type=x to be one of: a, b\nSee more help with --help')
    expect(usageErrorFromParser(option)?.message).toBe('invalid value "x" for --type (use a, b)')
  })

  it('joins the other parser errors on one line and leaves other errors alone', () => {
    expect(usageErrorFromParser(new NonExistentFlagsError('Nonexistent flag: --bogus\nSee more help with --help'))?.message).toBe('Nonexistent flag: --bogus')
    expect(usageErrorFromParser(new Error('ECONNREFUSED'))).toBeUndefined()
  })
})
