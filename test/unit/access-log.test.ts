import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {
  accessLogEntries,
  buildEntryFilter,
  newParseStats,
  OVERLONG_LINE,
  parseAccessLogLine,
  parseAccessLogText,
  splitLines,
  summarizeEntries,
  type AccessLogEntry,
} from '../../src/lib/envoy/access-log.js'
import {renderAccessLogStreamHeader, renderAccessLogStreamRow, renderAccessLogTable, renderNdjson, renderSummary} from '../../src/lib/render/access-log-table.js'
import {projectRoot} from '../helpers/cli.js'
import {STORY2_GATEWAY_JSON, STORY2_GATEWAY_TEXT, STORY2_SERVER_TEXT} from '../fixtures/access-log/story-lines.js'
import {corpusDir, corpusNotice} from '../helpers/corpus.js'

function entryOf(line: string): AccessLogEntry {
  const parsed = parseAccessLogLine(line)
  if (!parsed.ok) throw new Error(`not parsed (${parsed.reason}): ${line}`)
  return parsed.entry
}

describe('parseAccessLogLine: TEXT', () => {
  it('reads every field of the default format (story 2, gateway)', () => {
    expect(entryOf(STORY2_GATEWAY_TEXT)).toEqual({
      encoding: 'text',
      kind: 'http',
      source: null,
      logTimestamp: null,
      startTime: '2025-05-09T08:45:41.636Z',
      method: 'GET',
      path: '/items',
      protocol: 'HTTP/1.1',
      responseCode: 504,
      responseFlags: ['UT'],
      responseCodeDetails: 'response_timeout',
      connectionTerminationDetails: null,
      upstreamTransportFailureReason: null,
      bytesReceived: 0,
      bytesSent: 24,
      durationMs: 501,
      upstreamServiceTimeMs: null,
      xForwardedFor: '172.18.0.1',
      userAgent: 'curl/8.7.1',
      requestId: 'cb846eff-6b8a-4c1d-9f4e-2d1b3c4d5e6f',
      authority: 'catalog.istioinaction.io:30000',
      upstreamHost: '10.10.0.13:3000',
      upstreamCluster: 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local',
      upstreamLocalAddress: '10.10.0.7:58078',
      downstreamLocalAddress: '10.10.0.7:8080',
      downstreamRemoteAddress: '172.18.0.1:61108',
      requestedServerName: null,
      routeName: null,
    })
  })

  it('reads the server side of story 2: code 0, DC, inbound cluster, SNI and route', () => {
    const entry = entryOf(STORY2_SERVER_TEXT)
    expect(entry).toMatchObject({
      responseCode: 0,
      responseFlags: ['DC'],
      responseCodeDetails: 'downstream_remote_disconnect',
      upstreamCluster: 'inbound|3000||',
      requestedServerName: 'outbound_.80_.version-v2_.catalog.istioinaction.svc.cluster.local',
      routeName: 'default',
      durationMs: 500,
    })
  })

  it('reads TCP lines ("- - -") with a transport failure reason containing spaces', () => {
    const entry = entryOf('[2025-05-09T09:01:02.003Z] "- - -" 0 UF,URX - - "delayed connect error: 111" 0 0 1001 - "-" "-" "-" "-" "10.10.0.13:5432" outbound|5432||db.istioinaction.svc.cluster.local - 10.96.0.40:5432 10.10.0.7:40000 - -')
    expect(entry).toMatchObject({
      kind: 'tcp',
      method: null,
      path: null,
      protocol: null,
      responseCode: 0,
      responseFlags: ['UF', 'URX'],
      upstreamTransportFailureReason: 'delayed connect error: 111',
      durationMs: 1001,
      upstreamHost: '10.10.0.13:5432',
      upstreamLocalAddress: null,
    })
  })

  it('reads the pre-1.9 format (mixer status in quotes instead of details)', () => {
    const entry = entryOf('[2020-11-02T10:00:00.000Z] "GET /api HTTP/1.1" 503 UH "-" "-" 0 19 0 - "-" "curl/7.64" "abc" "catalog:80" "-" outbound|80||catalog.istioinaction.svc.cluster.local - 10.96.0.20:80 10.10.0.7:40000 - default')
    expect(entry).toMatchObject({responseCode: 503, responseFlags: ['UH'], responseCodeDetails: null, upstreamHost: null, upstreamCluster: 'outbound|80||catalog.istioinaction.svc.cluster.local', routeName: 'default'})
  })

  it('strips kubectl --prefix and --timestamps decorations', () => {
    const entry = entryOf(`[pod/istio-ingressgateway-6bb8fb6549-k4j9m/istio-proxy] 2025-05-09T08:45:41.700123456Z ${STORY2_GATEWAY_TEXT}`)
    expect(entry.source).toBe('pod/istio-ingressgateway-6bb8fb6549-k4j9m/istio-proxy')
    expect(entry.logTimestamp).toBe('2025-05-09T08:45:41.700123456Z')
    expect(entry.responseFlags).toEqual(['UT'])
    expect(entryOf(`2025-05-09T08:45:41.700123456Z ${STORY2_GATEWAY_TEXT}`).logTimestamp).toBe('2025-05-09T08:45:41.700123456Z')
  })

  it('keeps user agents with spaces, parentheses and embedded quotes', () => {
    const browser = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)'
    expect(entryOf(STORY2_GATEWAY_TEXT.replace('"curl/8.7.1"', `"${browser}"`))).toMatchObject({userAgent: browser, authority: 'catalog.istioinaction.io:30000'})
    expect(entryOf(STORY2_GATEWAY_TEXT.replace('"curl/8.7.1"', '"agent "v1""'))).toMatchObject({userAgent: 'agent "v1"', requestId: 'cb846eff-6b8a-4c1d-9f4e-2d1b3c4d5e6f'})
  })
})

describe('parseAccessLogLine: JSON', () => {
  it('reads the JSON encoding of the same story 2 line to the same values', () => {
    const fromJson = entryOf(STORY2_GATEWAY_JSON)
    const fromText = entryOf(STORY2_GATEWAY_TEXT)
    expect({...fromJson, encoding: 'text'}).toEqual(fromText)
  })

  it('accepts "-" for missing values, stringified numbers, and a kubectl prefix', () => {
    const entry = entryOf(`[pod/webapp-7f9c/istio-proxy] {"start_time":"2025-05-09T08:45:41.636Z","method":"-","path":"-","protocol":"-","response_code":"0","response_flags":"NR","response_code_details":"filter_chain_not_found","duration":"0","upstream_host":"-","upstream_cluster":"-"}`)
    expect(entry).toMatchObject({kind: 'tcp', responseCode: 0, responseFlags: ['NR'], durationMs: 0, upstreamHost: null, source: 'pod/webapp-7f9c/istio-proxy'})
  })

  it('skips JSON that is not an access-log entry', () => {
    expect(parseAccessLogLine('{"level":"info","msg":"hello"}')).toEqual({ok: false, reason: 'not-access-log'})
    expect(parseAccessLogLine('{"response_code": 200')).toEqual({ok: false, reason: 'not-access-log'})
  })
})

describe('skipped lines', () => {
  it.each([
    ['', 'blank'],
    ['   ', 'blank'],
    ['[2025-05-09 08:45:40.101][15][warning][config] external/envoy/source/common/config/grpc_stream.h:152] StreamAggregatedResources gRPC config stream closed', 'envoy-log'],
    ['2025-05-09T08:45:40.101214Z\twarning\tenvoy config\tStreamAggregatedResources gRPC config stream closed', 'envoy-log'],
    ['2025-05-09T08:45:40.101214Z\tinfo\txdsproxy\tconnected to upstream XDS server', 'envoy-log'],
    ['garbage line', 'not-access-log'],
    ['[2025-05-09T08:45:41.636Z] "GET /items HTTP/1.1" abc UT', 'not-access-log'],
    ['[2025-05-09T08:45:41.636Z] "GET /items HTTP/1.1" 504 ut response_timeout', 'not-access-log'],
    ['[2025-05-09T08:45:41.636Z] "GET /items', 'not-access-log'],
    ['[2025-05-09T08:45:41.636Z] "GET /items HTTP/1.1" 504 UT response_timeout - "-" 0 24', 'not-access-log'],
  ])('%j is skipped as %s', (line, reason) => {
    expect(parseAccessLogLine(line)).toEqual({ok: false, reason})
  })

  it('counts skipped lines by reason and never throws', () => {
    const text = [STORY2_GATEWAY_TEXT, '', '[2025-05-09 08:45:40.101][15][warning][config] x', 'garbage', STORY2_SERVER_TEXT, '\u0000\u0001binary'].join('\n') + '\n'
    const {entries, stats} = parseAccessLogText(text)
    expect(entries.map((entry) => entry.responseCode)).toEqual([504, 0])
    expect(stats).toEqual({entries: 2, skipped: 4, skippedBy: {blank: 1, 'envoy-log': 1, 'not-access-log': 2}})
  })
})

describe('splitLines (streaming)', () => {
  it('splits across chunk boundaries, inside multi-byte characters, with CRLF and no final newline', async () => {
    const bytes = Buffer.from('first line é\r\nsecond\n\nthird ü')
    const chunks = [...bytes].map((byte) => Buffer.from([byte]))
    const lines: string[] = []
    for await (const line of splitLines(Readable.from(chunks))) lines.push(line)
    expect(lines).toEqual(['first line é', 'second', '', 'third ü'])
  })

  it('feeds accessLogEntries, which counts skipped lines in the stats it is given', async () => {
    const stats = newParseStats()
    const entries: AccessLogEntry[] = []
    const source = Readable.from([`${STORY2_GATEWAY_TEXT}\nnot a log\n${STORY2_SERVER_TEXT.slice(0, 40)}`, STORY2_SERVER_TEXT.slice(40)])
    for await (const entry of accessLogEntries(splitLines(source), stats)) entries.push(entry)
    expect(entries.map((entry) => entry.responseFlags)).toEqual([['UT'], ['DC']])
    expect(stats.skipped).toBe(1)
  })

  it('yields a line over the maximum length as OVERLONG_LINE, whatever the chunking', async () => {
    const text = 'abcdefghij\n' + 'x'.repeat(11) + '\nok\r\n' + 'y'.repeat(25) + '\n' + 'tail'.repeat(3)
    for (const size of [1, 3, 7, 64]) {
      const chunks = Array.from({length: Math.ceil(text.length / size)}, (_, i) => text.slice(i * size, (i + 1) * size))
      const lines: string[] = []
      for await (const line of splitLines(Readable.from(chunks), 10)) lines.push(line)
      expect(lines, `chunks of ${size}`).toEqual(['abcdefghij', OVERLONG_LINE, 'ok', OVERLONG_LINE, OVERLONG_LINE])
    }
  })

  it('skips a 50 MB line without holding it, and counts it with the non-access-log lines', async () => {
    const chunk = '['.repeat(64 * 1024)
    async function* source(): AsyncGenerator<string> {
      for (let sent = 0; sent < 50_000_000; sent += chunk.length) yield chunk
      yield `\n${STORY2_GATEWAY_TEXT}\n`
    }
    const stats = newParseStats()
    const entries: AccessLogEntry[] = []
    for await (const entry of accessLogEntries(splitLines(source()), stats)) entries.push(entry)
    expect(entries.map((entry) => entry.responseCode)).toEqual([504])
    expect(stats.skippedBy).toEqual({blank: 0, 'envoy-log': 0, 'not-access-log': 1})
    expect(parseAccessLogLine(OVERLONG_LINE)).toEqual({ok: false, reason: 'not-access-log'})
  })
})

describe('filters', () => {
  const entries = parseAccessLogText(readFileSync(join(projectRoot, 'test/fixtures/access-log/story2-gateway.log'), 'utf8')).entries

  it('--status takes classes, codes and lists', () => {
    expect(entries.filter(buildEntryFilter({status: '5xx'}))).toHaveLength(3)
    expect(entries.filter(buildEntryFilter({status: '504'}))).toHaveLength(3)
    expect(entries.filter(buildEntryFilter({status: '2xx,504'}))).toHaveLength(10)
    expect(entries.filter(buildEntryFilter({status: '4xx'}))).toHaveLength(0)
  })

  it('--status 0 finds "no response" entries', () => {
    expect([entryOf(STORY2_SERVER_TEXT)].filter(buildEntryFilter({status: '0'}))).toHaveLength(1)
  })

  it('--flags, --path and --upstream-cluster combine with AND', () => {
    expect(entries.filter(buildEntryFilter({flags: 'ut,DC'}))).toHaveLength(3)
    expect(entries.filter(buildEntryFilter({upstreamCluster: 'version-v1'}))).toHaveLength(3)
    expect(entries.filter(buildEntryFilter({upstreamCluster: 'version-v1', flags: 'UT'}))).toHaveLength(0)
    expect(entries.filter(buildEntryFilter({path: '/items'}))).toHaveLength(10)
  })

  it('rejects bad values as usage errors', () => {
    expect(() => buildEntryFilter({status: '5x'})).toThrow(/invalid --status "5x"/)
    expect(() => buildEntryFilter({status: '600'})).toThrow(/invalid --status/)
    expect(() => buildEntryFilter({flags: 'U-T'})).toThrow(/invalid --flags/)
    try {
      buildEntryFilter({status: 'abc'})
    } catch (error) {
      expect((error as {exitCode: number}).exitCode).toBe(2)
    }
  })
})

describe('summary', () => {
  const {entries} = parseAccessLogText(readFileSync(join(projectRoot, 'test/fixtures/access-log/story2-gateway.log'), 'utf8'))

  it('counts by code, flag and host; the slow pod of story 2 stands out', () => {
    const summary = summarizeEntries(entries)
    expect(summary.total).toBe(10)
    expect(summary.byCode).toEqual([{code: 200, count: 7}, {code: 504, count: 3}])
    expect(summary.byFlag).toEqual([{flag: 'UT', count: 3}])
    expect(summary.byHost[0]).toMatchObject({upstreamHost: '10.10.0.13:3000', requests: 4, errors5xx: 3, share5xx: 0.75, p50Ms: 500, maxMs: 501})
    expect(summary.byHost[0].outlier).toMatch(/75% 5xx/)
    expect(summary.byHost.slice(1).map((host) => [host.upstreamHost, host.outlier])).toEqual([
      ['10.10.0.12:3000', undefined],
      ['10.10.0.11:3000', undefined],
    ])
  })

  it('marks nothing when hosts behave alike', () => {
    const calm = entries.filter((entry) => entry.upstreamHost !== '10.10.0.13:3000')
    expect(summarizeEntries(calm).byHost.every((host) => host.outlier === undefined)).toBe(true)
  })

  it('renders the summary with the outlier marked', () => {
    const text = renderSummary(summarizeEntries(entries))
    expect(text).toMatch(/^10 requests\n/)
    expect(text).toMatch(/^10\.10\.0\.13:3000 +outbound\|80\|version-v2\|catalog\.istioinaction\.svc\.cluster\.local +4 +3 +75% +500ms +501ms +<- 75% 5xx/m)
  })
})

describe('rendering', () => {
  it('lays the table out with tabwriter padding 2 and no trailing spaces', () => {
    const table = renderAccessLogTable([entryOf(STORY2_GATEWAY_TEXT), entryOf(STORY2_SERVER_TEXT)])
    expect(table).toBe(
      'TIME                      METHOD  PATH    CODE  FLAGS  DETAILS                       DURATION  UPSTREAM HOST    UPSTREAM CLUSTER\n' +
        '2025-05-09T08:45:41.636Z  GET     /items  504   UT     response_timeout              501ms     10.10.0.13:3000  outbound|80|version-v2|catalog.istioinaction.svc.cluster.local\n' +
        '2025-05-09T08:45:41.637Z  GET     /items  0     DC     downstream_remote_disconnect  500ms     10.10.0.13:3000  inbound|3000||\n',
    )
    expect(renderAccessLogTable([])).toBe('TIME  METHOD  PATH  CODE  FLAGS  DETAILS  DURATION  UPSTREAM HOST  UPSTREAM CLUSTER\n')
  })

  it('--follow rows use fixed minimum widths, never truncate, and keep the field count', () => {
    expect(renderAccessLogStreamHeader()).toBe('TIME                      METHOD  PATH                      CODE  FLAGS  DETAILS                 DURATION  UPSTREAM HOST          UPSTREAM CLUSTER\n')
    const row = renderAccessLogStreamRow(entryOf(STORY2_SERVER_TEXT))
    expect(row).toBe('2025-05-09T08:45:41.637Z  GET     /items                    0     DC     downstream_remote_disconnect  500ms     10.10.0.13:3000        inbound|3000||\n')
    expect(row.trim().split(/ +/)).toHaveLength(9)
  })

  it('-o json is one parsed object per line', () => {
    const out = renderNdjson([entryOf(STORY2_GATEWAY_TEXT), entryOf(STORY2_SERVER_TEXT)])
    const lines = out.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(JSON.parse(lines[1])).toMatchObject({responseCode: 0, responseFlags: ['DC']})
  })
})

describe('the corpus TEXT sample (waypoint, kubectl --timestamps)', () => {
  corpusNotice('the access-log corpus sample')
  it.skipIf(!corpusDir)('parses every line, read in place', () => {
    const text = readFileSync(join(corpusDir!, 'payloads', 'envoy-accesslog-text-waypoint-kubectl-prefixed.log'), 'utf8')
    const lines = text.split('\n').filter((line) => line.trim() !== '')
    const {entries, stats} = parseAccessLogText(text)
    expect(stats.skipped).toBe(0)
    expect(entries).toHaveLength(lines.length)
    for (const entry of entries) {
      expect(entry.logTimestamp).toMatch(/^2025-01-30T12:10:13\.682034460Z$/)
      expect(entry.responseCode).toBe(200)
      expect(entry.responseCodeDetails).toBe('via_upstream')
      expect(entry.upstreamCluster).toMatch(/^inbound-vip\|\d+\|http\|/)
      expect(entry.routeName).toBe('default')
    }
    const details = entries.find((entry) => entry.path === '/details/0')!
    expect(details).toMatchObject({upstreamHost: 'envoy://connect_originate/10.244.0.32:9080', upstreamLocalAddress: 'envoy://internal_client_address/', authority: 'details:9080'})
    const summary = summarizeEntries(entries)
    expect(summary.byCode).toEqual([{code: 200, count: lines.length}])
  })
})
