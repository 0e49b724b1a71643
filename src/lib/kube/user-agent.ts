import {readFileSync} from 'node:fs'

/**
 * `meshdbg/<version>`, sent on every request to the API server (REST, logs, port-forward upgrades)
 * so audit logs name the tool. The version comes from the package.json above this module: the
 * compiled module, the bundle and the TypeScript source sit at different depths.
 */
export const USER_AGENT = `meshdbg/${packageVersion()}`

function packageVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const parsed = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {name?: string; version?: string}
      if (parsed.name === 'meshdbg' && typeof parsed.version === 'string') return parsed.version
    } catch {
      // No package.json here: look one level up.
    }
    if (dir.pathname === '/') return 'unknown'
  }
}
