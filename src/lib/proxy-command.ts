import type {Command} from '@oclif/core'

import {MeshdbgCommand} from './base-command.js'
import {loadAdminText} from './envoy/source.js'
import {fileFlag, proxyAdminPortFlag, tableOutputFlags, targetArg} from './flags.js'
import type {InputText} from './input.js'

/**
 * A command that reads one Envoy proxy: a live `[target]` or a saved response (`-f FILE|-`), both
 * through the same code from the bytes on.
 */
export abstract class ProxyCommand<T extends typeof Command> extends MeshdbgCommand<T> {
  static proxyArgs = {target: targetArg}
  static proxyFlags = {file: fileFlag, 'proxy-admin-port': proxyAdminPortFlag, ...tableOutputFlags(['json', 'yaml'], 'short')}

  /** Fetches `path` from the target's admin API, or reads --file. */
  protected async loadProxyText(path: string): Promise<InputText> {
    const {target} = this.args as {target?: string}
    const flags = this.flags as {file?: string; 'proxy-admin-port'?: number}
    return loadAdminText(this.runContext(), {
      command: (this.ctor.id ?? this.id ?? 'meshdbg').replaceAll(':', ' '),
      target,
      file: flags.file,
      path,
      proxyAdminPort: flags['proxy-admin-port'],
    })
  }
}
