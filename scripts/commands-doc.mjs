// docs/commands.md from oclif.manifest.json: the command reference, generated so it cannot drift
// from the flags the code declares. Pure: manifest in, Markdown out (scripts/docs.mjs writes it).

const GLOBAL = 'GLOBAL'

/** `proxy-config:cluster` as the user types it. */
const spaced = (id) => id.split(':').join(' ')

/** Table cells: one line, no pipe that would split the cell. */
const cell = (text) => String(text ?? '').replace(/\s*\n\s*/g, ' ').replaceAll('|', '\\|').trim()

function flagName(flag) {
  const long = flag.type === 'boolean' && flag.allowNo ? `--[no-]${flag.name}` : `--${flag.name}`
  return flag.char ? `-${flag.char}, ${long}` : long
}

function flagValue(flag) {
  if (flag.type === 'boolean') return ''
  if (flag.options?.length) return flag.options.join('|')
  return '<value>'
}

function flagDescription(flag) {
  const parts = [flag.summary ?? flag.description ?? '']
  if (flag.multiple) parts.push('Repeatable.')
  if (flag.default !== undefined && flag.default !== false) parts.push(`Default: \`${flag.default}\`.`)
  if (flag.env) parts.push(`Env: \`${flag.env}\`.`)
  const exclusive = [...(flag.exclusive ?? [])].sort()
  if (exclusive.length) parts.push(`Not with ${exclusive.map((name) => `--${name}`).join(', ')}.`)
  return parts.filter(Boolean).join(' ')
}

/** What makes two declarations of a global flag the same for a reader. */
const flagKey = (flag) => JSON.stringify([flag.char, flag.summary ?? flag.description, flag.default, flag.options, flag.type, flag.allowNo, flag.env, flag.aliases])

function flagTable(flags) {
  if (flags.length === 0) return []
  return [
    '| flag | value | description |',
    '|---|---|---|',
    ...flags.map((flag) => `| \`${cell(flagName(flag))}\` | ${flagValue(flag) ? `\`${cell(flagValue(flag))}\`` : ''} | ${cell(flagDescription(flag))} |`),
    '',
  ]
}

/** Global flags declared the same way by every command: documented once, not per command. */
function commonGlobalFlags(commands) {
  const first = commands[0]
  if (!first) return []
  return Object.values(first.flags)
    .filter((flag) => flag.helpGroup === GLOBAL && !flag.hidden)
    .filter((flag) => commands.every((command) => command.flags[flag.name] && flagKey(command.flags[flag.name]) === flagKey(flag)))
}

function usage(bin, command) {
  const args = Object.values(command.args ?? {}).map((arg) => (arg.required ? arg.name.toUpperCase() : `[${arg.name.toUpperCase()}]`))
  return [bin, spaced(command.id), ...args, '[FLAGS]'].join(' ')
}

export function renderCommandsMarkdown(manifest, {bin = 'meshdbg'} = {}) {
  const commands = Object.values(manifest.commands)
    .filter((command) => !command.hidden)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const common = commonGlobalFlags(commands)
  const commonNames = new Set(common.map((flag) => flag.name))
  const lines = [
    `# ${bin} command reference`,
    '',
    '<!-- Generated from oclif.manifest.json by `npm run docs`; do not edit by hand (a test fails when it is stale). -->',
    '',
    `\`${bin} help COMMAND\` and \`${bin} COMMAND --help\` print the same, with the exit codes.`,
    '',
    '## Commands',
    '',
    '| command | aliases | summary |',
    '|---|---|---|',
    ...commands.map((command) => {
      const aliases = (command.aliases ?? []).map((alias) => `\`${spaced(alias)}\``).join(', ')
      return `| [\`${spaced(command.id)}\`](#${anchor(`${bin} ${spaced(command.id)}`)}) | ${aliases} | ${cell(command.summary)} |`
    }),
    '',
    '## Global flags',
    '',
    'Every command takes these (a command that gives one of them other values lists it in its own table).',
    '',
    ...flagTable(common),
  ]
  for (const command of commands) {
    const own = Object.values(command.flags).filter((flag) => !flag.hidden && !commonNames.has(flag.name))
    const args = Object.values(command.args ?? {})
    lines.push(`## ${bin} ${spaced(command.id)}`, '')
    if (command.summary) lines.push(cell(command.summary), '')
    lines.push('```', usage(bin, command), '```', '')
    if (command.aliases?.length) lines.push(`Aliases: ${command.aliases.map((alias) => `\`${bin} ${spaced(alias)}\``).join(', ')}`, '')
    if (command.description) lines.push('```text', command.description.trim(), '```', '')
    if (args.length) {
      lines.push('| argument | description |', '|---|---|', ...args.map((arg) => `| \`${arg.name.toUpperCase()}\`${arg.required ? '' : ' (optional)'} | ${cell([arg.description, arg.options?.length ? `One of: ${arg.options.join(', ')}.` : ''].filter(Boolean).join(' '))} |`), '')
    }
    lines.push(...flagTable(own))
    const examples = (command.examples ?? []).map((example) => (typeof example === 'string' ? example : example.command)).filter(Boolean)
    if (examples.length) lines.push('Examples:', '', '```sh', ...examples.map((example) => example.replaceAll('<%= config.bin %>', bin)), '```', '')
  }
  return lines.join('\n').replace(/\n+$/, '\n')
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading) {
  return heading.toLowerCase().replace(/[^a-z0-9 _-]/g, '').replaceAll(' ', '-')
}
