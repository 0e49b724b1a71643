// kubectl/istioctl habits (issue 10): help, usage errors, flag spellings, -o values, --no-headers
// and the one --json envelope, through bin/run.js with saved inputs (no cluster).
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {colorEnabled} from '../../src/lib/color.js'
import {cliPath, runCli} from '../helpers/cli.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures')
const clusters = join(fixtures, 'clusters', 'dump.json')
const routes = join(fixtures, 'routes', 'sidecar.json')
const syncz = join(fixtures, 'syncz', 'istiod-a.json')
const allDump = join(fixtures, 'all', 'dump.json')
const plain = {env: {NO_COLOR: '1', FORCE_COLOR: undefined}}

describe('help (item 1)', () => {
  it('-h on a command prints its help and exits 0', async () => {
    const result = await runCli(['pc', 'cluster', '-h'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Show the clusters of an Envoy proxy/)
    expect(result.stdout).toContain('EXIT CODES')
  })

  it('help X and help pc cluster print the command\'s help', async () => {
    for (const args of [['help', 'pc', 'cluster'], ['help', 'proxy-config', 'cluster'], ['help', 'sync-status']]) {
      const result = await runCli(args)
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^Show /)
      expect(result.stdout).toContain('USAGE')
    }
  })

  it('pc --help, help pc and proxy-config --help show the topic, without aliases in the list', async () => {
    for (const args of [['pc', '--help'], ['help', 'pc'], ['proxy-config', '--help'], ['proxy-config']]) {
      const result = await runCli(args)
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('$ meshdbg proxy-config COMMAND')
      expect(result.stdout).toMatch(/^ {2}proxy-config cluster /m)
      expect(result.stdout).not.toMatch(/^ {2}proxy-config (c|clusters|ep|r|routes|log) /m)
    }
  })

  it('the root list hides aliases; a command\'s page names them; the aliases still run', async () => {
    const root = await runCli(['--help'])
    expect(root.stdout).toMatch(/^ {2}sync-status /m)
    expect(root.stdout).not.toMatch(/^ {2}(ps|proxy-status|pc) /m)
    const page = await runCli(['sync-status', '--help'])
    expect(page.stdout).toMatch(/ALIASES\n {2}\$ meshdbg proxy-status\n {2}\$ meshdbg ps\n/)
    expect((await runCli(['ps', '-f', syncz], plain)).code).toBe(0)
    expect((await runCli(['pc', 'c', '-f', clusters])).code).toBe(0)
  })

  // These two go through the command_not_found hook (package.json oclif.hooks).
  it('meshdbg -h and a bare meshdbg pc print help', async () => {
    const root = await runCli(['-h'])
    expect(root.code).toBe(0)
    expect(root.stdout).toContain('TOPICS')
    for (const args of [['pc'], ['pc', '-h']]) {
      const topic = await runCli(args)
      expect(topic.code).toBe(0)
      expect(topic.stdout).toContain('$ meshdbg proxy-config COMMAND')
    }
  })
})

describe('usage errors keep the useful part on one line (item 2)', () => {
  it('a missing argument is named, with its values', async () => {
    const result = await runCli(['istiod'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: missing argument VIEW (one of: syncz, adsz, edsz, registryz, configz, authorizationz, push-status, config-dump, instances)\n')
  })

  it('a flag value that does not parse says which flag, the value and why', async () => {
    const result = await runCli(['pc', 'c', '-f', clusters, '--port', 'abc'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: invalid value for --port: expected an integer but received: abc\n')
  })

  it('a value outside a flag\'s options lists them', async () => {
    const result = await runCli(['pc', 'c', '-f', clusters, '-o', 'xml'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: output format "xml" not supported (use short, table, wide, json, yaml)\n')
  })

  it('--json gets the same one-line message in the envelope', async () => {
    const result = await runCli(['pc', 'c', '-f', clusters, '--port', 'abc', '--json'])
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stdout)).toEqual({status: 2, result: null, error: {kind: 'usage', message: 'invalid value for --port: expected an integer but received: abc'}})
  })
})

describe('unknown commands (item 3, the command_not_found hook)', () => {
  it('names what was typed in spaces, suggests the closest command and exits 2', async () => {
    const result = await runCli(['proxy-confg', 'cluster'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: unknown command "proxy-confg cluster"; did you mean "proxy-config cluster"? (meshdbg --help lists the commands)\n')
    const alias = await runCli(['pc', 'clustr', 'deploy/x'])
    expect(alias.code).toBe(2)
    expect(alias.stderr).toBe('Error: unknown command "pc clustr"; did you mean "pc cluster"? (meshdbg --help lists the commands)\n')
  })

  it('help for an unknown name is the same error', async () => {
    const result = await runCli(['proxy-confg', '--help'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: unknown command "proxy-confg"; did you mean "proxy-config"? (meshdbg --help lists the commands)\n')
  })
})

describe('istioctl and kubectl flag spellings (item 4)', () => {
  it('-i, --istioNamespace and --istio-namespace are one flag; -r is --revision', async () => {
    for (const spelling of [['-i', 'x'], ['--istioNamespace', 'x'], ['--istio-namespace', 'x'], ['-r', 'canary']]) {
      const result = await runCli(['sync-status', '-f', syncz, ...spelling], plain)
      expect(result.code).toBe(0)
    }
  })

  it('-c is --kubeconfig (a missing file is named), except where -c is the container (access-log)', async () => {
    const result = await runCli(['pc', 'c', 'pod-x', '-c', '/nonexistent/kubeconfig'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: kubeconfig /nonexistent/kubeconfig not found (--kubeconfig)\n')
    const container = await runCli(['access-log', '-f', '-', '-c', 'istio-proxy'], {input: ''})
    expect(container.stderr).toBe('Error: --follow, --since, --tail and --container apply to a pod, not to --file\n')
  })

  it('--request-timeout is --timeout; --timeout 0 is no deadline', async () => {
    expect((await runCli(['pc', 'c', '-f', clusters, '--request-timeout', 'soon'])).stderr).toBe(
      'Error: invalid --timeout "soon": use a duration such as 500ms, 3s, 2m or 1m30s\n',
    )
    // stdin stays open for a moment: any deadline of 0 would end the command with exit 5 first.
    const child = spawn(process.execPath, [cliPath, 'pc', 'c', '-f', '-', '--timeout', '0'], {stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    setTimeout(() => child.stdin.end(readFileSync(clusters)), 300)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(stdout).toMatch(/^SERVICE FQDN/)
  })

  it('--as-group needs --as, as in kubectl', async () => {
    const result = await runCli(['pc', 'c', 'pod-x', '--as-group', 'ops', '--kubeconfig', join(fixtures, 'kubeconfig', 'two-contexts.yaml')])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: --as-group needs --as (as in kubectl)\n')
  })

  it('FORCE_COLOR colours a table in a pipe; NO_COLOR does not', async () => {
    const forced = await runCli(['sync-status', '-f', syncz], {env: {NO_COLOR: undefined, FORCE_COLOR: '1'}})
    expect(forced.stdout).toContain('\u001B[32mSYNCED')
    const off = await runCli(['sync-status', '-f', syncz], {env: {NO_COLOR: '1', FORCE_COLOR: undefined}})
    expect(off.stdout).not.toContain('\u001B[')
  })

  it.each([
    [{}, true, true],
    [{}, false, false],
    [{NO_COLOR: '1'}, true, false],
    [{TERM: 'dumb'}, true, false],
    [{FORCE_COLOR: '1'}, false, true],
    [{FORCE_COLOR: '1', NO_COLOR: '1'}, false, true],
    [{FORCE_COLOR: '0'}, true, false],
  ])('colour with env %j on a terminal=%s: %s', (env, isTTY, expected) => {
    expect(colorEnabled({env, isTTY})).toBe(expected)
    expect(colorEnabled({env, isTTY, noColorFlag: true})).toBe(false)
  })
})

describe('-o values and --no-headers (item 5)', () => {
  it('short, table and wide are the same table wherever a table exists, and --help lists the values', async () => {
    for (const [command, file] of [[['pc', 'c'], clusters], [['sync-status'], syncz]] as const) {
      const outputs = await Promise.all(['short', 'table'].map((output) => runCli([...command, '-f', file, '-o', output], plain)))
      expect(outputs.map((output) => output.code)).toEqual([0, 0])
      expect(outputs[0].stdout).toBe(outputs[1].stdout)
      const help = await runCli([...command, '--help'])
      expect(help.stdout).toContain('-o, --output=<option>')
      expect(help.stdout).toMatch(/<options: short\|table\|wide\|json\|yaml>/)
    }
  })

  it('sync-status -o wide adds the proxy TYPE and the NACK text', async () => {
    const result = await runCli(['sync-status', '-f', syncz, '-o', 'wide'], plain)
    expect(result.code).toBe(0)
    const [header, , nacked] = result.stdout.split('\n')
    expect(header).toMatch(/ {5}VERSION {5}TYPE {5,}NACK$/)
    expect(nacked).toMatch(/ {5}LDS: Proto constraint validation failed$/)
  })

  it('--json and -o together are a usage error', async () => {
    const result = await runCli(['sync-status', '-f', syncz, '--json', '-o', 'json'])
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stdout).error.message).toBe('--json and -o/--output cannot be used together (--json prints the typed result, -o the output format)')
  })

  it('--no-headers prints the rows only', async () => {
    const table = await runCli(['pc', 'c', '-f', clusters], plain)
    const rows = await runCli(['pc', 'c', '-f', clusters, '--no-headers'], plain)
    expect(rows.stdout).toBe(table.stdout.slice(table.stdout.indexOf('\n') + 1))
    const sync = await runCli(['sync-status', '-f', syncz, '--no-headers', '-o', 'wide'], plain)
    expect(sync.stdout.split('\n')[0]).toMatch(/^api-5f6g7h8j9-aa1bb\.payments /)
  })
})

describe('one --json envelope (item 6)', () => {
  it('sync-status --json has the same shape whether or not --fail-on trips', async () => {
    const ok = JSON.parse((await runCli(['sync-status', '-f', syncz, '--json'])).stdout)
    const tripped = await runCli(['sync-status', '-f', syncz, '--json', '--fail-on', 'error'])
    expect(tripped.code).toBe(10)
    const failed = JSON.parse(tripped.stdout)
    expect(Object.keys(ok)).toEqual(['status', 'result'])
    expect(Object.keys(failed)).toEqual(['status', 'result', 'error'])
    expect(ok.status).toBe(0)
    expect(failed.status).toBe(10)
    expect(failed.result).toEqual(ok.result)
    expect(ok.result.proxies).toHaveLength(2)
  })

  it('a failure before any result has result null; notes become warnings', async () => {
    const bad = JSON.parse((await runCli(['pc', 'c', '-f', '-', '--json'], {input: 'nope'})).stdout)
    expect(bad.result).toBeNull()
    expect(bad.status).toBe(6)
    const onlyClusters = JSON.stringify({configs: JSON.parse(readFileSync(allDump, 'utf8')).configs.filter((c: {'@type': string}) => c['@type'].endsWith('ClustersConfigDump'))})
    const partial = await runCli(['pc', 'all', '-f', '-', '--json'], {input: onlyClusters})
    expect(partial.stderr).toBe('')
    const body = JSON.parse(partial.stdout)
    expect(body.status).toBe(0)
    expect(body.warnings).toEqual(['stdin: no Bootstrap, Listeners, Routes, Secrets section in this dump; left out'])
    expect(body.result.clusters.length).toBeGreaterThan(0)
  })
})

describe('typed results carry data, not display text (item 7)', () => {
  it('pc route --json: domains is the list of domains', async () => {
    const body = JSON.parse((await runCli(['pc', 'r', '-f', routes, '--json'])).stdout)
    const reviews = body.result.routes.find((route: {name: string}) => route.name === '9080').entries[0]
    expect(reviews.domains).toEqual(expect.arrayContaining(['reviews.default.svc.cluster.local', 'reviews', 'reviews:9080']))
    expect(reviews.domains.some((domain: string) => domain.includes('more...'))).toBe(false)
    const items = body.result.routes.find((route: {name: string}) => route.name === '80').entries[0]
    expect(items.match).toEqual({pathSeparatedPrefix: '/items'})
  })

  it('sync-status --json: states and RFC 3339 send times, not the table\'s "SYNCED (327d)" cells', async () => {
    const body = JSON.parse((await runCli(['sync-status', '-f', syncz, '--json'])).stdout)
    const web = body.result.proxies.find((row: {proxy: string}) => row.proxy.startsWith('web-'))
    expect(web.types.CDS).toEqual({state: 'SYNCED', typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', lastUpdated: expect.stringMatching(/^\d{4}-\d\d-\d\dT/)})
    expect(JSON.stringify(body)).not.toContain('"display"')
  })

  it('pc endpoint --json (EDS): each endpoint\'s addresses as a list', async () => {
    const body = JSON.parse((await runCli(['pc', 'ep', '-f', join(fixtures, 'endpoints', 'eds-dump.json'), '--json'])).stdout)
    expect(body.result.source).toBe('eds')
    expect(body.result.endpoints.length).toBeGreaterThan(0)
    for (const endpoint of body.result.endpoints) expect(Array.isArray(endpoint.addresses)).toBe(true)
  })
})
