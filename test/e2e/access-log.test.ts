import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {STORY2_GATEWAY_JSON, STORY2_GATEWAY_TEXT, STORY2_SERVER_TEXT} from '../fixtures/access-log/story-lines.js'
import {runCli} from '../helpers/cli.js'

const story2Log = join(import.meta.dirname, '..', 'fixtures', 'access-log', 'story2-gateway.log')

describe('meshdbg explain', () => {
  it('explains lines from stdin, skipping and counting the rest', async () => {
    const input = ['[2025-05-09 08:45:40.101][15][warning][config] gRPC stream closed', STORY2_GATEWAY_TEXT, '', STORY2_SERVER_TEXT].join('\n') + '\n'
    const result = await runCli(['explain'], {input})
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^\[2025-05-09T08:45:41\.636Z\] GET \/items -> 504 UT {2}\(catalog\.istioinaction\.io:30000\)\n {2}The proxy timed out after 0\.5 s waiting for catalog v2 at 10\.10\.0\.13:3000/)
    expect(result.stdout).toMatch(/\n {2}The client went away: /)
    expect(result.stderr).toBe('skipped 2 lines that are not access-log entries\n')
  })

  it('takes lines as arguments and prints JSON with -o json', async () => {
    const result = await runCli(['explain', STORY2_GATEWAY_JSON, '-o', 'json'])
    expect(result.code).toBe(0)
    const parsed = JSON.parse(result.stdout)
    expect(parsed.skipped).toBe(0)
    expect(parsed.explanations).toHaveLength(1)
    expect(parsed.explanations[0].entry).toMatchObject({encoding: 'json', responseFlags: ['UT'], durationMs: 501})
    expect(parsed.explanations[0].explanation.summary).toMatch(/timed out after 0\.5 s waiting for catalog v2/)
  })

  it('one skipped line reads in the singular; -o json keeps stderr quiet', async () => {
    const input = ['[2025-05-09 08:45:40.101][15][warning][config] gRPC stream closed', STORY2_GATEWAY_TEXT].join('\n') + '\n'
    const table = await runCli(['explain'], {input})
    expect(table.code).toBe(0)
    expect(table.stderr).toBe('skipped 1 line that is not an access-log entry\n')
    const json = await runCli(['explain', '-o', 'json'], {input})
    expect(json.code).toBe(0)
    expect(json.stderr).toBe('')
    expect(JSON.parse(json.stdout).skipped).toBe(1)
  })

  it('input without any access-log line is bad data (exit 6)', async () => {
    const result = await runCli(['explain'], {input: 'hello\nworld\n'})
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^skipped 2 lines that are not access-log entries\nError: no access-log line found in the input\. Hint: /)
  })
})

describe('meshdbg access-log -f', () => {
  it('prints the table and the skipped count', async () => {
    const result = await runCli(['access-log', '-f', story2Log])
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^TIME {22}METHOD {2}PATH {4}CODE {2}FLAGS {2}DETAILS {11}DURATION {2}UPSTREAM HOST {4}UPSTREAM CLUSTER$/)
    expect(lines).toHaveLength(11)
    expect(result.stderr).toBe('skipped 3 lines that are not access-log entries\n')
  })

  it('filters with --status and --upstream-cluster, reading stdin with -f -', async () => {
    const {readFileSync} = await import('node:fs')
    const result = await runCli(['access-log', '-f', '-', '--status', '5xx', '--upstream-cluster', 'version-v2'], {input: readFileSync(story2Log)})
    expect(result.code).toBe(0)
    const rows = result.stdout.trimEnd().split('\n').slice(1)
    expect(rows).toHaveLength(3)
    expect(rows.every((row) => / 504 +UT +response_timeout +50[01]ms +10\.10\.0\.13:3000 /.test(row))).toBe(true)
  })

  it('--summary singles out the slow pod', async () => {
    const result = await runCli(['access-log', '-f', story2Log, '--summary'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^10\.10\.0\.13:3000 .* 75% +500ms +501ms +<- 75% 5xx vs 0% on its peers; p50 500ms vs 14ms on its peers$/m)
  })

  it('--explain -o json adds an explanation to each NDJSON object', async () => {
    const result = await runCli(['access-log', '-f', story2Log, '--flags', 'UT', '--explain', '-o', 'json'])
    expect(result.code).toBe(0)
    const objects = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line))
    expect(objects).toHaveLength(3)
    expect(objects[0].explanation.summary).toMatch(/^The proxy timed out after 0\.5 s/)
  })

  it('usage errors: a bad --status, a missing file, a pod without cluster access', async () => {
    const badStatus = await runCli(['access-log', '-f', story2Log, '--status', '5x'])
    expect(badStatus.code).toBe(2)
    expect(badStatus.stderr).toMatch(/^Error: invalid --status "5x"/)
    const missing = await runCli(['access-log', '-f', '/nonexistent/gw.log'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toBe('Error: cannot read /nonexistent/gw.log: no such file\n')
    const live = await runCli(['access-log', 'deploy/istio-ingressgateway'], {env: {KUBECONFIG: '/nonexistent/kubeconfig'}})
    expect(live.code).toBe(2)
    expect(live.stderr).toMatch(/^Error: no kubeconfig: none of the files in KUBECONFIG exist/)
  })

  it('a log without any access-log entry is bad data (exit 6) with a hint about enabling access logs', async () => {
    const result = await runCli(['access-log', '-f', '-'], {input: '[2025-05-09 08:45:40.101][15][warning][config] gRPC stream closed\n'})
    expect(result.code).toBe(6)
    expect(result.stderr).toMatch(/Error: no access-log entry in stdin\. Hint: are access logs enabled/)
  })
})

describe('access-log -f with a 50 MB line', () => {
  it('skips and counts the long line, and reads the lines after it', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'meshdbg-longline-'))
    try {
      const file = join(scratch, 'long.log')
      // A bracket-led line looks like the start of a TEXT entry, so nothing rejects it early.
      writeFileSync(file, '['.repeat(50_000_000) + '\n' + readFileSync(story2Log, 'utf8'))
      // Generous: splitting is linear now; rescanning the pending line per chunk took minutes.
      const result = await runCli(['access-log', '-f', file, '-o', 'json'], {killAfterMs: 60_000})
      const expected = await runCli(['access-log', '-f', story2Log, '-o', 'json'])
      expect(result.code).toBe(0)
      expect(result.stdout).toBe(expected.stdout)
      expect(result.stderr).toBe('')
      const table = await runCli(['access-log', '-f', file], {killAfterMs: 60_000})
      expect(table.stderr).toBe('skipped 4 lines that are not access-log entries\n')
    } finally {
      rmSync(scratch, {recursive: true, force: true})
    }
  }, 120_000)
})
