import {describe, expect, it} from 'vitest'

import {MeshdbgError} from '../../src/lib/errors.js'
import {
  assertUsableProxyPod,
  isMeshedPod,
  labelSelectorString,
  parseTarget,
  sortForLogs,
  type PodLike,
} from '../../src/lib/kube/target-spec.js'

describe('parseTarget (istioctl split rule)', () => {
  it.each([
    ['productpage-v1-abc', {kind: 'pod', name: 'productpage-v1-abc', namespace: undefined}],
    ['productpage-v1-abc.bookinfo', {kind: 'pod', name: 'productpage-v1-abc', namespace: 'bookinfo'}],
    ['pod/web-1', {kind: 'pod', name: 'web-1', namespace: undefined}],
    ['po/web-1.shop', {kind: 'pod', name: 'web-1', namespace: 'shop'}],
    ['deploy/productpage-v1.bookinfo', {kind: 'deployment', name: 'productpage-v1', namespace: 'bookinfo'}],
    ['deployment/catalog', {kind: 'deployment', name: 'catalog', namespace: undefined}],
    ['deployment.apps/catalog', {kind: 'deployment', name: 'catalog', namespace: undefined}],
    ['deployments.apps/catalog.shop', {kind: 'deployment', name: 'catalog', namespace: 'shop'}],
    ['svc/catalog.istioinaction', {kind: 'service', name: 'catalog', namespace: 'istioinaction'}],
    ['service/catalog', {kind: 'service', name: 'catalog', namespace: undefined}],
    ['sts/db.data', {kind: 'statefulset', name: 'db', namespace: 'data'}],
    ['statefulset/db', {kind: 'statefulset', name: 'db', namespace: undefined}],
    ['ds/node-agent', {kind: 'daemonset', name: 'node-agent', namespace: undefined}],
    ['daemonset/node-agent.kube-system', {kind: 'daemonset', name: 'node-agent', namespace: 'kube-system'}],
    ['rs/web-5d8f', {kind: 'replicaset', name: 'web-5d8f', namespace: undefined}],
    ['replicaset/web-5d8f.shop', {kind: 'replicaset', name: 'web-5d8f', namespace: 'shop'}],
    ['job/migrate.batch', {kind: 'job', name: 'migrate', namespace: 'batch'}],
    ['job.batch/migrate', {kind: 'job', name: 'migrate', namespace: undefined}],
    // A leading slash does not count as a type separator: the last dot splits.
    ['/web-1.shop', {kind: 'pod', name: 'web-1', namespace: 'shop'}],
  ])('%s', (text, expected) => {
    expect(parseTarget(text)).toEqual({...expected, text})
  })

  it('a dotted pod name without pod/ is split at the last dot, as istioctl does', () => {
    expect(parseTarget('web.v2.shop')).toMatchObject({kind: 'pod', name: 'web.v2', namespace: 'shop'})
  })

  it.each([
    ['cronjob/nightly', /^unsupported target type "cronjob"/],
    ['deploy/', /^invalid target "deploy\/"/],
    ['web.', /empty namespace/],
    ['', /^empty pod\/workload name/],
  ])('rejects %j with a usage error', (text, message) => {
    let caught: unknown
    try {
      parseTarget(text)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(MeshdbgError)
    expect((caught as MeshdbgError).exitCode).toBe(2)
    expect((caught as MeshdbgError).message).toMatch(message)
  })
})

describe('labelSelectorString', () => {
  it('combines matchLabels AND matchExpressions', () => {
    expect(
      labelSelectorString({
        matchLabels: {app: 'web', tier: 'front'},
        matchExpressions: [
          {key: 'version', operator: 'In', values: ['v2', 'v1']},
          {key: 'canary', operator: 'NotIn', values: ['true']},
          {key: 'istio.io/rev', operator: 'Exists'},
          {key: 'legacy', operator: 'DoesNotExist'},
        ],
      }),
    ).toBe('app=web,tier=front,version in (v1,v2),canary notin (true),istio.io/rev,!legacy')
  })

  it('is empty for an empty selector', () => {
    expect(labelSelectorString({})).toBe('')
  })
})

const t0 = '2026-11-01T10:00:00Z'
const t1 = '2026-11-01T11:00:00Z'
const t2 = '2026-11-01T12:00:00Z'

function pod(name: string, fields: {node?: string; phase?: string; readySince?: string; restarts?: number; created?: string} = {}): PodLike {
  return {
    metadata: {name, creationTimestamp: fields.created ?? t0},
    spec: {nodeName: fields.node ?? 'node-1', containers: [{name: 'app'}, {name: 'istio-proxy'}]},
    status: {
      phase: fields.phase ?? 'Running',
      conditions: fields.readySince ? [{type: 'Ready', status: 'True', lastTransitionTime: fields.readySince}] : [{type: 'Ready', status: 'False'}],
      containerStatuses: [{restartCount: fields.restarts ?? 0}],
    },
  }
}

const names = (pods: PodLike[]) => pods.map((p) => p.metadata?.name)

describe('sortForLogs (kubectl logs order)', () => {
  it('scheduled pods come before unscheduled ones', () => {
    expect(names(sortForLogs([pod('unscheduled', {node: '', readySince: t0}), pod('scheduled', {phase: 'Pending'})]))).toEqual(['scheduled', 'unscheduled'])
  })

  it('Running < Unknown < Pending < other phases', () => {
    const pods = [pod('failed', {phase: 'Failed'}), pod('pending', {phase: 'Pending'}), pod('unknown', {phase: 'Unknown'}), pod('running', {phase: 'Running'})]
    expect(names(sortForLogs(pods))).toEqual(['running', 'unknown', 'pending', 'failed'])
  })

  it('Ready before not ready, then ready longer first', () => {
    const pods = [pod('not-ready'), pod('ready-later', {readySince: t2}), pod('ready-first', {readySince: t1})]
    expect(names(sortForLogs(pods))).toEqual(['ready-first', 'ready-later', 'not-ready'])
  })

  it('then more restarts first, then older first, keeping API order on ties', () => {
    const pods = [pod('young', {created: t2}), pod('old', {created: t1}), pod('restarted', {created: t2, restarts: 3}), pod('twin-a', {created: t1})]
    expect(names(sortForLogs(pods))).toEqual(['restarted', 'old', 'twin-a', 'young'])
  })
})

describe('mesh membership', () => {
  it('a sidecar, a native sidecar (init container with restartPolicy Always) and a gateway are meshed', () => {
    expect(isMeshedPod({spec: {containers: [{name: 'app'}, {name: 'istio-proxy'}]}})).toBe(true)
    expect(isMeshedPod({spec: {containers: [{name: 'app'}], initContainers: [{name: 'istio-proxy', restartPolicy: 'Always'}]}})).toBe(true)
    expect(isMeshedPod({spec: {containers: [{name: 'gateway', command: ['/usr/local/bin/pilot-agent'], args: ['proxy', 'router', '--domain']}]}})).toBe(true)
  })

  it('a pod without a proxy, or with only istio-init, is not', () => {
    expect(isMeshedPod({spec: {containers: [{name: 'app'}], initContainers: [{name: 'istio-init'}]}})).toBe(false)
    expect(isMeshedPod({spec: {containers: [{name: 'app', args: ['proxy', 'sidecar']}]}})).toBe(false)
  })

  it('a pod that is not Running, or not meshed, fails with exit 3 and a specific message', () => {
    const failure = (run: () => void) => {
      try {
        run()
      } catch (error) {
        return error as MeshdbgError
      }
      throw new Error('expected an error')
    }
    const pending = failure(() => assertUsableProxyPod(pod('web', {phase: 'Pending'}), 'web.shop'))
    expect([pending.exitCode, pending.message]).toEqual([3, 'pod web.shop is Pending, not Running'])
    const plain = failure(() => assertUsableProxyPod({spec: {containers: [{name: 'app'}]}, status: {phase: 'Running'}}, 'db.shop'))
    expect([plain.exitCode, plain.message]).toEqual([3, 'pod db.shop has no istio-proxy container: it is not part of the mesh'])
    expect(() => assertUsableProxyPod({spec: {containers: [{name: 'app'}]}, status: {phase: 'Running'}}, 'db.shop', false)).not.toThrow()
  })
})
