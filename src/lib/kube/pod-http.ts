import type {RunContext} from '../context.js'
import {loadLive} from './load.js'
import type {FetchFromPodOptions, PodHttpResponse} from './pod-fetch.js'

export type {FetchFromPodOptions, PodHttpResponse} from './pod-fetch.js'

/**
 * An HTTP request to `port` inside a pod through a port-forward shared by the whole command (one
 * tunnel per pod and port, keep-alive). GET, or POST for deliberate changes (/logging); the
 * transport refuses /quitquitquit, /drain*, /healthcheck/fail and push=true. Throws MeshdbgError:
 * forbidden (exit 4), pod gone (3), nothing listening (4), stream lost (4), deadline (5), a status
 * other than 200 and `acceptStatus` (4), truncated body (6).
 */
export async function fetchFromPod(
  ctx: RunContext,
  pod: {name: string; namespace: string},
  port: number,
  path: string,
  options?: FetchFromPodOptions,
): Promise<PodHttpResponse> {
  return (await loadLive()).fetchFromPod(ctx, pod, port, path, options)
}

/** Closes the command's port-forwards to `pod` (see closePodForwards in port-forward.ts). */
export async function closePodForwards(ctx: RunContext, pod: {name: string; namespace: string}): Promise<void> {
  return (await loadLive()).closePodForwards(ctx, pod)
}
