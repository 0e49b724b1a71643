import {beforeEach, describe, expect, it, vi} from 'vitest'

import type {RunContext} from '../../src/lib/context.js'
import {MeshdbgError} from '../../src/lib/errors.js'

/** API paths -> answers: an object is the JSON body, an error is what getKubeJson throws. */
const answers = new Map<string, unknown>()
const requested: string[] = []
vi.mock('../../src/lib/kube/index.js', () => ({
  getKubeJson: async (_ctx: unknown, _what: string, path: string) => {
    requested.push(path)
    const answer = answers.get(path)
    if (answer instanceof Error) throw answer
    if (answer === undefined) throw new MeshdbgError('not-found', `${path} not found`)
    return answer
  },
}))

const {listIstioResources, rootNamespaceOf} = await import('../../src/lib/istio/describe-fetch.js')

function context(notes: string[]): RunContext {
  return {timeoutMs: 1000, signal: new AbortController().signal, scope: undefined as never, note: (m) => notes.push(m), spin: (_t, work) => work}
}
const item = (name: string, namespace: string) => ({metadata: {name, namespace}, spec: {}})

beforeEach(() => {
  answers.clear()
  requested.length = 0
})

describe('listIstioResources', () => {
  it('a kind that is not served (CRD not installed: 404) is empty, with a note; the others are read cluster-wide', async () => {
    answers.set('/apis/networking.istio.io/v1beta1/virtualservices', {items: [item('vs', 'a')]})
    answers.set('/apis/networking.istio.io/v1beta1/destinationrules', {items: []})
    answers.set('/apis/networking.istio.io/v1beta1/gateways', {items: []})
    answers.set('/apis/security.istio.io/v1beta1/peerauthentications', {items: [item('default', 'istio-system')]})
    answers.set('/apis/security.istio.io/v1beta1/authorizationpolicies', {items: []})
    const notes: string[] = []
    const resources = await listIstioResources(context(notes), async () => ['a'])
    expect(resources.virtualServices.map((v) => v.metadata.name)).toEqual(['vs'])
    expect(resources.peerAuthentications.map((v) => v.metadata.name)).toEqual(['default'])
    expect(resources.sidecars).toEqual([])
    expect(notes).toEqual(['Sidecars are not served (networking.istio.io/v1beta1 sidecars: is Istio installed?): left out'])
  })

  it('forbidden cluster-wide: the fallback namespaces, one by one, with a note per kind', async () => {
    for (const plural of ['virtualservices', 'destinationrules', 'gateways', 'sidecars']) {
      answers.set(`/apis/networking.istio.io/v1beta1/${plural}`, new MeshdbgError('forbidden', 'forbidden'))
      answers.set(`/apis/networking.istio.io/v1beta1/namespaces/shop/${plural}`, {items: [item(`${plural}-shop`, 'shop')]})
      answers.set(`/apis/networking.istio.io/v1beta1/namespaces/istio-system/${plural}`, new MeshdbgError('forbidden', `forbidden to read ${plural} in istio-system`))
    }
    answers.set('/apis/security.istio.io/v1beta1/peerauthentications', {items: []})
    answers.set('/apis/security.istio.io/v1beta1/authorizationpolicies', {items: []})
    const notes: string[] = []
    const resources = await listIstioResources(context(notes), async () => ['shop', 'istio-system'])
    expect(resources.virtualServices.map((v) => v.metadata.name)).toEqual(['virtualservices-shop'])
    expect(notes).toContain('listing VirtualServices in all namespaces is forbidden: only namespaces shop, istio-system were read')
    expect(notes).toContain('forbidden to read virtualservices in istio-system: left out')
  })

  it('any other failure (a connection error) is the command\'s error', async () => {
    answers.set('/apis/networking.istio.io/v1beta1/virtualservices', new MeshdbgError('connection', 'connection refused'))
    await expect(listIstioResources(context([]), async () => [])).rejects.toThrow('connection refused')
  })
})

describe('rootNamespaceOf', () => {
  it('reads rootNamespace from MeshConfig, and falls back to the istio namespace with a note', async () => {
    answers.set('/api/v1/namespaces/istio-system/configmaps/istio', {data: {mesh: 'accessLogFile: /dev/stdout\nrootNamespace: "mesh-root"\ntrustDomain: cluster.local\n'}})
    expect(await rootNamespaceOf(context([]), 'istio-system')).toBe('mesh-root')
    const notes: string[] = []
    expect(await rootNamespaceOf(context(notes), 'istio-other')).toBe('istio-other')
    expect(notes).toEqual(['/api/v1/namespaces/istio-other/configmaps/istio not found: mesh-wide policies are read from the root namespace "istio-other"'])
  })
})
