// `meshdbg waypoint list|status` against scenarios/ambient.yaml (bookinfo's namespace waypoint) plus
// enrolments that bypass a waypoint: one naming a waypoint that does not exist, one an unprogrammed
// waypoint, one a workload on a service-only waypoint.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {loadScenario} from '../../src/sim/scenario-file.js'
import {projectRoot, runCli} from '../helpers/cli.js'

const bypassing = `
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: shop-waypoint}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: egress, namespace: legacy, labels: {istio.io/waypoint-for: all}}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
status:
  conditions:
  - {type: Accepted, status: "True", reason: Accepted, message: Resource accepted}
  - {type: Programmed, status: "False", reason: Invalid, message: "Failed to assign to any requested addresses"}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: legacy, labels: {istio.io/use-waypoint: egress}}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: sleep, namespace: bookinfo, labels: {app: sleep, istio.io/use-waypoint: waypoint}}
spec:
  containers: [{name: sleep, image: docker.io/curlimages/curl:8.8.0}]
`

let sim: Simulator
beforeAll(async () => {
  const text = readFileSync(join(projectRoot, 'scenarios', 'ambient.yaml'), 'utf8') + bypassing
  sim = await startSimulator({scenario: loadScenario(text, 'ambient')})
})
afterAll(async () => {
  await sim?.close()
})

const waypoint = (...args: string[]) => runCli(['waypoint', ...args, '--timeout', '30s'], {env: {KUBECONFIG: sim.kubeconfigPath}, killAfterMs: 60_000})

describe('waypoint list / status', () => {
  it('lists the namespace\'s waypoint in istioctl\'s columns', {timeout: 120_000}, async () => {
    const result = await waypoint('list', '-n', 'bookinfo')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      'NAME         REVISION     TRAFFIC TYPE     PROGRAMMED\n' +
      'waypoint     default      service          True\n' +
      'Warning [waypoint-for-mismatch]: pod bookinfo/sleep uses waypoint bookinfo/waypoint, whose istio.io/waypoint-for is service: pod traffic bypasses it\n')
  })

  it('-A -o json: who uses each waypoint and every enrolment that bypasses one', {timeout: 120_000}, async () => {
    const result = await waypoint('list', '-A', '-o', 'json')
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report.waypoints.map((w: {namespace: string; name: string; programmed: string}) => `${w.namespace}/${w.name}=${w.programmed}`)).toEqual(['bookinfo/waypoint=True', 'legacy/egress=False'])
    expect(report.waypoints[0].usedBy).toEqual([{kind: 'namespace', name: 'bookinfo'}, {kind: 'pod', name: 'bookinfo/sleep'}])
    expect(report.warnings.map((w: {id: string; user: {name: string}}) => `${w.id} ${w.user.name}`)).toEqual([
      'waypoint-missing shop',
      'waypoint-not-programmed legacy/echo',
      'waypoint-for-mismatch bookinfo/sleep',
    ])
  })

  it('status shows the Programmed condition\'s reason and message', {timeout: 120_000}, async () => {
    const result = await waypoint('status', '-A')
    expect(result.code).toBe(0)
    expect(result.stdout.split('\n').slice(0, 3)).toEqual([
      'NAMESPACE     NAME         STATUS     TYPE           REASON         MESSAGE',
      'bookinfo      waypoint     True       Programmed     Programmed     Resource programmed, assigned to service(s) waypoint.bookinfo.svc.cluster.local:15008',
      'legacy        egress       False      Programmed     Invalid        Failed to assign to any requested addresses',
    ])
    const none = await waypoint('list', '-n', 'default')
    expect(none.stdout).toBe('No waypoints found.\n')
  })
})
