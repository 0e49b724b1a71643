import {Command, Help} from '@oclif/core'

import {exitCodeHelpSection} from './lib/errors.js'

/** Every help page documents the exit codes that scripts rely on, after the rest of the page. */
export default class MeshdbgHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log(this.exitCodes())
  }

  public override formatCommand(command: Command.Loadable): string {
    return `${super.formatCommand(command)}\n\n${this.exitCodes()}`
  }

  private exitCodes(): string {
    return `EXIT CODES\n${exitCodeHelpSection()}`
  }
}
