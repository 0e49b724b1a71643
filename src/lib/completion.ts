/**
 * Shell completion, decided from the words typed so far (cobra's `__complete` protocol): the shell
 * scripts of `meshdbg completion` call `meshdbg __complete -- <words…> <current>` and print its
 * candidates. What can be known without a cluster (commands, flags, -o values, argument options)
 * is decided here, purely; what needs one (namespaces, contexts, pods and workloads) is named as a
 * `live` source that the hidden command looks up with a short deadline.
 */

export interface CompletionFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
  options?: readonly string[]
  multiple?: boolean
  hidden?: boolean
}

export interface CompletionCommand {
  id: string
  aliases: readonly string[]
  hidden?: boolean
  flags: Readonly<Record<string, CompletionFlag>>
  args: ReadonlyArray<{name: string; options?: readonly string[]}>
  /** The command's `-o` values when its flag does not list them (MeshdbgCommand.outputFormats). */
  outputFormats?: readonly string[]
}

/** Cobra's directive bits, printed as the last line `:<n>`. */
export const Directive = {default: 0, error: 1, noSpace: 2, noFileComp: 4} as const

export type LiveSource = 'namespaces' | 'contexts' | 'targets'

export interface CompletionPlan {
  /** The word being completed (candidates start with it). */
  current: string
  candidates: string[]
  /** Candidates to list after the live ones (the target kinds after pod names). */
  trailing: string[]
  /** Candidates the cluster or kubeconfig must supply. */
  live?: LiveSource
  /** The shell should complete file names (no candidates of ours). */
  files: boolean
  /** The command the words resolved to, if any (for the caller to load its -o values). */
  command?: string
  /** The value of `-o` is being completed and the command's flag lists no values: load them and plan again. */
  needsOutputFormats?: boolean
  /** -n/--namespace, --context and --kubeconfig as typed, for live look-ups. */
  kube: {namespace?: string; context?: string; kubeconfig?: string}
}

/** Workload kinds a target accepts, as `kind/` prefixes (src/lib/kube/target-spec.ts spells the same). */
export const TARGET_KINDS = ['deploy/', 'svc/', 'sts/', 'ds/', 'rs/', 'job/', 'pod/'] as const

const FILE_FLAGS = new Set(['file', 'kubeconfig', 'diff-istiod', 'diff-envoy'])
const NAMESPACE_FLAGS = new Set(['namespace', 'istio-namespace'])

function byName(commands: readonly CompletionCommand[]): Map<string, CompletionCommand> {
  const names = new Map<string, CompletionCommand>()
  for (const command of commands) for (const name of [command.id, ...command.aliases]) if (!names.has(name)) names.set(name, command)
  return names
}

/** The next word of every command name under `path` (the canonical spelling when there is one). */
function childWords(commands: readonly CompletionCommand[], path: readonly string[]): string[] {
  const words = new Set<string>()
  const depth = path.length
  const prefix = path.join(':')
  for (const command of commands) {
    if (command.hidden) continue
    const tails = [command.id, ...command.aliases]
      .map((name) => name.split(':'))
      .filter((parts) => parts.length > depth && parts.slice(0, depth).join(':') === prefix)
      .map((parts) => parts[depth])
    if (tails.length === 0) continue
    // `pc <TAB>` offers `cluster`, not also `clusters` and `c`: the tail the canonical id has.
    const canonical = command.id.split(':')[depth]
    words.add(canonical !== undefined && tails.includes(canonical) ? canonical : tails[0])
  }
  return [...words].sort()
}

function findFlag(command: CompletionCommand, word: string): CompletionFlag | undefined {
  const flags = Object.values(command.flags)
  if (word.startsWith('--')) {
    const name = word.slice(2).split('=')[0]
    return flags.find((flag) => flag.name === name || (flag.type === 'boolean' && `no-${flag.name}` === name))
  }
  if (/^-[^-]$/.test(word)) return flags.find((flag) => flag.char === word[1])
  return undefined
}

/** Completions of the last word of `words` (the words after the program name; the last may be ''). */
export function planCompletion(commands: readonly CompletionCommand[], words: readonly string[]): CompletionPlan {
  const typed = words.slice(0, -1)
  const current = words.at(-1) ?? ''
  const names = byName(commands)
  const plan = (partial: Omit<CompletionPlan, 'current' | 'kube' | 'trailing'> & Partial<Pick<CompletionPlan, 'kube' | 'trailing'>>): CompletionPlan => ({
    current,
    kube: {},
    ...partial,
    candidates: partial.candidates.filter((candidate) => candidate.startsWith(current)),
    trailing: (partial.trailing ?? []).filter((candidate) => candidate.startsWith(current)),
  })

  // The command: the longest run of leading words that names one (`pc r`, `proxy-config route`).
  let path: string[] = []
  let command: CompletionCommand | undefined
  let consumed = 0
  for (let index = 0; index < typed.length && !typed[index].startsWith('-'); index++) {
    const candidate = [...path, typed[index]]
    const id = candidate.join(':')
    const isPrefix = [...names.keys()].some((name) => name.startsWith(id + ':'))
    if (!names.has(id) && !isPrefix) break
    path = candidate
    if (names.has(id)) {
      command = names.get(id)
      consumed = index + 1
    }
  }
  if (!command) {
    // Still choosing a command: only when every typed word was part of a command name.
    if (path.length !== typed.length) return plan({candidates: [], files: false})
    return plan({candidates: childWords(commands, path), files: false})
  }

  const rest = typed.slice(consumed)
  const kube: CompletionPlan['kube'] = {}
  const used = new Set<string>()
  let positionals = 0
  let pendingValue: CompletionFlag | undefined
  let afterDashes = false
  for (const word of rest) {
    if (pendingValue) {
      if (pendingValue.name === 'namespace') kube.namespace = word
      if (pendingValue.name === 'context') kube.context = word
      if (pendingValue.name === 'kubeconfig') kube.kubeconfig = word
      pendingValue = undefined
      continue
    }
    if (!afterDashes && word === '--') {
      afterDashes = true
      continue
    }
    const flag = afterDashes ? undefined : findFlag(command, word)
    if (flag) {
      used.add(flag.name)
      const inline = word.startsWith('--') && word.includes('=') ? word.slice(word.indexOf('=') + 1) : undefined
      if (flag.type === 'option' && inline === undefined) pendingValue = flag
      else if (inline !== undefined && (flag.name === 'namespace' || flag.name === 'context' || flag.name === 'kubeconfig')) kube[flag.name] = inline
      continue
    }
    if (!word.startsWith('-') || afterDashes) positionals++
  }

  const found = {command: command.id, kube}
  if (pendingValue) {
    const flag = pendingValue
    const options = flag.options ?? (flag.name === 'output' ? command.outputFormats : undefined)
    if (options) return plan({...found, candidates: [...options], files: false})
    if (flag.name === 'output') return plan({...found, candidates: [], files: false, needsOutputFormats: true})
    if (NAMESPACE_FLAGS.has(flag.name)) return plan({...found, candidates: [], live: 'namespaces', files: false})
    if (flag.name === 'context') return plan({...found, candidates: [], live: 'contexts', files: false})
    return plan({...found, candidates: [], files: FILE_FLAGS.has(flag.name)})
  }
  if (current.startsWith('-') && !afterDashes) {
    const flags = Object.values(command.flags)
      .filter((flag) => !flag.hidden && (flag.multiple || !used.has(flag.name)))
      .map((flag) => `--${flag.name}`)
    return plan({...found, candidates: [...new Set([...flags, '--help'])].sort(), files: false})
  }
  // Subcommands of a command that is also a topic (`authz` and `authz check`), before its arguments.
  const children = positionals === 0 ? childWords(commands, path) : []
  const arg = command.args[positionals]
  if (arg?.options) return plan({...found, candidates: [...children, ...arg.options], files: false})
  // Pod names come from the cluster; the kinds are known, and stay offered when it does not answer.
  if (arg?.name === 'target') return plan({...found, candidates: children, live: 'targets', trailing: current.includes('/') ? [] : [...TARGET_KINDS], files: false})
  return plan({...found, candidates: children, files: false})
}

/** Where a target word points: pod names (no kind typed yet) or the workloads of one kind. */
export function targetQuery(current: string): {kind: string} | undefined {
  const slash = current.indexOf('/')
  if (slash === -1) return {kind: 'pods'}
  const kind = current.slice(0, slash)
  return TARGET_KINDS.includes(`${kind}/` as (typeof TARGET_KINDS)[number]) ? {kind} : undefined
}

/** The lines `__complete` prints: candidates, then `:<directive>`. */
export function renderCompletion(candidates: readonly string[], files: boolean): string {
  const unique = [...new Set(candidates)]
  // A lone `deploy/` is a prefix to go on typing after, not a finished word.
  const noSpace = unique.length > 0 && unique.every((candidate) => candidate.endsWith('/'))
  const directive = (files ? Directive.default : Directive.noFileComp) | (noSpace ? Directive.noSpace : 0)
  return [...unique, `:${directive}`].join('\n') + '\n'
}
