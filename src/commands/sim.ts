import {existsSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {usageError} from '../lib/errors.js'
import type * as SimModule from '../sim/product.js'

export interface SimResult {
  /** The kubeconfig that points kubectl and meshdbg at the simulated cluster (deleted on exit). */
  kubeconfigPath: string
  url: string
  /** The scenario's name, or the snapshot file served. */
  serving: string
}

export default class Sim extends MeshdbgCommand<typeof Sim> {
  static override summary = 'Run a simulated cluster with an Istio mesh (a scenario, or a snapshot) until Ctrl-C.'
  static override description = `Prints KUBECONFIG=<path> on stdout, then serves on 127.0.0.1 until SIGINT or SIGTERM (exit 0). Every live meshdbg command, and kubectl (get, describe, logs, port-forward), works against it: no cluster, no network beyond loopback.
--scenario catalog (the stories' mesh), scale (a large mesh for benchmarks) or a scenario YAML file (Kubernetes and Istio manifests, see scenarios/catalog.yaml); --tls serves HTTPS with a CA in the kubeconfig.
--snapshot FILE serves a snapshot (meshdbg snapshot) instead: the recorded API objects and logs, and on each pod's ports the recorded admin, agent and istiod answers, so runbooks can be tested in CI. It is read-only: writes are refused (405) and a request the snapshot does not hold answers 404.`

  static override examples = [
    'eval "$(<%= config.bin %> sim --scenario catalog &)"; <%= config.bin %> sync-status',
    '<%= config.bin %> sim --snapshot incident.tar.gz > sim.env & sleep 1; export $(cat sim.env); kubectl get pods -A',
  ]

  static override flags = {
    scenario: Flags.string({summary: 'catalog, scale, or a scenario YAML file.', default: 'catalog'}),
    tls: Flags.boolean({summary: 'Serve the API over HTTPS (the kubeconfig carries its CA).'}),
  }

  async run(): Promise<SimResult> {
    const {flags} = this
    const sim = await loadSimulator()
    let served: {url: string; kubeconfigPath: string; close(): Promise<void>}
    let serving: string
    if (flags.snapshot !== undefined) {
      if (flags.tls) throw usageError('--tls applies to --scenario, not to --snapshot')
      served = await sim.serveSnapshot(flags.snapshot, flags.context)
      serving = flags.snapshot
    } else {
      let scenario: SimModule.SimulatorOptions['scenario']
      if (flags.scenario === 'catalog' || flags.scenario === 'scale') scenario = flags.scenario
      else if (/\.ya?ml$/.test(flags.scenario)) {
        try {
          scenario = sim.loadScenario(readFileSync(flags.scenario, 'utf8'), flags.scenario.replace(/^.*\//, '').replace(/\.ya?ml$/, ''))
        } catch (error) {
          throw usageError(`scenario ${flags.scenario}: ${(error as Error).message}`)
        }
      } else throw usageError(`unknown scenario "${flags.scenario}" (catalog, scale, or a .yaml file)`)
      const started = await sim.startSimulator({scenario, tls: flags.tls})
      served = started
      serving = started.scenario.name
    }
    process.stdout.write(`KUBECONFIG=${served.kubeconfigPath}\n`)
    this.notice(`simulated cluster (${serving}) listening on ${served.url}; Ctrl-C stops it`)
    // Served until a signal: the --timeout deadline is for requests, not for a server.
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
    })
    await served.close()
    return {kubeconfigPath: served.kubeconfigPath, url: served.url, serving}
  }
}

/**
 * The simulator: its compiled modules in a development tree (dist/sim), else the bundle the
 * package ships (dist/lib/sim-bundle.js: the simulator with ws, without dist/sim).
 */
async function loadSimulator(): Promise<typeof SimModule> {
  const modules = new URL('../sim/product.js', import.meta.url)
  const bundle = new URL('../lib/sim-bundle.js', import.meta.url)
  return (await import(existsSync(fileURLToPath(modules)) ? modules.href : bundle.href)) as typeof SimModule
}
