import {describe, expect, it} from 'vitest'

import {cleanVersionText, countProxyVersions, imageTag, parseIstiodVersion} from '../../src/lib/istio/version.js'
import {renderVersion} from '../../src/lib/render/version.js'

describe('istiod /version', () => {
  it('reads the build string as istioctl does (version, git sha, [dirty], status)', () => {
    expect(parseIstiodVersion('1.24.2-016bc46f4a5e0ef3fa135b3c5380ab7765467c1a-Clean\n')).toEqual({version: '1.24.2', build: '1.24.2-016bc46f4a5e0ef3fa135b3c5380ab7765467c1a-Clean'})
    expect(parseIstiodVersion('1.12.0-custom-build-016bc46f-dirty-Modified')?.version).toBe('1.12.0-custom-build')
    expect(parseIstiodVersion('1.7-alpha.9c900ba7-9c900ba7-Clean')?.version).toBe('1.7-alpha.9c900ba7')
    expect(parseIstiodVersion('{"clientVersion":{"version":"1.20.0","revision":"abc"}}')?.version).toBe('1.20.0')
    expect(parseIstiodVersion('1.22')?.version).toBe('1.22')
    expect(parseIstiodVersion('  \n')).toBeUndefined()
  })

  it('never passes control characters from a peer through', () => {
    expect(cleanVersionText('1.2\x1b[31m.3\r\n')).toBe('1.2 [31m.3')
  })

  it('falls back to the image tag', () => {
    expect(imageTag('docker.io/istio/pilot:1.24.2-distroless')).toBe('1.24.2-distroless')
    expect(imageTag('registry:5000/istio/pilot:1.23.0')).toBe('1.23.0')
    expect(imageTag('registry:5000/istio/pilot')).toBeUndefined()
    expect(imageTag('istio/pilot@sha256:abc')).toBeUndefined()
  })
})

describe('data plane versions', () => {
  it('counts each proxy once per version, versions sorted; empty versions are unknown', () => {
    const rows = [
      {proxy: 'a.ns', version: '1.24.2'},
      {proxy: 'b.ns', version: '1.23.0'},
      {proxy: 'a.ns', version: '1.24.2'},
      {proxy: 'c.ns', version: '1.24.2'},
      {proxy: 'd.ns', version: ''},
      {proxy: 'e.ns', version: '1.0.0*'},
    ]
    expect(countProxyVersions(rows)).toEqual([
      {version: '1.0.0', proxies: 1},
      {version: '1.23.0', proxies: 1},
      {version: '1.24.2', proxies: 2},
      {version: 'unknown', proxies: 1},
    ])
  })
})

describe('renderVersion', () => {
  const client = {version: '0.1.0', platform: 'linux-x64', node: 'v20.20.2'}
  const canary = [
    {istiod: 'istiod-1', revision: 'default', version: '1.23.0', build: '1.23.0-abc-Clean', source: 'version-endpoint' as const},
    {istiod: 'istiod-canary-1', revision: 'canary', version: '1.24.2', source: 'image' as const},
  ]

  it('short: one line per plane, each version with its revisions when istiods differ', () => {
    expect(renderVersion({client, controlPlane: canary, dataPlane: [{version: '1.23.0', proxies: 5}, {version: '1.24.2', proxies: 1}]}, {short: true})).toBe(
      'client version: 0.1.0\ncontrol plane version: 1.23.0 (revision default), 1.24.2 (revision canary)\ndata plane version: 1.23.0 (5 proxies), 1.24.2 (1 proxies)\n',
    )
    expect(renderVersion({client, controlPlane: [], dataPlane: []}, {short: true})).toBe('client version: 0.1.0\ncontrol plane version: none\ndata plane version: none\n')
    expect(renderVersion({client}, {short: true})).toBe('client version: 0.1.0\n')
  })

  it('long: every istiod with revision and build, and where the version came from', () => {
    expect(renderVersion({client, controlPlane: canary}, {short: false})).toBe(
      'client version: 0.1.0 (linux-x64, node v20.20.2)\ncontrol plane version: istiod-1 (revision default): 1.23.0-abc-Clean\ncontrol plane version: istiod-canary-1 (revision canary, from its image): 1.24.2\n',
    )
  })
})
