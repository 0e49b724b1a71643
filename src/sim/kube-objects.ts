// Kubernetes JSON for the model objects, shaped like a real apiserver's answers.
import type {Scenario, SimContainer, SimPod, SimService, SimWorkload} from './model.js'
import {isAmbientEnrolled} from './ztunnel.js'

function containerJson(c: SimContainer): Record<string, unknown> {
  return {
    name: c.name,
    image: c.image,
    ...(c.args ? {args: c.args} : {}),
    ...(c.ports?.length ? {ports: c.ports.map((p) => ({...p, protocol: p.protocol ?? 'TCP'}))} : {}),
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  }
}

function ownerRefs(owner: SimPod['owner'], uidOf: (kind: string, name: string) => string) {
  return owner ? [{apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: uidOf(owner.kind, owner.name), controller: true, blockOwnerDeletion: true}] : undefined
}

const uidIndex = new WeakMap<SimWorkload[], {size: number; byKey: Map<string, string>}>()

function workloadUid(scenario: Scenario, kind: string, namespace: string, name: string): string {
  let index = uidIndex.get(scenario.workloads)
  if (!index || index.size !== scenario.workloads.length) {
    index = {size: scenario.workloads.length, byKey: new Map(scenario.workloads.map((w) => [`${w.kind}/${w.namespace}/${w.name}`, w.uid]))}
    uidIndex.set(scenario.workloads, index)
  }
  return index.byKey.get(`${kind}/${namespace}/${name}`) ?? ''
}

export function podJson(pod: SimPod, scenario: Scenario): Record<string, unknown> {
  const uidOf = (kind: string, name: string) => workloadUid(scenario, kind, pod.namespace, name)
  const running = pod.phase === 'Running'
  const statusOf = (c: SimContainer) => ({
    name: c.name,
    image: c.image,
    imageID: `${c.image}@sha256:0000000000000000000000000000000000000000000000000000000000000000`,
    ready: running && pod.ready,
    restartCount: pod.restarts,
    started: running,
    state: running ? {running: {startedAt: pod.creationTimestamp}} : {waiting: {reason: 'ContainerCreating'}},
    ...(running ? {containerID: `containerd://${pod.uid.replace(/-/g, '')}${c.name.length}`} : {}),
  })
  const conditions = pod.phase === 'Pending' && !pod.nodeName
    ? [{type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: pod.creationTimestamp, reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.'}]
    : [
        {type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: pod.creationTimestamp},
        {type: 'Ready', status: running && pod.ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: pod.creationTimestamp},
        {type: 'ContainersReady', status: running && pod.ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: pod.creationTimestamp},
        {type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: pod.creationTimestamp},
      ]
  // Istio CNI marks each Running pod it has captured for ztunnel, and re-evaluates when pod or
  // namespace labels change (cni/pkg/util/podutil.go AnnotateEnrolledPod, pkg/config/constants).
  const captured = scenario.ambient !== undefined && running && pod.nodeName !== undefined && isAmbientEnrolled(scenario, pod)
  const annotations = captured ? {...pod.annotations, 'ambient.istio.io/redirection': 'enabled'} : pod.annotations
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: pod.name,
      ...(pod.owner?.kind === 'ReplicaSet' ? {generateName: pod.name.replace(/[^-]+$/, '')} : {}),
      namespace: pod.namespace,
      uid: pod.uid,
      resourceVersion: pod.resourceVersion ?? String(4000 + pod.name.length),
      creationTimestamp: pod.creationTimestamp,
      labels: pod.labels,
      ...(Object.keys(annotations).length ? {annotations} : {}),
      ...(pod.owner ? {ownerReferences: ownerRefs(pod.owner, uidOf)} : {}),
    },
    spec: {
      ...(pod.initContainers ? {initContainers: pod.initContainers.map(containerJson)} : {}),
      containers: pod.containers.map(containerJson),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: pod.serviceAccount,
      serviceAccount: pod.serviceAccount,
      ...(pod.nodeName ? {nodeName: pod.nodeName} : {}),
      securityContext: {},
      schedulerName: 'default-scheduler',
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: pod.phase,
      conditions,
      ...(pod.nodeName ? {hostIP: pod.hostIP, hostIPs: [{ip: pod.hostIP}]} : {}),
      ...(pod.ip ? {podIP: pod.ip, podIPs: [{ip: pod.ip}]} : {}),
      ...(pod.nodeName ? {startTime: pod.creationTimestamp} : {}),
      ...(pod.nodeName && pod.initContainers ? {initContainerStatuses: pod.initContainers.map((c) => ({...statusOf(c), ready: running, started: false, state: running ? {terminated: {exitCode: 0, reason: 'Completed', startedAt: pod.creationTimestamp, finishedAt: pod.creationTimestamp}} : {waiting: {reason: 'PodInitializing'}}}))} : {}),
      ...(pod.nodeName ? {containerStatuses: pod.containers.map(statusOf)} : {}),
      qosClass: 'BestEffort',
    },
  }
}

const workloadApi: Record<SimWorkload['kind'], string> = {Deployment: 'apps/v1', StatefulSet: 'apps/v1', DaemonSet: 'apps/v1', ReplicaSet: 'apps/v1', Job: 'batch/v1'}

export function workloadJson(w: SimWorkload, scenario: Scenario): Record<string, unknown> {
  const pods = scenario.pods.filter((p) => p.namespace === w.namespace && Object.entries(w.selector).every(([k, v]) => p.labels[k] === v))
  const ready = pods.filter((p) => p.phase === 'Running' && p.ready).length
  const template = {
    metadata: {labels: w.templateLabels, ...(w.templateAnnotations ? {annotations: w.templateAnnotations} : {})},
    spec: {containers: w.containers.map(containerJson), serviceAccountName: w.serviceAccount, serviceAccount: w.serviceAccount, restartPolicy: w.kind === 'Job' ? 'Never' : 'Always', dnsPolicy: 'ClusterFirst'},
  }
  const owner = w.owner ? [{apiVersion: w.owner.apiVersion, kind: w.owner.kind, name: w.owner.name, uid: workloadUid(scenario, w.owner.kind, w.namespace, w.owner.name), controller: true, blockOwnerDeletion: true}] : undefined
  const metadata = {name: w.name, namespace: w.namespace, uid: w.uid, resourceVersion: String(3000 + w.name.length), generation: 1, creationTimestamp: w.creationTimestamp, labels: w.labels, ...(owner ? {ownerReferences: owner} : {})}
  let spec: Record<string, unknown>
  let status: Record<string, unknown>
  switch (w.kind) {
    case 'Job':
      spec = {parallelism: 1, completions: 1, backoffLimit: 6, selector: {matchLabels: w.selector}, template}
      status = {succeeded: pods.filter((p) => p.phase === 'Succeeded').length, active: pods.filter((p) => p.phase === 'Running').length}
      break
    case 'DaemonSet':
      spec = {selector: {matchLabels: w.selector}, template, updateStrategy: {type: 'RollingUpdate'}}
      status = {currentNumberScheduled: pods.length, desiredNumberScheduled: w.replicas, numberReady: ready, numberAvailable: ready, observedGeneration: 1}
      break
    default:
      spec = {replicas: w.replicas, selector: {matchLabels: w.selector}, template, ...(w.kind === 'StatefulSet' ? {serviceName: w.name} : {}), ...(w.kind === 'Deployment' ? {strategy: {type: 'RollingUpdate', rollingUpdate: {maxUnavailable: '25%', maxSurge: '25%'}}, revisionHistoryLimit: 10, progressDeadlineSeconds: 600} : {})}
      status = {observedGeneration: 1, replicas: pods.length, readyReplicas: ready, availableReplicas: ready, ...(w.kind !== 'ReplicaSet' ? {updatedReplicas: pods.length} : {fullyLabeledReplicas: pods.length})}
  }
  return {kind: w.kind, apiVersion: workloadApi[w.kind], metadata, spec, status}
}

export function serviceJson(s: SimService): Record<string, unknown> {
  return {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: {name: s.name, namespace: s.namespace, uid: s.uid, resourceVersion: s.resourceVersion ?? String(2000 + s.name.length), creationTimestamp: s.creationTimestamp, ...(Object.keys(s.labels).length ? {labels: s.labels} : {}), ...(s.annotations && Object.keys(s.annotations).length ? {annotations: s.annotations} : {})},
    spec: {
      ports: s.ports.map((p) => ({...(p.name ? {name: p.name} : {}), protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? {appProtocol: p.appProtocol} : {}), port: p.port, targetPort: p.targetPortName ?? p.targetPort})),
      ...(s.selector ? {selector: s.selector} : {}),
      clusterIP: s.clusterIP,
      clusterIPs: [s.clusterIP],
      type: s.type ?? 'ClusterIP',
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
    },
    status: {loadBalancer: s.type === 'LoadBalancer' ? {ingress: [{ip: '172.18.255.200'}]} : {}},
  }
}
