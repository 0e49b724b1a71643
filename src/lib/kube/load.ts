import {statSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

export type LiveLayer = typeof import('./live.js')

/**
 * Loads the live layer: the esbuild bundle (dist/lib/kube-bundle.js) when it is at least as new as
 * the compiled modules, else the modules themselves (after a tsc-only rebuild, and in tests that
 * run the TypeScript sources). Both expose the same API; only load time differs.
 */
export async function loadLive(): Promise<LiveLayer> {
  const bundle = new URL('../kube-bundle.js', import.meta.url)
  const modules = new URL('./live.js', import.meta.url)
  if (isUsableBundle(bundle, modules)) return (await import(bundle.href)) as LiveLayer
  return import('./live.js')
}

function isUsableBundle(bundle: URL, modules: URL): boolean {
  try {
    const bundleTime = statSync(fileURLToPath(bundle)).mtimeMs
    let modulesTime = 0
    try {
      modulesTime = statSync(fileURLToPath(modules)).mtimeMs
    } catch {
      // Running from sources (vitest): there is no compiled live.js to compare with.
      return false
    }
    return bundleTime >= modulesTime
  } catch {
    return false
  }
}
