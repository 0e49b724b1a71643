import {Errors, type Hook, loadHelpClass} from '@oclif/core'

import {commandWords, TOPIC_ALIASES, unknownCommandMessage} from '../lib/command-names.js'

/**
 * What oclif cannot route: `meshdbg -h` (oclif only knows --help), a bare topic alias (`meshdbg pc`,
 * `meshdbg pc -h`) and typos. A typo is one line in meshdbg's style with a did-you-mean, exit 2
 * (oclif's own message names the internal "proxy-confg:cluster" id).
 */
const hook: Hook.CommandNotFound = async function ({argv, config, id}) {
  const words = id.split(':')
  const showHelp = async (subject: string[]) => {
    const HelpClass = await loadHelpClass(config)
    await new HelpClass(config, config.pjson.oclif.helpOptions ?? config.pjson.helpOptions).showHelp(subject)
  }
  if (words.length === 1 && (id === '-h' || id === 'help')) return showHelp(argv ?? [])
  if (words.length === 1 && TOPIC_ALIASES[id] !== undefined) return showHelp([TOPIC_ALIASES[id]])
  const typed = commandWords([...words, ...(argv ?? [])])
  process.stderr.write(`Error: ${unknownCommandMessage(config, typed.length > 0 ? typed : words)}\n`)
  throw new Errors.ExitError(2)
}

export default hook
