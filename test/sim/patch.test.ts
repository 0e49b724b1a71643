import {describe, expect, it} from 'vitest'
import {PatchError, jsonPatch, mergePatch, strategicMergePatch} from '../../src/sim/patch.js'

describe('JSON merge patch (RFC 7386)', () => {
  it('merges objects, deletes on null and replaces lists', () => {
    const target = {spec: {host: 'a', subsets: [{name: 'v1'}, {name: 'v2'}], trafficPolicy: {tls: {mode: 'ISTIO_MUTUAL'}}}}
    expect(mergePatch(target, {spec: {subsets: [{name: 'v3'}], trafficPolicy: null}})).toEqual({spec: {host: 'a', subsets: [{name: 'v3'}]}})
  })
})

describe('strategic merge patch', () => {
  const svc = {spec: {ports: [{name: 'http', port: 80, targetPort: 8080}, {name: 'grpc', port: 9090, targetPort: 9090}], selector: {app: 'a'}}}
  it('merges service ports by port, keeping the ones the patch does not name', () => {
    const out = strategicMergePatch(svc, {spec: {'$setElementOrder/ports': [{port: 80}, {port: 9090}], ports: [{port: 80, targetPort: 3000}]}}) as typeof svc
    expect(out.spec.ports).toEqual([{name: 'http', port: 80, targetPort: 3000}, {name: 'grpc', port: 9090, targetPort: 9090}])
  })
  it('honours $patch: delete on a list item and null on a map key', () => {
    const out = strategicMergePatch(svc, {spec: {ports: [{port: 9090, $patch: 'delete'}], selector: {app: null, tier: 'web'}}}) as typeof svc
    expect(out.spec.ports.map((p) => p.port)).toEqual([80])
    expect(out.spec.selector).toEqual({tier: 'web'})
  })
})

describe('JSON patch (RFC 6902)', () => {
  it('adds, replaces and removes by pointer', () => {
    const out = jsonPatch({spec: {http: [{timeout: '0s'}]}}, [
      {op: 'replace', path: '/spec/http/0/timeout', value: '0.5s'}, {op: 'add', path: '/spec/http/-', value: {timeout: '1s'}}, {op: 'remove', path: '/spec/http/1'},
    ])
    expect(out).toEqual({spec: {http: [{timeout: '0.5s'}]}})
  })
  it('fails a test operation that does not hold', () => {
    expect(() => jsonPatch({a: 1}, [{op: 'test', path: '/a', value: 2}])).toThrow(PatchError)
  })
})
