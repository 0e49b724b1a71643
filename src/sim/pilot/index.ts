// A small pilot: the xDS resources istiod would generate for one proxy from the model. Pure (model
// in, resources out); the push and ACK machinery lives in src/sim/xds.ts.
import type {MeshView} from '../envoy-config.js'
import type {SimPod} from '../model.js'
import {inboundClusters, outboundClusters, specialClusters} from './clusters.js'
import type {PushContext} from './context.js'
import {gatewayListeners, sidecarListeners} from './listeners.js'
import {gatewayRoutes, sidecarRoutes} from './routes.js'
import {isWaypointProxy, waypointConfig} from './waypoint.js'

export {pushContext, type PushContext} from './context.js'

export function generate(ctx: PushContext, pod: SimPod): MeshView {
  if (isWaypointProxy(pod)) return waypointConfig(ctx, pod)
  const sidecar = pod.proxy?.kind !== 'router'
  const outbound = outboundClusters(ctx, pod)
  return {
    clusters: [...specialClusters(sidecar).slice(0, 2), ...outbound.clusters, ...(sidecar ? [specialClusters(true)[2], ...inboundClusters(ctx, pod)] : [])],
    eds: outbound.eds,
    listeners: sidecar ? sidecarListeners(ctx, pod) : gatewayListeners(ctx, pod),
    routes: sidecar ? sidecarRoutes(ctx, pod) : gatewayRoutes(ctx, pod),
  }
}
