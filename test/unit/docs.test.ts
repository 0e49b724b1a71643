import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {projectRoot} from '../helpers/cli.js'
// @ts-expect-error: plain ESM build scripts, no type declarations
import {renderCommandsMarkdown} from '../../scripts/commands-doc.mjs'
// @ts-expect-error: plain ESM build scripts, no type declarations
import {resultTypesOf} from '../../scripts/result-schemas.mjs'

const flag = (name: string, extra: Record<string, unknown> = {}) => ({name, type: 'option', summary: `the ${name}`, ...extra})

describe('generated docs', () => {
  it('docs/commands.md and docs/schemas/*.json match the code (run `npm run docs` after changing commands)', () => {
    const check = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'docs.mjs'), '--check'], {cwd: projectRoot, encoding: 'utf8'})
    expect(check.stderr).toBe('')
    expect(check.status).toBe(0)
  }, 120_000)

  it('the README\'s command tables name every command of the reference (by its name or an alias, hidden ones included)', () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {id: string; hidden?: boolean; aliases?: string[]; hiddenAliases?: string[]}>}
    const missing = Object.values(manifest.commands)
      .filter((command) => !command.hidden)
      .filter((command) => ![command.id, ...(command.aliases ?? []), ...(command.hiddenAliases ?? [])].some((name) => new RegExp('`(meshdbg )?' + name.split(':').join(' ').replace(/[-]/g, '\\-') + '[ `]').test(readme)))
      .map((command) => command.id)
    expect(missing).toEqual([])
  })

  it('finds every exported *Result type of a command file and the type run() promises', () => {
    const source = `
      export type {LogLevelsResult} from '../lib/istio/log-levels-live.js'
      export interface PodRow { pod: string }
      export interface ReadResult { pods: PodRow[] }
      export type ChangeResult = {changed: number}
      interface HiddenResult { x: number }
      export default class Log {
        async run(): Promise<ReadResult> { return {pods: []} }
      }`
    expect(resultTypesOf(source)).toEqual({results: ['ChangeResult', 'LogLevelsResult', 'ReadResult'], root: 'ReadResult'})
    // A run() type that is not exported gives no root: the schema is then any of the results.
    expect(resultTypesOf('export interface AResult {a: 1}\nclass C { async run(): Promise<Local> {} }').root).toBeUndefined()
  })

  it('the reference documents global flags once, command flags, aliases and examples, and no hidden command', () => {
    const global = {json: flag('json', {type: 'boolean', helpGroup: 'GLOBAL', summary: 'JSON'}), timeout: flag('timeout', {helpGroup: 'GLOBAL', default: '30s'})}
    const manifest = {
      commands: {
        version: {id: 'version', summary: 'Print versions.', flags: {...global, short: flag('short', {type: 'boolean', char: 's', allowNo: true})}, args: {}, examples: ['<%= config.bin %> version --short']},
        'proxy-config:cluster': {id: 'proxy-config:cluster', aliases: ['pc:c'], summary: 'Clusters.', flags: {...global, output: flag('output', {char: 'o', helpGroup: 'GLOBAL', options: ['short', 'json']})}, args: {target: {name: 'target', description: 'A pod.'}}},
        __complete: {id: '__complete', hidden: true, flags: global, args: {}},
      },
    }
    const markdown: string = renderCommandsMarkdown(manifest)
    expect(markdown).not.toContain('__complete')
    expect(markdown.match(/\| `--timeout` \| `<value>` \| the timeout Default: `30s`. \|/g)).toHaveLength(1)
    expect(markdown).toContain('| `-o, --output` | `short\\|json` | the output |')
    expect(markdown).toContain('| `-s, --[no-]short` |  | the short |')
    expect(markdown).toContain('Aliases: `meshdbg pc c`')
    expect(markdown).toContain('```\nmeshdbg proxy-config cluster [TARGET] [FLAGS]\n```')
    expect(markdown).toContain('```sh\nmeshdbg version --short\n```')
    expect(markdown.indexOf('## meshdbg proxy-config cluster')).toBeLessThan(markdown.indexOf('## meshdbg version'))
  })
})
