import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {runCli} from './helpers/cli.js'
import {corpusCases, corpusDir, corpusNotice} from './helpers/corpus.js'

// Runs ../shared/corpus/cases.tsv exactly as ../shared/tools/conformance does.
corpusNotice('the conformance corpus (cases.tsv)')

describe.skipIf(!corpusDir)('conformance corpus', () => {
  for (const testCase of corpusCases()) {
    it(`${testCase.id}: meshdbg ${testCase.args.join(' ')}`, async () => {
      const result = await runCli(testCase.args, {cwd: corpusDir})
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.stdout).toBe(readFileSync(join(corpusDir!, testCase.expected), 'utf8'))
    })
  }
})
