import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {projectRoot} from './cli.js'

/** The shared conformance corpus (never copied into the project); undefined when absent. */
export const corpusDir: string | undefined = (() => {
  const dir = join(projectRoot, '..', 'shared', 'corpus')
  return existsSync(join(dir, 'cases.tsv')) ? dir : undefined
})()

export function corpusNotice(what: string): void {
  if (!corpusDir) console.warn(`[meshdbg tests] ../shared/corpus not found: skipping ${what}`)
}

export interface CorpusCase {
  id: string
  args: string[]
  expected: string
  compare: string
}

export function corpusCases(): CorpusCase[] {
  if (!corpusDir) return []
  return readFileSync(join(corpusDir, 'cases.tsv'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const [id, args, expected, compare] = line.split('\t')
      return {id, args: args.split(' ').filter(Boolean), expected, compare}
    })
}
