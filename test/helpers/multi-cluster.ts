// Two simulated clusters behind one kubeconfig, for the multi-context tests: "east" runs
// scenarios/catalog.yaml (Istio 1.17.8), "west" scenarios/catalog-1.24.yaml, and a third context,
// "gone", points at a port that refuses connections (9, discard) as a cluster that is down.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot} from './cli.js'

export interface MultiCluster {
  east: Simulator
  west: Simulator
  /** A scratch directory the caller may write archives into; removed by close(). */
  dir: string
  kubeconfig: string
  close(): Promise<void>
}

const scenario = (file: string) => loadScenario(readFileSync(join(projectRoot, 'scenarios', file), 'utf8'), file)
const serverOf = (sim: Simulator) => /server: (\S+)/.exec(readFileSync(sim.kubeconfigPath, 'utf8'))![1]
const tokenOf = (sim: Simulator) => /token: (\S+)/.exec(readFileSync(sim.kubeconfigPath, 'utf8'))![1]

export async function startMultiCluster(prefix: string): Promise<MultiCluster> {
  const [east, west] = await Promise.all([startSimulator({scenario: scenario('catalog.yaml')}), startSimulator({scenario: scenario('catalog-1.24.yaml')})])
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters:
- {name: east, cluster: {server: "${serverOf(east)}", insecure-skip-tls-verify: true}}
- {name: west, cluster: {server: "${serverOf(west)}", insecure-skip-tls-verify: true}}
- {name: gone, cluster: {server: "http://127.0.0.1:9", insecure-skip-tls-verify: true}}
users:
- {name: east, user: {token: "${tokenOf(east)}"}}
- {name: west, user: {token: "${tokenOf(west)}"}}
contexts:
- {name: east, context: {cluster: east, user: east}}
- {name: west, context: {cluster: west, user: west}}
- {name: gone, context: {cluster: gone, user: east}}
current-context: east
`)
  return {
    east, west, dir, kubeconfig,
    async close() {
      await Promise.all([east.close(), west.close()])
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
