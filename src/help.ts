import {type Command, Errors, Help} from '@oclif/core'

import {commandWords, TOPIC_ALIASES, unknownCommandMessage} from './lib/command-names.js'
import {exitCodeHelpSection} from './lib/errors.js'

/**
 * Every help page documents the exit codes that scripts rely on, after the rest of the page.
 * Aliases (`pc`, `ps`, `c`...) are hidden from the command lists but named on each command's page,
 * and `pc` works as a topic: `meshdbg pc --help` is `meshdbg proxy-config --help`.
 */
export default class MeshdbgHelp extends Help {
  public override async showHelp(argv: string[]): Promise<void> {
    const words = commandWords(argv.filter((arg) => arg !== '--help' && arg !== '-h' && arg !== 'help'))
    if (words.length === 0) return super.showHelp(argv)
    if (TOPIC_ALIASES[words[0]] !== undefined && words.length === 1) words[0] = TOPIC_ALIASES[words[0]]
    // The longest leading run of words that names a command or a topic.
    for (let length = words.length; length > 0; length--) {
      const id = words.slice(0, length).join(':')
      const command = this.config.findCommand(id)
      if (command) return this.showCommandHelp(command)
      const topic = this.config.findTopic(id)
      // A topic followed by more command-like words is a typo of one of its commands.
      if (topic && length === words.length) return this.showTopicHelp(topic)
    }
    process.stderr.write(`Error: ${unknownCommandMessage(this.config, words)}\n`)
    throw new Errors.ExitError(2)
  }

  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log(this.exitCodes())
  }

  public override formatCommand(command: Command.Loadable): string {
    const aliases = [...(command.aliases ?? []), ...(command.hiddenAliases ?? [])]
    return `${super.formatCommand({...command, aliases})}\n\n${this.exitCodes()}`
  }

  private exitCodes(): string {
    return `EXIT CODES\n${exitCodeHelpSection()}`
  }
}
