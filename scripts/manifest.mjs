// Regenerates oclif.manifest.json from dist/commands (run after tsc). Written atomically so a
// concurrently running CLI never reads half a file.
import {renameSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const {Plugin} = await import('@oclif/core')
const plugin = new Plugin({root, isRoot: true, ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true})
await plugin.load()
const target = join(root, 'oclif.manifest.json')
writeFileSync(target + '.tmp', JSON.stringify(plugin.manifest, null, 2) + '\n')
renameSync(target + '.tmp', target)
console.log(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`)
