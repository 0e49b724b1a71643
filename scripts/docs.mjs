// `npm run docs`: regenerates docs/commands.md (from oclif.manifest.json: run after a build) and
// docs/schemas/*.json (from the TypeScript result types in src/commands).
// `--check` writes nothing and exits 1 naming each stale or missing file (test/unit/docs.test.ts).
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {renderCommandsMarkdown} from './commands-doc.mjs'
import {generateResultSchemas} from './result-schemas.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')
const schemaDir = join(root, 'docs', 'schemas')

/** Every generated file, path relative to the root -> content. */
const wanted = new Map()
if (!existsSync(join(root, 'oclif.manifest.json'))) {
  console.error('no oclif.manifest.json: run `npm run build` first')
  process.exit(2)
}
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
wanted.set('docs/commands.md', renderCommandsMarkdown(manifest))
for (const [name, schema] of generateResultSchemas(root)) wanted.set(`docs/schemas/${name}.json`, JSON.stringify(schema, null, 2) + '\n')

const existingSchemas = existsSync(schemaDir) ? readdirSync(schemaDir).filter((name) => name.endsWith('.json')).map((name) => `docs/schemas/${name}`) : []
const stale = []
for (const [path, content] of wanted) {
  const file = join(root, path)
  if (existsSync(file) && readFileSync(file, 'utf8') === content) continue
  stale.push(path)
  if (!check) {
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, content)
  }
}
for (const path of existingSchemas.filter((path) => !wanted.has(path))) {
  stale.push(`${path} (no such command result any more)`)
  if (!check) rmSync(join(root, path))
}

if (check && stale.length > 0) {
  console.error(`stale generated docs (run \`npm run build && npm run docs\` and commit): ${stale.join(', ')}`)
  process.exit(1)
}
console.log(check ? `docs current (${wanted.size} files)` : `docs: ${stale.length} of ${wanted.size} files updated`)
