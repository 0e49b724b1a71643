import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {runCli} from '../helpers/cli.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

// Generous deadlines: a loaded test machine is slow, and these tests are about output, not speed.
const cli = (args: string[], env: NodeJS.ProcessEnv = {KUBECONFIG: sim.kubeconfigPath}) => runCli(['version', ...args, '--timeout', '20s'], {env, killAfterMs: 40_000})
const CLIENT = JSON.parse((await import('node:fs')).readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string

describe('meshdbg version (live)', {timeout: 90_000}, () => {
  it('prints client, control plane (both istiod replicas agree) and data plane versions with counts', async () => {
    const result = await cli([])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    // The catalog scenario: two 1.17.8 istiods; seven 1.17.8 proxies and one 1.25.2 sidecar.
    expect(result.stdout).toBe(`client version: ${CLIENT}\ncontrol plane version: 1.17.8\ndata plane version: 1.17.8 (7 proxies), 1.25.2 (1 proxies)\n`)
    expect(sim.requests.some((request) => request.path.includes('/pods/istiod-8d74787f-n4c7b/portforward'))).toBe(true)
  })

  it('--short=false names each istiod with its revision and build', async () => {
    const result = await cli(['--short=false'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('control plane version: istiod-8d74787f-n4c7b (revision default): 1.17.8-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-Clean\n')
    expect(result.stdout).toContain('control plane version: istiod-8d74787f-x2k9p (revision default): 1.17.8-')
  })

  it('-o json is the typed result', async () => {
    const result = await cli(['-o', 'json'])
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout)
    expect(json.client.version).toBe(CLIENT)
    expect(json.controlPlane).toEqual([
      {istiod: 'istiod-8d74787f-n4c7b', revision: 'default', version: '1.17.8', build: `1.17.8-${'a'.repeat(40)}-Clean`, source: 'version-endpoint'},
      {istiod: 'istiod-8d74787f-x2k9p', revision: 'default', version: '1.17.8', build: `1.17.8-${'a'.repeat(40)}-Clean`, source: 'version-endpoint'},
    ])
    expect(json.dataPlane).toEqual([{version: '1.17.8', proxies: 7}, {version: '1.25.2', proxies: 1}])
    expect(json.notes).toBeUndefined()
  })

  it('a revision without istiods: control plane none, a note for the data plane, still exit 0', async () => {
    const result = await cli(['-r', 'canary'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`client version: ${CLIENT}\ncontrol plane version: none\n`)
    expect(result.stderr).toContain('data plane version unknown: no running istiod pods of revision "canary"')
  })

  it('without a cluster: the client version, a note, exit 0; --remote=false asks nothing', async () => {
    const none = await cli([], {KUBECONFIG: '/nonexistent/kubeconfig'})
    expect(none.code).toBe(0)
    expect(none.stdout).toBe(`client version: ${CLIENT}\n`)
    expect(none.stderr).toMatch(/^control plane version unknown: no kubeconfig/)
    const json = await cli(['-o', 'json'], {KUBECONFIG: '/nonexistent/kubeconfig'})
    expect(JSON.parse(json.stdout)).toMatchObject({client: {version: CLIENT}, notes: [expect.stringContaining('no kubeconfig')]})
    const before = sim.requests.length
    const local = await cli(['--remote=false'])
    expect(local.code).toBe(0)
    expect(local.stdout).toBe(`client version: ${CLIENT}\n`)
    expect(sim.requests.length).toBe(before)
  })
})
