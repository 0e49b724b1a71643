import type {RunContext} from '../context.js'
import {MeshdbgError, usageError} from '../errors.js'
import type {KubeSession} from '../kube/session.js'
import type {SnapshotReplay} from './replay.js'

/**
 * The KubeSession of a replayed command: `getJson` answers from the snapshot, the recorded context
 * stands in for the kubeconfig's (its name and server appear in messages as they did live), and
 * what only a live cluster can do (client-node's API clients: TokenRequests) fails in one line.
 */
export function replaySession(ctx: RunContext, replay: SnapshotReplay): KubeSession {
  const recorded = replay.manifest.contexts[0]
  if (!recorded) throw new MeshdbgError('bad-data', `snapshot ${replay.path} names no Kubernetes context`)
  if (ctx.context !== undefined && ctx.context !== recorded.name) {
    throw usageError(`snapshot ${replay.path} holds context "${recorded.name}", not "${ctx.context}"`, 'drop --context, or pass the snapshot taken from that context')
  }
  const liveOnly = (what: string) => (): never => {
    throw new MeshdbgError('not-found', `snapshot ${replay.path} cannot ${what}: it only answers reads it recorded`, {hint: 'run against the cluster'})
  }
  return {
    get kubeConfig(): never {
      return liveOnly('provide a kubeconfig')()
    },
    contextName: recorded.name,
    namespace: ctx.namespace ?? recorded.namespace,
    server: recorded.server,
    core: liveOnly('call the Kubernetes API clients (a TokenRequest, a write)'),
    apps: liveOnly('call the Kubernetes API clients'),
    batch: liveOnly('call the Kubernetes API clients'),
    loadClients: async () => {},
    getJson: async <T>(path: string): Promise<T> => replay.apiGet(path) as T,
    sendJson: liveOnly('write to the Kubernetes API'),
    callOptions: liveOnly('call the Kubernetes API clients'),
  }
}
