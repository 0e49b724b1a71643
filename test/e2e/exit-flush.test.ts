// A command that fails after printing a large report must not lose the report's end when stdout is
// a pipe: exiting at once dropped what the pipe had not taken yet (a 500-proxy diagnose report).
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'

describe('a failing command flushes stdout before it exits', () => {
  it('prints every row of a large sync-status table through a pipe, then exits 10', async () => {
    const proxies = Array.from({length: 8000}, (_, i) => ({
      node: {id: `app-${String(i).padStart(5, '0')}-7d9f8c6b5-abcde.team-${String(i % 20).padStart(2, '0')}`, metadata: {CLUSTER_ID: 'Kubernetes', ISTIO_VERSION: '1.22.0'}},
      xdsConfig: [{status: 'SYNCED', listenerConfig: {}}, {status: 'STALE', routeConfig: {}}, {status: 'SYNCED', clusterConfig: {}}, {status: 'SYNCED', endpointConfig: {}}],
    }))
    const file = join(mkdtempSync(join(tmpdir(), 'meshdbg-flush-')), 'syncz.json')
    writeFileSync(file, JSON.stringify(proxies))
    const result = await runCli(['sync-status', '-f', file, '--fail-on', 'stale'])
    expect(result.code).toBe(10)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(8001)
    expect(lines.at(-1)).toContain('app-07999-7d9f8c6b5-abcde.team-19')
  }, 60_000)
})
