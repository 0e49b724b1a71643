// `npm test`: vitest, then one plain closing line ("N passed, N failed, N skipped") that any CI log
// reader understands. Exits with vitest's exit code.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const reportDir = mkdtempSync(join(tmpdir(), 'meshdbg-vitest-'))
const report = join(reportDir, 'report.json')
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const run = spawnSync(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
})
if (existsSync(report)) {
  const {numPassedTests = 0, numFailedTests = 0, numPendingTests = 0, numTodoTests = 0} = JSON.parse(readFileSync(report, 'utf8'))
  console.log(`\n${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`)
}
rmSync(reportDir, {recursive: true, force: true})
process.exit(run.status ?? 1)
