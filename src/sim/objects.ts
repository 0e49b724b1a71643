// Kubernetes objects of the model as a cluster would have made them: deterministic UIDs, the
// injector's sidecar (containers, annotations, labels), Deployments and their ReplicaSets.
import type {SimContainer, SimPod, SimProxy, SimService, SimWorkload} from './model.js'

/** The creation time of objects built without one (the scale scenario's generated mesh). */
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
