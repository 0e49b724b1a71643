import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {projectRoot} from '../helpers/cli.js'

describe('krew manifest template', () => {
  it('is a krew Plugin whose archives hold the single-file builds by the names npm run package gives them', () => {
    const manifest = parse(readFileSync(join(projectRoot, 'packaging', 'krew', 'meshdbg.yaml'), 'utf8'))
    expect(manifest).toMatchObject({apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: {name: 'meshdbg'}})
    const nodeArch: Record<string, string> = {amd64: 'x64', arm64: 'arm64'}
    for (const platform of manifest.spec.platforms) {
      const {os, arch} = platform.selector.matchLabels
      // scripts/package.mjs: meshdbg-<process.platform>-<process.arch>
      expect(platform.bin).toBe(`meshdbg-${os}-${nodeArch[arch]}`)
      expect(platform.uri).toBe(`{{BASE_URL}}/${platform.bin}.tar.gz`)
      expect(platform.sha256).toMatch(/^\{\{SHA256_[A-Z0-9_]+\}\}$/)
    }
  })
})
