import {Args} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {completionScript, SHELLS, type Shell} from '../lib/completion-scripts.js'

export default class Completion extends MeshdbgCommand<typeof Completion> {
  static override summary = 'Print the shell completion script for bash, zsh or fish (as kubectl completion).'
  static override description = `Completes commands, flags, -o values, argument values, namespaces (-n, -i), contexts, and live targets: pod names and deploy/, svc/, sts/, ds/, rs/, job/ workloads of the namespace, read from the cluster with a 2-second deadline (MESHDBG_COMPLETION_TIMEOUT, e.g. 500ms) so a slow API never blocks the shell.
bash: source <(meshdbg completion bash), or save it in /etc/bash_completion.d/meshdbg.
zsh: source <(meshdbg completion zsh) after compinit, or save it as _meshdbg on $fpath.
fish: meshdbg completion fish | source, or save it as ~/.config/fish/completions/meshdbg.fish.`

  static override examples = [
    'source <(<%= config.bin %> completion bash)',
    '<%= config.bin %> completion zsh > "${fpath[1]}/_meshdbg"',
    '<%= config.bin %> completion fish > ~/.config/fish/completions/meshdbg.fish',
  ]

  static override args = {
    shell: Args.string({name: 'shell', description: `The shell: ${SHELLS.join(', ')}.`, required: true, options: [...SHELLS]}),
  }

  async run(): Promise<void> {
    // The completed program is `meshdbg` whatever ran this (kubectl's plugin completion is kubectl's).
    this.write(completionScript(this.args.shell as Shell, 'meshdbg'))
  }
}
