import type {IstioConfig, Scenario, SimContainer, SimPod, SimProxy, SimService, SimWorkload} from './model.js'

export const SCENARIO_NOW = '2025-05-09T08:45:00Z'
const CREATED = '2025-05-02T16:11:00Z'

export function fakeUid(seed: string): string {
  // Deterministic, UUID-shaped, derived from the name so reruns agree.
  let h1 = 0x811c9dc5
  let h2 = 0x01000193
  for (const ch of seed) {
    h1 = Math.imul(h1 ^ ch.charCodeAt(0), 16777619) >>> 0
    h2 = Math.imul(h2 ^ ch.charCodeAt(0), 2246822519) >>> 0
  }
  const hex = (n: number) => n.toString(16).padStart(8, '0')
  const a = hex(h1)
  const b = hex(h2)
  const c = hex(Math.imul(h1 ^ h2, 2654435761) >>> 0)
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${c.slice(1, 4)}-${c}${a.slice(0, 4)}`
}

export function proxyContainer(version: string, kind: 'sidecar' | 'router'): SimContainer {
  return {
    name: 'istio-proxy',
    image: `docker.io/istio/proxyv2:${version}`,
    args: kind === 'router'
      ? ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info']
      : ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
    ports: [
      ...(kind === 'router' ? [{containerPort: 8080, protocol: 'TCP' as const}, {containerPort: 8443, protocol: 'TCP' as const}] : []),
      {containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP'},
      ...(kind === 'router' ? [{containerPort: 15021, name: 'status-port', protocol: 'TCP' as const}] : []),
    ],
  }
}

export interface PodSpecInput {
  name: string
  namespace: string
  labels: Record<string, string>
  annotations?: Record<string, string>
  ip: string
  serviceAccount: string
  app: SimContainer[]
  proxy?: Omit<SimProxy, 'serviceAccount'>
  owner?: SimPod['owner']
  phase?: SimPod['phase']
  ready?: boolean
  node?: string
}

export function makePod(input: PodSpecInput): SimPod {
  const containers = [...input.app]
  const annotations: Record<string, string> = {...input.annotations}
  if (input.proxy?.kind === 'sidecar') {
    containers.push(proxyContainer(input.proxy.istioVersion, 'sidecar'))
    annotations['sidecar.istio.io/status'] ??= JSON.stringify({
      initContainers: ['istio-init'], containers: ['istio-proxy'], volumes: ['workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token', 'istiod-ca-cert'], imagePullSecrets: null, revision: 'default',
    })
    annotations['prometheus.io/path'] ??= '/stats/prometheus'
    annotations['prometheus.io/port'] ??= '15020'
    annotations['prometheus.io/scrape'] ??= 'true'
  }
  return {
    name: input.name,
    namespace: input.namespace,
    uid: fakeUid(`pod/${input.namespace}/${input.name}`),
    labels: {...input.labels, ...(input.proxy?.kind === 'sidecar' ? {'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': input.labels.app ?? input.name, 'service.istio.io/canonical-revision': input.labels.version ?? 'latest'} : {})},
    annotations,
    phase: input.phase ?? 'Running',
    ready: input.ready ?? (input.phase ?? 'Running') === 'Running',
    ip: input.ip,
    hostIP: '172.18.0.2',
    nodeName: input.node ?? 'sim-control-plane',
    serviceAccount: input.serviceAccount,
    creationTimestamp: CREATED,
    restarts: 0,
    containers,
    initContainers: input.proxy?.kind === 'sidecar' ? [{name: 'istio-init', image: `docker.io/istio/proxyv2:${input.proxy.istioVersion}`, args: ['istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', '*', '-d', '15090,15021,15020']}] : undefined,
    owner: input.owner,
    proxy: input.proxy ? {...input.proxy, serviceAccount: input.serviceAccount} : undefined,
  }
}

export function makeDeployment(name: string, namespace: string, labels: Record<string, string>, containers: SimContainer[], serviceAccount: string, replicas = 1, templateAnnotations?: Record<string, string>): SimWorkload {
  return {kind: 'Deployment', name, namespace, uid: fakeUid(`deploy/${namespace}/${name}`), labels, selector: {...labels}, replicas, templateLabels: {...labels}, templateAnnotations, serviceAccount, containers, creationTimestamp: CREATED}
}

/** The ReplicaSet a Deployment owns, named `<deploy>-<hash>`. */
export function makeReplicaSet(deploy: SimWorkload, hash: string): SimWorkload {
  return {
    ...deploy,
    kind: 'ReplicaSet',
    name: `${deploy.name}-${hash}`,
    uid: fakeUid(`rs/${deploy.namespace}/${deploy.name}-${hash}`),
    labels: {...deploy.labels, 'pod-template-hash': hash},
    selector: {...deploy.selector, 'pod-template-hash': hash},
    templateLabels: {...deploy.templateLabels, 'pod-template-hash': hash},
    owner: {kind: 'Deployment', name: deploy.name, apiVersion: 'apps/v1'},
  }
}

export function makeService(name: string, namespace: string, selector: Record<string, string> | undefined, clusterIP: string, ports: SimService['ports'], type: SimService['type'] = 'ClusterIP', labels: Record<string, string> = {}): SimService {
  return {name, namespace, uid: fakeUid(`svc/${namespace}/${name}`), labels, selector, clusterIP, type, ports, creationTimestamp: CREATED}
}

function istio(kind: string, group: 'networking' | 'security', name: string, namespace: string, spec: Record<string, unknown>, generation = 1): IstioConfig {
  return {
    apiVersion: `${group}.istio.io/v1`,
    kind,
    metadata: {name, namespace, uid: fakeUid(`${kind}/${namespace}/${name}`), resourceVersion: String(1000 + name.length * 7 + namespace.length), generation, creationTimestamp: CREATED},
    spec,
  }
}

export const ISTIO_VERSION = '1.17.8'
const ISTIO_NEW = '1.25.2'

/** The DestinationRule of story 1; absent at start, apply it with `scenario.istioConfigs.push(...)`. */
export function catalogDestinationRule(): IstioConfig {
  return istio('DestinationRule', 'networking', 'catalog', 'istioinaction', {
    host: 'catalog.istioinaction.svc.cluster.local',
    subsets: [
      {name: 'version-v1', labels: {version: 'v1'}},
      {name: 'version-v2', labels: {version: 'v2'}},
    ],
  })
}

export function buildCatalogScenario(): Scenario {
  const V = ISTIO_VERSION
  const pods: SimPod[] = []
  const workloads: SimWorkload[] = []
  const rs = (d: SimWorkload, hash: string) => {
    const r = makeReplicaSet(d, hash)
    workloads.push(d, r)
    return {kind: 'ReplicaSet', name: r.name, apiVersion: 'apps/v1'}
  }

  // istio-system: two istiod replicas, each owning part of the mesh.
  const istiodLabels = {app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default'}
  const istiodContainer: SimContainer = {
    name: 'discovery', image: `docker.io/istio/pilot:${V}`,
    args: ['discovery', '--monitoringAddr=:15014', '--log_output_level=default:info', '--domain', 'cluster.local', '--keepaliveMaxServerConnectionAge', '30m'],
    ports: [{containerPort: 8080, protocol: 'TCP'}, {containerPort: 15010, protocol: 'TCP'}, {containerPort: 15017, protocol: 'TCP'}],
  }
  const istiodDeploy = makeDeployment('istiod', 'istio-system', istiodLabels, [istiodContainer], 'istiod', 2,
    {'prometheus.io/port': '15014', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/inject': 'false'})
  const istiodOwner = rs(istiodDeploy, '8d74787f')
  for (const [suffix, ip] of [['n4c7b', '10.10.0.5'], ['x2k9p', '10.10.0.6']] as const) {
    const pod = makePod({
      name: `istiod-8d74787f-${suffix}`, namespace: 'istio-system', labels: {...istiodLabels, 'pod-template-hash': '8d74787f'},
      annotations: {'prometheus.io/port': '15014', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/inject': 'false'},
      ip, serviceAccount: 'istiod', app: [istiodContainer], owner: istiodOwner,
    })
    pod.istiod = {version: V, revision: 'default'}
    pods.push(pod)
  }
  const [istiodA, istiodB] = ['istiod-8d74787f-n4c7b', 'istiod-8d74787f-x2k9p']

  const gwLabels = {app: 'istio-ingressgateway', istio: 'ingressgateway', 'istio.io/rev': 'default', 'service.istio.io/canonical-name': 'istio-ingressgateway', 'service.istio.io/canonical-revision': 'latest', 'sidecar.istio.io/inject': 'false'}
  const gwDeploy = makeDeployment('istio-ingressgateway', 'istio-system', gwLabels, [proxyContainer(V, 'router')], 'istio-ingressgateway-service-account')
  gwDeploy.selector = {app: 'istio-ingressgateway', istio: 'ingressgateway'}
  pods.push(makePod({
    name: 'istio-ingressgateway-6bb8fb6549-hcdnc', namespace: 'istio-system', labels: {...gwLabels, 'pod-template-hash': '6bb8fb6549'},
    annotations: {'prometheus.io/path': '/stats/prometheus', 'prometheus.io/port': '15020', 'prometheus.io/scrape': 'true'},
    ip: '10.10.0.7', serviceAccount: 'istio-ingressgateway-service-account', app: [proxyContainer(V, 'router')], owner: rs(gwDeploy, '6bb8fb6549'),
    proxy: {kind: 'router', istioVersion: V, adminPort: 15000, agentDebugPort: true, istiod: istiodA, sync: {cds: 'SYNCED', lds: 'SYNCED', eds: 'SYNCED', rds: 'SYNCED', ecds: 'NOT_SENT'}},
  }))

  // istioinaction: catalog v1/v2 and webapp.
  const appContainer = (name: string, image: string, port: number): SimContainer => ({name, image, ports: [{containerPort: port, name: 'http', protocol: 'TCP'}]})
  const catalogV1 = makeDeployment('catalog', 'istioinaction', {app: 'catalog', version: 'v1'}, [appContainer('catalog', 'istioinaction/catalog:latest', 3000)], 'catalog')
  const catalogV2 = makeDeployment('catalog-v2', 'istioinaction', {app: 'catalog', version: 'v2'}, [appContainer('catalog', 'istioinaction/catalog:latest', 3000)], 'catalog', 2)
  const webapp = makeDeployment('webapp', 'istioinaction', {app: 'webapp'}, [appContainer('webapp', 'istioinaction/webapp:latest', 8080)], 'webapp')
  const catalogV1Owner = rs(catalogV1, '5c7f8f8447')
  const catalogV2Owner = rs(catalogV2, '6d4c8b7d9f')
  const webappOwner = rs(webapp, '7c5d7b8c6b')
  pods.push(makePod({
    name: 'catalog-5c7f8f8447-f54sj', namespace: 'istioinaction', labels: {app: 'catalog', version: 'v1', 'pod-template-hash': '5c7f8f8447'},
    ip: '10.10.0.11', serviceAccount: 'catalog', app: [appContainer('catalog', 'istioinaction/catalog:latest', 3000)], owner: catalogV1Owner,
    proxy: {kind: 'sidecar', istioVersion: V, adminPort: 15000, agentDebugPort: true, istiod: istiodA, sync: {cds: 'SYNCED', lds: 'SYNCED', eds: 'SYNCED', rds: 'SYNCED', ecds: 'NOT_SENT'}},
  }))
  pods.push(makePod({
    name: 'catalog-v2-6d4c8b7d9f-8xw2p', namespace: 'istioinaction', labels: {app: 'catalog', version: 'v2', 'pod-template-hash': '6d4c8b7d9f'},
    ip: '10.10.0.12', serviceAccount: 'catalog', app: [appContainer('catalog', 'istioinaction/catalog:latest', 3000)], owner: catalogV2Owner,
    proxy: {kind: 'sidecar', istioVersion: V, adminPort: 15000, agentDebugPort: true, istiod: istiodB, sync: {cds: 'STALE', lds: 'SYNCED', eds: 'SYNCED', rds: 'SYNCED', ecds: 'NOT_SENT'}},
  }))
  const slow = makePod({
    name: 'catalog-v2-6d4c8b7d9f-zqgfl', namespace: 'istioinaction', labels: {app: 'catalog', version: 'v2', 'pod-template-hash': '6d4c8b7d9f'},
    ip: '10.10.0.13', serviceAccount: 'catalog', app: [appContainer('catalog', 'istioinaction/catalog:latest', 3000)], owner: catalogV2Owner,
    proxy: {kind: 'sidecar', istioVersion: V, adminPort: 15000, agentDebugPort: true, istiod: istiodB, sync: {cds: 'SYNCED', lds: 'ERROR', eds: 'SYNCED', rds: 'SYNCED', ecds: 'NOT_SENT'},
      syncError: 'Error adding/updating listener(s) 0.0.0.0_3000: error adding listener: \'0.0.0.0_3000\' has duplicate address \'0.0.0.0:3000\' as existing listener'},
  })
  slow.slow = true
  pods.push(slow)
  pods.push(makePod({
    name: 'webapp-7c5d7b8c6b-4vzd9', namespace: 'istioinaction', labels: {app: 'webapp', 'pod-template-hash': '7c5d7b8c6b'},
    ip: '10.10.0.14', serviceAccount: 'webapp', app: [appContainer('webapp', 'istioinaction/webapp:latest', 8080)], owner: webappOwner,
    proxy: {kind: 'sidecar', istioVersion: V, adminPort: 15000, agentDebugPort: true, istiod: istiodA, sync: {cds: 'SYNCED', lds: 'SYNCED', eds: 'STALE_NEVER_ACKED', rds: 'SYNCED', ecds: 'NOT_SENT'}},
  }))

  // default: sleep (meshed), a legacy client without a sidecar, a pending pod, a custom admin port,
  // and a newer 1.25 proxy (no 15004 agent tap).
  const sleepC: SimContainer = {name: 'sleep', image: 'curlimages/curl:8.7.1', args: ['/bin/sleep', 'infinity']}
  const sleep = makeDeployment('sleep', 'default', {app: 'sleep'}, [sleepC], 'sleep')
  pods.push(makePod({
    name: 'sleep-6f8cfb8c8f-wncwh', namespace: 'default', labels: {app: 'sleep', 'pod-template-hash': '6f8cfb8c8f'},
    ip: '10.10.0.20', serviceAccount: 'sleep', app: [sleepC], owner: rs(sleep, '6f8cfb8c8f'),
    proxy: {kind: 'sidecar', istioVersion: V, adminPort: 15000, agentDebugPort: true, istiod: istiodA, sync: {cds: 'SYNCED', lds: 'SYNCED', eds: 'SYNCED', rds: 'SYNCED', ecds: 'NOT_SENT'}},
  }))
  const legacy = makeDeployment('sleep-legacy', 'default', {app: 'sleep-legacy'}, [sleepC], 'default', 1, {'sidecar.istio.io/inject': 'false'})
  pods.push(makePod({
    name: 'sleep-legacy-7d9f6b5c4-kq2xj', namespace: 'default', labels: {app: 'sleep-legacy', 'pod-template-hash': '7d9f6b5c4'},
    annotations: {'sidecar.istio.io/inject': 'false'},
    ip: '10.10.0.21', serviceAccount: 'default', app: [sleepC], owner: rs(legacy, '7d9f6b5c4'),
  }))
  const httpbinC: SimContainer = {name: 'httpbin', image: 'docker.io/kong/httpbin:0.1.0', ports: [{containerPort: 80, name: 'http', protocol: 'TCP'}]}
  const httpbin = makeDeployment('httpbin', 'default', {app: 'httpbin', version: 'v1'}, [httpbinC], 'default', 1,
    {'proxy.istio.io/config': 'proxyAdminPort: 15800\n'})
  pods.push(makePod({
    name: 'httpbin-5c5f9d7b8d-lt6hx', namespace: 'default', labels: {app: 'httpbin', version: 'v1', 'pod-template-hash': '5c5f9d7b8d'},
    annotations: {'proxy.istio.io/config': 'proxyAdminPort: 15800\n'},
    ip: '10.10.0.22', serviceAccount: 'default', app: [httpbinC], owner: rs(httpbin, '5c5f9d7b8d'),
    proxy: {kind: 'sidecar', istioVersion: V, adminPort: 15800, agentDebugPort: true, istiod: istiodB, sync: {cds: 'SYNCED', lds: 'SYNCED', eds: 'SYNCED', rds: 'SYNCED', ecds: 'NOT_SENT'}},
  }))
  const pending = makeDeployment('reviews-v1', 'default', {app: 'reviews', version: 'v1'}, [{name: 'reviews', image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.20.2', ports: [{containerPort: 9080, name: 'http', protocol: 'TCP'}]}], 'default')
  pods.push(makePod({
    name: 'reviews-v1-8c5d9f6c7-pnd4g', namespace: 'default', labels: {app: 'reviews', version: 'v1', 'pod-template-hash': '8c5d9f6c7'},
    ip: '', serviceAccount: 'default', app: pending.containers, owner: rs(pending, '8c5d9f6c7'), phase: 'Pending', node: '',
    proxy: {kind: 'sidecar', istioVersion: V, adminPort: 15000, agentDebugPort: true},
  }))
  const ratingsC: SimContainer = {name: 'ratings', image: 'docker.io/istio/examples-bookinfo-ratings-v1:1.20.2', ports: [{containerPort: 9080, name: 'http', protocol: 'TCP'}]}
  const ratings = makeDeployment('ratings-v1', 'default', {app: 'ratings', version: 'v1'}, [ratingsC], 'default')
  pods.push(makePod({
    name: 'ratings-v1-77f6b4c8d5-m2j7r', namespace: 'default', labels: {app: 'ratings', version: 'v1', 'pod-template-hash': '77f6b4c8d5'},
    ip: '10.10.0.23', serviceAccount: 'default', app: [ratingsC], owner: rs(ratings, '77f6b4c8d5'),
    proxy: {kind: 'sidecar', istioVersion: ISTIO_NEW, adminPort: 15000, agentDebugPort: false, istiod: istiodB, sync: {cds: 'SYNCED', lds: 'SYNCED', eds: 'SYNCED', rds: 'NOT_SENT'}},
  }))

  const services: SimService[] = [
    makeService('kubernetes', 'default', undefined, '10.96.0.1', [{name: 'https', port: 443, targetPort: 6443, protocol: 'TCP'}], 'ClusterIP', {component: 'apiserver', provider: 'kubernetes'}),
    makeService('istiod', 'istio-system', {app: 'istiod', istio: 'pilot'}, '10.96.12.34', [
      {name: 'grpc-xds', port: 15010, targetPort: 15010, protocol: 'TCP'}, {name: 'https-dns', port: 15012, targetPort: 15012, protocol: 'TCP'},
      {name: 'https-webhook', port: 443, targetPort: 15017, protocol: 'TCP'}, {name: 'http-monitoring', port: 15014, targetPort: 15014, protocol: 'TCP'},
    ], 'ClusterIP', {app: 'istiod', istio: 'pilot'}),
    makeService('istio-ingressgateway', 'istio-system', {app: 'istio-ingressgateway', istio: 'ingressgateway'}, '10.96.200.10', [
      {name: 'status-port', port: 15021, targetPort: 15021, protocol: 'TCP'}, {name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP'},
      {name: 'https', port: 443, targetPort: 8443, protocol: 'TCP'},
    ], 'LoadBalancer', {app: 'istio-ingressgateway', istio: 'ingressgateway'}),
    makeService('catalog', 'istioinaction', {app: 'catalog'}, '10.96.110.20', [{name: 'http', port: 80, targetPort: 3000, protocol: 'TCP'}], 'ClusterIP', {app: 'catalog'}),
    makeService('webapp', 'istioinaction', {app: 'webapp'}, '10.96.110.30', [{name: 'http', port: 80, targetPort: 8080, protocol: 'TCP'}], 'ClusterIP', {app: 'webapp'}),
    makeService('httpbin', 'default', {app: 'httpbin'}, '10.96.120.40', [{name: 'http', port: 8000, targetPort: 80, protocol: 'TCP'}], 'ClusterIP', {app: 'httpbin'}),
    makeService('ratings', 'default', {app: 'ratings'}, '10.96.120.41', [{name: 'http', port: 9080, targetPort: 9080, protocol: 'TCP'}], 'ClusterIP', {app: 'ratings'}),
    makeService('reviews', 'default', {app: 'reviews'}, '10.96.120.42', [{name: 'http', port: 9080, targetPort: 9080, protocol: 'TCP'}], 'ClusterIP', {app: 'reviews'}),
  ]

  const istioConfigs: IstioConfig[] = [
    istio('Gateway', 'networking', 'catalog-gateway', 'istioinaction', {
      selector: {istio: 'ingressgateway'},
      servers: [{port: {number: 80, name: 'http', protocol: 'HTTP'}, hosts: ['catalog.istioinaction.io']}],
    }),
    istio('VirtualService', 'networking', 'catalog-v1-v2', 'istioinaction', {
      hosts: ['catalog.istioinaction.io'],
      gateways: ['catalog-gateway'],
      http: [{route: [
        {destination: {host: 'catalog.istioinaction.svc.cluster.local', subset: 'version-v1', port: {number: 80}}, weight: 20},
        {destination: {host: 'catalog.istioinaction.svc.cluster.local', subset: 'version-v2', port: {number: 80}}, weight: 80},
      ]}],
    }),
    istio('PeerAuthentication', 'security', 'default', 'istio-system', {mtls: {mode: 'STRICT'}}),
    istio('AuthorizationPolicy', 'security', 'allow-catalog-requests-in-web-app', 'istioinaction', {
      selector: {matchLabels: {app: 'webapp'}},
      rules: [{to: [{operation: {paths: ['/api/catalog*']}}]}],
      action: 'ALLOW',
    }),
    istio('AuthorizationPolicy', 'security', 'catalog-viewer', 'istioinaction', {
      selector: {matchLabels: {app: 'catalog'}},
      rules: [{from: [{source: {principals: ['cluster.local/ns/istioinaction/sa/webapp']}}], to: [{operation: {methods: ['GET']}}]}],
    }),
    istio('AuthorizationPolicy', 'security', 'deny-no-token', 'istio-system', {
      selector: {matchLabels: {app: 'istio-ingressgateway'}},
      action: 'DENY',
      rules: [{from: [{source: {notRequestPrincipals: ['*']}}]}],
    }),
    istio('RequestAuthentication', 'security', 'jwt-token-request-authn', 'istio-system', {
      selector: {matchLabels: {app: 'istio-ingressgateway'}},
      jwtRules: [{issuer: 'auth@istioinaction.io', jwks: '{"keys":[]}'}],
    }),
  ]

  const serviceAccounts = [
    ...['default', 'istiod', 'istio-ingressgateway-service-account', 'istio-reader-service-account'].map((name) => ({name, namespace: 'istio-system'})),
    ...['default', 'catalog', 'webapp'].map((name) => ({name, namespace: 'istioinaction'})),
    ...['default', 'sleep'].map((name) => ({name, namespace: 'default'})),
  ]

  const configMaps = [
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'istio', namespace: 'istio-system', labels: {'istio.io/rev': 'default'}},
      data: {mesh: 'accessLogFile: /dev/stdout\naccessLogEncoding: TEXT\ndefaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  tracing:\n    zipkin:\n      address: zipkin.istio-system:9411\nenablePrometheusMerge: true\nrootNamespace: istio-system\ntrustDomain: cluster.local\n', meshNetworks: 'networks: {}'}},
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'istio-ca-root-cert', namespace: 'istioinaction'}, data: {'root-cert.pem': ''}},
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'catalog-config', namespace: 'istioinaction'}, data: {'items.json': '[]'}},
  ]

  return {
    name: 'catalog',
    now: SCENARIO_NOW,
    clusterId: 'Kubernetes',
    meshConfig: {accessLogEncoding: 'TEXT', rootNamespace: 'istio-system', trustDomain: 'cluster.local'},
    namespaces: [
      {name: 'default', labels: {'istio-injection': 'enabled'}},
      {name: 'istio-system', labels: {}},
      {name: 'istioinaction', labels: {'istio-injection': 'enabled'}},
      {name: 'kube-system', labels: {}},
    ],
    pods,
    workloads: [...workloads, catalogV1, catalogV2, webapp, sleep, legacy, httpbin, pending, ratings].filter((w, i, all) => all.indexOf(w) === i),
    services,
    configMaps,
    serviceAccounts,
    istioConfigs,
  }
}
