// `authz --check` and `--verbose`: offline on our RBAC fixture, and story 3 of mesh-scenarios.md
// live through the simulator's scenarios/catalog.yaml, before and after `kubectl apply` of its fix.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

const fixture = join(projectRoot, 'test', 'fixtures', 'authz', 'rbac-matchers.json')

describe('authz --check -f FILE', () => {
  it('DENIED exits 10 with the deciding rule; --json carries the typed check', async () => {
    const denied = await runCli(['authz', '-f', fixture, '--check', 'GET', '/private/x', '--port', '8080', '--from-sa', 'prod/frontend', '--request-principal', 'none'])
    expect(denied.code).toBe(10)
    expect(denied.stdout.split('\n')[0]).toBe('DENIED: DENY policy deny-no-token.prod rule 0 matches')
    expect(denied.stderr).toBe('Error: the request is denied: DENY policy deny-no-token.prod rule 0 matches\n')

    const json = await runCli(['authz', '-f', fixture, '--check', 'GET /api/items', '--port', '8080', '--from-sa', 'prod/frontend', '--request-principal', 'none', '--json'])
    expect(json.code).toBe(0)
    const envelope = JSON.parse(json.stdout)
    expect(envelope.status).toBe(0)
    expect(envelope.result.check).toMatchObject({
      decision: 'ALLOWED',
      decidedBy: {action: 'ALLOW', policy: 'frontend-read.prod', rule: '0', key: 'ns[prod]-policy[frontend-read]-rule[0]'},
      listener: 'virtualInbound',
      port: 8080,
      request: {method: 'GET', path: '/api/items', headers: {}, port: 8080, peer: {principal: 'spiffe://cluster.local/ns/prod/sa/frontend'}, jwt: 'none'},
    })
  })

  it('UNKNOWN exits 0 and names what is missing; usage errors exit 2', async () => {
    const unknown = await runCli(['authz', '-f', fixture, '--check', 'GET', '/x', '--port', '3306'])
    expect(unknown.code).toBe(0)
    expect(unknown.stdout).toContain('UNKNOWN: depends on what the CLI cannot know: db-clients.db rule 0\n')
    expect(unknown.stdout).toContain("namespace prod: the caller's identity is unknown (pass --from-sa, --from-principal or --from-namespace)")
    const noPort = await runCli(['authz', '-f', fixture, '--check', 'GET', '/x'])
    expect([noPort.code, noPort.stderr]).toEqual([2, 'Error: --check needs --port: ports with an RBAC filter: 3306, 8080, 9080\n'])
    const stray = await runCli(['authz', '-f', fixture, '--from-sa', 'a/b'])
    expect([stray.code, stray.stderr]).toEqual([2, 'Error: --from-sa only applies with --check METHOD PATH\n'])
  })
})

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0

describe.skipIf(!hasKubectl)('story 3 live: which policy denies this request', () => {
  let sim: Simulator
  let dir = ''
  beforeAll(async () => {
    sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog.yaml'), 'utf8'), 'catalog')})
    dir = mkdtempSync(join(tmpdir(), 'authz-story3-'))
  })
  afterAll(async () => {
    await sim?.close()
    rmSync(dir, {recursive: true, force: true})
  })

  const meshdbg = (...args: string[]) => runCli([...args, '--timeout', '10s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 20_000})
  const WEBAPP = ['deploy/webapp', '-n', 'istioinaction']
  const kubectlApply = (file: string) =>
    new Promise<string>((resolve) => {
      const child = spawn('kubectl', ['--kubeconfig', sim.kubeconfigPath, '--cache-dir', join(dir, 'cache'), 'apply', '-f', file])
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.on('exit', () => resolve(out))
    })

  it('GET /items from sleep is denied (rbac none) until the fix widens the ALLOW policy; /api/catalog is allowed throughout', async () => {
    const before = await meshdbg('authz', ...WEBAPP, '--check', 'GET', '/items', '--from-sa', 'default/sleep')
    expect(before.code).toBe(10)
    expect(before.stdout.split('\n').slice(0, 4)).toEqual([
      'DENIED: no ALLOW rule matches (HTTP RBAC: rbac_access_denied_matched_policy[none])',
      '  request: GET /items, from spiffe://cluster.local/ns/default/sa/sleep (port 8080, listener virtualInbound)',
      '  1. ALLOW (HTTP): denies',
      '     no match allow-catalog-requests-in-web-app.istioinaction rule 0: needs path /api/catalog*; the request has path /items',
    ])
    const catalog = await meshdbg('authz', ...WEBAPP, '--check', 'GET', '/api/catalog', '-o', 'json')
    expect(catalog.code).toBe(0)
    expect(JSON.parse(catalog.stdout).check).toMatchObject({decision: 'ALLOWED', decidedBy: {policy: 'allow-catalog-requests-in-web-app.istioinaction', rule: '0'}})
    const verbose = await meshdbg('authz', ...WEBAPP, '--verbose')
    expect(verbose.stdout).toContain('ALLOW allow-catalog-requests-in-web-app.istioinaction rule 0 (HTTP, port 8080)\n  to:   path /api/catalog*\n  from: anyone\n')

    expect(await kubectlApply(join(projectRoot, 'scenarios', 'fixes', 'story3-allow-items.yaml'))).toBe('authorizationpolicy.security.istio.io/allow-catalog-requests-in-web-app configured\n')
    // istiod pushes after its debounce and the sidecar ACKs: poll what the proxy accepted.
    let after = await meshdbg('authz', ...WEBAPP, '--check', 'GET', '/items', '--from-sa', 'default/sleep')
    while (after.code === 10) {
      await new Promise((resolve) => setTimeout(resolve, 300))
      after = await meshdbg('authz', ...WEBAPP, '--check', 'GET', '/items', '--from-sa', 'default/sleep')
    }
    expect(after.code).toBe(0)
    expect(after.stdout.split('\n')[0]).toBe('ALLOWED: ALLOW policy allow-catalog-requests-in-web-app.istioinaction rule 0 matches')
    expect((await meshdbg('authz', ...WEBAPP, '--verbose')).stdout).toContain('  to:   path in [/api/catalog*, /items*]\n')
  })
})
