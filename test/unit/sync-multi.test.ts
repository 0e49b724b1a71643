import {EventEmitter} from 'node:events'

import {describe, expect, it} from 'vitest'

import type {RunContext} from '../../src/lib/context.js'
import {MeshdbgError} from '../../src/lib/errors.js'
import {
  parseAdszWatches,
  parseFailOn,
  parseSyncStatus,
  rowsWithStates,
  syncChanges,
  SYNC_TYPE_URLS,
  unknownSubscriptions,
  withSubscriptions,
  type SyncStatusRow,
} from '../../src/lib/istio/sync-status.js'
import {forEachContext, partialContextsError} from '../../src/lib/kube/contexts.js'
import {renderSyncStatusTable} from '../../src/lib/render/sync-status-table.js'
import {renderContextVersions} from '../../src/lib/render/version.js'
import {Scope} from '../../src/lib/scope.js'
import {TtyScreen, watchLoop} from '../../src/lib/watch.js'

const NOW = Date.parse('2026-01-10T12:00:00Z')
const NOT_SENT = parseFailOn('not-sent').states

function flat(entry: Record<string, unknown>): SyncStatusRow {
  return parseSyncStatus(JSON.stringify([{proxy: 'web-1.shop', cluster_id: 'Kubernetes', istio_version: '1.22.0', ...entry}]), 'x', 'istiod-a', {now: NOW})[0]
}

const synced = (n: string) => ({sent: n, acked: n, sentTime: '2026-01-10T11:59:00Z'})

describe('--fail-on not-sent and the types a proxy subscribes to', () => {
  it('syncz 1.23+: a type missing from the resources map is not watched (IGNORED, never trips); one listed but unsent does', () => {
    const row = flat({resources: {[SYNC_TYPE_URLS.CDS]: synced('a'), [SYNC_TYPE_URLS.LDS]: synced('b'), [SYNC_TYPE_URLS.EDS]: {sentTime: '0001-01-01T00:00:00Z'}, [SYNC_TYPE_URLS.RDS]: synced('c')}})
    expect(row.types.ECDS).toMatchObject({state: 'IGNORED', subscribed: false})
    expect(row.types.EDS).toMatchObject({state: 'NOT SENT', subscribed: true})
    expect(rowsWithStates([row], NOT_SENT)).toHaveLength(1)
    const watchedAll = flat({resources: {[SYNC_TYPE_URLS.CDS]: synced('a')}})
    expect(rowsWithStates([watchedAll], NOT_SENT)).toEqual([])
  })

  it('older syncz (no map): NOT SENT is unknown until adsz says; a type not in the watches then never trips', () => {
    const row = flat({cluster_sent: 'a', cluster_acked: 'a', listener_sent: 'b', listener_acked: 'b'})
    expect(row.types.ECDS).toMatchObject({state: 'NOT SENT'})
    expect(row.types.ECDS.subscribed).toBeUndefined()
    expect(unknownSubscriptions([row])).toHaveLength(1)
    expect(rowsWithStates([row], NOT_SENT)).toHaveLength(1)

    const adsz = JSON.stringify({totalClients: 2, clients: [
      {connectionId: 'web-1.shop-7', watches: {[SYNC_TYPE_URLS.CDS]: [], [SYNC_TYPE_URLS.LDS]: []}},
      {connectionId: 'web-1.shop-9', watches: {[SYNC_TYPE_URLS.EDS]: ['outbound|80||a']}},
    ]})
    const watches = parseAdszWatches(adsz, 'adsz')
    expect([...watches.get('web-1.shop')!].sort()).toEqual([SYNC_TYPE_URLS.CDS, SYNC_TYPE_URLS.EDS, SYNC_TYPE_URLS.LDS].sort())
    const [known] = withSubscriptions([row], 'istiod-a', watches)
    expect(known.types.ECDS).toMatchObject({state: 'NOT SENT', subscribed: false})
    expect(known.types.EDS).toMatchObject({state: 'NOT SENT', subscribed: true})
    // EDS is watched and was never sent: that still trips.
    expect(rowsWithStates([known], NOT_SENT)).toHaveLength(1)
    // The watches of another istiod say nothing about this row.
    expect(withSubscriptions([row], 'istiod-b', watches)[0].types.ECDS.subscribed).toBeUndefined()
  })
})

describe('syncChanges (--watch without a TTY)', () => {
  const row = (proxy: string, cds: string, extra: Partial<SyncStatusRow> = {}) =>
    ({...flat({proxy, resources: {[SYNC_TYPE_URLS.CDS]: cds === 'STALE' ? {sent: 'b', acked: 'a'} : synced('a')}}), ...extra})

  it('one line per proxy that changed: states, a new proxy, a gone one, another istiod; ages do not count', () => {
    const before = [row('a.ns', 'SYNCED'), row('b.ns', 'SYNCED'), row('c.ns', 'SYNCED')]
    const after = [row('a.ns', 'STALE'), row('b.ns', 'SYNCED', {istiod: 'istiod-b'}), row('d.ns', 'SYNCED')]
    expect(syncChanges(before, after)).toEqual([
      'a.ns CDS SYNCED -> STALE',
      'b.ns ISTIOD istiod-a -> istiod-b',
      'd.ns new: CDS SYNCED, LDS IGNORED, EDS IGNORED, RDS IGNORED, ECDS IGNORED',
      'c.ns gone',
    ])
    expect(syncChanges(after, after.map((r) => ({...r, types: {...r.types, CDS: {...r.types.CDS, display: 'other age'}}})))).toEqual([])
  })

  it('keys rows by context: the same proxy in two clusters is two rows', () => {
    const east = row('a.ns', 'SYNCED', {context: 'east'})
    const west = row('a.ns', 'SYNCED', {context: 'west'})
    expect(syncChanges([east, west], [east, row('a.ns', 'STALE', {context: 'west'})])).toEqual(['west a.ns CDS SYNCED -> STALE'])
  })
})

describe('tables with several contexts', () => {
  it('sync-status puts CONTEXT first only when asked, and colours the right cells', () => {
    const rows = [{...flat({resources: {[SYNC_TYPE_URLS.CDS]: synced('a')}}), context: 'east'}]
    const plain = renderSyncStatusTable(rows)
    expect(plain.startsWith('NAME ')).toBe(true)
    const withContext = renderSyncStatusTable(rows, {contextColumn: true})
    expect(withContext).toBe(
      'CONTEXT     NAME           CLUSTER        CDS              LDS         EDS         RDS         ECDS        ISTIOD       VERSION\n' +
        'east        web-1.shop     Kubernetes     SYNCED (60s)     IGNORED     IGNORED     IGNORED     IGNORED     istiod-a     1.22.0\n',
    )
    const coloured = renderSyncStatusTable(rows, {contextColumn: true, color: true}).split('\n')[1]
    expect(coloured).toContain('Kubernetes     \u001B[32mSYNCED (60s)\u001B[0m')
  })

  it('version: the client line, then CONTEXT CONTROL PLANE DATA PLANE ("unknown" for a cluster that could not say)', () => {
    const text = renderContextVersions({client: {version: '0.1.0', platform: 'linux-x64', node: 'v20'}}, [
      {context: 'east', controlPlane: [{istiod: 'istiod-1', revision: 'default', version: '1.17.8', source: 'version-endpoint'}], dataPlane: [{version: '1.17.8', proxies: 7}]},
      {context: 'gone'},
    ], {short: true})
    expect(text).toBe('client version: 0.1.0\nCONTEXT   CONTROL PLANE   DATA PLANE\neast      1.17.8          1.17.8 (7 proxies)\ngone      unknown         unknown\n')
  })
})

function baseContext(signal = new AbortController().signal): RunContext & {notes: string[]} {
  const notes: string[] = []
  return {timeoutMs: 1000, signal, scope: new Scope(), notes, note: (message: string) => notes.push(message), spin: (_text, work) => work}
}

describe('forEachContext', () => {
  it('runs at most `concurrency` at once, keeps the order asked, and reports a failing context without hiding the others', async () => {
    let running = 0
    let peak = 0
    const base = baseContext()
    const outcomes = await forEachContext(base, ['a', 'b', 'c', 'd', 'e'], async (ctx) => {
      running++
      peak = Math.max(peak, running)
      await new Promise((resolve) => setTimeout(resolve, 5))
      running--
      ctx.note('hello')
      if (ctx.context === 'c') throw new MeshdbgError('connection', 'unreachable')
      return ctx.context!.toUpperCase()
    }, {concurrency: 2, timeoutMs: 1000})
    expect(peak).toBe(2)
    expect(outcomes.map((o) => (o.ok ? o.value : `failed: ${(o.error as Error).message}`))).toEqual(['A', 'B', 'failed: unreachable', 'D', 'E'])
    expect(base.notes).toContain('context c: hello')
    const error = partialContextsError(outcomes.filter((o) => !o.ok).map((o) => ({context: o.context, error: (o as {error: unknown}).error})), 5, {rows: []})
    expect(error).toMatchObject({exitCode: 4, message: 'incomplete (4 of 5 contexts answered): context c: unreachable', result: {rows: []}})
  })

  it('gives each context its own deadline and scope: a hung cluster times out (exit 5), its scope is closed, the others answer', async () => {
    const closed: string[] = []
    const outcomes = await forEachContext(baseContext(), ['slow', 'fast'], async (ctx) => {
      ctx.scope.defer(() => closed.push(ctx.context!))
      if (ctx.context === 'fast') return 'ok'
      return new Promise<string>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))))
    }, {concurrency: 2, timeoutMs: 50})
    expect(outcomes[1]).toEqual({context: 'fast', ok: true, value: 'ok'})
    expect(outcomes[0].ok).toBe(false)
    expect((outcomes[0] as {error: MeshdbgError}).error).toMatchObject({kind: 'timeout', exitCode: 5})
    expect(closed.sort()).toEqual(['fast', 'slow'])
  })
})

describe('watchLoop', () => {
  it('polls until SIGINT, passing the previous result, with a fresh scope and deadline per poll; a failed poll does not stop it', async () => {
    const signals = new EventEmitter()
    const seen: Array<[number, number | undefined]> = []
    const errors: string[] = []
    const scopes = new Set<Scope>()
    let polls = 0
    await watchLoop(baseContext(), {
      intervalMs: 1,
      pollTimeoutMs: 1000,
      signals: signals as unknown as NodeJS.Process,
      poll: async (ctx) => {
        scopes.add(ctx.scope)
        polls++
        if (polls === 2) throw new Error('istiod down')
        if (polls === 4) signals.emit('SIGINT')
        return polls
      },
      onResult: (value, previous) => seen.push([value, previous]),
      onError: (error) => errors.push((error as Error).message),
    })
    expect(seen).toEqual([[1, undefined], [3, 1]])
    expect(errors).toEqual(['istiod down'])
    expect(scopes.size).toBe(4)
    expect(signals.listenerCount('SIGINT')).toBe(0)
  })

  it('a poll past its deadline is a timeout error, and the loop goes on', async () => {
    const stop = new AbortController()
    const errors: unknown[] = []
    await watchLoop(baseContext(), {
      intervalMs: 1,
      pollTimeoutMs: 20,
      signal: stop.signal,
      signals: new EventEmitter() as unknown as NodeJS.Process,
      poll: (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
      onResult: () => {},
      onError: (error) => {
        errors.push(error)
        if (errors.length === 2) stop.abort()
      },
    })
    expect(errors).toHaveLength(2)
    expect(errors[0]).toMatchObject({kind: 'timeout', message: 'poll timed out after 0.02s (raise --timeout)'})
  })
})

describe('TtyScreen', () => {
  it('clears once, then redraws each frame in one write from home (each line cleared to its end, the rest below cleared), and shows the cursor again', () => {
    const writes: string[] = []
    const screen = new TtyScreen({write: (text: string) => writes.push(text) > 0})
    screen.draw('one\ntwo\n')
    screen.draw('three\n')
    screen.close()
    expect(writes).toEqual([
      '\u001B[?25l\u001B[2J\u001B[Hone\u001B[K\ntwo\u001B[K\n\u001B[J',
      '\u001B[Hthree\u001B[K\n\u001B[J',
      '\u001B[?25h',
    ])
  })
})
