import type {CoreV1Api} from '@kubernetes/client-node'

import type {RunContext} from '../context.js'
import {MeshdbgError} from '../errors.js'
import type {KubeSession} from '../kube/session.js'
import type {SnapshotReplay} from './replay.js'

/**
 * The KubeSession of a replayed command: `getJson` answers from the snapshot, the recorded context
 * (the one SnapshotReplay chose) stands in for the kubeconfig's (its name and server appear in
 * messages as they did live), and what only a live cluster can do (writes, client-node's other
 * API calls) fails in one line.
 */
export function replaySession(ctx: RunContext, replay: SnapshotReplay): KubeSession {
  const recorded = replay.manifest.contexts[0]
  // istiod's port-15014 answers were captured with a real token, which the archive never holds;
  // replay answers them whatever the token, so the TokenRequest made before them gets a stand-in.
  // (A TokenRequest that failed at capture was recorded as the 15014 answer's failure.)
  const liveOnly = (what: string) => (): never => {
    throw new MeshdbgError('not-found', `snapshot ${replay.path} cannot ${what}: it only answers reads it recorded`, {hint: 'run against the cluster'})
  }
  const core = new Proxy({} as CoreV1Api, {
    get: (_target, name) => (name === 'createNamespacedServiceAccountToken' ? async () => ({status: {token: 'snapshot-replay'}}) : liveOnly(`call the Kubernetes API (${String(name)})`)),
  })
  return {
    get kubeConfig(): never {
      return liveOnly('provide a kubeconfig')()
    },
    contextName: recorded.name,
    namespace: ctx.namespace ?? recorded.namespace,
    server: recorded.server,
    core: () => core,
    apps: liveOnly('call the Kubernetes API clients'),
    batch: liveOnly('call the Kubernetes API clients'),
    loadClients: async () => {},
    getJson: async <T>(path: string): Promise<T> => replay.apiGet(path) as T,
    sendJson: liveOnly('write to the Kubernetes API'),
    // The stand-in TokenRequest takes no deadline: it answers at once.
    callOptions: () => undefined,
  }
}
