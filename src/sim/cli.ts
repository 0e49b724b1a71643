#!/usr/bin/env node
// Runs the simulator as a process: prints KUBECONFIG=<path>, serves until SIGINT/SIGTERM.
import {readFileSync} from 'node:fs'
import {parseArgs} from 'node:util'
import {startSimulator, type SimulatorOptions} from './index.js'

const {values} = parseArgs({
  options: {
    scenario: {type: 'string', default: 'catalog'},
    tls: {type: 'boolean', default: false},
    'config-dump': {type: 'string', multiple: true, default: []},
    help: {type: 'boolean', short: 'h', default: false},
  },
})

if (values.help) {
  process.stdout.write('usage: node dist/sim/cli.js [--scenario catalog|scale|FILE.yaml] [--tls] [--config-dump POD.NS=FILE]...\n')
  process.exit(0)
}
let scenario: SimulatorOptions['scenario']
if (values.scenario === 'catalog' || values.scenario === 'scale') {
  scenario = values.scenario
} else if (/\.ya?ml$/.test(values.scenario ?? '')) {
  // Imported only for files: the YAML parser would add to every start of the built-in scenarios.
  const {ScenarioError, loadScenario} = await import('./scenario-file.js')
  try {
    scenario = loadScenario(readFileSync(values.scenario!, 'utf8'), values.scenario!.replace(/^.*\//, '').replace(/\.ya?ml$/, ''))
  } catch (error) {
    if (!(error instanceof ScenarioError) && (error as NodeJS.ErrnoException).code === undefined) throw error
    process.stderr.write(`scenario ${values.scenario}: ${(error as Error).message}\n`)
    process.exit(2)
  }
} else {
  process.stderr.write(`unknown scenario "${values.scenario}" (catalog, scale, or a .yaml file)\n`)
  process.exit(2)
}

const sim = await startSimulator({scenario, tls: values.tls})
for (const spec of values['config-dump'] ?? []) {
  const m = /^([^.=]+)\.([^=]+)=(.+)$/.exec(spec)
  if (!m) {
    process.stderr.write(`--config-dump expects POD.NS=FILE, got "${spec}"\n`)
    await sim.close()
    process.exit(2)
  }
  sim.setConfigDump({pod: m[1], namespace: m[2]}, readFileSync(m[3], 'utf8'))
}
process.stdout.write(`KUBECONFIG=${sim.kubeconfigPath}\n`)
process.stderr.write(`simulator (${sim.scenario.name}) listening on ${sim.url}\n`)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  sim.close().then(() => process.exit(0), () => process.exit(1))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
