// Live sync-status against the simulated cluster: every istiod replica's /debug/syncz merged into
// one table, the 8080 -> 15014 fallback with a token, 401s, the one-proxy diff and --agent.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import type {RunContext} from '../../src/lib/context.js'
import {fetchFromPod} from '../../src/lib/kube/live.js'
import {Scope} from '../../src/lib/scope.js'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli, type CliResult} from '../helpers/cli.js'

const ISTIO_NS = 'istio-system'
const ISTIOD_A = 'istiod-8d74787f-n4c7b'
const ISTIOD_B = 'istiod-8d74787f-x2k9p'
const SLEEP = 'sleep-6f8cfb8c8f-wncwh'
const WEBAPP = 'webapp-7c5d7b8c6b-4vzd9'
const RATINGS = 'ratings-v1-77f6b4c8d5-m2j7r'
/** The mesh's last push moved one hour and 30 s into the past reads "60m" for the next 29 s. */
const SENT_AGO_MS = 3_630_000

/**
 * The catalog on Istio 1.24.3: the syncz of that line carries send times (ages) and NACK texts
 * (ERROR), and filters by namespace itself; a 1.17.8 istiod has none of these (test/sim/stories).
 */
const catalog124 = () => loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog-1.24.yaml'), 'utf8'), 'catalog-1.24')

let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({scenario: catalog124()})
})

afterAll(async () => {
  await sim?.close()
})

afterEach(() => {
  for (const pod of [ISTIOD_A, ISTIOD_B]) {
    for (const port of [8080, 15014, undefined]) sim.setFault({pod, namespace: ISTIO_NS, port}, undefined)
  }
})

/** What `sync-status POD` prints for RDS: when the proxy's Envoy loaded its route configuration. */
function rdsLoadedAt(pod: string, namespace: string): string {
  const at = sim.scenario.xds!.versions(sim.scenario.pods.find((p) => p.name === pod && p.namespace === namespace)!)!.envoy.rds!.at
  return new Date(at).toUTCString().replace(/GMT$/, 'UTC')
}

function live(args: string[]): Promise<CliResult> {
  return runCli([...args, '--timeout', '3s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 10_000})
}

const tokenRequests = () => sim.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/serviceaccounts/default/token'))

const HEADER_ALL =
  'NAME                                                   CLUSTER        CDS              LDS              EDS                                  RDS              ECDS        ISTIOD                    VERSION\n'

describe('live sync-status: the mesh-wide table', () => {
  beforeEach(() => {
    sim.scenario.xds!.setLastPushAge(SENT_AGO_MS)
  })

  it('merges both istiod replicas (each owning different proxies): STALE, never acknowledged and NACK rows', async () => {
    const result = await live(['sync-status'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      HEADER_ALL +
        'catalog-5c7f8f8447-f54sj.istioinaction                 Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n' +
        'catalog-v2-6d4c8b7d9f-8xw2p.istioinaction              Kubernetes     STALE (60m)      SYNCED (60m)     SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.24.3\n' +
        'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction              Kubernetes     SYNCED (60m)     ERROR (60m)      SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.24.3\n' +
        'httpbin-5c5f9d7b8d-lt6hx.default                       Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.24.3\n' +
        'istio-ingressgateway-6bb8fb6549-hcdnc.istio-system     Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n' +
        'ratings-v1-77f6b4c8d5-m2j7r.default                    Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.25.2\n' +
        'sleep-6f8cfb8c8f-wncwh.default                         Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n' +
        'webapp-7c5d7b8c6b-4vzd9.istioinaction                  Kubernetes     SYNCED (60m)     SYNCED (60m)     STALE (Never Acknowledged) (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n',
    )
    // Every replica was asked, on the loopback port, with no token needed.
    const asked = sim.adminRequests.filter((request) => request.path.startsWith('/debug/syncz'))
    expect(new Set(asked.map((request) => `${request.pod}:${request.port}`))).toEqual(new Set([`${ISTIOD_A}:8080`, `${ISTIOD_B}:8080`]))
  })

  it('a healthy mesh: every proxy SYNCED, --fail-on stale,error exits 0', async () => {
    // The same mesh with no proxy misbehaving (the Simulation section's knobs cleared).
    const scenario = catalog124()
    scenario.live!.proxies = {}
    const healthy = await startSimulator({scenario})
    try {
      healthy.scenario.xds!.setLastPushAge(SENT_AGO_MS)
      const result = await runCli(['sync-status', '--fail-on', 'stale,error', '--timeout', '3s'], {env: {KUBECONFIG: healthy.kubeconfigPath}, killAfterMs: 10_000})
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      'NAME                                                   CLUSTER        CDS              LDS              EDS              RDS              ECDS        ISTIOD                    VERSION\n' +
        'catalog-5c7f8f8447-f54sj.istioinaction                 Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n' +
        'catalog-v2-6d4c8b7d9f-8xw2p.istioinaction              Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.24.3\n' +
        'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction              Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.24.3\n' +
        'httpbin-5c5f9d7b8d-lt6hx.default                       Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.24.3\n' +
        'istio-ingressgateway-6bb8fb6549-hcdnc.istio-system     Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n' +
        'ratings-v1-77f6b4c8d5-m2j7r.default                    Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.25.2\n' +
        'sleep-6f8cfb8c8f-wncwh.default                         Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n' +
        'webapp-7c5d7b8c6b-4vzd9.istioinaction                  Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n',
    )
    } finally {
      await healthy.close()
    }
  })

  it('-n keeps one namespace (the raw flag), and --fail-on reports the STALE, never-acknowledged and ERROR proxies', async () => {
    const result = await live(['ps', '-n', 'istioinaction', '--fail-on', 'stale,error'])
    expect(result.code).toBe(10)
    expect(result.stdout).toBe(
      'NAME                                          CLUSTER        CDS              LDS              EDS                                  RDS              ECDS        ISTIOD                    VERSION\n' +
        'catalog-5c7f8f8447-f54sj.istioinaction        Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n' +
        'catalog-v2-6d4c8b7d9f-8xw2p.istioinaction     Kubernetes     STALE (60m)      SYNCED (60m)     SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.24.3\n' +
        'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction     Kubernetes     SYNCED (60m)     ERROR (60m)      SYNCED (60m)                         SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.24.3\n' +
        'webapp-7c5d7b8c6b-4vzd9.istioinaction         Kubernetes     SYNCED (60m)     SYNCED (60m)     STALE (Never Acknowledged) (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n',
    )
    expect(result.stderr).toBe(
      'Error: 3 of 4 proxies are STALE / ERROR / STALE (Never Acknowledged): catalog-v2-6d4c8b7d9f-8xw2p.istioinaction, catalog-v2-6d4c8b7d9f-zqgfl.istioinaction, webapp-7c5d7b8c6b-4vzd9.istioinaction\n',
    )
    // istiod filters server-side too (1.20+).
    expect(sim.adminRequests.some((request) => request.path === '/debug/syncz?namespace=istioinaction')).toBe(true)
  })

  it('-o json carries the NACK text and the istiod pod per row', async () => {
    const result = await live(['sync-status', '-n', 'istioinaction', '-o', 'json'])
    expect(result.code).toBe(0)
    const rows = JSON.parse(result.stdout).proxies as Array<{proxy: string; istiod: string; types: Record<string, {state: string; error?: string}>}>
    const nacked = rows.find((row) => row.proxy === 'catalog-v2-6d4c8b7d9f-zqgfl.istioinaction')!
    expect(nacked.istiod).toBe(ISTIOD_B)
    expect(nacked.types.LDS).toMatchObject({state: 'ERROR', error: expect.stringContaining("has duplicate address '0.0.0.0:3000'")})
  })

  it('-r keeps the istiods of one revision', async () => {
    const kept = await live(['sync-status', '-r', 'default', '-n', 'default'])
    expect(kept.code).toBe(0)
    expect(kept.stdout.split('\n').filter(Boolean)).toHaveLength(4)
  })

  it('an unknown revision is "not found" (exit 3)', async () => {
    const none = await live(['sync-status', '-r', 'canary'])
    expect(none.code).toBe(3)
    expect(none.stdout).toBe('')
    expect(none.stderr).toBe(
      'Error: no running istiod pods of revision "canary" in namespace "istio-system" (label app=istiod,istio.io/rev=canary). Hint: check the revision (kubectl get pods -A -l app=istiod --show-labels)\n',
    )
  })

  it('no istiod in the -i namespace: exit 3 with a hint', async () => {
    const result = await live(['sync-status', '-i', 'default'])
    expect(result.code).toBe(3)
    expect(result.stderr).toBe(
      'Error: no running istiod pods in namespace "default" (label app=istiod). Hint: pass -i/--istio-namespace with the namespace istiod runs in\n',
    )
  })

  it('falls back from a refused 8080 to 15014 with an istio-ca token for "default" in the istio namespace', async () => {
    for (const pod of [ISTIOD_A, ISTIOD_B]) sim.setFault({pod, namespace: ISTIO_NS, port: 8080}, {kind: 'refused'})
    const before = tokenRequests().length
    const adminBefore = sim.adminRequests.length
    const result = await live(['sync-status', '-n', 'default'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      'NAME                                    CLUSTER        CDS              LDS              EDS              RDS              ECDS        ISTIOD                    VERSION\n' +
        'httpbin-5c5f9d7b8d-lt6hx.default        Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.24.3\n' +
        'ratings-v1-77f6b4c8d5-m2j7r.default     Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.25.2\n' +
        'sleep-6f8cfb8c8f-wncwh.default          Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-n4c7b     1.24.3\n',
    )
    // The replicas are asked in parallel: their notes come in either order.
    expect(result.stderr.split('\n').sort()).toEqual([
      '',
      'istiod istiod-8d74787f-n4c7b: port 8080 did not answer; using port 15014 with a bearer token',
      'istiod istiod-8d74787f-x2k9p: port 8080 did not answer; using port 15014 with a bearer token',
    ])
    // One TokenRequest for both replicas, audience istio-ca, as istioctl asks.
    expect(tokenRequests().length - before).toBe(1)
    expect(sim.adminRequests.slice(adminBefore).filter((request) => request.port === 15014).map((request) => request.pod).sort()).toEqual([ISTIOD_A, ISTIOD_B])
  })

  it('--token replaces the TokenRequest; istiod rejecting it is a 401 with what to do (exit 4)', async () => {
    for (const pod of [ISTIOD_A, ISTIOD_B]) sim.setFault({pod, namespace: ISTIO_NS, port: 8080}, {kind: 'refused'})
    const before = tokenRequests().length
    const result = await live(['sync-status', '--token', 'not-a-service-account-token'])
    expect(result.code).toBe(4)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(
      'Error: istiod istiod-8d74787f-n4c7b rejected the token given with --token (MESHDBG_ISTIOD_TOKEN) for /debug/syncz on port 15014 (401 Unauthorized). Hint: istiod accepts Kubernetes service-account tokens with audience "istio-ca": pass --token "$(kubectl create token default -n istio-system --audience istio-ca)", or make port 8080 reachable (loopback needs no token)\n',
    )
    expect(tokenRequests().length).toBe(before)
  })

  it('an istiod answering 401 without a valid token: exit 4 naming the token it tried', async () => {
    sim.setFault({pod: ISTIOD_A, namespace: ISTIO_NS}, {kind: 'istiod-401'})
    const result = await live(['sync-status'])
    expect(result.code).toBe(4)
    // The other replica's proxies are still shown; the error says the table is incomplete.
    expect(result.stdout.startsWith(HEADER_ALL.slice(0, 20))).toBe(true)
    expect(result.stdout).toContain('istiod-8d74787f-x2k9p')
    expect(result.stdout).not.toContain('istiod-8d74787f-n4c7b')
    expect(result.stderr).toBe(
      'istiod istiod-8d74787f-n4c7b: port 8080 answered HTTP 401; using port 15014 with a bearer token\n' +
        'Error: incomplete table (1 of 2 istiods answered): istiod istiod-8d74787f-n4c7b rejected the token of service account "default" in "istio-system" (audience istio-ca) for /debug/syncz on port 15014 (401 Unauthorized). Hint: istiod accepts Kubernetes service-account tokens with audience "istio-ca": pass --token "$(kubectl create token default -n istio-system --audience istio-ca)"\n',
    )
  })
  it('no istiod answering at all is an error with no table (exit 4)', async () => {
    for (const pod of [ISTIOD_A, ISTIOD_B]) sim.setFault({pod, namespace: ISTIO_NS}, {kind: 'refused'})
    const result = await live(['sync-status'])
    expect(result.code).toBe(4)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^istiod istiod-8d74787f-x2k9p: port 8080 did not answer/m)
    expect(result.stderr).toMatch(/^Error: istiod istiod-8d74787f-n4c7b: neither debug port answered/m)
  })

  it('403 on 15014 (debug endpoint auth) says which identities may read it (exit 4)', async () => {
    sim.setFault({pod: ISTIOD_A, namespace: ISTIO_NS, port: 8080}, {kind: 'refused'})
    sim.setFault({pod: ISTIOD_A, namespace: ISTIO_NS, port: 15014}, {kind: 'http-status', status: 403, body: ''})
    const result = await live(['sync-status', '-o', 'json'])
    expect(result.code).toBe(4)
    const partial = JSON.parse(result.stdout)
    expect(partial.proxies.length).toBeGreaterThan(0)
    expect(partial.proxies.every((row: {istiod: string}) => row.istiod === 'istiod-8d74787f-x2k9p')).toBe(true)
    expect(result.stderr).toBe(
      'Error: incomplete table (1 of 2 istiods answered): istiod istiod-8d74787f-n4c7b refused /debug/syncz on port 15014 (403 Forbidden): the token\'s identity may not read this debug endpoint. Hint: Istio 1.27.6, 1.28.4 and 1.29+ (ENABLE_DEBUG_ENDPOINT_AUTH) let only service accounts of the system namespace ("istio-system") or of DEBUG_ENDPOINT_AUTH_ALLOWED_NAMESPACES read debug endpoints other than config_dump, edsz and ndsz: use a token of a service account in "istio-system"\n',
    )
  })
})

describe('live sync-status <proxy>: istiod\'s view against Envoy\'s', () => {
  it('prints Match for every section when nothing differs (exit 0)', async () => {
    const result = await live(['sync-status', `${WEBAPP}.istioinaction`])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`Clusters Match\nListeners Match\nRoutes Match (RDS last loaded at ${rdsLoadedAt(WEBAPP, 'istioinaction')})\n`)
    // istiod's view came from the replica the proxy is connected to.
    const views = sim.adminRequests.filter((request) => request.path === `/debug/config_dump?proxyID=${WEBAPP}.istioinaction`)
    expect(views.map((request) => request.pod).sort()).toEqual([ISTIOD_A, ISTIOD_B])
  })

  it('finds a cluster istiod sends that Envoy lacks: Don\'t Match, the diff, exit 10', async () => {
    // The proxy's Envoy drops one cluster istiod still sends it.
    const scope = new Scope()
    const ctx: RunContext = {kubeconfig: sim.kubeconfigPath, timeoutMs: 5000, signal: AbortSignal.timeout(5000), scope, note: () => {}, spin: (_text, work) => work}
    let dump: {configs: Array<{'@type': string; dynamic_active_clusters?: Array<{cluster: {name: string}}>}>}
    try {
      dump = JSON.parse((await fetchFromPod(ctx, {name: SLEEP, namespace: 'default'}, 15000, '/config_dump')).text)
    } finally {
      await scope.close()
    }
    const clusters = dump.configs.find((config) => config['@type'].endsWith('.ClustersConfigDump'))!
    const dropped = 'outbound|80||catalog.istioinaction.svc.cluster.local'
    expect(clusters.dynamic_active_clusters!.some((entry) => entry.cluster.name === dropped)).toBe(true)
    clusters.dynamic_active_clusters = clusters.dynamic_active_clusters!.filter((entry) => entry.cluster.name !== dropped)
    sim.setConfigDump({pod: SLEEP, namespace: 'default'}, JSON.stringify(dump))

    const result = await live(['sync-status', SLEEP, '-n', 'default'])
    expect(result.code).toBe(10)
    expect(result.stdout.startsWith(`Clusters Don't Match\n  only in istiod (not in Envoy): ${dropped}\n--- Istiod Clusters\n+++ Envoy Clusters\n@@ `)).toBe(true)
    expect(result.stdout).toContain(`-        "name": "${dropped}",\n`)
    expect(result.stdout).not.toMatch(/^\+.*"name"/m)
    expect(result.stdout).toContain(`\nListeners Match\nRoutes Match (RDS last loaded at ${rdsLoadedAt(SLEEP, 'default')})\n`)
    expect(result.stderr).toBe('Error: istiod\'s view and Envoy\'s config differ: Clusters\n')
  })

  it('a pod no istiod knows is "not found" (exit 3)', async () => {
    const result = await live(['sync-status', 'sleep-legacy-7d9f6b5c4-kq2xj.default'])
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(/^Error: .*sleep-legacy-7d9f6b5c4-kq2xj.*\n$/)
  })
})

describe('live sync-status <proxy> --agent', () => {
  it('reads the proxy\'s own pilot-agent (15004) and prints its row only', async () => {
    const result = await live(['sync-status', `${WEBAPP}.istioinaction`, '--agent'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      'NAME                                      CLUSTER        CDS        LDS        EDS       RDS        ECDS         ISTIOD                    VERSION\n' +
        'webapp-7c5d7b8c6b-4vzd9.istioinaction     Kubernetes     SYNCED     SYNCED     STALE     SYNCED     NOT SENT     istiod-8d74787f-n4c7b     1.24.3\n',
    )
    expect(sim.adminRequests.some((request) => request.pod === WEBAPP && request.port === 15004 && request.path === '/debug/syncz')).toBe(true)
  })

  it('a 1.25 proxy has no 15004: says so on stderr and shows istiod\'s row', async () => {
    sim.scenario.xds!.setLastPushAge(SENT_AGO_MS)
    const result = await live(['sync-status', RATINGS, '-n', 'default', '--agent'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe(`pilot-agent of ${RATINGS}.default has no XDS debug port 15004 (removed in Istio 1.25): asking istiod instead\n`)
    expect(result.stdout).toBe(
      'NAME                                    CLUSTER        CDS              LDS              EDS              RDS              ECDS        ISTIOD                    VERSION\n' +
        'ratings-v1-77f6b4c8d5-m2j7r.default     Kubernetes     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     SYNCED (60m)     IGNORED     istiod-8d74787f-x2k9p     1.25.2\n',
    )
  })

  it('an agent that answers 503 (proxy not connected to istiod) is that error (exit 4), not a fallback to istiod', async () => {
    sim.setFault({pod: WEBAPP, namespace: 'istioinaction', port: 15004}, {kind: 'http-status', status: 503, body: 'proxy not connected to istiod\n'})
    const before = sim.adminRequests.length
    try {
      const result = await live(['sync-status', `${WEBAPP}.istioinaction`, '--agent'])
      expect(result.code).toBe(4)
      expect(result.stdout).toBe('')
      expect(result.stderr).toBe(
        `Error: the pilot-agent of ${WEBAPP}.istioinaction answered HTTP 503 on :15004/debug/syncz: its proxy is not connected to istiod (proxy not connected to istiod). Hint: the proxy has no working XDS connection to istiod: see its istio-proxy logs and meshdbg sync-status\n`,
      )
      expect(sim.adminRequests.slice(before).some((request) => request.namespace === ISTIO_NS)).toBe(false)
    } finally {
      sim.setFault({pod: WEBAPP, namespace: 'istioinaction', port: 15004}, undefined)
    }
  })

  it('--agent without a proxy is a usage error', async () => {
    const result = await live(['sync-status', '--agent'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: --agent needs a proxy: sync-status <pod>[.<namespace>] --agent\n')
  })
})
