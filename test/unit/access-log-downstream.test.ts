import {describe, expect, it} from 'vitest'

import {type AccessLogEntry, parseAccessLogLine, summarizeEntries} from '../../src/lib/envoy/access-log.js'
import {hostIp, withHostPods} from '../../src/lib/istio/pod-names.js'
import {renderAccessLogStreamHeader, renderAccessLogStreamRow, renderPodAccessLogTable, renderSummary} from '../../src/lib/render/access-log-table.js'

const entryOf = (line: string): AccessLogEntry => {
  const parsed = parseAccessLogLine(line)
  if (!parsed.ok) throw new Error(`not an entry: ${line}`)
  return parsed.entry
}

// A custom JSON format that logs %DOWNSTREAM_PEER_URI_SAN%, and Istio's default TEXT format (which cannot).
const JSON_WITH_SAN = entryOf(JSON.stringify({
  start_time: '2025-05-09T08:45:41.636Z', method: 'GET', path: '/items', protocol: 'HTTP/1.1', response_code: 403, response_flags: '-',
  response_code_details: 'rbac_access_denied_matched_policy[none]', duration: 0, upstream_host: null, upstream_cluster: 'inbound|8080||',
  downstream_remote_address: '10.10.0.20:43000', downstream_peer_uri_san: 'spiffe://cluster.local/ns/default/sa/sleep',
}))
const TEXT = entryOf('[2025-05-09T08:45:41.636Z] "GET /items HTTP/1.1" 504 UT response_timeout - "-" 0 24 501 - "172.18.0.1" "curl/8.7.1" "cb846eff" "catalog.istioinaction.io:30000" "10.10.0.13:3000" outbound|80|version-v2|catalog.istioinaction.svc.cluster.local 10.10.0.7:58078 10.10.0.7:8080 172.18.0.1:61108 - -')

describe('access-log -o wide: DOWNSTREAM', () => {
  it('reads downstream_peer_uri_san from JSON logs only when present (default formats keep their shape)', () => {
    expect(JSON_WITH_SAN.downstreamPeerUriSan).toBe('spiffe://cluster.local/ns/default/sa/sleep')
    expect('downstreamPeerUriSan' in TEXT).toBe(false)
  })

  it('adds the caller (address, SPIFFE ID when known) as the last column, in the table and the --follow stream', () => {
    expect(renderPodAccessLogTable([JSON_WITH_SAN, TEXT], {downstream: true})).toBe(
      `POD  TIME                      METHOD  PATH    CODE  FLAGS  DETAILS                                  DURATION  UPSTREAM HOST    UPSTREAM CLUSTER                                                DOWNSTREAM
-    2025-05-09T08:45:41.636Z  GET     /items  403   -      rbac_access_denied_matched_policy[none]  0ms       -                inbound|8080||                                                  10.10.0.20:43000 (spiffe://cluster.local/ns/default/sa/sleep)
-    2025-05-09T08:45:41.636Z  GET     /items  504   UT     response_timeout                         501ms     10.10.0.13:3000  outbound|80|version-v2|catalog.istioinaction.svc.cluster.local  172.18.0.1:61108
`,
    )
    expect(renderAccessLogStreamHeader({downstream: true}).trimEnd().split(/\s{2,}/).at(-1)).toBe('DOWNSTREAM')
    expect(renderAccessLogStreamRow(TEXT, {downstream: true}).trimEnd().split(/\s{2,}/).slice(-2)).toEqual(['outbound|80|version-v2|catalog.istioinaction.svc.cluster.local', '172.18.0.1:61108'])
    // Without -o wide nothing changes.
    expect(renderPodAccessLogTable([TEXT])).not.toContain('DOWNSTREAM')
  })
})

describe('access-log --summary: upstream hosts named by pod', () => {
  it('takes the IP of ip:port, [v6]:port and bare addresses', () => {
    expect(['10.10.0.13:3000', '[fd00::1]:80', 'fd00::1', '10.0.0.1'].map(hostIp)).toEqual(['10.10.0.13', 'fd00::1', 'fd00::1', '10.0.0.1'])
  })

  it('names the pod behind each host IP it knows, leaves the others as they are', () => {
    const summary = withHostPods(summarizeEntries([TEXT]), new Map([['10.10.0.13', {name: 'catalog-v2-6d4c8b7d9f-zqgfl', namespace: 'istioinaction'}]]))
    expect(summary.byHost[0].pod).toEqual({name: 'catalog-v2-6d4c8b7d9f-zqgfl', namespace: 'istioinaction'})
    expect(renderSummary(summary).split('\n').at(-2)).toBe('10.10.0.13:3000 (catalog-v2-6d4c8b7d9f-zqgfl)  outbound|80|version-v2|catalog.istioinaction.svc.cluster.local  1         1    100%  501ms  501ms')
    expect(withHostPods(summarizeEntries([TEXT]), new Map()).byHost[0].pod).toBeUndefined()
  })
})
