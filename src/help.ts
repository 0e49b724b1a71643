import {Help} from '@oclif/core'

import {exitCodeHelpSection} from './lib/errors.js'

/** Root help also documents the exit codes that scripts rely on. */
export default class MeshdbgHelp extends Help {
  public override formatRoot(): string {
    return `${super.formatRoot()}\n\nEXIT CODES\n${exitCodeHelpSection()}`
  }
}
