// diagnose's security checks (certificates, mtls, authz) against the live simulated mesh of
// scenarios/catalog.yaml: story 3's AuthorizationPolicy denies webapp's callers; a
// DestinationRule sending plaintext to catalog under the mesh-wide STRICT PeerAuthentication
// (applied with kubectl) is story 4's conflict.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DiagnoseResult} from '../../src/commands/diagnose.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0
let sim: Simulator
let dir = ''
beforeAll(async () => {
  sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8'), 'catalog')})
  dir = mkdtempSync(join(tmpdir(), 'diag-security-'))
})
afterAll(async () => {
  await sim?.close()
  rmSync(dir, {recursive: true, force: true})
})

const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '30s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 60_000})
const findingsOf = (stdout: string) => (JSON.parse(stdout) as DiagnoseResult).findings

function kubectl(...args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', sim.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args], {stdio: 'ignore'})
    child.on('exit', (code) => resolve(code))
  })
}

const PLAINTEXT_DR = `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: catalog-plaintext, namespace: istioinaction}
spec:
  host: catalog.istioinaction.svc.cluster.local
  trafficPolicy: {tls: {mode: DISABLE}}
`

describe('diagnose security checks on the live mesh', () => {
  it('story 3: webapp\'s RBAC denies a meshed caller: authz fails naming the caller pod and the default deny; certificates pass', async () => {
    const result = await meshdbg('diagnose', 'deploy/webapp', '-n', 'istioinaction', '--check', 'certificates,mtls,authz', '-o', 'json')
    expect(result.code).toBe(11)
    const [authz, ...rest] = findingsOf(result.stdout)
    expect(authz).toMatchObject({id: 'authz', severity: 'fail', target: 'webapp-7c5d7b8c6b-4vzd9.istioinaction', command: 'meshdbg authz webapp-7c5d7b8c6b-4vzd9.istioinaction --check GET /items --from-namespace default'})
    expect(authz.message).toMatch(/^\d+ requests denied in the last 5m: pod sleep-6f8cfb8c8f-wncwh\.default by no ALLOW policy rule \(ALLOW policies apply, none matches\) ×\d+$/)
    expect(rest.map((f) => [f.id, f.severity])).toEqual([['certificates', 'pass'], ['mtls', 'pass']])
    expect(rest[0].message).toMatch(/^spiffe:\/\/cluster\.local\/ns\/istioinaction\/sa\/webapp: \d+d left/)
  }, 120_000)

  it.skipIf(!hasKubectl)('story 4: a DestinationRule sending plaintext to catalog under STRICT fails mtls once applied; authz passes', async () => {
    const before = await meshdbg('diagnose', 'deploy/catalog', '-n', 'istioinaction', '--check', 'mtls,authz', '-o', 'json')
    expect(before.code).toBe(0)
    expect(findingsOf(before.stdout).map((f) => [f.id, f.severity])).toEqual([['authz', 'pass'], ['mtls', 'pass']])
    const file = join(dir, 'dr.yaml')
    writeFileSync(file, PLAINTEXT_DR)
    expect(await kubectl('apply', '-f', file)).toBe(0)
    const after = await meshdbg('diagnose', 'deploy/catalog', '-n', 'istioinaction', '--check', 'mtls', '-o', 'json')
    expect(after.code).toBe(11)
    expect(findingsOf(after.stdout)).toMatchObject([{
      id: 'mtls', severity: 'fail', target: 'catalog-5c7f8f8447-f54sj.istioinaction', command: 'meshdbg describe pod catalog-5c7f8f8447-f54sj -n istioinaction',
      message: 'DestinationRule catalog-plaintext.istioinaction sets TLS mode DISABLE for port 80 but pod port 3000 requires Istio mTLS (STRICT from PeerAuthentication default.istio-system): clients\' connections are refused',
    }])
  }, 120_000)
})
