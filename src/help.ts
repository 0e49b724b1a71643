import {Command, Help} from '@oclif/core'

import {exitCodeHelpSection} from './lib/errors.js'

/** Every help page documents the exit codes that scripts rely on. */
export default class MeshdbgHelp extends Help {
  public override formatRoot(): string {
    return `${super.formatRoot()}\n\n${this.exitCodes()}`
  }

  public override formatCommand(command: Command.Loadable): string {
    return `${super.formatCommand(command)}\n\n${this.exitCodes()}`
  }

  private exitCodes(): string {
    return `EXIT CODES\n${exitCodeHelpSection()}`
  }
}
