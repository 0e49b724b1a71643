import type {Interfaces} from '@oclif/core'

type Config = Interfaces.Config

/**
 * Topics spelled the short way: `pc` is istioctl's alias of `proxy-config`, and every proxy-config
 * command has a `pc ...` alias, but oclif only knows topics from command ids.
 */
export const TOPIC_ALIASES: Readonly<Record<string, string>> = {pc: 'proxy-config', zc: 'ztunnel-config'}

/** Words that can be part of a command name (not a target such as deploy/x or pod.ns, not a flag). */
const COMMAND_WORD = /^[a-z][a-z0-9-]*$/

/** The leading words of argv that look like a command name ("proxy-confg cluster" of "proxy-confg cluster deploy/x -n a"). */
export function commandWords(words: readonly string[]): string[] {
  const result: string[] = []
  for (const word of words) {
    if (!COMMAND_WORD.test(word)) break
    result.push(word)
  }
  return result
}

/** Every name a user can type: commands, their aliases and topics, with spaces. */
function knownNames(config: Config): string[] {
  const names = new Set<string>()
  for (const id of config.commandIDs) names.add(id.replaceAll(':', ' '))
  for (const topic of config.topics) names.add(topic.name.replaceAll(':', ' '))
  for (const alias of Object.keys(TOPIC_ALIASES)) names.add(alias)
  return [...names]
}

/**
 * The closest known name for what was typed, when it is close enough to be a typo: first among
 * names of as many words ("pc clustr" -> "pc cluster"), then of fewer, keeping the rest as typed
 * ("proxy-confg cluster" -> "proxy-config cluster" also through "proxy-config").
 */
export function suggestCommand(config: Config, typed: readonly string[]): string | undefined {
  const names = knownNames(config)
  for (let length = typed.length; length > 0; length--) {
    const prefix = typed.slice(0, length).join(' ')
    let best: {name: string; distance: number} | undefined
    for (const name of names) {
      if (name.split(' ').length !== length) continue
      const distance = editDistance(prefix, name)
      // A shorter name typed correctly says nothing about the word after it.
      if (distance === 0 && length < typed.length) continue
      // Short names need a closer match: "foo" is not a typo of "log".
      const limit = name.length <= 4 ? 1 : Math.max(2, Math.floor(name.length / 4))
      if (distance <= limit && (!best || distance < best.distance)) best = {name, distance}
    }
    if (best) return [best.name, ...typed.slice(length)].join(' ')
  }
  return undefined
}

/** `unknown command "x y"` with a did-you-mean when a known name is close. */
export function unknownCommandMessage(config: Config, typed: readonly string[]): string {
  const suggestion = suggestCommand(config, typed)
  const name = typed.join(' ')
  const hint = suggestion && suggestion !== name ? `; did you mean "${suggestion}"?` : ''
  return `unknown command "${name}"${hint} (${config.bin} --help lists the commands)`
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}
