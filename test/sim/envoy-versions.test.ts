// Envoy admin shapes per Envoy release (src/sim/envoy-versions.ts): Istio 1.17.8 runs Envoy 1.25,
// 1.24.3 Envoy 1.32, 1.25.2 Envoy 1.33. Each difference is served by the simulator and read by
// meshdbg through the CLI.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'
import {RATINGS, SLEEP, podHttp} from './helpers.js'

let catalog: Simulator
let catalog124: Simulator
beforeAll(async () => {
  catalog = await startSimulator()
  catalog124 = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog-1.24.yaml'), 'utf8'), 'catalog-1.24')})
})
afterAll(async () => {
  await catalog?.close()
  await catalog124?.close()
})

const admin = async (sim: Simulator, target: {pod: string; namespace: string}, path: string) => (await podHttp(sim, {...target, port: 15000}, path)).body
const proxies = () => [
  {envoy: '1.25.0', sim: catalog, target: SLEEP},
  {envoy: '1.32.0', sim: catalog124, target: SLEEP},
  {envoy: '1.33.0', sim: catalog, target: RATINGS},
]

describe('Envoy admin shapes per Envoy release', () => {
  it('/server_info command_line_options: pilot-agent\'s arguments, and the flags each release added', async () => {
    const options: Record<string, Record<string, unknown>> = {}
    for (const {envoy, sim, target} of proxies()) {
      const info = JSON.parse(await admin(sim, target, '/server_info'))
      expect(info.version).toMatch(new RegExp(`^[0-9a-f]{40}/${envoy.replace(/\./g, '\\.')}/Clean/RELEASE/BoringSSL$`))
      options[envoy] = info.command_line_options
    }
    // istio/istio pkg/envoy/proxy.go: --file-flush-interval-msec 1000, --disable-hot-restart, --drain-time-s 45.
    for (const o of Object.values(options)) expect(o).toMatchObject({file_flush_interval: '1s', disable_hot_restart: true, allow_unknown_static_fields: true, drain_time: '45s', drain_strategy: 'Immediate', restart_epoch: 0})
    const added = ['skip_hot_restart_on_no_parent', 'skip_hot_restart_parent_stats', 'skip_deprecated_logs']
    expect(Object.fromEntries(Object.entries(options).map(([envoy, o]) => [envoy, added.filter((k) => k in o)]))).toEqual({
      '1.25.0': [],
      '1.32.0': ['skip_hot_restart_on_no_parent', 'skip_hot_restart_parent_stats'],
      '1.33.0': added,
    })
    // Istio 1.25 passes --skip-deprecated-logs (ENVOY_SKIP_DEPRECATED_LOGS defaults to true).
    expect(options['1.33.0'].skip_deprecated_logs).toBe(true)
  })

  it('/stats: server.hot_restart_epoch only before Envoy 1.31 (hot restart is disabled)', async () => {
    const epochLines = await Promise.all(proxies().map(async ({sim, target}) => (await admin(sim, target, '/stats')).split('\n').filter((l) => l.startsWith('server.hot_restart_epoch'))))
    expect(epochLines).toEqual([['server.hot_restart_epoch: 0'], [], []])
  })

  it('uptime counts from the container start its log shows, not from the simulator\'s', async () => {
    const info = JSON.parse(await admin(catalog, SLEEP, '/server_info'))
    const log = await (await fetch(`${catalog.url}/api/v1/namespaces/default/pods/${SLEEP.pod}/log?container=istio-proxy&timestamps=true&tailLines=1000`)).text()
    const firstLine = Date.parse(log.split(' ')[0])
    const uptime = Number.parseInt(info.uptime_current_epoch, 10)
    expect(Math.abs(Date.now() - firstLine - uptime * 1000)).toBeLessThan(5000)
    expect(uptime).toBeGreaterThan(12 * 60)
  })

  it('meshdbg health reads every release\'s /server_info and /stats', async () => {
    for (const {envoy, sim, target} of proxies()) {
      const result = await runCli(['health', `${target.pod}.${target.namespace}`, '-o', 'json', '--timeout', '10s'], {env: {KUBECONFIG: sim.kubeconfigPath}})
      expect(result.stderr).toBe('')
      const findings = JSON.parse(result.stdout).findings as Array<{id: string; severity: string; message: string}>
      expect(findings.find((f) => f.id === 'envoy-server')).toMatchObject({severity: 'PASS', message: expect.stringMatching(new RegExp(`^LIVE, Envoy ${envoy.replace(/\./g, '\\.')}, up 1\\dm\\S*, hot-restart epoch 0$`))})
      expect(findings.find((f) => f.id === 'xds-rejected')?.severity).toBe('PASS')
    }
  }, 60_000)
})
