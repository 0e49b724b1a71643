// Build: type-check and compile src/ to dist/, then regenerate oclif.manifest.json.
// `--clean` removes dist/ first (CI starts from a clean clone anyway).
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (process.argv.includes('--clean')) rmSync(join(root, 'dist'), {recursive: true, force: true})
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {stdio: 'inherit'})
execFileSync(process.execPath, [join(root, 'scripts/manifest.mjs')], {stdio: 'inherit'})
