// Which of a pod's ports should share the pod's first port-forward: a plain record, outside the
// lazily loaded live layer, so a caller can state it before its first request without loading it.
import type {RunContext} from '../context.js'

const PLANS = Symbol.for('meshdbg.kube.tunnel-plans')

const podKey = (pod: {name: string; namespace: string}) => `${pod.namespace}/${pod.name}`
const plansOf = (ctx: RunContext) => ctx.scope.memo(PLANS, () => new Map<string, readonly number[]>())

/**
 * The next connections to `ports` of `pod` ride one port-forward WebSocket (`ports=a&ports=b`):
 * one upgrade through the API server instead of one per port. For ports a command reads at once
 * and where one of them (pilot-agent's readiness) takes a single request that ends its connection:
 * v4.channel.k8s.io cannot tell the client that one port's connection ended while another's is
 * open, so a port read more than once must not be left waiting behind a live one (see TunnelGroup
 * in port-forward.ts).
 */
export function planSharedTunnel(ctx: RunContext, pod: {name: string; namespace: string}, ports: readonly number[]): void {
  const distinct = [...new Set(ports)]
  if (distinct.length < 2) return
  plansOf(ctx).set(podKey(pod), distinct)
}

/** The ports planned to share `pod`'s next tunnel (the plan is used up), if `port` is one of them. */
export function takeTunnelPlan(ctx: RunContext, pod: {name: string; namespace: string}, port: number): readonly number[] | undefined {
  const plans = plansOf(ctx)
  const ports = plans.get(podKey(pod))
  if (!ports?.includes(port)) return undefined
  plans.delete(podKey(pod))
  return ports
}

/** Drops `pod`'s plan (its reads are over). */
export function dropTunnelPlan(ctx: RunContext, pod: {name: string; namespace: string}): void {
  plansOf(ctx).delete(podKey(pod))
}
