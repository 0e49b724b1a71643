import {existsSync} from 'node:fs'
import {join} from 'node:path'

/** The end-to-end tests run the built CLI, exactly as users do: make sure there is one. */
export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..')
  if (!existsSync(join(root, 'dist', 'commands')) || !existsSync(join(root, 'oclif.manifest.json'))) {
    throw new Error('dist/ is missing: run `npm run build` first (the README\'s test command does)')
  }
}
