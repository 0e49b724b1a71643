import {describe, expect, it} from 'vitest'

import {levelsAfter, parseLevelSpec, planOwnRestore} from '../../src/lib/envoy/log-levels.js'
import {isConnectionReset, retryAfterMs, retryIdempotent} from '../../src/lib/kube/api-retry.js'
import {noProxyMatches, proxyFromEnvironment} from '../../src/lib/kube/proxy-env.js'
import {shellQuote} from '../../src/lib/render/shell-quote.js'

const levels = (entries: Record<string, string>) => new Map(Object.entries(entries))

describe('planOwnRestore: overlapping --duration runs', () => {
  const before = levels({rbac: 'warning', http: 'warning', router: 'warning'})
  const changes = [{logger: 'rbac', before: 'warning', after: 'debug'}]

  it('nobody else touched the proxy: the shortest plan back to before', () => {
    expect(planOwnRestore(before, changes, levels({rbac: 'debug', http: 'warning', router: 'warning'}))).toEqual({plan: [{query: 'logging?rbac=warning'}], leftAlone: []})
  })

  it('another run changed another logger since: only ours goes back, theirs stays', () => {
    const current = levels({rbac: 'debug', http: 'debug', router: 'warning'})
    expect(planOwnRestore(before, changes, current)).toEqual({plan: [{query: 'logging?rbac=warning'}], leftAlone: []})
  })

  it('another run changed our logger since: left alone and reported', () => {
    const current = levels({rbac: 'trace', http: 'debug', router: 'warning'})
    expect(planOwnRestore(before, changes, current)).toEqual({plan: [], leftAlone: [{logger: 'rbac', set: 'debug', now: 'trace'}]})
  })

  it('a global level: one POST when nothing else moved, per logger when something did', () => {
    const all = levelsAfter(parseLevelSpec('debug'), before)
    const ours = [...before].map(([logger, level]) => ({logger, before: level, after: 'debug'}))
    expect(planOwnRestore(before, ours, all).plan).toEqual([{query: 'logging?level=warning'}])
    const partly = levels({rbac: 'debug', http: 'info', router: 'debug'})
    expect(planOwnRestore(before, ours, partly)).toEqual({
      plan: [{query: 'logging?rbac=warning'}, {query: 'logging?router=warning'}],
      leftAlone: [{logger: 'http', set: 'debug', now: 'info'}],
    })
  })

  it('levelsAfter applies the bare level first, then named loggers it knows', () => {
    expect(levelsAfter(parseLevelSpec('info,rbac:debug'), before)).toEqual(levels({rbac: 'debug', http: 'info', router: 'info'}))
  })
})

describe('proxy from the environment (kubectl/Go rules)', () => {
  it('HTTPS_PROXY for https servers, HTTP_PROXY for http ones, lower case too', () => {
    expect(proxyFromEnvironment('https://api.example.com:6443', {HTTPS_PROXY: 'http://proxy:3128'})).toBe('http://proxy:3128')
    expect(proxyFromEnvironment('https://api.example.com:6443', {https_proxy: 'proxy:3128'})).toBe('http://proxy:3128')
    expect(proxyFromEnvironment('http://api.example.com', {HTTPS_PROXY: 'http://proxy:3128'})).toBeUndefined()
    expect(proxyFromEnvironment('http://api.example.com', {HTTP_PROXY: 'socks5://s:1080'})).toBe('socks5://s:1080')
  })

  it('never for loopback, and not for NO_PROXY hosts', () => {
    const env = {HTTPS_PROXY: 'http://proxy:3128'}
    expect(proxyFromEnvironment('https://127.0.0.1:6443', env)).toBeUndefined()
    expect(proxyFromEnvironment('https://localhost:6443', env)).toBeUndefined()
    expect(proxyFromEnvironment('https://api.corp.example:6443', {...env, NO_PROXY: '.example'})).toBeUndefined()
    expect(proxyFromEnvironment('https://api.corp.example:6443', {...env, no_proxy: 'other.org'})).toBe('http://proxy:3128')
  })

  it('NO_PROXY entries: *, domains and subdomains, IPs, CIDRs, ports', () => {
    expect(noProxyMatches('*', 'anything', '443')).toBe(true)
    expect(noProxyMatches('example.com', 'api.example.com', '443')).toBe(true)
    expect(noProxyMatches('example.com', 'badexample.com', '443')).toBe(false)
    expect(noProxyMatches('10.0.0.0/8', '10.1.2.3', '443')).toBe(true)
    expect(noProxyMatches('10.0.0.0/8', '11.1.2.3', '443')).toBe(false)
    expect(noProxyMatches('192.168.1.5', '192.168.1.5', '6443')).toBe(true)
    expect(noProxyMatches('api.example.com:6443', 'api.example.com', '443')).toBe(false)
    expect(noProxyMatches(' , api.example.com:6443', 'api.example.com', '6443')).toBe(true)
  })
})

describe('retries of idempotent API requests', () => {
  it('Retry-After: seconds or an HTTP date, capped; 1 s when missing', () => {
    expect(retryAfterMs('2')).toBe(2000)
    expect(retryAfterMs(undefined)).toBe(1000)
    expect(retryAfterMs('3600')).toBe(30_000)
    expect(retryAfterMs(new Date(10_000 + 5000).toUTCString(), 10_000)).toBe(5000)
  })

  it('retries a 429 and one reset, not a second reset, not other errors', async () => {
    const signal = new AbortController().signal
    const verdict = (error: unknown) => ((error as Error).message === '429' ? {kind: 'throttled' as const, retryAfterMs: 0} : isConnectionReset(error) ? {kind: 'reset' as const} : undefined)
    const script = (...outcomes: Array<string | undefined>) => {
      let calls = 0
      const attempt = async () => {
        const outcome = outcomes[calls++]
        if (outcome === 'reset') throw Object.assign(new Error('socket hang up'), {code: 'ECONNRESET'})
        if (outcome) throw new Error(outcome)
        return calls
      }
      return attempt
    }
    await expect(retryIdempotent(signal, script('429', 'reset', undefined), verdict)).resolves.toBe(3)
    await expect(retryIdempotent(signal, script('reset', 'reset', undefined), verdict)).rejects.toThrow('socket hang up')
    await expect(retryIdempotent(signal, script('boom', undefined), verdict)).rejects.toThrow('boom')
  })

  it('a reset is recognised through error causes', () => {
    expect(isConnectionReset(new TypeError('fetch failed', {cause: Object.assign(new Error('x'), {code: 'ECONNRESET'})}))).toBe(true)
    expect(isConnectionReset(Object.assign(new Error('x'), {code: 'ECONNREFUSED'}))).toBe(false)
  })
})

describe('shellQuote', () => {
  it('leaves safe words alone and single-quotes the rest', () => {
    expect(shellQuote('deploy/istio-ingressgateway.istio-system')).toBe('deploy/istio-ingressgateway.istio-system')
    expect(shellQuote('app=x,version in (v1)')).toBe("'app=x,version in (v1)'")
    expect(shellQuote("$(rm -rf ~)'")).toBe("'$(rm -rf ~)'\\'''")
  })
})
