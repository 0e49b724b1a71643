import {Flags} from '@oclif/core'
import {existsSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {MeshdbgCommand} from '../lib/base-command.js'
import {runDemo, type DemoResult, type DemoStep} from '../lib/diagnose/demo.js'
import {ExitCode, MeshdbgError} from '../lib/errors.js'
import {renderDemoStep} from '../lib/render/diagnose.js'

export type {DemoResult} from '../lib/diagnose/demo.js'

const ROOT = new URL('../../', import.meta.url)
const SCENARIO = 'scenarios/catalog.yaml'
const FIXES = ['scenarios/fixes/story1-destinationrule.yaml', 'scenarios/fixes/story2-timeout.yaml']

export default class Demo extends MeshdbgCommand<typeof Demo> {
  static override summary = 'Diagnose, fix and re-diagnose a simulated broken mesh, in this process: no cluster needed.'
  static override description = `Starts the simulated mesh of ${SCENARIO} (Istio 1.17.8) on 127.0.0.1 inside this process, with stories 1 and 2 broken: the ingress gateway routes to subsets no DestinationRule defines, and one catalog v2 pod is slower than the route's 0.5 s timeout. Then, through the Kubernetes API exactly as on a cluster (the simulator's kubeconfig): meshdbg diagnose deploy/istio-ingressgateway -n istio-system; applies ${FIXES.join(' then ')} like kubectl apply, each time waiting for istiod's push to be acknowledged (SYNCED) and diagnosing again; exits 0 when the last diagnosis is healthy (11 if not). Nothing leaves the machine.
Needs the simulator (dist/sim) and scenarios/ of a source checkout: npm ci && npm run build && node bin/run.js demo.`

  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --json | jq \'.result.steps[].diagnosis.findings[0].message\'']

  static override baseFlags = {
    ...MeshdbgCommand.baseFlags,
    // Three diagnoses and two pushes: more than most commands need, still bounded.
    timeout: Flags.string({summary: 'Deadline for the whole demo, e.g. 2m; 0 for none.', default: '2m', aliases: ['request-timeout'], helpGroup: 'GLOBAL'}),
  }

  async run(): Promise<DemoResult> {
    const scenarioPath = fileURLToPath(new URL(SCENARIO, ROOT))
    if (!existsSync(scenarioPath)) throw new MeshdbgError('not-found', `the demo needs ${SCENARIO}, which this installation does not include`, {hint: 'run it from a clone: npm ci && npm run build && node bin/run.js demo'})
    let sim: typeof import('../sim/index.js')
    let scenarios: typeof import('../sim/scenario-file.js')
    try {
      ;[sim, scenarios] = await Promise.all([import('../sim/index.js'), import('../sim/scenario-file.js')])
    } catch (error) {
      throw new MeshdbgError('not-found', 'the demo needs the simulator (dist/sim), which this installation does not include', {cause: error, hint: 'run it from a clone: npm ci && npm run build && node bin/run.js demo'})
    }
    const mesh = await sim.startSimulator({scenario: scenarios.loadScenario(readFileSync(scenarioPath, 'utf8'), 'catalog')})
    this.scope.defer(() => mesh.close())
    this.write(`A simulated Istio 1.17.8 mesh (${SCENARIO}) is running on 127.0.0.1 in this process.\nStory 1: the gateway routes to subsets that no DestinationRule defines. Story 2: one catalog v2 pod is slower than the route's 0.5 s timeout.\n\n`)
    // The simulator's kubeconfig, not the user's: the demo must never touch a real cluster.
    const ctx = {...this.runContext(), kubeconfig: mesh.kubeconfigPath, context: undefined, namespace: 'istio-system', impersonate: undefined}
    const result = await runDemo(ctx, {
      target: 'deploy/istio-ingressgateway',
      namespace: 'istio-system',
      fixes: FIXES.map((shown) => ({path: fileURLToPath(new URL(shown, ROOT)), shown})),
    }, {
      step: (step: DemoStep, checks, last) => this.write(renderDemoStep(step, checks ?? [], {color: this.colorEnabled, last})),
    })
    if (!result.healthy) throw new MeshdbgError('problems-found', 'the mesh is still unhealthy after the fixes', {exitCode: ExitCode.checksFailed, result})
    this.write('The mesh is healthy. On your cluster: meshdbg diagnose deploy/<workload> -n <namespace> (or --all -n <namespace>).\n')
    return result
  }
}
