// What `meshdbg sim` uses of the simulator: the entry point of dist/lib/sim-bundle.js (the
// simulator and ws in one file, so the installed package needs neither dist/sim nor ws).
export {startSimulator, type Simulator, type SimulatorOptions} from './index.js'
export {loadScenario, ScenarioError} from './scenario-file.js'
export {serveSnapshot, type SnapshotServer} from './snapshot-server.js'
