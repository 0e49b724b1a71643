// `meshdbg istiod <view>` and `meshdbg agent <pod> <view>` against the simulated cluster.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli, type CliResult} from '../helpers/cli.js'

const ISTIO_NS = 'istio-system'
const ISTIOD_A = 'istiod-8d74787f-n4c7b'
const ISTIOD_B = 'istiod-8d74787f-x2k9p'
const WEBAPP = 'webapp-7c5d7b8c6b-4vzd9'
const SLEEP = 'sleep-6f8cfb8c8f-wncwh'
const RATINGS = 'ratings-v1-77f6b4c8d5-m2j7r'

let sim: Simulator

beforeAll(async () => {
  // Istio 1.24.3: its istiod filters syncz by ?namespace= itself (1.19+), which -n relies on below.
  sim = await startSimulator({scenario: loadScenario(readFileSync(join(projectRoot, 'scenarios', 'catalog-1.24.yaml'), 'utf8'), 'catalog-1.24')})
})

afterAll(async () => {
  await sim?.close()
})

afterEach(() => {
  for (const pod of [ISTIOD_A, ISTIOD_B]) sim.setFault({pod, namespace: ISTIO_NS, port: 8080}, undefined)
  sim.setFault({pod: WEBAPP, namespace: 'istioinaction', port: 15020}, undefined)
})

function live(args: string[]): Promise<CliResult> {
  return runCli([...args, '--timeout', '3s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 10_000})
}

const requestsSince = (index: number) => sim.adminRequests.slice(index)

describe('meshdbg istiod <view>', () => {
  it('syncz: every replica by default, each answer labelled with its istiod, re-indented with 2 spaces', async () => {
    const result = await live(['istiod', 'syncz'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^\\{\n {2}"${ISTIOD_A}": \\[\n {4}\\{\n {6}"cluster_id": "Kubernetes",\n`))
    const byIstiod = JSON.parse(result.stdout) as Record<string, Array<{proxy: string}>>
    expect(Object.keys(byIstiod)).toEqual([ISTIOD_A, ISTIOD_B])
    expect(byIstiod[ISTIOD_A].map((entry) => entry.proxy)).toEqual([
      'catalog-5c7f8f8447-f54sj.istioinaction',
      'istio-ingressgateway-6bb8fb6549-hcdnc.istio-system',
      'sleep-6f8cfb8c8f-wncwh.default',
      'webapp-7c5d7b8c6b-4vzd9.istioinaction',
    ])
    // The proxies connected to the second replica are there too (istioctl's proxy-status way).
    expect(byIstiod[ISTIOD_B].map((entry) => entry.proxy)).toContain(`${RATINGS}.default`)
  })

  it('syncz --json: {view, path, answers: [{istiod, body}]} in the envelope', async () => {
    const result = await live(['istiod', 'syncz', '-n', 'default', '--json'])
    expect(result.code).toBe(0)
    const envelope = JSON.parse(result.stdout)
    expect(envelope.status).toBe(0)
    expect(envelope.result.view).toBe('syncz')
    expect(envelope.result.path).toBe('/debug/syncz?namespace=default')
    expect(envelope.result.answers.map((answer: {istiod: string}) => answer.istiod)).toEqual([ISTIOD_A, ISTIOD_B])
  })

  it('adsz: every replica by default', async () => {
    const result = await live(['istiod', 'adsz'])
    expect(result.code).toBe(0)
    const byIstiod = JSON.parse(result.stdout) as Record<string, {totalClients: number}>
    expect(Object.keys(byIstiod)).toEqual([ISTIOD_A, ISTIOD_B])
    expect(byIstiod[ISTIOD_B].totalClients).toBeGreaterThan(0)
  })

  it('adsz --proxy takes a workload (deploy/x) and a pod.namespace', async () => {
    for (const proxy of ['deploy/ratings-v1', `${RATINGS}.default`]) {
      const result = await live(['istiod', 'adsz', '--proxy', proxy, '-n', 'default'])
      expect(result.code).toBe(0)
      const body = JSON.parse(result.stdout) as {clients: Array<{connectionId: string}>}
      expect(body.clients[0].connectionId).toMatch(/^ratings-v1-77f6b4c8d5-m2j7r\.default-\d+$/)
    }
  })

  it('--all: { "<istiod>": <body> } for every replica; -n filters syncz', async () => {
    const result = await live(['istiod', 'syncz', '--all', '-n', 'default'])
    expect(result.code).toBe(0)
    const byIstiod = JSON.parse(result.stdout) as Record<string, Array<{proxy: string}>>
    expect(Object.keys(byIstiod)).toEqual([ISTIOD_A, ISTIOD_B])
    expect(byIstiod[ISTIOD_A].map((entry) => entry.proxy)).toEqual(['sleep-6f8cfb8c8f-wncwh.default'])
    expect(byIstiod[ISTIOD_B].map((entry) => entry.proxy)).toEqual(['httpbin-5c5f9d7b8d-lt6hx.default', 'ratings-v1-77f6b4c8d5-m2j7r.default'])
  })

  it('config-dump --proxy: istiod\'s view from the replica the proxy is connected to', async () => {
    const start = sim.adminRequests.length
    const result = await live(['istiod', 'config-dump', '--proxy', `${RATINGS}.default`])
    expect(result.code).toBe(0)
    const types = (JSON.parse(result.stdout) as {configs: Array<{'@type': string}>}).configs.map((config) => config['@type'].split('.').pop())
    expect(types).toEqual(['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'ScopedRoutesConfigDump', 'RoutesConfigDump', 'SecretsConfigDump', 'EcdsConfigDump'])
    const asked = requestsSince(start).filter((request) => request.path.startsWith('/debug/config_dump'))
    expect(asked.map((request) => request.pod).sort()).toEqual([ISTIOD_A, ISTIOD_B])
  })

  it('edsz completes a bare pod name with -n', async () => {
    const start = sim.adminRequests.length
    const found = await live(['istiod', 'edsz', '--proxy', SLEEP, '-n', 'default'])
    expect(found.code).toBe(0)
    expect(Array.isArray(JSON.parse(found.stdout))).toBe(true)
    expect(requestsSince(start).some((request) => request.path === `/debug/edsz?proxyID=${SLEEP}.default`)).toBe(true)
  })

  it('edsz of an unknown proxy is "not found" (exit 3)', async () => {
    const missing = await live(['istiod', 'edsz', '--proxy', 'nope-0.default'])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toBe(
      'Error: no istiod knows proxy "nope-0.default" (asked istiod-8d74787f-n4c7b, istiod-8d74787f-x2k9p). Hint: is its sidecar running and connected? see meshdbg sync-status\n',
    )
  })

  it('edsz needs --proxy (exit 2)', async () => {
    const edsz = await live(['istiod', 'edsz'])
    expect(edsz.code).toBe(2)
    expect(edsz.stderr).toBe('Error: istiod edsz needs --proxy <pod>.<namespace> (or deploy/x)\n')
  })

  it('registryz takes no --proxy (exit 2)', async () => {
    const registryz = await live(['istiod', 'registryz', '--proxy', `${SLEEP}.default`])
    expect(registryz.code).toBe(2)
  })

  it('adsz --proxy picks the replica that has the connection', async () => {
    const result = await live(['istiod', 'adsz', '--proxy', `${RATINGS}.default`])
    expect(result.code).toBe(0)
    const body = JSON.parse(result.stdout) as {totalClients: number; clients: Array<{connectionId: string}>}
    expect(body.totalClients).toBe(1)
    expect(body.clients[0].connectionId).toMatch(/^ratings-v1-77f6b4c8d5-m2j7r\.default-\d+$/)
  })

  it('push-status -o yaml', async () => {
    const result = await live(['istiod', 'push-status', '-o', 'yaml'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('pilot_eds_no_instances:\n  outbound|9080||reviews.default.svc.cluster.local: {}\n')
  })

  it.each([
    ['registryz', (body: unknown) => (body as Array<{hostname: string}>).some((service) => service.hostname === 'catalog.istioinaction.svc.cluster.local')],
    ['configz', (body: unknown) => (body as Array<{kind: string}>).some((config) => config.kind === 'VirtualService')],
    ['authorizationz', (body: unknown) => (body as {authorization_policies: {root_namespace: string}}).authorization_policies.root_namespace === 'istio-system'],
    ['instances', (body: unknown) => Object.keys(body as object).includes('catalog-5c7f8f8447-f54sj.istioinaction')],
  ])('%s prints the view as JSON', async (view, check) => {
    const result = await live(['istiod', view])
    expect(result.code).toBe(0)
    expect(check(JSON.parse(result.stdout))).toBe(true)
  })

  it('falls back to 15014 with a token when 8080 is refused', async () => {
    sim.setFault({pod: ISTIOD_A, namespace: ISTIO_NS, port: 8080}, {kind: 'refused'})
    const start = sim.adminRequests.length
    const result = await live(['istiod', 'registryz'])
    expect(result.code).toBe(0)
    // JSON on stdout keeps stderr quiet (no fallback note).
    expect(result.stderr).toBe('')
    expect(requestsSince(start).map((request) => `${request.pod}:${request.port}${request.path}`)).toEqual([`${ISTIOD_A}:15014/debug/registryz`])
  })

  it('never sends push=true: only the listed views are accepted', async () => {
    const result = await live(['istiod', 'adsz?push=true'])
    expect(result.code).toBe(2)
    expect(sim.adminRequests.some((request) => /push=true/.test(request.path))).toBe(false)
  })
})

describe('meshdbg agent <pod> <view>', () => {
  it('ready: READY', async () => {
    const result = await live(['agent', `${WEBAPP}.istioinaction`, 'ready'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('READY\n')
  })

  it('ready: NOT READY exits 10', async () => {
    sim.setFault({pod: WEBAPP, namespace: 'istioinaction', port: 15020}, {kind: 'http-status', status: 503, body: ''})
    const result = await live(['agent', `deploy/webapp.istioinaction`, 'ready'])
    expect(result.code).toBe(10)
    expect(result.stdout).toBe('NOT READY\n')
    expect(result.stderr).toBe(
      `deploy/webapp: using pod ${WEBAPP}.istioinaction\n` +
        `Error: the proxy ${WEBAPP}.istioinaction is not ready (pilot-agent /healthz/ready answered 503). Hint: Envoy has not received CDS and LDS from istiod yet, or is not live: see meshdbg sync-status and the istio-proxy logs\n`,
    )
  })

  it('metrics --match SUBSTR keeps matching samples with their # HELP / # TYPE lines', async () => {
    const result = await live(['agent', `${WEBAPP}.istioinaction`, 'metrics', '--match', 'istio_agent_pilot_xds'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      '# HELP istio_agent_pilot_xds Number of endpoints connected to this pilot using XDS.\n' +
        '# TYPE istio_agent_pilot_xds gauge\n' +
        'istio_agent_pilot_xds{version="1.24.3"} 1\n',
    )
  })

  it('metrics --match /REGEX/', async () => {
    const result = await live(['agent', `${WEBAPP}.istioinaction`, 'metrics', '--match', '/^istio_agent_(go_goroutines|scrapes_total) /'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      '# HELP istio_agent_go_goroutines Number of goroutines that currently exist.\n' +
        '# TYPE istio_agent_go_goroutines gauge\n' +
        'istio_agent_go_goroutines 52\n' +
        '# HELP istio_agent_scrapes_total The total number of scrapes.\n' +
        '# TYPE istio_agent_scrapes_total counter\n' +
        'istio_agent_scrapes_total 17\n',
    )
  })

  it('ndsz: the DNS name table as a table', async () => {
    const result = await live(['agent', SLEEP, '-n', 'default', 'ndsz'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      'HOSTNAME                                              SHORTNAME              NAMESPACE       REGISTRY     ADDRESSES\n' +
        'catalog.istioinaction.svc.cluster.local               catalog                istioinaction   Kubernetes   10.96.110.20\n' +
        'httpbin.default.svc.cluster.local                     httpbin                default         Kubernetes   10.96.120.40\n' +
        'istio-ingressgateway.istio-system.svc.cluster.local   istio-ingressgateway   istio-system    Kubernetes   10.96.200.10\n' +
        'istiod.istio-system.svc.cluster.local                 istiod                 istio-system    Kubernetes   10.96.12.34\n' +
        'kubernetes.default.svc.cluster.local                  kubernetes             default         Kubernetes   10.96.0.1\n' +
        'ratings.default.svc.cluster.local                     ratings                default         Kubernetes   10.96.120.41\n' +
        'reviews.default.svc.cluster.local                     reviews                default         Kubernetes   10.96.120.42\n' +
        'webapp.istioinaction.svc.cluster.local                webapp                 istioinaction   Kubernetes   10.96.110.30\n',
    )
  })

  it('syncz: what the agent gets from its istiod, as the sync table', async () => {
    const result = await live(['agent', `${SLEEP}.default`, 'syncz'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      'NAME                                                   CLUSTER        CDS        LDS        EDS        RDS        ECDS         ISTIOD                    VERSION\n' +
        'catalog-5c7f8f8447-f54sj.istioinaction                 Kubernetes     SYNCED     SYNCED     SYNCED     SYNCED     NOT SENT     istiod-8d74787f-n4c7b     1.24.3\n' +
        'istio-ingressgateway-6bb8fb6549-hcdnc.istio-system     Kubernetes     SYNCED     SYNCED     SYNCED     SYNCED     NOT SENT     istiod-8d74787f-n4c7b     1.24.3\n' +
        'sleep-6f8cfb8c8f-wncwh.default                         Kubernetes     SYNCED     SYNCED     SYNCED     SYNCED     NOT SENT     istiod-8d74787f-n4c7b     1.24.3\n' +
        'webapp-7c5d7b8c6b-4vzd9.istioinaction                  Kubernetes     SYNCED     SYNCED     STALE      SYNCED     NOT SENT     istiod-8d74787f-n4c7b     1.24.3\n',
    )
  })

  it('syncz on a 1.25 proxy: no port 15004 (exit 4, with where to look instead)', async () => {
    const result = await live(['agent', `${RATINGS}.default`, 'syncz'])
    expect(result.code).toBe(4)
    expect(result.stderr).toBe(
      `Error: the pilot-agent of ${RATINGS}.default does not answer on port 15004 (its XDS debug tap was removed in Istio 1.25). Hint: ask istiod instead: meshdbg sync-status ${RATINGS}.default --agent falls back to it, or meshdbg sync-status -n default (every istiod replica)\n`,
    )
  })

  it('offers no way to /quitquitquit', async () => {
    const result = await live(['agent', `${WEBAPP}.istioinaction`, 'quitquitquit'])
    expect(result.code).toBe(2)
    expect(sim.adminRequests.some((request) => /quitquitquit|drain/.test(request.path))).toBe(false)
  })
})
