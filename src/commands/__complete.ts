import type {Command} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {planCompletion, renderCompletion, type CompletionCommand, type CompletionFlag} from '../lib/completion.js'
import {liveCandidates} from '../lib/completion-live.js'
import {parseDuration} from '../lib/duration.js'

const DEFAULT_DEADLINE = '2s'

/** What completion needs of a command, from the manifest (no command module is loaded for it). */
function describe(command: Command.Loadable): CompletionCommand {
  const flags = Object.fromEntries(Object.entries(command.flags).map(([name, flag]) => [name, {
    name,
    char: flag.char,
    type: flag.type,
    options: flag.type === 'option' ? flag.options : undefined,
    multiple: flag.type === 'option' ? flag.multiple : false,
    hidden: flag.hidden,
  } satisfies CompletionFlag]))
  return {id: command.id, aliases: [...command.aliases, ...(command.hiddenAliases ?? [])], hidden: command.hidden, flags, args: Object.values(command.args).map((arg) => ({name: arg.name, options: arg.options}))}
}

/**
 * The hidden back end of `meshdbg completion` (cobra's `__complete`): prints the candidates for the
 * last word, then `:<directive>`. Cluster look-ups get MESHDBG_COMPLETION_TIMEOUT (default 2s);
 * nothing is ever printed on stderr, and the exit code is 0, so a shell never shows an error.
 */
export default class Complete extends MeshdbgCommand<typeof Complete> {
  static override hidden = true
  static override strict = false
  static override enableJsonFlag = false
  static override summary = 'Shell completion back end (used by the completion scripts).'
  static override usage = '__complete -- [WORDS...] CURRENT'

  /** The words as the shell gave them, after `--` (oclif's parser drops a later `--`, which is a word to complete). */
  private words: string[] = []

  public override async init(): Promise<void> {
    const raw = [...this.argv]
    await super.init()
    const words = raw[0] === '--' ? raw.slice(1) : raw
    this.words = words.length > 0 ? words : ['']
  }

  async run(): Promise<void> {
    const {words} = this
    // oclif lists each alias as a command of its own (id = the alias): one entry per command here.
    const commands = this.config.commands.filter((command) => !command.aliases.includes(command.id) && !(command.hiddenAliases ?? []).includes(command.id)).map(describe)
    let plan = planCompletion(commands, words)
    if (plan.needsOutputFormats && plan.command) {
      const loaded = (await this.config.findCommand(plan.command)?.load()) as {outputFormats?: readonly string[]} | undefined
      plan = planCompletion(commands.map((command) => (command.id === plan.command ? {...command, outputFormats: loaded?.outputFormats} : command)), words)
    }
    let candidates = plan.candidates
    if (plan.live) {
      let deadlineMs: number
      try {
        deadlineMs = parseDuration(process.env.MESHDBG_COMPLETION_TIMEOUT ?? DEFAULT_DEADLINE, 'MESHDBG_COMPLETION_TIMEOUT')
      } catch {
        deadlineMs = parseDuration(DEFAULT_DEADLINE, 'timeout')
      }
      const base = this.runContext()
      const ctx = {...base, ...plan.kube, timeoutMs: deadlineMs, signal: AbortSignal.any([base.signal, AbortSignal.timeout(deadlineMs)]), note: () => {}}
      const live = await liveCandidates(ctx, plan.live, plan.current)
      candidates = [...candidates, ...live.filter((candidate) => candidate.startsWith(plan.current))]
    }
    this.write(renderCompletion([...candidates, ...plan.trailing], plan.files))
  }
}
