import {describe, expect, it} from 'vitest'

import {diffLevels, planRestore, resetSpecFor, summarizeChanges, summarizeLevels, type ActiveLoggers} from '../../src/lib/envoy/log-levels.js'

const NAMES = ['admin', 'config', 'connection', 'http', 'misc', 'pool', 'rbac', 'router', 'upstream']
const loggers = (base: string, overrides: Record<string, string> = {}): ActiveLoggers => new Map(NAMES.map((name) => [name, overrides[name] ?? base]))

describe('planRestore', () => {
  it('puts back a few loggers one by one', () => {
    const before = loggers('warning', {misc: 'error'})
    const current = loggers('warning', {misc: 'error', rbac: 'debug', http: 'debug'})
    expect(planRestore(before, current)).toEqual([{query: 'logging?http=warning'}, {query: 'logging?rbac=warning'}])
  })

  it('after a global change: the most common earlier level for all, then the exceptions', () => {
    const before = loggers('warning', {misc: 'error', http: 'info'})
    expect(planRestore(before, loggers('debug'))).toEqual([{query: 'logging?level=warning'}, {query: 'logging?http=info'}, {query: 'logging?misc=error'}])
  })

  it('nothing to do when the levels already match; loggers the proxy no longer lists are left alone', () => {
    expect(planRestore(loggers('warning'), loggers('warning'))).toEqual([])
    const before = new Map([...loggers('warning'), ['gone', 'info']])
    expect(planRestore(before, loggers('warning'))).toEqual([])
  })

  it('applying the plan gives back the earlier levels', () => {
    const before = loggers('warning', {misc: 'error', pool: 'trace'})
    const current = loggers('debug', {rbac: 'off'})
    const after = new Map(current)
    for (const {query} of planRestore(before, current)) {
      const [name, level] = query.slice('logging?'.length).split('=')
      if (name === 'level') for (const key of after.keys()) after.set(key, level)
      else after.set(decodeURIComponent(name), level)
    }
    expect(diffLevels(before, after)).toEqual([])
  })
})

describe('summarizeChanges', () => {
  it('names a few loggers, grouped by transition', () => {
    const before = loggers('warning')
    const after = loggers('warning', {http: 'debug', router: 'debug', rbac: 'trace'})
    expect(summarizeChanges(diffLevels(before, after), after)).toBe('http,router: warning->debug, rbac: warning->trace')
  })

  it('a global level: all -> LEVEL with the count, other changes after it', () => {
    const before = loggers('warning', {misc: 'error'})
    const after = loggers('debug', {rbac: 'trace'})
    expect(summarizeChanges(diffLevels(before, after), after)).toBe('all -> debug (8 loggers), rbac: warning->trace')
  })

  it('nothing changed is a dash', () => {
    expect(summarizeChanges([], loggers('warning'))).toBe('-')
  })
})

describe('summarizeLevels', () => {
  it('the most common level counted, the others named', () => {
    expect(summarizeLevels(loggers('warning', {misc: 'error', http: 'debug', router: 'debug'}))).toBe('warning: 6 loggers; debug: http,router; error: misc')
    expect(summarizeLevels(loggers('info'))).toBe('all info (9 loggers)')
  })
})

describe('resetSpecFor', () => {
  const pod = (annotations: Record<string, string>, args: string[]) => ({metadata: {annotations}, spec: {containers: [{name: 'app'}, {name: 'istio-proxy', args}]}})

  it('the start-up level and component levels from the injected arguments', () => {
    const result = resetSpecFor(pod({}, ['proxy', 'sidecar', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error']), NAMES)
    expect(result.spec).toEqual({level: 'warning', loggers: [{name: 'misc', level: 'error'}]})
    expect(result.reset.source).toBe('proxy-args')
    expect(result.components).toBe('misc:error')
    expect(result.ignored).toBeUndefined()
  })

  it('annotations win; unknown component loggers are dropped and reported', () => {
    const result = resetSpecFor(pod({'sidecar.istio.io/logLevel': 'info', 'sidecar.istio.io/componentLogLevel': 'rbac:debug,nope:trace'}, ['--proxyComponentLogLevel=misc:error']), NAMES)
    expect(result.spec).toEqual({level: 'info', loggers: [{name: 'rbac', level: 'debug'}]})
    expect(result.reset.source).toBe('annotation')
    expect(result.ignored).toBe('component logger "nope" is unknown to this proxy')
  })

  it('no hints at all: warning for everything', () => {
    expect(resetSpecFor({metadata: {}, spec: {containers: [{name: 'istio-proxy', args: ['proxy', 'router']}]}}).spec).toEqual({level: 'warning', loggers: []})
  })
})
