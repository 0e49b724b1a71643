// Live proxy-config against the simulated cluster: every subcommand and target form, compared with
// `-f` on the same bytes, and every transport failure with its one-line message and exit code.
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import type {RunContext} from '../../src/lib/context.js'
import {fetchFromPod} from '../../src/lib/kube/live.js'
import {Scope} from '../../src/lib/scope.js'
import {buildCatalogScenario, startSimulator, type Fault, type Simulator} from '../../src/sim/index.js'
import {projectRoot, runCli, type CliResult} from '../helpers/cli.js'

const NS = 'istioinaction'
const CATALOG = 'catalog-5c7f8f8447-f54sj'
const WEBAPP = 'webapp-7c5d7b8c6b-4vzd9'
const HANG_GUARD = {killAfterMs: 15_000}

let sim: Simulator
let scratch: string

beforeAll(async () => {
  const scenario = buildCatalogScenario()
  // Workload kinds the catalog lacks, selecting the webapp pod, so every target type resolves.
  const webappDeploy = scenario.workloads.find((w) => w.kind === 'Deployment' && w.name === 'webapp')!
  for (const kind of ['StatefulSet', 'DaemonSet', 'Job'] as const) {
    scenario.workloads.push({...webappDeploy, kind, name: `webapp-${kind.toLowerCase()}`, uid: `uid-webapp-${kind}`})
  }
  sim = await startSimulator({scenario})
  scratch = mkdtempSync(join(tmpdir(), 'meshdbg-live-'))
})

afterAll(async () => {
  await sim?.close()
  if (scratch) rmSync(scratch, {recursive: true, force: true})
})

afterEach(() => {
  sim.setFault({pod: WEBAPP, namespace: NS}, undefined)
  sim.setFault({pod: CATALOG, namespace: NS}, undefined)
})

function live(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, {env: {KUBECONFIG: sim.kubeconfigPath, ...env}, ...HANG_GUARD})
}

/** Fetches exactly what a live command fetched (same pod, port, path) through the library. */
async function sameBytes(pod: string, namespace: string, port: number, path: string): Promise<string> {
  const scope = new Scope()
  const ctx: RunContext = {
    kubeconfig: sim.kubeconfigPath,
    timeoutMs: 10_000,
    signal: AbortSignal.timeout(10_000),
    scope,
    note: () => {},
    spin: (_text, work) => work,
  }
  try {
    const file = join(scratch, `${pod}-${Math.random().toString(36).slice(2)}.json`)
    writeFileSync(file, (await fetchFromPod(ctx, {name: pod, namespace}, port, path)).text)
    return file
  } finally {
    await scope.close()
  }
}

function lastAdminRequest(pod: string) {
  const requests = sim.adminRequests.filter((request) => request.pod === pod)
  return requests[requests.length - 1]
}

const SUBCOMMANDS = ['cluster', 'listener', 'route', 'endpoint', 'secret', 'bootstrap', 'ecds', 'all'].filter((name) =>
  existsSync(join(projectRoot, 'dist', 'commands', 'proxy-config', `${name}.js`)),
)

describe('live proxy-config prints what -f prints for the same bytes', () => {
  it.each(SUBCOMMANDS)('proxy-config %s', async (subcommand) => {
    const before = sim.adminRequests.length
    const result = await live(['proxy-config', subcommand, `${CATALOG}.${NS}`])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const request = lastAdminRequest(CATALOG)
    expect(sim.adminRequests.length).toBeGreaterThan(before)
    expect(request).toMatchObject({namespace: NS, port: 15000, method: 'GET'})
    const file = await sameBytes(CATALOG, NS, request.port, request.path)
    const offline = await runCli(['proxy-config', subcommand, '-f', file])
    expect(offline.code).toBe(0)
    expect(result.stdout).not.toBe('')
    expect(result.stdout).toBe(offline.stdout)
  })

  it('-o json of a live target equals -o json of the file', async () => {
    const result = await live(['proxy-config', 'cluster', `deploy/webapp.${NS}`, '-o', 'json'])
    expect(result.code).toBe(0)
    const request = lastAdminRequest(WEBAPP)
    const offline = await runCli(['proxy-config', 'cluster', '-f', await sameBytes(WEBAPP, NS, request.port, request.path), '-o', 'json'])
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(offline.stdout))
    // Structured output keeps stderr quiet (no "using pod" note).
    expect(result.stderr).toBe('')
  })
})

describe('target forms', () => {
  let webappTable = ''

  beforeAll(async () => {
    const baseline = await live(['proxy-config', 'cluster', `pod/${WEBAPP}.${NS}`])
    expect(baseline.code).toBe(0)
    webappTable = baseline.stdout
    expect(webappTable).toContain('8080')
  })

  it.each([
    [[WEBAPP, '-n', NS], ''],
    [[`${WEBAPP}.${NS}`], ''],
    [[`pod/${WEBAPP}`, '-n', NS], ''],
    [[`deploy/webapp.${NS}`], `deploy/webapp: using pod ${WEBAPP}.${NS}\n`],
    [['deployment/webapp', '-n', NS], `deploy/webapp: using pod ${WEBAPP}.${NS}\n`],
    [[`deployment.apps/webapp.${NS}`], `deploy/webapp: using pod ${WEBAPP}.${NS}\n`],
    [[`svc/webapp.${NS}`], `svc/webapp: using pod ${WEBAPP}.${NS}\n`],
    [[`service/webapp.${NS}`], `svc/webapp: using pod ${WEBAPP}.${NS}\n`],
    [[`rs/webapp-7c5d7b8c6b.${NS}`], `rs/webapp-7c5d7b8c6b: using pod ${WEBAPP}.${NS}\n`],
    [[`replicaset/webapp-7c5d7b8c6b.${NS}`], `rs/webapp-7c5d7b8c6b: using pod ${WEBAPP}.${NS}\n`],
    [[`sts/webapp-statefulset.${NS}`], `sts/webapp-statefulset: using pod ${WEBAPP}.${NS}\n`],
    [[`statefulset/webapp-statefulset.${NS}`], `sts/webapp-statefulset: using pod ${WEBAPP}.${NS}\n`],
    [[`ds/webapp-daemonset.${NS}`], `ds/webapp-daemonset: using pod ${WEBAPP}.${NS}\n`],
    [[`daemonset/webapp-daemonset.${NS}`], `ds/webapp-daemonset: using pod ${WEBAPP}.${NS}\n`],
    [[`job/webapp-job.${NS}`], `job/webapp-job: using pod ${WEBAPP}.${NS}\n`],
    // The .namespace suffix wins over -n.
    [[`deploy/webapp.${NS}`, '-n', 'default'], `deploy/webapp: using pod ${WEBAPP}.${NS}\n`],
  ])('%j', async (args, note) => {
    const result = await live(['proxy-config', 'cluster', ...args])
    expect(result.stderr).toBe(note)
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(webappTable)
  })

  it("a plain pod name uses the kubeconfig context's namespace", async () => {
    const kubeconfig = join(scratch, 'kubeconfig-istioinaction')
    writeFileSync(kubeconfig, sim.kubeconfigYaml({namespace: NS}))
    const result = await live(['proxy-config', 'cluster', WEBAPP], {KUBECONFIG: kubeconfig})
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(webappTable)
    const explicit = await live(['proxy-config', 'cluster', WEBAPP, '--kubeconfig', kubeconfig], {KUBECONFIG: join(scratch, 'absent')})
    expect(explicit.code).toBe(0)
  })

  it('a workload with several pods names the one it picked', async () => {
    const result = await live(['proxy-config', 'cluster', `deploy/catalog-v2.${NS}`])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/^deploy\/catalog-v2: using pod catalog-v2-6d4c8b7d9f-\w+\.istioinaction \(and 1 more; pass pod\/<name> to pick one\)\n$/)
  })

  it('a gateway (pilot-agent proxy router) is a valid target', async () => {
    const result = await live(['proxy-config', 'cluster', 'deploy/istio-ingressgateway.istio-system'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('catalog.istioinaction.svc.cluster.local')
  })

  it("uses the admin port from the pod's proxy.istio.io/config annotation", async () => {
    const result = await live(['proxy-config', 'cluster', 'svc/httpbin.default'])
    expect(result.code).toBe(0)
    expect(lastAdminRequest('httpbin-5c5f9d7b8d-lt6hx')).toMatchObject({port: 15800})
  })
})

describe('credentials', () => {
  it('an exec credential plugin token reaches the REST calls and the port-forward upgrade', async () => {
    const plugin = join(scratch, 'credential-plugin.cjs')
    writeFileSync(
      plugin,
      `process.stdout.write(JSON.stringify({apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {token: 'exec-token-42'}}))\n`,
    )
    const kubeconfig = join(scratch, 'kubeconfig-exec')
    const user = `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${JSON.stringify(process.execPath)}\n      args: [${JSON.stringify(plugin)}]\n      interactiveMode: Never\n`
    writeFileSync(kubeconfig, sim.kubeconfigYaml().replace(/    token: .*\n/, user))
    const before = sim.requests.length
    const result = await live(['proxy-config', 'cluster', `deploy/webapp.${NS}`], {KUBECONFIG: kubeconfig})
    expect(result.code).toBe(0)
    const seen = sim.requests.slice(before)
    const rest = seen.filter((request) => request.path.startsWith(`/apis/apps/v1/namespaces/${NS}/deployments/webapp`))
    const upgrade = seen.filter((request) => request.path.includes(`/pods/${WEBAPP}/portforward`))
    expect(rest.length).toBeGreaterThan(0)
    expect(upgrade.length).toBeGreaterThan(0)
    for (const request of [...rest, ...upgrade]) expect(request.headers.authorization).toBe('Bearer exec-token-42')
  })
})

describe('TLS API server', () => {
  it('verifies the server with the kubeconfig CA for REST and port-forward', async () => {
    const tlsSim = await startSimulator({scenario: 'catalog', tls: true})
    try {
      expect(tlsSim.url).toMatch(/^https:/)
      const result = await runCli(['proxy-config', 'cluster', `deploy/webapp.${NS}`], {env: {KUBECONFIG: tlsSim.kubeconfigPath}, ...HANG_GUARD})
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('8080')
      expect(tlsSim.adminRequests.some((request) => request.pod === WEBAPP)).toBe(true)
    } finally {
      await tlsSim.close()
    }
  })
})

describe('failures: one line, a documented exit code, no hang', () => {
  const webappTarget = ['proxy-config', 'cluster', `deploy/webapp.${NS}`]
  // Short enough to keep the suite quick, long enough for a cold start on a loaded 2-core runner.
  const stallTarget = [...webappTarget, '--timeout', '3s']

  async function withFault(fault: Fault, args = webappTarget): Promise<CliResult> {
    sim.setFault({pod: WEBAPP, namespace: NS}, fault)
    return live(args)
  }

  function errorLine(result: CliResult): string {
    expect(result.signal).toBeNull()
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('Error: '))
    expect(lines).toHaveLength(1)
    expect(result.stdout).toBe('')
    return lines[0]
  }

  it('403 on the upgrade: the API server message, and which permission is missing (exit 4)', async () => {
    const result = await withFault({kind: 'forbidden'})
    expect(result.code).toBe(4)
    expect(errorLine(result)).toBe(
      `Error: port-forward to pod ${WEBAPP}.${NS} is forbidden: pods "${WEBAPP}" is forbidden: User "sim-user" cannot create resource "pods/portforward" in API group "" in the namespace "${NS}". ` +
        `Hint: your Kubernetes user needs the "create" verb on "pods/portforward" in namespace "${NS}"`,
    )
  })

  it('404 on the upgrade: the pod went away (exit 3)', async () => {
    const result = await withFault({kind: 'not-found'})
    expect(result.code).toBe(3)
    expect(errorLine(result)).toBe(`Error: pod ${WEBAPP}.${NS} not found when starting the port-forward: pods "${WEBAPP}" not found. Hint: it may have been deleted or restarted; retry`)
  })

  it('500 on the upgrade: the API server message (exit 4)', async () => {
    const result = await withFault({kind: 'upgrade-500'})
    expect(result.code).toBe(4)
    expect(errorLine(result)).toMatch(/^Error: port-forward to pod webapp-\S+ failed: the API server answered HTTP 500: error dialing backend: /)
  })

  it('connection refused inside the pod: the kubelet text and --proxy-admin-port (exit 4)', async () => {
    const result = await withFault({kind: 'refused'})
    expect(result.code).toBe(4)
    const line = errorLine(result)
    expect(line).toMatch(new RegExp(`^Error: nothing accepted the connection to port 15000 inside pod ${WEBAPP}\\.${NS}: .*connection refused`))
    expect(line).toContain("Hint: Envoy's admin API is not on port 15000: pass --proxy-admin-port")
  })

  it('a wrong --proxy-admin-port is refused the same way, with a hint about the flag', async () => {
    const result = await live(['proxy-config', 'cluster', `pod/${WEBAPP}.${NS}`, '--proxy-admin-port', '15999'])
    expect(result.code).toBe(4)
    expect(errorLine(result)).toMatch(/nothing accepted the connection to port 15999 inside pod .*Hint: is that the Envoy admin port\?/)
  })

  it('the stream closes mid-response (exit 4)', async () => {
    const result = await withFault({kind: 'close-after', bytes: 2000})
    expect(result.code).toBe(4)
    expect(errorLine(result)).toMatch(/: the port-forward stream closed \(code 1011: simulated close\) mid-response after \d+ bytes$/)
  })

  it('the stream is reset mid-response (exit 4)', async () => {
    const result = await withFault({kind: 'reset-after', bytes: 2000})
    expect(result.code).toBe(4)
    expect(errorLine(result)).toMatch(/: the port-forward stream closed \(code 1006\) mid-response after \d+ bytes$/)
  })

  it('a stall past the deadline (exit 5)', async () => {
    const result = await withFault({kind: 'stall'}, stallTarget)
    expect(result.code).toBe(5)
    expect(errorLine(result)).toBe(`Error: timed out after 3s waiting for GET /config_dump on pod ${WEBAPP}.${NS} port 15000. Hint: raise --timeout`)
  })

  it('a stall after some bytes (exit 5)', async () => {
    const result = await withFault({kind: 'stall', afterBytes: 3000}, stallTarget)
    expect(result.code).toBe(5)
    expect(errorLine(result)).toMatch(/^Error: timed out after 3s waiting for GET \/config_dump on pod \S+ port 15000 \(\d+ bytes received\)/)
  })

  it('a slow first byte within the deadline still succeeds', async () => {
    const result = await withFault({kind: 'slow-first-byte', ms: 500})
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('8080')
  })

  it('a non-200 from the admin API: status and first body line (exit 4)', async () => {
    const result = await withFault({kind: 'http-status', status: 503, body: 'no healthy upstream\nsecond line'})
    expect(result.code).toBe(4)
    expect(errorLine(result)).toBe(`Error: GET /config_dump on pod ${WEBAPP}.${NS} port 15000 returned HTTP 503: no healthy upstream`)
  })

  it('a JSON body cut off (exit 6)', async () => {
    const result = await withFault({kind: 'truncated-json'})
    expect(result.code).toBe(6)
    expect(errorLine(result)).toMatch(/^Error: GET \/config_dump on pod \S+ port 15000: the JSON response stops after \d+ bytes \(truncated\)/)
  })

  it('pod, workload or service missing (exit 3)', async () => {
    const pod = await live(['proxy-config', 'cluster', `nope-123.${NS}`])
    expect(pod.code).toBe(3)
    expect(errorLine(pod)).toBe(`Error: pod "nope-123" in namespace "${NS}" not found`)
    const deploy = await live(['proxy-config', 'cluster', `deploy/nope.${NS}`])
    expect(deploy.code).toBe(3)
    expect(errorLine(deploy)).toBe(`Error: deployment "nope" in namespace "${NS}" not found`)
    const service = await live(['proxy-config', 'cluster', 'svc/kubernetes.default'])
    expect(service.code).toBe(3)
    expect(errorLine(service)).toBe('Error: service "kubernetes" in namespace "default" has no selector: it does not refer to pods')
  })

  it('a pod that is not Running (exit 3)', async () => {
    const result = await live(['proxy-config', 'cluster', 'deploy/reviews-v1.default'])
    expect(result.code).toBe(3)
    expect(errorLine(result)).toBe('Error: pod reviews-v1-8c5d9f6c7-pnd4g.default is Pending, not Running. Hint: wait for it to start, or pick another pod')
  })

  it('a pod without istio-proxy (exit 3)', async () => {
    const result = await live(['proxy-config', 'cluster', 'deploy/sleep-legacy.default'])
    expect(result.code).toBe(3)
    expect(errorLine(result)).toMatch(/^Error: pod sleep-legacy-\S+\.default has no istio-proxy container: it is not part of the mesh\. Hint: /)
  })

  it('no kubeconfig, or an unknown context (exit 2, never localhost:8080)', async () => {
    const none = await runCli(['proxy-config', 'cluster', 'deploy/webapp'], {env: {KUBECONFIG: '', HOME: scratch}, ...HANG_GUARD})
    expect(none.code).toBe(2)
    expect(errorLine(none)).toBe(`Error: no kubeconfig found (looked for ${join(scratch, '.kube', 'config')}). Hint: set KUBECONFIG, pass --kubeconfig, or read a saved dump with --file`)
    const context = await live(['proxy-config', 'cluster', 'deploy/webapp', '--context', 'prod'])
    expect(context.code).toBe(2)
    expect(errorLine(context)).toBe(`Error: context "prod" not found in the kubeconfig (KUBECONFIG=${sim.kubeconfigPath}). Hint: known contexts: sim`)
  })

  it('an API server that is down (exit 4)', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer()
      server.listen(0, '127.0.0.1', () => {
        const {port} = server.address() as {port: number}
        server.close(() => resolve(port))
      })
    })
    const kubeconfig = join(scratch, 'kubeconfig-down')
    writeFileSync(kubeconfig, sim.kubeconfigYaml().replace(sim.url, `http://127.0.0.1:${closedPort}`))
    const result = await live(['proxy-config', 'cluster', `pod/${WEBAPP}.${NS}`], {KUBECONFIG: kubeconfig})
    expect(result.code).toBe(4)
    expect(errorLine(result)).toBe(
      `Error: cannot reach the Kubernetes API server at http://127.0.0.1:${closedPort} (ECONNREFUSED). Hint: check the cluster of context "sim" is up and reachable`,
    )
  })
})
