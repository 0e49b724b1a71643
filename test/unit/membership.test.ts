import {describe, expect, it} from 'vitest'

import {clusterHealth} from '../../src/lib/diagnose/routing.js'
import {hostServesTraffic} from '../../src/lib/envoy/endpoints.js'
import {MEMBERSHIP_STATS_FILTER, MEMBERSHIP_STATS_PATH, parseClusterMembership} from '../../src/lib/envoy/membership.js'

describe('parseClusterMembership', () => {
  it('reads both gauges of each cluster, whatever the name holds (dots, pipes, colons)', () => {
    const text = [
      'cluster.outbound|80||a.default.svc.cluster.local.membership_healthy: 2',
      'cluster.outbound|80||a.default.svc.cluster.local.membership_total: 3',
      'cluster.odd: name.membership_healthy: 0',
      'cluster.odd: name.membership_total: 0',
      'cluster.outbound|80||ünïcode.membership_healthy: 1',
      'cluster.outbound|80||ünïcode.membership_total: 1',
      '',
    ].join('\n')
    expect([...parseClusterMembership(Buffer.from(text))]).toEqual([
      ['outbound|80||a.default.svc.cluster.local', {healthy: 2, total: 3}],
      ['odd: name', {healthy: 0, total: 0}],
      ['outbound|80||ünïcode', {healthy: 1, total: 1}],
    ])
  })

  it('pairs the gauges by name in any order', () => {
    const text = ['cluster.b.membership_total: 4', 'cluster.a.membership_healthy: 1', 'cluster.c.membership_healthy: 0', 'cluster.a.membership_total: 2', 'cluster.b.membership_healthy: 3', 'cluster.c.membership_total: 5'].join('\n')
    expect(Object.fromEntries(parseClusterMembership(Buffer.from(text)))).toEqual({a: {healthy: 1, total: 2}, b: {healthy: 3, total: 4}, c: {healthy: 0, total: 5}})
  })

  it('takes CRLF line ends and no final newline', () => {
    expect([...parseClusterMembership(Buffer.from('cluster.a.membership_healthy: 1\r\ncluster.a.membership_total: 1'))]).toEqual([['a', {healthy: 1, total: 1}]])
  })

  it('leaves out a cluster with one gauge, a value that is not a whole number, and other stats', () => {
    const text = [
      'cluster.half.membership_total: 1',
      'cluster.bad.membership_healthy: -1',
      'cluster.bad.membership_total: 1',
      'cluster.float.membership_healthy: 1.5',
      'cluster.float.membership_total: 2',
      'cluster.huge.membership_healthy: 12345678901234567890',
      'cluster.huge.membership_total: 1',
      'cluster_manager.active_clusters: 3',
      'listener.membership_healthy: 1',
      'cluster.a.membership_degraded: 1',
      'garbage without separator',
    ].join('\n')
    expect(parseClusterMembership(Buffer.from(text)).size).toBe(0)
  })

  it('asks Envoy for exactly the two gauges, anchored', () => {
    const filter = new RegExp(MEMBERSHIP_STATS_FILTER)
    expect(['cluster.a.b.membership_healthy', 'cluster.outbound|80||x.membership_total'].every((name) => filter.test(name))).toBe(true)
    expect(['cluster.a.membership_degraded', 'cluster.a.membership_total_x', 'xcluster.a.membership_total', 'cluster..membership_healthy'].some((name) => filter.test(name))).toBe(false)
    expect(decodeURIComponent(MEMBERSHIP_STATS_PATH)).toBe(`stats?filter=${MEMBERSHIP_STATS_FILTER}`)
  })
})

describe('hostServesTraffic: Envoy coarse health, healthy or degraded', () => {
  const host = (health: Record<string, unknown>) => ({address: {socket_address: {address: '10.0.0.1', port_value: 80}}, health_status: health})
  it.each([
    [{eds_health_status: 'HEALTHY'}, true],
    [{}, true],
    [{eds_health_status: 'UNKNOWN'}, true],
    [{eds_health_status: 'DEGRADED'}, true],
    [{eds_health_status: 'HEALTHY', failed_active_degraded_check: true}, true],
    [{eds_health_status: 'UNHEALTHY'}, false],
    [{eds_health_status: 'DRAINING'}, false],
    [{eds_health_status: 'TIMEOUT'}, false],
    [{eds_health_status: 'HEALTHY', failed_outlier_check: true}, false],
    [{eds_health_status: 'HEALTHY', failed_active_health_check: true}, false],
  ])('%j serves: %s', (health, serves) => {
    expect(hostServesTraffic(host(health))).toBe(serves)
  })

  it('clusterHealth lists clusters by name, a degraded host keeping its cluster serving', () => {
    const status = (name: string, ...health: Array<Record<string, unknown>>) => ({name, host_statuses: health.map(host)})
    expect(clusterHealth([status('z'), status('b', {eds_health_status: 'UNHEALTHY'}), status('a', {eds_health_status: 'DRAINING'}), status('c', {eds_health_status: 'DEGRADED'}, {eds_health_status: 'UNHEALTHY'}), status('m')])).toEqual({
      empty: ['m', 'z'],
      unhealthy: [{cluster: 'a', hosts: ['a 10.0.0.1:80 DRAINING']}, {cluster: 'b', hosts: ['b 10.0.0.1:80 UNHEALTHY']}],
    })
  })
})
