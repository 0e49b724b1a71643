import {delimiter, join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {MeshdbgError} from '../../src/lib/errors.js'
import {kubeconfigFiles, loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'kubeconfig')
const fixture = (name: string) => join(fixtures, name)
const noHome = join(fixtures, 'no-such-home')

function usageFailure(run: () => unknown): MeshdbgError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(MeshdbgError)
    expect((error as MeshdbgError).exitCode).toBe(2)
    return error as MeshdbgError
  }
  throw new Error('expected a usage error')
}

describe('kubeconfig loading', () => {
  it('uses the current context, its namespace and its server', () => {
    const loaded = loadKubeconfig({kubeconfig: fixture('two-contexts.yaml'), env: {}})
    expect(loaded.contextName).toBe('alpha')
    expect(loaded.namespace).toBe('shop')
    expect(loaded.server).toBe('https://alpha.example.test:6443')
  })

  it('-n wins over the context namespace; a context without one means "default"', () => {
    expect(loadKubeconfig({kubeconfig: fixture('two-contexts.yaml'), namespace: 'ops', env: {}}).namespace).toBe('ops')
    expect(loadKubeconfig({kubeconfig: fixture('two-contexts.yaml'), context: 'beta', env: {}}).namespace).toBe('default')
  })

  it('--context selects another context and its cluster', () => {
    const loaded = loadKubeconfig({kubeconfig: fixture('two-contexts.yaml'), context: 'beta', env: {}})
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('http://beta.example.test:8080')
  })

  it('accepts an http:// server without insecure-skip-tls-verify (client-node alone refuses it)', async () => {
    const loaded = loadKubeconfig({kubeconfig: fixture('two-contexts.yaml'), context: 'beta', env: {}})
    const options: {headers?: Record<string, string>} = {}
    await loaded.kubeConfig.applyToHTTPSOptions(options)
    expect(options.headers?.Authorization).toBe('Bearer beta-token')
  })

  it('merges the KUBECONFIG list: first current-context and first definition of a name win, missing files are skipped', () => {
    const env = {KUBECONFIG: [fixture('absent.yaml'), fixture('override.yaml'), fixture('two-contexts.yaml')].join(delimiter)}
    const loaded = loadKubeconfig({env})
    expect(loaded.contextName).toBe('gamma')
    expect(loaded.namespace).toBe('gamma-ns')
    expect(loaded.files).toEqual([fixture('override.yaml'), fixture('two-contexts.yaml')])
    expect(loaded.kubeConfig.getCluster('alpha-cluster')?.server).toBe('https://shadowed.example.test')
    // Contexts of later files stay usable.
    const beta = loadKubeconfig({env, context: 'beta'})
    expect(beta.server).toBe('http://beta.example.test:8080')
  })

  it('keeps exec-plugin users as client-node reads them', () => {
    const loaded = loadKubeconfig({kubeconfig: fixture('override.yaml'), env: {}})
    expect(loaded.kubeConfig.getCurrentUser()?.exec?.command).toBe('/bin/echo')
  })

  it('--kubeconfig wins over KUBECONFIG', () => {
    const loaded = loadKubeconfig({kubeconfig: fixture('two-contexts.yaml'), env: {KUBECONFIG: fixture('override.yaml')}})
    expect(loaded.contextName).toBe('alpha')
  })

  it('falls back to ~/.kube/config only when KUBECONFIG is unset', () => {
    expect(kubeconfigFiles({env: {}, home: noHome}).files).toEqual([])
    expect(kubeconfigFiles({env: {KUBECONFIG: fixture('two-contexts.yaml')}, home: noHome}).files).toEqual([fixture('two-contexts.yaml')])
  })
})

describe('kubeconfig errors (exit 2, never a silent localhost:8080)', () => {
  it('no kubeconfig at all', () => {
    const error = usageFailure(() => loadKubeconfig({env: {}, home: noHome}))
    expect(error.message).toBe(`no kubeconfig found (looked for ${join(noHome, '.kube', 'config')})`)
    expect(error.hint).toContain('KUBECONFIG')
  })

  it('--kubeconfig that does not exist', () => {
    expect(usageFailure(() => loadKubeconfig({kubeconfig: fixture('absent.yaml'), env: {}})).message).toBe(
      `kubeconfig ${fixture('absent.yaml')} not found (--kubeconfig)`,
    )
  })

  it('a KUBECONFIG list where no file exists', () => {
    const env = {KUBECONFIG: [fixture('a.yaml'), fixture('b.yaml')].join(delimiter)}
    expect(usageFailure(() => loadKubeconfig({env})).message).toMatch(/^no kubeconfig: none of the files in KUBECONFIG exist/)
  })

  it('no current context', () => {
    const error = usageFailure(() => loadKubeconfig({kubeconfig: fixture('no-current-context.yaml'), env: {}}))
    expect(error.message).toBe(`no current context in the kubeconfig (${fixture('no-current-context.yaml')})`)
    expect(error.hint).toContain('--context')
  })

  it('an empty file counts as no context', () => {
    expect(usageFailure(() => loadKubeconfig({kubeconfig: fixture('empty.yaml'), env: {}})).message).toMatch(/^no current context/)
  })

  it('an unknown --context lists the known ones', () => {
    const error = usageFailure(() => loadKubeconfig({kubeconfig: fixture('two-contexts.yaml'), context: 'prod', env: {}}))
    expect(error.message).toBe(`context "prod" not found in the kubeconfig (${fixture('two-contexts.yaml')})`)
    expect(error.hint).toBe('known contexts: alpha, beta')
  })

  it('a context whose cluster is missing', () => {
    expect(usageFailure(() => loadKubeconfig({kubeconfig: fixture('missing-cluster.yaml'), env: {}})).message).toMatch(
      /^context "broken" refers to cluster "nowhere", which is not in the kubeconfig/,
    )
  })

  it('malformed YAML names the file', () => {
    expect(usageFailure(() => loadKubeconfig({kubeconfig: fixture('malformed.yaml'), env: {}})).message).toMatch(
      new RegExp(`^cannot load kubeconfig ${fixture('malformed.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
    )
  })
})
