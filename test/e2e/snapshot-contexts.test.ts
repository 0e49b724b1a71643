// Snapshots across contexts, and istiod read the way the live commands read it: two simulators
// (scenarios/catalog.yaml on Istio 1.17.8, scenarios/catalog-1.24.yaml) and a context whose API
// server is down, behind one kubeconfig. In "east" one istiod's port 8080 refuses connections (as
// when istiod's HTTP port is not reachable), so live commands fall back to 15014 with a token; the
// snapshot must record that path for replay to print what the live run printed.
import {execFileSync, spawn} from 'node:child_process'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Simulator} from '../../src/sim/index.js'
import {cliPath, projectRoot, runCli} from '../helpers/cli.js'
import {startMultiCluster, type MultiCluster} from '../helpers/multi-cluster.js'

const CLOSED_8080 = 'istiod-8d74787f-n4c7b'

let clusters: MultiCluster | undefined
let east: Simulator
let dir = ''
let kubeconfig = ''
let multi = ''
let single = ''
let captureMulti: Awaited<ReturnType<typeof runCli>>
let captureSingle: Awaited<ReturnType<typeof runCli>>

const live = (...args: string[]) => runCli([...args, '--timeout', '8s'], {env: {KUBECONFIG: kubeconfig}, killAfterMs: 40_000})
// No kubeconfig at all: replay must not need the clusters.
const replay = (archive: string, ...args: string[]) => runCli([...args, '--timeout', '8s', '--snapshot', archive], {env: {KUBECONFIG: join(dir, 'absent')}, killAfterMs: 40_000})
// Istio 1.24's syncz dates each type: replay reads ages at capture time, a later live run later
// (and a wider age widens its column).
const sameAges = (text: string) => text.replace(/\((?:\d+[hms])+\)/g, '(age)').replace(/ {2,}/g, '  ')
const outcome = (result: Awaited<ReturnType<typeof runCli>>) => ({stdout: sameAges(result.stdout), stderr: result.stderr, code: result.code})
const manifestOf = (archive: string) => JSON.parse(execFileSync('tar', ['xzOf', archive, 'manifest.json'], {encoding: 'utf8'}))

beforeAll(async () => {
  clusters = await startMultiCluster('snapshot-contexts-')
  ;({east, dir, kubeconfig} = clusters)
  east.setFault({pod: CLOSED_8080, namespace: 'istio-system', port: 8080}, {kind: 'refused'})
  multi = join(dir, 'multi.tar.gz')
  single = join(dir, 'east.tar.gz')
  ;[captureMulti, captureSingle] = await Promise.all([
    runCli(['snapshot', '--all-contexts', '-n', 'istioinaction', '-o', multi, '--timeout', '60s'], {env: {KUBECONFIG: kubeconfig}, killAfterMs: 80_000}),
    runCli(['snapshot', '-n', 'istioinaction', '--istiod', '-o', single, '--timeout', '60s'], {env: {KUBECONFIG: kubeconfig}, killAfterMs: 80_000}),
  ])
}, 90_000)

afterAll(async () => {
  await clusters?.close()
})

const GONE = 'context gone: cannot reach the Kubernetes API server at http://127.0.0.1:9 (ECONNREFUSED). Hint: check the cluster of context "gone" is up and reachable'

describe('snapshot --all-contexts', {timeout: 90_000}, () => {
  it('writes one archive with every context; the cluster that is down is recorded as failed and the command exits with its code', () => {
    expect(captureMulti.stderr).toContain(`Error: incomplete (2 of 3 contexts answered): ${GONE}\n`)
    // The failure is said once, in the error line.
    expect(captureMulti.stderr).not.toContain('not captured')
    expect(captureMulti.code).toBe(4)
    expect(captureMulti.stdout).toMatch(/^Wrote .*multi\.tar\.gz: 3 contexts \(east: 4 proxies, 2 istiods; gone: failed; west: 4 proxies, 2 istiods\), \d+ answers/)
    const manifest = manifestOf(multi)
    expect(manifest.version).toBe(2)
    expect(manifest.contexts.map((context: {name: string; error?: {kind: string}}) => [context.name, context.error?.kind ?? 'ok'])).toEqual([['east', 'ok'], ['gone', 'connection'], ['west', 'ok']])
    expect(manifest.contexts[1].error.message).toBe('cannot reach the Kubernetes API server at http://127.0.0.1:9 (ECONNREFUSED)')
    expect(new Set(manifest.entries.map((entry: {context: string}) => entry.context))).toEqual(new Set(['east', 'west']))
    expect(manifest.collections.every((collection: {context?: string}) => collection.context === 'east' || collection.context === 'west')).toBe(true)
  })

  it.each([
    ['sync-status', '--all-contexts'],
    ['sync-status', '--all-contexts', '-n', 'istioinaction', '-o', 'wide'],
    ['sync-status', '--context', 'west', '--context', 'east', '-n', 'istioinaction', '--json'],
    ['version', '--all-contexts'],
    ['version', '--context', 'east', '--context', 'west', '-o', 'json'],
  ])('%s %s %s %s %s %s: identical live and from the snapshot', async (...args) => {
    const [fromCluster, fromSnapshot] = await Promise.all([live(...args), replay(multi, ...args)])
    expect(outcome(fromSnapshot)).toEqual(outcome(fromCluster))
    expect(fromCluster.stdout).toMatch(/east/)
  })

  it.each([
    ['proxy-config', 'cluster', 'deploy/webapp', '-n', 'istioinaction', '--context', 'west'],
    ['proxy-config', 'route', 'deploy/webapp', '-n', 'istioinaction', '--context', 'east'],
    ['sync-status', '--context', 'west', '-n', 'istioinaction'],
    ['istiod', 'config-dump', '--proxy', 'deploy/webapp', '-n', 'istioinaction', '--context', 'east'],
  ])('--context picks one context: %s %s %s', async (...args) => {
    const [fromCluster, fromSnapshot] = await Promise.all([live(...args), replay(multi, ...args)])
    expect(outcome(fromSnapshot)).toEqual(outcome(fromCluster))
    expect(fromCluster.code).toBe(0)
  })

  it('without --context a multi-context archive is a one-line usage error naming its contexts (exit 2); a failed context fails again', async () => {
    const none = await replay(multi, 'proxy-config', 'cluster', 'deploy/webapp', '-n', 'istioinaction')
    expect(none.code).toBe(2)
    expect(none.stdout).toBe('')
    expect(none.stderr).toBe(`Error: snapshot ${multi} holds 3 contexts ("east", "gone", "west"): pick one with --context. Hint: sync-status and version also take --all-contexts\n`)
    const version = await replay(multi, 'version')
    expect(version.code).toBe(2)
    expect(version.stderr).toMatch(/^Error: snapshot .* holds 3 contexts \("east", "gone", "west"\): pick one with --context/)
    const [goneVersionLive, goneVersionReplay] = await Promise.all([live('version', '--context', 'gone'), replay(multi, 'version', '--context', 'gone')])
    expect({stdout: goneVersionReplay.stdout, stderr: goneVersionReplay.stderr, code: goneVersionReplay.code}).toEqual({stdout: goneVersionLive.stdout, stderr: goneVersionLive.stderr, code: 0})
    const unknown = await replay(multi, 'sync-status', '--context', 'north')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe(`Error: snapshot ${multi} holds no context "north" (it holds "east", "gone", "west")\n`)
    const [goneLive, goneReplay] = await Promise.all([live('sync-status', '--context', 'gone'), replay(multi, 'sync-status', '--context', 'gone')])
    expect(goneReplay.code).toBe(4)
    expect(goneReplay.stderr).toBe(goneLive.stderr)
  })
})

describe('meshdbg sim --snapshot of a multi-context archive', {timeout: 90_000}, () => {
  it('needs --context (exit 2 naming the contexts), then serves that context: meshdbg against it prints what --snapshot --context prints', async () => {
    const refused = await runCli(['sim', '--snapshot', multi])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/^Error: snapshot .* holds 3 contexts \("east", "gone", "west"\): pick one with --context/)
    const child = spawn(process.execPath, [cliPath, 'sim', '--snapshot', multi, '--context', 'west'], {cwd: projectRoot, env: {...process.env, NO_COLOR: '1'}})
    try {
      const served = await new Promise<string>((resolve, reject) => {
        let stdout = ''
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk
          const match = /^KUBECONFIG=(.+)$/m.exec(stdout)
          if (match) resolve(match[1])
        })
        child.on('exit', () => reject(new Error('meshdbg sim exited before serving')))
      })
      const args = ['proxy-config', 'cluster', 'deploy/webapp', '-n', 'istioinaction']
      const [fromServed, fromSnapshot] = await Promise.all([
        runCli([...args, '--timeout', '8s'], {env: {KUBECONFIG: served}, killAfterMs: 40_000}),
        replay(multi, ...args, '--context', 'west'),
      ])
      expect(fromServed.code).toBe(0)
      expect(fromServed.stdout).toBe(fromSnapshot.stdout)
    } finally {
      child.kill('SIGTERM')
    }
  })
})

describe('snapshot of istiod when port 8080 does not answer', {timeout: 90_000}, () => {
  it('records 8080\'s failure and the 15014 answers (never the token); one context stays format version 1', () => {
    expect(captureSingle.code).toBe(0)
    expect(captureSingle.stderr).toContain(`istiod ${CLOSED_8080}: port 8080 did not answer; capturing port 15014 with a bearer token`)
    const manifest = manifestOf(single)
    expect(manifest.version).toBe(1)
    const fromIstiod = manifest.entries.filter((entry: {source: {pod?: string}}) => entry.source.pod === CLOSED_8080)
    expect(fromIstiod.some((entry: {source: {port: number; path: string}; error?: {kind: string}}) => entry.source.port === 8080 && entry.source.path === '/debug/syncz' && entry.error?.kind === 'connection')).toBe(true)
    expect(fromIstiod.some((entry: {source: {port: number; path: string}; status?: number}) => entry.source.port === 15014 && entry.source.path === '/debug/syncz' && entry.status === 200)).toBe(true)
    const archive = execFileSync('tar', ['xzOf', single], {encoding: 'utf8', maxBuffer: 256 * 1024 * 1024})
    // The token that read 15014 (a JWT, as the simulator's TokenRequests answer) is nowhere in it.
    expect(archive).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./)
  })

  it.each([
    ['sync-status'],
    ['sync-status', '-n', 'istioinaction', '-o', 'wide'],
    ['version', '--short=false'],
    ['istiod', 'syncz'],
    ['istiod', 'registryz'],
    ['istiod', 'config-dump', '--proxy', 'deploy/catalog', '-n', 'istioinaction'],
  ])('%s %s %s %s %s: identical live and from the snapshot, the fallback note included', async (...args) => {
    const [fromCluster, fromSnapshot] = await Promise.all([live(...args), replay(single, ...args)])
    expect({stdout: fromSnapshot.stdout, stderr: fromSnapshot.stderr, code: fromSnapshot.code}).toEqual({stdout: fromCluster.stdout, stderr: fromCluster.stderr, code: fromCluster.code})
    // Every replica answers sync-status: the live run's fallback shows, and replay repeats it.
    if (args[0] === 'sync-status') expect(fromCluster.stderr).toContain(`istiod ${CLOSED_8080}: port 8080 did not answer; using port 15014 with a bearer token`)
    expect(fromCluster.code).toBe(0)
  })
})
