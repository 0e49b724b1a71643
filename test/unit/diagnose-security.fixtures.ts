import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseAllDocuments} from 'yaml'

import {secretCertificateRows} from '../../src/lib/envoy/certs.js'
import {parseConfigDump, requireSection} from '../../src/lib/envoy/configdump.js'
import type {DescribeContext, DescribePodInput, IstioObject, ServiceInput} from '../../src/lib/istio/describe.js'
import {projectRoot} from '../helpers/cli.js'

/** Certificate rows of one of test/fixtures/certs' secrets dumps, judged at `now`. */
export function certificates(name: string, now: string) {
  return secretCertificateRows(requireSection(parseConfigDump(readFileSync(join(projectRoot, 'test', 'fixtures', 'certs', name), 'utf8'), name), 'Secrets'), {now: new Date(now)})
}

/** webapp's workload certificate early in its 48 h life. */
export const validCertificates = () => certificates('webapp.secrets.json', '2026-06-01T00:00:00Z')

/** test/fixtures/describe/<name> as diagnose's describe context (no proxy clusters, no gateway pods). */
export function describeContext(name: string): DescribeContext {
  const docs = parseAllDocuments(readFileSync(join(projectRoot, 'test', 'fixtures', 'describe', name), 'utf8')).map((doc) => doc.toJS() as {kind?: string})
  const of = <T>(kind: string) => docs.filter((doc) => doc.kind === kind) as T[]
  return {
    resources: {
      virtualServices: of<IstioObject>('VirtualService'),
      destinationRules: of<IstioObject>('DestinationRule'),
      gateways: of<IstioObject>('Gateway'),
      peerAuthentications: of<IstioObject>('PeerAuthentication'),
      authorizationPolicies: of<IstioObject>('AuthorizationPolicy'),
      sidecars: of<IstioObject>('Sidecar'),
    },
    services: of<ServiceInput>('Service'),
    pods: of<DescribePodInput>('Pod'),
    gatewayPods: [],
    gatewayServices: [],
    rootNamespace: 'istio-system',
    proxies: [],
  }
}
