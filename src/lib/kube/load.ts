import {createHash} from 'node:crypto'
import {readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

export type LiveLayer = typeof import('./live.js')

const BUNDLE = new URL('../kube-bundle.js', import.meta.url)
const FINGERPRINT = new URL('../kube-bundle.fingerprint', import.meta.url)
/** The compiled directories the bundle is built from (src/lib/kube and src/lib/transport). */
const BUNDLED_DIRS = [new URL('./', import.meta.url), new URL('../transport/', import.meta.url)]

/**
 * Loads the live layer: the esbuild bundle (dist/lib/kube-bundle.js, ~200 ms instead of ~600 ms)
 * when it was built from the same code as the compiled modules next to it, else the modules
 * themselves (after a tsc-only rebuild, and in tests that run the TypeScript sources). Both expose
 * the same API; only load time differs.
 */
export function loadLive(): Promise<LiveLayer> {
  // Decided once per process, like the import it stands for: the fingerprint reads every bundled
  // file, and a command over 500 pods asks for the layer on every call.
  liveLayer ??= bundleIsCurrent() ? (import(BUNDLE.href) as Promise<LiveLayer>) : import('./live.js')
  return liveLayer
}

let liveLayer: Promise<LiveLayer> | undefined

function bundleIsCurrent(): boolean {
  try {
    const recorded = readFileSync(fileURLToPath(FINGERPRINT), 'utf8').trim()
    return recorded !== '' && recorded === liveFingerprint()
  } catch {
    return false
  }
}

/**
 * A hash of the compiled kube/transport modules. The build records it next to the bundle; a
 * rebuild with plain tsc after a source change alters it, so a stale bundle is never used
 * (re-emitting unchanged sources does not). About 1 ms.
 */
export function liveFingerprint(): string {
  const hash = createHash('sha256')
  for (const [index, dir] of BUNDLED_DIRS.entries()) {
    const path = fileURLToPath(dir)
    for (const name of readdirSync(path).filter((file) => file.endsWith('.js')).sort()) {
      hash.update(`${index}/${name}\0`)
      hash.update(readFileSync(path + name))
    }
  }
  return hash.digest('hex')
}
