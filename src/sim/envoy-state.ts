// Envoy's server state and warming config for one simulated proxy, from the Simulation knob
// `proxies[pod].envoy: {state: PRE_INITIALIZING, warmingClusters: 2, warmingListeners: 1}`.
// Envoy answers /ready with its state name, 200 only when LIVE (source/server/admin/server_info_handler.cc);
// pilot-agent's /healthz/ready is 503 with "server is not live, current state is: <STATE>" until
// Envoy is LIVE (istio/istio pilot/cmd/pilot-agent/status/ready/probe.go).
import type {Scenario, SimPod} from './model.js'

export type EnvoyServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING'

export interface EnvoyStateKnob {
  state?: EnvoyServerState
  /** The cluster_manager.warming_clusters gauge. */
  warmingClusters?: number
  /** The listener_manager.total_listeners_warming gauge. */
  warmingListeners?: number
}

/** The `server.state` gauge's values (envoy.admin.v3.ServerInfo.State). */
export const SERVER_STATE_GAUGE: Record<EnvoyServerState, number> = {LIVE: 0, DRAINING: 1, PRE_INITIALIZING: 2, INITIALIZING: 3}

export function envoyState(pod: SimPod, scenario: Scenario): Required<EnvoyStateKnob> {
  const knob = scenario.live?.proxies[`${pod.name}.${pod.namespace}`]?.envoy ?? scenario.live?.proxies[pod.name]?.envoy ?? {}
  return {state: knob.state ?? 'LIVE', warmingClusters: knob.warmingClusters ?? 0, warmingListeners: knob.warmingListeners ?? 0}
}

/** Envoy's GET /ready. */
export function envoyReadyAnswer(pod: SimPod, scenario: Scenario): [number, string] {
  const {state} = envoyState(pod, scenario)
  return [state === 'LIVE' ? 200 : 503, `${state}\n`]
}

/** pilot-agent's GET /healthz/ready (Envoy's side of it: DNS readiness is not modelled). */
export function agentReadyAnswer(pod: SimPod, scenario: Scenario): [number, string] {
  const {state} = envoyState(pod, scenario)
  return state === 'LIVE' ? [200, ''] : [503, `server is not live, current state is: ${state}`]
}
