// A small pilot: the xDS resources istiod would generate for one proxy from the model. Pure (model
// in, resources out); the push and ACK machinery lives in src/sim/xds.ts.
import type {MeshView} from '../envoy-config.js'
import type {SimPod} from '../model.js'
import {inboundClusters, outboundClusters, specialClusters} from './clusters.js'
import {sidecarScopeKey, type PushContext} from './context.js'
import {gatewayListeners, sidecarListeners, sidecarOutboundListeners} from './listeners.js'
import {gatewayRoutes, sidecarRoutes} from './routes.js'
import {isWaypointProxy, waypointConfig} from './waypoint.js'

export {pushContext, type PushContext} from './context.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** What every sidecar of one SidecarScope shares (context.ts sidecarScopeKey). */
export interface SidecarOutbound {
  clusters: ReturnType<typeof outboundClusters>
  listeners: J[]
  routes: J[]
}

/**
 * The proxy's config. `scopes`, when given, keeps each SidecarScope's outbound config and hands it
 * to every sidecar of the scope (the same objects), as istiod's XdsCache does; without it every
 * call generates all of it (a mesh whose config changes).
 */
export function generate(ctx: PushContext, pod: SimPod, scopes?: Map<string, SidecarOutbound>): MeshView {
  if (isWaypointProxy(pod)) return waypointConfig(ctx, pod)
  const sidecar = pod.proxy?.kind !== 'router'
  if (!sidecar) {
    const outbound = outboundClusters(ctx, pod)
    return {clusters: [...specialClusters(false).slice(0, 2), ...outbound.clusters], eds: outbound.eds, listeners: gatewayListeners(ctx, pod), routes: gatewayRoutes(ctx, pod)}
  }
  const key = scopes ? sidecarScopeKey(ctx, pod) : ''
  let outbound = scopes?.get(key)
  if (!outbound) {
    outbound = {clusters: outboundClusters(ctx, pod), listeners: sidecarOutboundListeners(ctx, pod), routes: sidecarRoutes(ctx, pod)}
    scopes?.set(key, outbound)
  }
  return {
    clusters: [...specialClusters(true).slice(0, 2), ...outbound.clusters.clusters, specialClusters(true)[2], ...inboundClusters(ctx, pod)],
    eds: outbound.clusters.eds,
    listeners: sidecarListeners(ctx, pod, outbound.listeners),
    routes: outbound.routes,
  }
}
