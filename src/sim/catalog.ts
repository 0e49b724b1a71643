// The built-in `catalog` scenario: scenarios/catalog.yaml (the stories' mesh as ordinary manifests
// plus its Simulation section), and the stories' fixes in scenarios/fixes for tests that apply them
// to a model directly. Both paths resolve from src/sim and dist/sim alike.
import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import type {IstioConfig, Scenario} from './model.js'
import {parseManifests, scenarioFromManifests} from './scenario-file.js'
import {fakeUid} from './objects.js'

export const CATALOG_FILE = fileURLToPath(new URL('../../scenarios/catalog.yaml', import.meta.url))
const FIXES_DIR = new URL('../../scenarios/fixes/', import.meta.url)

/**
 * The build's pre-parsed copy of the catalog (`npm run build` writes it), used while its hash
 * matches the YAML: importing and running the YAML parser costs ~130 ms in every process that
 * starts the simulator (each test file), reading this JSON about 1 ms. Both src/sim and dist/sim
 * resolve it at the project root's dist/.
 */
const CATALOG_CACHE = fileURLToPath(new URL('../../dist/sim/catalog-manifests.json', import.meta.url))

/** The catalog's manifests as JSON text, once per process; each scenario parses its own copy to change. */
let catalogManifests: string | undefined

function readCatalogManifests(): string {
  const text = readFileSync(CATALOG_FILE, 'utf8')
  const sha256 = createHash('sha256').update(text).digest('hex')
  try {
    const cached = JSON.parse(readFileSync(CATALOG_CACHE, 'utf8')) as {sha256: string; manifests: unknown[]}
    if (cached.sha256 === sha256) return JSON.stringify(cached.manifests)
  } catch {
    // No build yet, or a stale or broken copy: parse the YAML.
  }
  return JSON.stringify(parseManifests(text))
}

/** Writes the pre-parsed catalog next to the built simulator (scripts/build.mjs). */
export function writeCatalogCache(): void {
  const text = readFileSync(CATALOG_FILE, 'utf8')
  writeFileSync(CATALOG_CACHE, JSON.stringify({sha256: createHash('sha256').update(text).digest('hex'), manifests: parseManifests(text)}))
}

export function buildCatalogScenario(): Scenario {
  catalogManifests ??= readCatalogManifests()
  return scenarioFromManifests(JSON.parse(catalogManifests), 'catalog')
}

/** The Istio objects of one fix (`story1-destinationrule`, ...), as `kubectl apply -f` would create them. */
export function catalogFix(name: string): IstioConfig[] {
  return parseManifests(readFileSync(new URL(`${name}.yaml`, FIXES_DIR), 'utf8')).map((o) => {
    const namespace = o.metadata?.namespace ?? 'default'
    return {...o, metadata: {...o.metadata, namespace, uid: fakeUid(`${o.kind}/${namespace}/${o.metadata?.name}`), resourceVersion: '2000', generation: 1}, spec: o.spec ?? {}} as IstioConfig
  })
}
