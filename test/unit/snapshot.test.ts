import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {afterAll, describe, expect, it} from 'vitest'

import {readSnapshot, SnapshotWriter, type SnapshotEntry, type SnapshotManifest} from '../../src/lib/snapshot/archive.js'
import {jsonValueEnd, redactAnswer} from '../../src/lib/snapshot/capture.js'
import {SnapshotReplay} from '../../src/lib/snapshot/replay.js'
import {matchesFieldSelector, matchesLabelSelector, parseLabelSelector} from '../../src/lib/snapshot/selectors.js'

const dir = mkdtempSync(join(tmpdir(), 'snapshot-unit-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const CAPTURED = '2026-01-02T10:00:00.000Z'
const at = (secondsBefore: number) => new Date(Date.parse(CAPTURED) - secondsBefore * 1000).toISOString()

async function archiveOf(name: string, bodies: Array<{source: SnapshotEntry['source']; body?: string; status?: number; complete?: boolean; error?: SnapshotEntry['error']}>): Promise<string> {
  const file = join(dir, name)
  const writer = new SnapshotWriter(file)
  const entries: SnapshotEntry[] = []
  for (const each of bodies) {
    const entry: SnapshotEntry = {source: each.source, ...(each.status ? {status: each.status} : {}), ...(each.complete === undefined ? {} : {complete: each.complete}), ...(each.error ? {error: each.error} : {})}
    if (each.body !== undefined) Object.assign(entry, await writer.add(JSON.stringify(each.source), Buffer.from(each.body), 'txt'))
    entries.push(entry)
  }
  const manifest: SnapshotManifest = {
    format: 'meshdbg-snapshot', version: 1, meshdbgVersion: '0.1.0', capturedAt: CAPTURED,
    contexts: [{name: 'prod', server: 'https://k8s', namespace: 'shop'}],
    request: {targets: [], namespaces: ['shop'], allNamespaces: false, istiod: false, istioNamespace: 'istio-system'},
    collections: [], entries,
  }
  await writer.finish(manifest)
  return file
}

const pod = (name: string, labels: Record<string, string>, phase = 'Running') => ({metadata: {name, namespace: 'shop', labels}, status: {phase}})
const POD_LIST = JSON.stringify({kind: 'PodList', apiVersion: 'v1', items: [pod('web-b', {app: 'web'}), pod('db-a', {app: 'db', tier: 'data'}), pod('web-a', {app: 'web'}, 'Pending')]})
const LOG = [at(50), at(30), at(10)].map((stamp, index) => `${stamp} line ${index + 1}`).join('\n') + '\n'

describe('snapshot archive', () => {
  it('round-trips entries and the manifest through a tar.gz that tar lists', async () => {
    const file = await archiveOf('round.tar.gz', [{source: {kind: 'api', path: '/api/v1/namespaces/shop/pods'}, body: POD_LIST}])
    expect(execFileSync('tar', ['tzf', file], {encoding: 'utf8'}).trim().split('\n')).toEqual(['entries/000001-kind_api_path_api_v1_namespaces_shop_pods.txt', 'manifest.json'])
    const archive = readSnapshot(file)
    expect(archive.manifest.capturedAt).toBe(CAPTURED)
    expect(archive.file(archive.manifest.entries[0].file!)?.toString()).toBe(POD_LIST)
  })

  it('refuses other files and other format versions (exit 6), a missing file is a usage error', () => {
    const notGzip = join(dir, 'plain.txt')
    writeFileSync(notGzip, 'hello')
    expect(() => readSnapshot(notGzip)).toThrow(expect.objectContaining({exitCode: 6, message: expect.stringMatching(/is not a gzip file/)}))
    const future = join(dir, 'future.tar.gz')
    const header = Buffer.alloc(512)
    const body = Buffer.from(JSON.stringify({format: 'meshdbg-snapshot', version: 99, entries: []}))
    header.write('manifest.json', 0)
    header.write(body.length.toString(8).padStart(11, '0') + '\0', 124)
    writeFileSync(future, gzipSync(Buffer.concat([header, body, Buffer.alloc(512 - body.length), Buffer.alloc(1024)])))
    expect(() => readSnapshot(future)).toThrow(expect.objectContaining({exitCode: 6, message: expect.stringMatching(/format version 99; this meshdbg reads versions 1 and 2/)}))
    expect(() => readSnapshot(join(dir, 'absent.tar.gz'))).toThrow(expect.objectContaining({exitCode: 2}))
  })
})

describe('snapshot replay', () => {
  it('answers objects and selected lists from recorded collections, in the recorded order; a missing object is the API 404', async () => {
    const replay = new SnapshotReplay('s.tgz', readSnapshot(await archiveOf('api.tar.gz', [{source: {kind: 'api', path: '/api/v1/namespaces/shop/pods'}, body: POD_LIST}])))
    const names = (value: unknown) => (value as {items: Array<{metadata: {name: string}}>}).items.map((item) => item.metadata.name)
    expect(names(replay.apiGet('/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb'))).toEqual(['web-b', 'web-a'])
    expect(names(replay.apiGet('/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb&fieldSelector=status.phase%3DRunning'))).toEqual(['web-b'])
    expect(replay.apiGet('/api/v1/namespaces/shop/pods/db-a')).toMatchObject({kind: 'Pod', apiVersion: 'v1', metadata: {name: 'db-a'}})
    expect(() => replay.apiGet('/api/v1/namespaces/shop/pods/nope')).toThrow(expect.objectContaining({code: 404}))
    expect(() => replay.apiGet('/api/v1/namespaces/other/pods')).toThrow(expect.objectContaining({exitCode: 3, message: 'snapshot s.tgz does not hold GET /api/v1/namespaces/other/pods from the Kubernetes API (namespace "other" was not captured)'}))
  })

  it('replays pod answers with their status, failures with their message and exit code, and refuses changes', async () => {
    const replay = new SnapshotReplay('s.tgz', readSnapshot(await archiveOf('pod.tar.gz', [
      {source: {kind: 'pod', namespace: 'shop', pod: 'web-b', port: 15021, method: 'GET', path: '/healthz/ready'}, body: '', status: 503},
      {source: {kind: 'pod', namespace: 'shop', pod: 'web-b', port: 15004, method: 'GET', path: '/debug/syncz'}, error: {kind: 'connection', message: 'nothing accepted the connection to port 15004'}},
    ])))
    expect(replay.podAnswer({name: 'web-b', namespace: 'shop'}, 15021, 'GET', '/healthz/ready')).toEqual({status: 503, text: ''})
    expect(() => replay.podAnswer({name: 'web-b', namespace: 'shop'}, 15004, 'GET', '/debug/syncz')).toThrow(expect.objectContaining({exitCode: 4, message: 'nothing accepted the connection to port 15004'}))
    expect(() => replay.podAnswer({name: 'web-b', namespace: 'shop'}, 15000, 'GET', '/stats')).toThrow(expect.objectContaining({exitCode: 3}))
    expect(() => replay.podAnswer({name: 'web-b', namespace: 'shop'}, 15000, 'POST', '/logging?level=debug')).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringMatching(/is read-only/)}))
  })

  it('answers logs as the kubelet would have at capture time: since, tail, timestamps; beyond the captured lines is exit 3', async () => {
    const source = {kind: 'log' as const, namespace: 'shop', pod: 'web-b', container: 'istio-proxy', tailLines: 3}
    const partial = new SnapshotReplay('s.tgz', readSnapshot(await archiveOf('log.tar.gz', [{source, body: LOG, complete: false}])))
    const target = {name: 'web-b', namespace: 'shop'}
    expect(partial.podLog(target, 'istio-proxy', {sinceSeconds: 40})).toBe('line 2\nline 3\n')
    expect(partial.podLog(target, 'istio-proxy', {tailLines: 1, timestamps: true})).toBe(`${at(10)} line 3\n`)
    expect(() => partial.podLog(target, 'istio-proxy', {})).toThrow(expect.objectContaining({exitCode: 3, message: expect.stringMatching(/does not hold more than the last 3 lines/)}))
    expect(() => partial.podLog(target, 'istio-proxy', {sinceSeconds: 60})).toThrow(expect.objectContaining({exitCode: 3}))
    const whole = new SnapshotReplay('s.tgz', readSnapshot(await archiveOf('whole.tar.gz', [{source, body: LOG, complete: true}])))
    expect(whole.podLog(target, 'istio-proxy', {})).toBe('line 1\nline 2\nline 3\n')
    expect(whole.capturedAtMs).toBe(Date.parse(CAPTURED))
  })
})

describe('selectors', () => {
  it('parses and applies the label selector grammar', () => {
    const labels = {app: 'web', tier: 'front'}
    const matches = (text: string) => matchesLabelSelector(labels, parseLabelSelector(text)!)
    expect([matches('app=web'), matches('app==web,tier!=back'), matches('app in (web, db)'), matches('tier notin (front)'), matches('app'), matches('!canary'), matches('!app')]).toEqual([true, true, true, false, true, true, false])
    expect(parseLabelSelector('app=(')).toBeUndefined()
    expect(matchesFieldSelector({status: {phase: 'Running'}, metadata: {name: 'a'}}, 'status.phase=Running,metadata.name!=b')).toBe(true)
  })
})

describe('capture redaction', () => {
  const envoyDump = JSON.stringify({configs: [{secrets: [{private_key: {inline_bytes: 'W3JlZGFjdGVkXQ=='}}]}, {access_log: {format: {inline_string: '[%START_TIME%] %REQ(:METHOD)%\n'}}}]}, null, 1)

  it('leaves an answer alone when every key holder\'s inline value is already Envoy\'s "[redacted]" (no parse)', () => {
    expect(redactAnswer(envoyDump)).toBeUndefined()
  })

  it('replaces inline key material under a holder, nested or spelled with JSON escapes, as redactKeyMaterial does', () => {
    const istiodView = JSON.stringify({configs: [{secret: {tlsCertificate: {privateKey: {inlineBytes: 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t'}}}}]})
    expect(redactAnswer(istiodView)).toEqual({text: expect.stringContaining('"inlineBytes": "[redacted]"'), count: 1})
    const generic = JSON.stringify({generic_secret: {secret: {nested: [{inline_string: 'hunter2'}]}}, other: {inline_string: 'kept'}})
    const redacted = redactAnswer(generic)!
    expect(redacted.count).toBe(1)
    expect(redacted.text).not.toContain('hunter2')
    expect(redacted.text).toContain('kept')
    expect(redactAnswer('{"private\\u005fkey": {"inline_string": "secret-bytes"}}')?.count).toBe(1)
    expect(redactAnswer('not json, "password": {"inline_string": "x"')).toBeUndefined()
  })

  it('finds the end of a JSON value in text', () => {
    const text = '{"a": "x\\"}", "b": {"c": [1, {"d": "}"}]}, "e": 12}'
    expect(text.slice(6, jsonValueEnd(text, 6))).toBe('"x\\"}"')
    const b = text.indexOf('{"c"')
    expect(text.slice(b, jsonValueEnd(text, b))).toBe('{"c": [1, {"d": "}"}]}')
    const e = text.indexOf('12')
    expect(text.slice(e, jsonValueEnd(text, e))).toBe('12}')
  })
})
