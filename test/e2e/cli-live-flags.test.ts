// kubectl's --as/--as-group on every API call (REST, port-forward upgrade, log stream), and the
// live side of -o wide, against the simulated cluster.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {runCli} from '../helpers/cli.js'

let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator()
})

afterAll(async () => {
  await sim?.close()
})

const live = (args: string[]) => runCli([...args, '--timeout', '5s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 15_000})

describe('--as / --as-group (item 4)', () => {
  it('sends Impersonate-User and Impersonate-Group on REST calls, the port-forward upgrade and the log stream', async () => {
    const start = sim.requests.length
    const table = await live(['pc', 'c', 'deploy/webapp', '-n', 'istioinaction', '--as', 'jane', '--as-group', 'sre'])
    expect(table.code).toBe(0)
    const logs = await live(['access-log', 'deploy/istio-ingressgateway', '-n', 'istio-system', '--as', 'jane', '--as-group', 'sre'])
    expect(logs.code).toBe(0)
    const requests = sim.requests.slice(start)
    const kinds = {
      rest: requests.filter((request) => request.path.startsWith('/api') && !request.path.includes('/portforward') && !request.path.includes('/log?')),
      portForward: requests.filter((request) => request.path.includes('/portforward')),
      log: requests.filter((request) => request.path.includes('/log?')),
    }
    for (const [kind, list] of Object.entries(kinds)) {
      expect(list.length, kind).toBeGreaterThan(0)
      for (const request of list) {
        expect(request.headers['impersonate-user'], `${kind} ${request.path}`).toBe('jane')
        expect(request.headers['impersonate-group'], `${kind} ${request.path}`).toBe('sre')
      }
    }
  })

  it('without --as no Impersonate header is sent', async () => {
    const start = sim.requests.length
    expect((await live(['pc', 'c', 'deploy/webapp', '-n', 'istioinaction'])).code).toBe(0)
    expect(sim.requests.slice(start).some((request) => request.headers['impersonate-user'] !== undefined)).toBe(false)
  })
})

describe('-o wide (item 5)', () => {
  it('access-log -o wide has a POD column even for one pod', async () => {
    const narrow = await live(['access-log', 'deploy/istio-ingressgateway', '-n', 'istio-system'])
    const wide = await live(['access-log', 'deploy/istio-ingressgateway', '-n', 'istio-system', '-o', 'wide'])
    expect(wide.code).toBe(0)
    expect(narrow.stdout).toMatch(/^TIME /)
    expect(wide.stdout).toMatch(/^POD +TIME /)
    expect(wide.stdout.split('\n')[1]).toMatch(/^istio-ingressgateway-6bb8fb6549-hcdnc /)
  })
})
