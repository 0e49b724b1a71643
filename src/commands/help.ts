import {Args, Command, loadHelpClass} from '@oclif/core'

/** `meshdbg help [COMMAND...]`, as kubectl and istioctl have it: the same page as COMMAND --help. */
export default class HelpCommand extends Command {
  static override summary = 'Show help for meshdbg or one of its commands (same as COMMAND --help).'
  static override strict = false
  static override args = {
    command: Args.string({description: 'The command or topic, e.g. "pc cluster", "proxy-config", "sync-status".', required: false}),
  }

  static override examples = ['<%= config.bin %> help pc cluster', '<%= config.bin %> help proxy-config']

  async run(): Promise<void> {
    const {argv} = await this.parse(HelpCommand)
    const HelpClass = await loadHelpClass(this.config)
    await new HelpClass(this.config, this.config.pjson.oclif.helpOptions ?? this.config.pjson.helpOptions).showHelp(argv as string[])
  }
}
