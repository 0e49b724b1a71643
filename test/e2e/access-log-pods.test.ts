// access-log against the live scenarios/catalog.yaml: -l selectors, the DOWNSTREAM column of -o
// wide, and --summary naming the pod behind each upstream IP (story 2's slow pod).
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0
let sim: Simulator
let dir = ''

beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8'), 'catalog')})
  dir = mkdtempSync(join(tmpdir(), 'access-log-pods-'))
})
afterAll(async () => {
  await sim?.close()
  rmSync(dir, {recursive: true, force: true})
})

const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '10s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 20_000})

describe('access-log live', () => {
  it('-l selects pods by label; -o wide adds the caller as DOWNSTREAM', async () => {
    const wide = await meshdbg('access-log', '-l', 'app=webapp', '-n', 'istioinaction', '-o', 'wide')
    expect(wide.code).toBe(0)
    const [header, first] = wide.stdout.split('\n')
    expect(header.split(/\s{2,}/)).toEqual(['POD', 'TIME', 'METHOD', 'PATH', 'CODE', 'FLAGS', 'DETAILS', 'DURATION', 'UPSTREAM HOST', 'UPSTREAM CLUSTER', 'DOWNSTREAM'])
    // The sleep pod's request (10.10.0.20 in the scenario) denied by story 3's policy.
    expect(first).toMatch(/^webapp-7c5d7b8c6b-4vzd9 .* 403 .*rbac_access_denied_matched_policy\[none\] .* 10\.10\.0\.20:\d+$/)
    const none = await meshdbg('access-log', '-l', 'app=nothing', '-n', 'istioinaction')
    expect([none.code, none.stderr]).toEqual([3, 'Error: no pods match selector "app=nothing" in namespace "istioinaction"\n'])
    const both = await meshdbg('access-log', 'deploy/webapp', '-l', 'app=webapp')
    expect(both.code).toBe(2)
  })

  it.skipIf(!hasKubectl)('--summary names the pod behind each upstream host (story 2: the slow catalog-v2 pod)', async () => {
    // Story 1's DestinationRule first: without its subsets every request is 503 NC and reaches no host.
    const applied = await new Promise<number | null>((resolve) => {
      spawn('kubectl', ['--kubeconfig', sim.kubeconfigPath, '--cache-dir', join(dir, 'cache'), 'apply', '-f', join(projectRoot, 'scenarios', 'fixes', 'story1-destinationrule.yaml')]).on('exit', resolve)
    })
    expect(applied).toBe(0)
    let summary = await meshdbg('access-log', 'deploy/istio-ingressgateway', '-n', 'istio-system', '--summary')
    while (!summary.stdout.includes('10.10.0.13:3000')) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      summary = await meshdbg('access-log', 'deploy/istio-ingressgateway', '-n', 'istio-system', '--summary')
    }
    expect(summary.code).toBe(0)
    expect(summary.stdout).toMatch(/^10\.10\.0\.13:3000 \(catalog-v2-6d4c8b7d9f-zqgfl\) +outbound\|80\|version-v2\|catalog\.istioinaction\.svc\.cluster\.local .*<- /m)
    const json = JSON.parse((await meshdbg('access-log', 'deploy/istio-ingressgateway', '-n', 'istio-system', '--summary', '-o', 'json')).stdout)
    expect(json.byHost.find((host: {upstreamHost: string}) => host.upstreamHost === '10.10.0.13:3000').pod).toEqual({name: 'catalog-v2-6d4c8b7d9f-zqgfl', namespace: 'istioinaction'})
  })
})
