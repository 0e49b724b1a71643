import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {projectRoot, runCli} from '../helpers/cli.js'

const f = (name: string) => `test/fixtures/syncz/${name}`

describe('meshdbg sync-status -f', () => {
  it('prints the merged table of several istiods, named by control-plane ID or file name', async () => {
    const result = await runCli(['sync-status', '-f', f('istiod-b.json'), '-f', f('flat-statuses.json'), '-n', 'shop'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      'NAME                          CLUSTER        CDS        LDS        EDS        RDS        ECDS         ISTIOD       VERSION\n' +
        'cart-6d5c4b3a2-pp0oo.shop     Kubernetes     SYNCED     SYNCED     SYNCED     SYNCED     NOT SENT     istiod-b     1.25.2\n',
    )
  })

  it('answers to the proxy-status and ps aliases', async () => {
    const ps = await runCli(['ps', '-f', f('istiod-a.json'), '-n', 'payments'])
    const proxyStatus = await runCli(['proxy-status', '-f', f('istiod-a.json'), '-n', 'payments'])
    expect(ps.code).toBe(0)
    expect(ps.stdout).toContain('api-5f6g7h8j9-aa1bb.payments')
    expect(ps.stdout).toContain('istiod-a-6b7c8d9f-k2j4h')
    expect(proxyStatus.stdout).toBe(ps.stdout)
  })

  it('-o json prints one document with the rows of every istiod', async () => {
    const result = await runCli(['sync-status', '-f', f('istiod-a.json'), '-f', f('istiod-b.json'), '-o', 'json'])
    expect(result.code).toBe(0)
    const document = JSON.parse(result.stdout)
    expect(document.proxies.map((row: {proxy: string}) => row.proxy)).toEqual([
      'api-5f6g7h8j9-aa1bb.payments',
      'cart-6d5c4b3a2-pp0oo.shop',
      'web-7c8d9f6b5-zz9yx.shop',
    ])
    expect(document.proxies[2].types.LDS).toMatchObject({state: 'ERROR', error: 'Proto constraint validation failed'})
  })

  it('--fail-on exits 10 after printing the table when a shown proxy is stale', async () => {
    const result = await runCli(['sync-status', '-f', f('flat-statuses.json'), '--fail-on', 'stale,error'])
    expect(result.code).toBe(10)
    expect(result.stdout).toMatch(/^NAME /)
    expect(result.stdout).toContain('productpage-v1-6c9f8d7b5-q7w4e.bookinfo')
    expect(result.stderr).toBe('Error: 1 of 4 proxies is STALE / STALE (Never Acknowledged): productpage-v1-6c9f8d7b5-q7w4e.bookinfo\n')
  })

  it('--fail-on with --json still prints the rows, next to the error, and exits 10', async () => {
    const result = await runCli(['sync-status', '-f', f('flat-statuses.json'), '--fail-on', 'stale', '--json'])
    expect(result.code).toBe(10)
    const body = JSON.parse(result.stdout)
    expect(body.status).toBe(10)
    expect(body.error.kind).toBe('problems-found')
    expect(body.result.proxies.length).toBeGreaterThan(1)
  })

  it('--fail-on exits 0 when the shown proxies are fine', async () => {
    const result = await runCli(['sync-status', '-f', f('flat-statuses.json'), '-n', 'bookinfo', '--fail-on', 'error'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('rejects an unknown --fail-on status as a usage error', async () => {
    const result = await runCli(['sync-status', '-f', f('flat-statuses.json'), '--fail-on', 'late'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--fail-on: unknown status "late"')
  })

  it('exits 6 with one line for a malformed file', async () => {
    const result = await runCli(['sync-status', '-f', f('istiod-b.json'), '-f', f('truncated.json')])
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^Error: test\/fixtures\/syncz\/truncated\.json: not valid JSON \(truncated\?\): .*\n$/)
  })

  it('without -f goes live: no kubeconfig is a usage error (exit 2); live runs are in sync-status-live.test.ts', async () => {
    const result = await runCli(['sync-status'], {env: {KUBECONFIG: '/nonexistent/kubeconfig'}})
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: no kubeconfig: none of the files in KUBECONFIG exist (/nonexistent/kubeconfig)\n')
  })
})

describe('meshdbg sync-status --diff-istiod --diff-envoy', () => {
  it('prints Match for each section and exits 0 when istiod\'s view and Envoy agree', async () => {
    const result = await runCli(['sync-status', '--diff-istiod', f('diff-istiod-view.json'), '--diff-envoy', f('diff-envoy-dump.json')])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('Clusters Match\nListeners Match\nRoutes Match (RDS last loaded at Sat, 10 Jan 2026 11:00:03 UTC)\n')
  })

  it('exits 10 with the diff when they differ (Envoy side from stdin)', async () => {
    const envoy = JSON.parse(readFileSync(join(projectRoot, f('diff-envoy-dump.json')), 'utf8'))
    const clusters = envoy.configs.find((c: {'@type': string}) => c['@type'].endsWith('ClustersConfigDump'))
    clusters.dynamic_active_clusters = clusters.dynamic_active_clusters.filter((c: {cluster: {name: string}}) => c.cluster.name !== 'BlackHoleCluster')
    const result = await runCli(['sync-status', '--diff-istiod', f('diff-istiod-view.json'), '--diff-envoy', '-'], {input: JSON.stringify(envoy)})
    expect(result.code).toBe(10)
    expect(result.stdout).toMatch(/^Clusters Don't Match\n {2}only in istiod \(not in Envoy\): BlackHoleCluster\n--- Istiod Clusters\n\+\+\+ Envoy Clusters\n@@ /)
    expect(result.stdout).toContain('-        "name": "BlackHoleCluster",')
    expect(result.stdout).toContain('\n\nListeners Match\nRoutes Match')
    expect(result.stderr).toBe("Error: istiod's view and Envoy's config differ: Clusters\n")
  })

  it('exits 6 when a side is not a config dump', async () => {
    const result = await runCli(['sync-status', '--diff-istiod', f('diff-istiod-view.json'), '--diff-envoy', f('istiod-b.json')])
    expect(result.code).toBe(6)
    expect(result.stderr).toMatch(/^Error: test\/fixtures\/syncz\/istiod-b\.json: got a JSON list; expected an Envoy \/config_dump/)
  })

  it('needs both files', async () => {
    const result = await runCli(['sync-status', '--diff-istiod', f('diff-istiod-view.json')])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('needs both --diff-istiod FILE and --diff-envoy FILE')
  })
})
