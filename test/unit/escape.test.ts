import {describe, expect, it} from 'vitest'

import type {AccessLogEntry} from '../../src/lib/envoy/access-log.js'
import {parseAccessLogLine} from '../../src/lib/envoy/access-log.js'
import type {LogLevelsResult} from '../../src/lib/istio/log-levels-live.js'
import type {SyncStatusRow} from '../../src/lib/istio/sync-status.js'
import {explainEntry} from '../../src/lib/istio/explain.js'
import {renderAccessLogStreamRow, renderAccessLogTable, renderExplanation, renderPodAccessLogTable, renderSummary} from '../../src/lib/render/access-log-table.js'
import {renderNameTable} from '../../src/lib/render/agent-tables.js'
import {renderAuthzExplanation, renderAuthzTable} from '../../src/lib/render/authz-table.js'
import {escapeTerminal, escapeTerminalLines} from '../../src/lib/render/escape.js'
import {renderLogLevelsTable} from '../../src/lib/render/log-levels-table.js'
import {renderSyncStatusTable} from '../../src/lib/render/sync-status-table.js'
import {tabRow, tabwrite} from '../../src/lib/render/tabwriter.js'
import {BIDI, FORGED_ROW, OSC0, OSC52, RAW_CONTROL} from '../fixtures/hostile/payloads.js'

describe('escapeTerminal', () => {
  it('makes OSC 52, OSC 0, newlines, CR, BEL, DEL and C1 controls visible', () => {
    expect(escapeTerminal(`a${OSC52}b`)).toBe('a\\x1b]52;c;ZWNobyBwd25lZA==\\x07b')
    expect(escapeTerminal(OSC0)).toBe('\\x1b]0;owned\\x07')
    expect(escapeTerminal(FORGED_ROW)).toBe('evil\\nFORGED 1 2 3')
    expect(escapeTerminal('a\rb\tc\u0000d\u007fe\u009bf\u0085')).toBe('a\\rb\\tc\\x00d\\x7fe\\u009bf\\u0085')
  })

  it('makes every bidi override, embedding, isolate and mark visible', () => {
    expect(escapeTerminal(BIDI)).toBe('\\u202egnp.exe')
    const bidi = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c']
    for (const char of bidi) expect(escapeTerminal(`x${char}y`)).toBe(`x\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}y`)
  })

  it('leaves normal text, unicode and backslashes (regex matches) exactly as they are', () => {
    for (const text of ['outbound|9080|v1|reviews.default.svc.cluster.local', '/api/v[0-9]+\\.json', 'café ü 中文 🚀', '']) {
      expect(escapeTerminal(text)).toBe(text)
    }
  })

  it('escapeTerminalLines keeps the line breaks and escapes the rest', () => {
    expect(escapeTerminalLines(`+ "name": "x${OSC0}"\n- y\r\n`)).toBe('+ "name": "x\\x1b]0;owned\\x07"\n- y\\r\n')
  })
})

describe('tables escape every cell', () => {
  it('tabwrite escapes cells before measuring, so columns stay aligned and no row is forged', () => {
    const out = tabwrite(['NAME\tTYPE', tabRow([FORGED_ROW, 'EDS']), tabRow([`a${OSC52}`, 'STATIC'])], {padding: 2})
    expect(out).not.toMatch(RAW_CONTROL)
    expect(out.split('\n')).toEqual([
      'NAME                             TYPE',
      'evil\\nFORGED 1 2 3               EDS',
      'a\\x1b]52;c;ZWNobyBwd25lZA==\\x07  STATIC',
      '',
    ])
  })

  it('tabRow escapes a tab inside a value instead of adding a column', () => {
    expect(tabwrite([tabRow(['a\tb', 'c'])], {padding: 1})).toBe('a\\tb c\n')
  })

  it('the sync-status table, coloured or not', () => {
    const status = {state: 'SYNCED' as const, display: 'SYNCED'}
    const row = {proxy: `pod${OSC0}.ns`, clusterId: FORGED_ROW, istiod: `istiod${BIDI}`, version: '1.17.8', types: {CDS: status, LDS: status, EDS: status, RDS: status, ECDS: status}} as unknown as SyncStatusRow
    for (const color of [false, true]) {
      const out = renderSyncStatusTable([row], {color})
      expect(out.replace(/\u001b\[\d+m/g, '')).not.toMatch(RAW_CONTROL)
      expect(out).toContain('pod\\x1b]0;owned\\x07.ns')
      expect(out.trimEnd().split('\n')).toHaveLength(2)
    }
    // The colour pass still puts its codes around the status cells.
    expect(renderSyncStatusTable([row], {color: true})).toContain('\u001b[32mSYNCED\u001b[0m')
  })

  it('log levels: logger names and a peer\'s error text', () => {
    const result = {
      mode: 'read',
      pods: [
        {pod: 'a', namespace: 'ns', result: 'read', levels: {[`http${OSC52}`]: 'debug', [`router${FORGED_ROW}`]: 'info'}},
        {pod: 'b', namespace: 'ns', result: 'failed', error: `connection refused ${OSC0}`},
      ],
    } as unknown as LogLevelsResult
    const out = renderLogLevelsTable(result)
    expect(out).not.toMatch(RAW_CONTROL)
    expect(out).toContain('http\\x1b]52;c;ZWNobyBwd25lZA==\\x07')
    expect(out).toContain('\\x1b]0;owned\\x07')
    expect(out.trimEnd().split('\n')).toHaveLength(3)
  })

  it('authz table and explanation', () => {
    const table = renderAuthzTable([{action: 'ALLOW', name: `policy${OSC0}.ns`, rules: 1}] as never)
    expect(table).not.toMatch(RAW_CONTROL)
    const explanation = renderAuthzExplanation({
      groups: [{listener: `listener${OSC52}`, address: '0.0.0.0', port: 8080, dynamic: true, layer: 'http', chains: 1, includesDefaultChain: false,
        custom: [], deny: [{name: `deny${BIDI}`, action: 'DENY', rules: []}], allow: [], log: [], dryRun: [], matchNothing: [], unmatched: 'allowed'}],
      listenersWithoutAuthz: 0,
    } as never)
    expect(explanation).not.toMatch(RAW_CONTROL)
    expect(explanation).toContain('listener\\x1b]52;c;ZWNobyBwd25lZA==\\x07')
    expect(explanation).toContain('deny\\u202egnp.exe')
  })

  it('the DNS name table of pilot-agent', () => {
    const out = renderNameTable([{hostname: `h${OSC0}`, shortname: FORGED_ROW, namespace: 'ns', registry: 'Kubernetes', ips: ['10.0.0.1']}] as never)
    expect(out).not.toMatch(RAW_CONTROL)
    expect(out.trimEnd().split('\n')).toHaveLength(2)
  })
})

describe('access-log fields', () => {
  const entry = (() => {
    const line = JSON.stringify({
      start_time: '2025-05-09T08:45:41.636Z', method: 'GET', path: `/x${OSC52}`, response_code: 503, response_flags: 'UH',
      response_code_details: `no_healthy_upstream${OSC0}`, duration: 1, upstream_host: `10.0.0.1:80${BIDI}`,
      upstream_cluster: `outbound|80||${FORGED_ROW}.svc.cluster.local`, authority: `host${OSC0}`,
    })
    const parsed = parseAccessLogLine(line)
    if (!parsed.ok) throw new Error('fixture line did not parse')
    return {...parsed.entry, source: `pod/p${OSC0}/istio-proxy`} as AccessLogEntry
  })()

  it('table, pod table, stream row, summary and explanation are escaped', () => {
    const outputs = [
      renderAccessLogTable([entry]),
      renderPodAccessLogTable([entry]),
      renderAccessLogStreamRow(entry),
      renderExplanation(entry, explainEntry(entry)),
    ]
    for (const out of outputs) {
      expect(out).not.toMatch(RAW_CONTROL)
      expect(out).toContain('/x\\x1b]52;c;ZWNobyBwd25lZA==\\x07')
    }
    expect(renderAccessLogTable([entry]).trimEnd().split('\n')).toHaveLength(2)
    const summary = renderSummary({total: 1, byCode: [{code: 503, count: 1}], byFlag: [{flag: `UH${OSC0}`, count: 1}],
      byHost: [{upstreamHost: `10.0.0.1${BIDI}`, upstreamClusters: [FORGED_ROW], requests: 1, errors5xx: 1, share5xx: 1, p50Ms: 1, maxMs: 1}]} as never)
    expect(summary).not.toMatch(RAW_CONTROL)
    expect(summary).toContain('10.0.0.1\\u202egnp.exe')
  })
})
