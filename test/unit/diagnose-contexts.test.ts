// diagnose over several contexts and --watch's change lines: the pure merge, render and diff.
import {describe, expect, it} from 'vitest'

import {findingChanges, renderFindingChange} from '../../src/lib/diagnose/changes.js'
import {mergeContextOutcomes} from '../../src/lib/diagnose/contexts.js'
import {diagnoseOutcome, type DiagnoseResult} from '../../src/lib/diagnose/diagnose.js'
import {CHECKS} from '../../src/lib/diagnose/registry.js'
import {countFindings} from '../../src/lib/diagnose/run.js'
import type {Finding} from '../../src/lib/diagnose/types.js'
import {MeshdbgError} from '../../src/lib/errors.js'
import {renderDiagnoseContexts} from '../../src/lib/render/diagnose.js'

const GW = 'istio-ingressgateway-1.istio-system'
const routesFail: Finding = {id: 'routes', group: 'Routing', severity: 'fail', target: GW, message: 'no DestinationRule defines subset version-v1', hint: 'apply one', command: 'kubectl get destinationrules -n istioinaction'}
const syncPass: Finding = {id: 'sync', group: 'Control plane', severity: 'pass', target: GW, message: 'SYNCED with istiod-1'}

function result(findings: Finding[], proxies = [GW]): DiagnoseResult {
  return {proxies, checks: ['routes', 'sync'], counts: countFindings(findings), findings}
}

const unreachable = new MeshdbgError('connection', 'cannot reach the Kubernetes API server at http://127.0.0.1:9 (ECONNREFUSED)', {hint: 'check the cluster of context "gone" is up'})

describe('mergeContextOutcomes', () => {
  const merged = mergeContextOutcomes(
    [
      {context: 'east', ok: true, value: result([syncPass])},
      {context: 'gone', ok: false, error: unreachable},
      {context: 'west', ok: true, value: result([routesFail, syncPass])},
    ],
    CHECKS,
  )

  it('tags every finding with its context; a cluster that failed is one ERROR finding; counts and exit are over all contexts', () => {
    expect(merged.findings.map((f) => [f.severity, f.id, f.context])).toEqual([
      ['fail', 'routes', 'west'],
      ['error', 'cluster', 'gone'],
      ['pass', 'sync', 'east'],
      ['pass', 'sync', 'west'],
    ])
    expect(merged.findings[1]).toEqual({id: 'cluster', group: 'Cluster', severity: 'error', target: 'gone', context: 'gone', message: 'not diagnosed: cannot reach the Kubernetes API server at http://127.0.0.1:9 (ECONNREFUSED)', hint: 'check the cluster of context "gone" is up'})
    expect(merged.counts).toEqual({pass: 2, warn: 0, fail: 1, error: 1})
    expect(merged.contexts?.map((c) => [c.context, c.proxies.length, c.error?.kind])).toEqual([['east', 1, undefined], ['gone', 0, 'connection'], ['west', 1, undefined]])
    const outcome = diagnoseOutcome(merged, 'fail')
    expect(outcome?.exitCode).toBe(11)
    expect(outcome?.message).toBe(`1 check failed, 1 could not run: routes on ${GW} (context west): no DestinationRule defines subset version-v1`)
  })

  it('renders a heading per context, each context as one cluster prints it, then one summary', () => {
    expect(renderDiagnoseContexts(merged, CHECKS, {short: true})).toBe([
      'Context east',
      '============',
      `Diagnosed ${GW}: 0 failed, 0 errors, 0 warnings, 1 passed\n`,
      'Context gone',
      '============',
      'Cluster',
      '-------',
      '[ERROR] cluster gone: not diagnosed: cannot reach the Kubernetes API server at http://127.0.0.1:9 (ECONNREFUSED)',
      '       hint: check the cluster of context "gone" is up',
      '',
      'Diagnosed 0 proxies: 0 failed, 1 error, 0 warnings, 0 passed\n',
      'Context west',
      '============',
      'Routing',
      '-------',
      '[FAIL] routes: no DestinationRule defines subset version-v1',
      '       hint: apply one',
      '       next: kubectl get destinationrules -n istioinaction',
      '',
      `Diagnosed ${GW}: 1 failed, 0 errors, 0 warnings, 1 passed\n`,
      'Diagnosed 3 contexts, 2 proxies: 1 failed, 1 error, 0 warnings, 2 passed',
      '',
    ].join('\n'))
  })

  it('nothing to diagnose in one context is a WARN; in every context it is the not-found error (exit 3)', () => {
    const missing = new MeshdbgError('not-found', 'no Running meshed pods to diagnose')
    const some = mergeContextOutcomes([{context: 'east', ok: true, value: result([syncPass])}, {context: 'west', ok: false, error: missing}], CHECKS)
    expect(some.findings.find((f) => f.id === 'cluster')).toMatchObject({severity: 'warn', context: 'west', message: 'nothing to diagnose: no Running meshed pods to diagnose'})
    expect(diagnoseOutcome(some, 'fail')).toBeUndefined()
    expect(() => mergeContextOutcomes([{context: 'east', ok: false, error: missing}, {context: 'west', ok: false, error: missing}], CHECKS)).toThrow(
      expect.objectContaining({exitCode: 3, message: 'no context has anything to diagnose: context east: no Running meshed pods to diagnose'}),
    )
  })

  it('escapes context names in headings', () => {
    const hostile = mergeContextOutcomes([{context: 'evil\u001B[2J', ok: true, value: result([syncPass])}], CHECKS)
    expect(renderDiagnoseContexts(hostile, CHECKS, {})).not.toContain('\u001B')
  })
})

describe('findingChanges (diagnose --watch without a TTY)', () => {
  const lines = (before: DiagnoseResult, after: DiagnoseResult) => findingChanges(before, after).map(renderFindingChange)

  it('a problem that passes now is resolved, a new problem is new, a severity change is changed', () => {
    const routesPass: Finding = {...routesFail, severity: 'pass', message: 'every route has its cluster'}
    expect(lines(result([routesFail, syncPass]), result([routesPass, syncPass]))).toEqual([`resolved FAIL routes ${GW}: no DestinationRule defines subset version-v1`])
    expect(lines(result([routesPass, syncPass]), result([routesFail, syncPass]))).toEqual([`new FAIL routes ${GW}: no DestinationRule defines subset version-v1`])
    const warned = {...routesFail, severity: 'warn' as const, message: 'something else'}
    expect(lines(result([warned]), result([routesFail]))).toEqual([`changed WARN -> FAIL routes ${GW}: no DestinationRule defines subset version-v1`])
  })

  it('the same problem in other words is no change; PASS coming and going is none either', () => {
    const log = (count: number): Finding => ({id: 'access-log', group: 'Traffic', severity: 'fail', target: GW, message: `${count} of 10 requests failed`})
    expect(lines(result([log(3), syncPass]), result([log(4)]))).toEqual([])
  })

  it('the findings of a proxy no longer diagnosed are gone; those of a context that did not answer are unknown, not resolved', () => {
    expect(lines(result([routesFail]), result([], []))).toEqual([`gone FAIL routes ${GW}: no DestinationRule defines subset version-v1 (the proxy is no longer diagnosed)`])
    const before = mergeContextOutcomes([{context: 'east', ok: true, value: result([routesFail])}], CHECKS)
    const after = mergeContextOutcomes([{context: 'east', ok: false, error: unreachable}], CHECKS)
    expect(lines(before, after)).toEqual(['new ERROR cluster context east: not diagnosed: cannot reach the Kubernetes API server at http://127.0.0.1:9 (ECONNREFUSED)'])
    expect(lines(after, before)).toEqual([
      `new FAIL routes ${GW} (context east): no DestinationRule defines subset version-v1`,
      'resolved ERROR cluster context east: not diagnosed: cannot reach the Kubernetes API server at http://127.0.0.1:9 (ECONNREFUSED)',
    ])
  })

  it('escapes what the cluster wrote', () => {
    const hostile = {...routesFail, message: 'bad\u001B]0;title\u0007'}
    expect(lines(result([]), result([hostile])).join('')).not.toMatch(/[\u0007\u001B]/)
  })
})
