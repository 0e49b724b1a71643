import {describe, expect, it} from 'vitest'

import {chooseAdminPort} from '../../src/lib/kube/admin-port.js'

describe('chooseAdminPort', () => {
  it('the flag wins over everything', () => {
    expect(chooseAdminPort(19000, {'proxy.istio.io/config': 'proxyAdminPort: 15555'})).toEqual({port: 19000, source: 'flag'})
  })

  it('reads proxyAdminPort from a YAML or JSON proxy.istio.io/config annotation', () => {
    expect(chooseAdminPort(undefined, {'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true\nproxyAdminPort: 15555\n'})).toEqual({port: 15555, source: 'annotation'})
    expect(chooseAdminPort(undefined, {'proxy.istio.io/config': '{"proxyAdminPort": 16000, "concurrency": 2}'})).toEqual({port: 16000, source: 'annotation'})
    expect(chooseAdminPort(undefined, {'proxy.istio.io/config': 'proxyAdminPort: "17000"'}).port).toBe(17000)
  })

  it('defaults to 15000 without an annotation, or when it does not set the port', () => {
    expect(chooseAdminPort(undefined, undefined)).toEqual({port: 15000, source: 'default'})
    expect(chooseAdminPort(undefined, {'sidecar.istio.io/inject': 'true'})).toEqual({port: 15000, source: 'default'})
    expect(chooseAdminPort(undefined, {'proxy.istio.io/config': 'concurrency: 2'})).toEqual({port: 15000, source: 'default'})
  })

  it('warns and uses 15000 for an unparsable annotation or a bad port', () => {
    const broken = chooseAdminPort(undefined, {'proxy.istio.io/config': 'proxyAdminPort: [15555'})
    expect(broken.port).toBe(15000)
    expect(broken.warning).toMatch(/^ignoring unparsable proxy.istio.io\/config annotation/)
    const outOfRange = chooseAdminPort(undefined, {'proxy.istio.io/config': 'proxyAdminPort: 70000'})
    expect(outOfRange).toMatchObject({port: 15000, source: 'default'})
    expect(outOfRange.warning).toContain('70000')
  })
})
