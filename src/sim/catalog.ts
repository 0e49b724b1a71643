// The built-in `catalog` scenario: scenarios/catalog.yaml (the stories' mesh as ordinary manifests
// plus its Simulation section), and the stories' fixes in scenarios/fixes for tests that apply them
// to a model directly. Both paths resolve from src/sim and dist/sim alike.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import type {IstioConfig, Scenario} from './model.js'
import {parseManifests, scenarioFromManifests} from './scenario-file.js'
import {fakeUid} from './objects.js'

export const CATALOG_FILE = fileURLToPath(new URL('../../scenarios/catalog.yaml', import.meta.url))
const FIXES_DIR = new URL('../../scenarios/fixes/', import.meta.url)

/**
 * The catalog's manifests as JSON text: the YAML is parsed once per process (about 70 ms; a JSON
 * copy takes well under 1 ms), and each scenario gets objects of its own to change.
 */
let catalogManifests: string | undefined

export function buildCatalogScenario(): Scenario {
  catalogManifests ??= JSON.stringify(parseManifests(readFileSync(CATALOG_FILE, 'utf8')))
  return scenarioFromManifests(JSON.parse(catalogManifests), 'catalog')
}

/** The Istio objects of one fix (`story1-destinationrule`, ...), as `kubectl apply -f` would create them. */
export function catalogFix(name: string): IstioConfig[] {
  return parseManifests(readFileSync(new URL(`${name}.yaml`, FIXES_DIR), 'utf8')).map((o) => {
    const namespace = o.metadata?.namespace ?? 'default'
    return {...o, metadata: {...o.metadata, namespace, uid: fakeUid(`${o.kind}/${namespace}/${o.metadata?.name}`), resourceVersion: '2000', generation: 1}, spec: o.spec ?? {}} as IstioConfig
  })
}
