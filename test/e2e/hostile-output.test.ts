// Hostile text from dumps and peers never reaches the terminal raw (tables, explain, errors, notes),
// `-o json|yaml` and `--json` stay exact, and key material is redacted from every dump meshdbg prints.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {runCli, type CliResult} from '../helpers/cli.js'
import {
  BIDI, FORGED_ROW, HOSTILE_DUMP_KEYS, hostileDump, OSC0, OSC52, PRIVATE_KEY_B64, PRIVATE_KEY_PEM, RAW_CONTROL,
} from '../fixtures/hostile/payloads.js'

const NS = 'istioinaction'
const WEBAPP = 'webapp-7c5d7b8c6b-4vzd9'
const ISTIODS = ['istiod-8d74787f-n4c7b', 'istiod-8d74787f-x2k9p']
const GUARD = {killAfterMs: 15_000}

let scratch: string
let dumpFile: string
let sim: Simulator

const keyMaterial = [PRIVATE_KEY_B64, PRIVATE_KEY_PEM.split('\n')[1], 'hmac-secret-value', 'dGlja2V0LWtleS0x']

function expectNoKeyMaterial(text: string): void {
  for (const secret of keyMaterial) expect(text).not.toContain(secret)
  // JSON and YAML escape the PEM's newlines: look for its body line too (done above) and its header.
  expect(text).not.toContain('BEGIN PRIVATE KEY')
}

function expectSafeForTerminal(result: CliResult): void {
  expect(result.stdout).not.toMatch(RAW_CONTROL)
  expect(result.stderr).not.toMatch(RAW_CONTROL)
}

const errorLine = (result: CliResult) => result.stderr.trimEnd().split('\n').at(-1) ?? ''

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'meshdbg-hostile-'))
  dumpFile = join(scratch, 'hostile.json')
  writeFileSync(dumpFile, JSON.stringify(hostileDump(), null, 1))
  sim = await startSimulator({scenario: 'catalog'})
})

afterAll(async () => {
  await sim?.close()
  if (scratch) rmSync(scratch, {recursive: true, force: true})
})

afterEach(() => {
  sim.setFault({pod: WEBAPP, namespace: NS}, undefined)
  sim.setFault({pod: WEBAPP, namespace: NS, port: 15000}, undefined)
  for (const pod of ISTIODS) sim.setFault({pod, namespace: 'istio-system', port: 8080}, undefined)
})

describe('proxy-config tables from a hostile dump (-f)', () => {
  it('cluster: a newline cannot forge a row, OSC 52 and bidi overrides are shown as escapes', async () => {
    const result = await runCli(['pc', 'cluster', '-f', dumpFile])
    expect(result.code).toBe(0)
    expectSafeForTerminal(result)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(5)
    expect(lines[1]).toMatch(/^evil\\nFORGED 1 2 3 +- /)
    expect(result.stdout).toContain('evil\\x1b]52;c;ZWNobyBwd25lZA==\\x07.svc.cluster.local')
    expect(result.stdout).toContain('\\u202egnp.exe')
  })

  const escapedIn: Record<string, string[]> = {
    'listener': ['0.0.0.0\\u009b31m', 'Cluster: dest\\x1b]52;'],
    'route': ['route\\x1b]0;owned\\x07', 'vhost\\u202egnp.exe', 'a.example.comx\\x7fy'],
    'secret': ['default\\x1b]52;c;ZWNobyBwd25lZA==\\x07'],
    'bootstrap -o short': ['Istio Version: 1.27.1\\x1b]0;owned\\x07'],
    'all': ['Istio Version: 1.27.1\\x1b]0;owned\\x07', 'listener/listener\\x1b]0;owned\\x07', 'route/route\\x1b]0;owned\\x07'],
    'all --verbose=false': ['listener/listener\\x1b]0;owned\\x07'],
  }
  for (const [command, escaped] of Object.entries(escapedIn)) {
    it(`${command}: every data cell is escaped`, async () => {
      const result = await runCli(['pc', ...command.split(' '), '-f', dumpFile])
      expect(result.code).toBe(0)
      expectSafeForTerminal(result)
      for (const text of escaped) expect(result.stdout).toContain(text)
    })
  }

  it('-o json stays exact: the names come back as they are in the dump', async () => {
    const result = await runCli(['pc', 'cluster', '-f', dumpFile, '-o', 'json'])
    expect(result.code).toBe(0)
    const names = (JSON.parse(result.stdout) as Array<{name: string}>).map((cluster) => cluster.name)
    expect(names).toContain(FORGED_ROW)
    expect(names).toContain(`outbound|80||evil${OSC52}.svc.cluster.local`)
    const summaries = JSON.parse((await runCli(['pc', 'cluster', '-f', dumpFile, '--json'])).stdout) as {result: {clusters: Array<{name: string}>}}
    expect(summaries.result.clusters.map((cluster) => cluster.name)).toContain(`outbound|80|${BIDI}|reviews.shop.svc.cluster.local`)
  })

  it('a JSON parse error quotes the bad bytes escaped', async () => {
    const bad = join(scratch, 'bad.json')
    writeFileSync(bad, `{"configs": [${OSC0}]}`)
    const result = await runCli(['pc', 'cluster', '-f', bad])
    expect(result.code).toBe(6)
    expectSafeForTerminal(result)
    expect(errorLine(result)).toContain('\\x1b')
  })
})

describe('access-log and explain', () => {
  const line = JSON.stringify({
    start_time: '2025-05-09T08:45:41.636Z', method: 'GET', path: `/x${OSC52}`, response_code: 503, response_flags: 'UH',
    response_code_details: 'no_healthy_upstream', duration: 1, upstream_host: `10.0.0.1:80${BIDI}`,
    upstream_cluster: `outbound|80||${FORGED_ROW}.svc.cluster.local`, authority: `h${OSC0}`,
  })

  for (const extra of [[], ['--summary'], ['--explain']]) {
    it(`access-log -f ${extra.join(' ')}`, async () => {
      const file = join(scratch, 'access.log')
      writeFileSync(file, `${line}\nnot an access log line ${OSC0}\n`)
      const result = await runCli(['access-log', '-f', file, ...extra])
      expect(result.code).toBe(0)
      expectSafeForTerminal(result)
      if (extra.length === 0) {
        expect(result.stdout.trimEnd().split('\n')).toHaveLength(2)
        expect(result.stdout).toContain('/x\\x1b]52;c;ZWNobyBwd25lZA==\\x07')
      }
    })
  }

  it('explain: escaped for the terminal, exact with -o json', async () => {
    const human = await runCli(['explain', line])
    expect(human.code).toBe(0)
    expectSafeForTerminal(human)
    expect(human.stdout).toContain('(h\\x1b]0;owned\\x07)')
    const json = await runCli(['explain', line, '-o', 'json'])
    expect((JSON.parse(json.stdout) as {explanations: Array<{entry: {path: string}}>}).explanations[0].entry.path).toBe(`/x${OSC52}`)
  })
})

describe('private keys are redacted in every output path, with a count on stderr', () => {
  const cases: Array<{args: string[]; keys: number}> = [
    {args: ['bootstrap'], keys: 1},
    {args: ['bootstrap', '-o', 'yaml'], keys: 1},
    {args: ['cluster', '-o', 'json'], keys: 1},
    {args: ['cluster', '-o', 'yaml'], keys: 1},
    {args: ['listener', '-o', 'json'], keys: 1},
    {args: ['secret', '-o', 'json'], keys: 1},
    {args: ['secret', '-o', 'yaml'], keys: 1},
    {args: ['all', '-o', 'json'], keys: HOSTILE_DUMP_KEYS},
    {args: ['all', '-o', 'yaml'], keys: HOSTILE_DUMP_KEYS},
  ]
  for (const {args, keys} of cases) {
    it(`pc ${args.join(' ')}`, async () => {
      const result = await runCli(['pc', ...args, '-f', dumpFile])
      expect(result.code).toBe(0)
      expectNoKeyMaterial(result.stdout)
      expect(result.stdout).toContain('[redacted]')
      expect(result.stderr).toMatch(new RegExp(`^redacted ${keys} private keys? `, 'm'))
    })
  }

  it('what Envoy already redacted is printed as Envoy printed it, and not counted', async () => {
    const result = await runCli(['pc', 'secret', '-f', dumpFile, '-o', 'json'])
    expect(result.stdout).toContain('"inline_bytes": "W3JlZGFjdGVkXQ=="')
    expect(result.stdout).toContain('"inline_string": "[redacted]"')
  })

  it('a dump without key material prints no note', async () => {
    const result = await runCli(['pc', 'route', '-f', dumpFile, '-o', 'json'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
  })

  for (const output of [[], ['-o', 'json']]) {
    it(`the sync-status diff ${output.length === 0 ? '(table)' : output.join(' ')}`, async () => {
      const istiodFile = join(scratch, 'istiod-view.json')
      const envoyFile = join(scratch, 'envoy-dump.json')
      writeFileSync(istiodFile, JSON.stringify(hostileDump()))
      // Envoy lacks the cluster holding a key, and names the bidi one differently: both are diff lines.
      const envoy = hostileDump() as {configs: Array<{dynamic_active_clusters?: Array<{cluster: {name: string}}>}>}
      envoy.configs[1].dynamic_active_clusters!.pop()
      envoy.configs[1].dynamic_active_clusters![2].cluster.name = 'outbound|80|v1|reviews.shop.svc.cluster.local'
      writeFileSync(envoyFile, JSON.stringify(envoy))
      const result = await runCli(['sync-status', '--diff-istiod', istiodFile, '--diff-envoy', envoyFile, ...output])
      expect(result.code).toBe(10)
      expect(result.stdout).toContain('[redacted]')
      expectNoKeyMaterial(result.stdout)
      expect(result.stderr).toMatch(/^redacted \d+ private keys /m)
      if (output.length === 0) {
        // JSON.stringify leaves bidi controls raw: the diff is escaped line by line.
        expectSafeForTerminal(result)
        expect(result.stdout).toContain('-        "name": "outbound|80|\\u202egnp.exe|reviews.shop.svc.cluster.local",')
      } else {
        expect(JSON.stringify(JSON.parse(result.stdout))).toContain(BIDI)
      }
    })
  }
})

describe('live: text from peers', () => {
  const live = (args: string[]) => runCli(args, {env: {KUBECONFIG: sim.kubeconfigPath}, ...GUARD})

  // The simulator has no way back to the generated dump: the other live tests fault this pod first.
  it('a hostile config dump served by the proxy: the table is escaped', async () => {
    sim.setConfigDump({pod: WEBAPP, namespace: NS}, JSON.stringify(hostileDump(), null, 1))
    const table = await live(['pc', 'cluster', `${WEBAPP}.${NS}`])
    expect(table.code).toBe(0)
    expectSafeForTerminal(table)
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(5)
  })

  it('a hostile config dump served by the proxy: -o json is redacted', async () => {
    sim.setConfigDump({pod: WEBAPP, namespace: NS}, JSON.stringify(hostileDump(), null, 1))
    const json = await live(['pc', 'all', `${WEBAPP}.${NS}`, '-o', 'json'])
    expect(json.code).toBe(0)
    expectNoKeyMaterial(json.stdout)
    expect(json.stderr).toMatch(new RegExp(`^redacted ${HOSTILE_DUMP_KEYS} private keys `, 'm'))
  })

  it('a non-200 body from the admin API', async () => {
    sim.setFault({pod: WEBAPP, namespace: NS}, {kind: 'http-status', status: 503, body: `upstream ${OSC52}${BIDI} failed`})
    const result = await live(['pc', 'cluster', `${WEBAPP}.${NS}`])
    expect(result.code).toBe(4)
    expectSafeForTerminal(result)
    expect(errorLine(result)).toContain('returned HTTP 503: upstream \\x1b]52;c;ZWNobyBwd25lZA==\\x07\\u202egnp.exe failed')
  })

  it('an API Status message refusing the port-forward', async () => {
    sim.setFault({pod: WEBAPP, namespace: NS}, {kind: 'status', code: 500, message: `error dialing backend ${OSC0}\nForged: line`})
    const result = await live(['pc', 'cluster', `${WEBAPP}.${NS}`])
    expect(result.code).toBe(4)
    expectSafeForTerminal(result)
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(errorLine(result)).toContain('error dialing backend \\x1b]0;owned\\x07')
  })

  it('log: logger names from the proxy\'s /logging answer', async () => {
    const body = `active loggers:\n  admin: info\n  http${OSC52}: debug\n  router${BIDI}: info\n`
    sim.setFault({pod: WEBAPP, namespace: NS, port: 15000}, {kind: 'http-status', status: 200, body})
    const table = await live(['log', `${WEBAPP}.${NS}`])
    expect(table.code).toBe(0)
    expectSafeForTerminal(table)
    expect(table.stdout).toContain('http\\x1b]52;c;ZWNobyBwd25lZA==\\x07')
    const json = await live(['log', `${WEBAPP}.${NS}`, '-o', 'json'])
    expect(json.stdout).toContain(JSON.stringify(`http${OSC52}`))
  })

  for (const output of [['-o', 'json'], ['-o', 'yaml'], ['--json']]) {
    it(`istiod config-dump ${output.join(' ')}: key material redacted`, async () => {
      const body = JSON.stringify(hostileDump())
      for (const pod of ISTIODS) sim.setFault({pod, namespace: 'istio-system', port: 8080}, {kind: 'http-status', status: 200, body})
      const result = await live(['istiod', 'config-dump', '--proxy', `${WEBAPP}.${NS}`, ...output])
      expect(result.code).toBe(0)
      expectNoKeyMaterial(result.stdout)
      expect(result.stdout).toContain('[redacted]')
      expect(result.stderr).toMatch(new RegExp(`^redacted ${HOSTILE_DUMP_KEYS} private keys `, 'm'))
    })
  }
})
