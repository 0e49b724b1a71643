import {describe, expect, it} from 'vitest'

import {invokedBinName} from '../../src/hooks/init.js'

describe('invokedBinName', () => {
  it('names a kubectl plugin after the kubectl command that runs it', () => {
    expect(invokedBinName('/usr/local/bin/kubectl-meshdbg')).toBe('kubectl meshdbg')
    expect(invokedBinName('/pkg/bin/kubectl-meshdbg.js')).toBe('kubectl meshdbg')
    expect(invokedBinName('C:\\bin\\kubectl-meshdbg.exe'.replaceAll('\\', '/'))).toBe('kubectl meshdbg')
    // kubectl's own mapping: `-` separates words, `_` stands for a dash.
    expect(invokedBinName('/bin/kubectl-mesh_dbg')).toBe('kubectl mesh-dbg')
  })

  it('leaves every other name to the manifest (meshdbg)', () => {
    expect(invokedBinName('/repo/bin/run.js')).toBeUndefined()
    expect(invokedBinName('/usr/local/bin/meshdbg')).toBeUndefined()
    expect(invokedBinName(undefined)).toBeUndefined()
  })
})
