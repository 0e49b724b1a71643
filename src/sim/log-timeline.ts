// When each access-log line of the scripted traffic exists, as a kubelet sees it. The traffic is one
// timeline per scenario: request k starts at anchor + k × interval, the first HISTORY_REQUESTS of
// them before the scenario loaded (so a log has ~13 minutes of history at the default rate) and the
// rest as the clock reaches them. Envoy writes a request's line when it ends (START_TIME +
// DURATION) into a buffer it flushes every second; the container runtime stamps the line as it
// reads it from the pipe, which is the kubelet timestamp `--timestamps`, `sinceSeconds` and
// `sinceTime` use. Reads at different moments therefore agree on every line they share, and a
// follower sees the same lines a later read returns. Pure: the scenario and the clock in.
import type {AccessLogEntry} from './logs.js'
import type {Scenario, SimPod} from './model.js'
import {playRequest} from './traffic.js'

/** istio/istio pkg/envoy/proxy.go starts Envoy with `--file-flush-interval-msec 1000`. */
export const ENVOY_FLUSH_MS = 1000
/** Requests played before the scenario loaded: the history every log starts with. */
export const HISTORY_REQUESTS = 480
/** One scripted request every ~1.6 s unless the Simulation section says otherwise. */
export const DEFAULT_REQUEST_INTERVAL_MS = 1637
/** pilot-agent starts a few seconds before the first request of the history reaches Envoy. */
const CONTAINER_LEAD_MS = 5000

export interface TrafficClock {
  /** When request 0 started (epoch ms). */
  anchorMs: number
  intervalMs: number
  /** When the pods' containers started: their start-up lines come first. */
  containerStartMs: number
}

export function trafficClock(s: Scenario): TrafficClock {
  const intervalMs = s.live?.requestIntervalMs ?? DEFAULT_REQUEST_INTERVAL_MS
  const anchorMs = Date.parse(s.now) - HISTORY_REQUESTS * intervalMs
  return {anchorMs, intervalMs, containerStartMs: anchorMs - CONTAINER_LEAD_MS}
}

/** Each Envoy's flush timer runs from its own start: a phase per pod, stable across reads. */
function flushPhase(pod: SimPod): number {
  let h = 0
  for (const c of `${pod.namespace}/${pod.name}`) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0
  return h % ENVOY_FLUSH_MS
}

/** The first flush strictly after `endedMs` (Envoy's AccessLogFileImpl flushes on its timer). */
export function flushAfter(pod: SimPod, endedMs: number): number {
  const phase = flushPhase(pod)
  return phase + (Math.floor((endedMs - phase) / ENVOY_FLUSH_MS) + 1) * ENVOY_FLUSH_MS
}

export interface WrittenLine {
  entry: AccessLogEntry
  /** The flush that wrote it: the kubelet timestamp, to within the runtime's read of the pipe. */
  flushMs: number
  /** The kubelet timestamp (fractional ms): the flush plus a few µs per line read before it. */
  stampMs: number
}

export interface LogWindow {
  /** Only lines flushed after this moment (exclusive); undefined: from the container's start. */
  afterMs?: number
  /** Only lines flushed by this moment (inclusive): the rest are still in Envoy's buffer. */
  upToMs: number
  /** Only the last `tail` lines of the window. */
  tail?: number
}

/** The longest a request can take before its line is flushed: bounds how far back a window plays. */
function writeLagMs(s: Scenario): number {
  const latencies = Object.values(s.live?.proxies ?? {}).map((p) => p.latencyMs ?? 0)
  return ENVOY_FLUSH_MS + Math.max(10, ...latencies) + 10
}

/**
 * `pod`'s access-log lines flushed within the window, in the order Envoy wrote them (request end,
 * then request order). Requests are played newest first and only as far back as the window (or
 * `tail`) needs, through the config the proxies run now (the log replays the current config).
 */
export function accessLogWindow(s: Scenario, pod: SimPod, window: LogWindow, clock = trafficClock(s)): WrittenLine[] {
  const traffic = s.live?.traffic ?? []
  if (!traffic.length || window.tail === 0) return []
  const lag = writeLagMs(s)
  const startOf = (k: number) => clock.anchorMs + k * clock.intervalMs
  const newest = Math.floor((window.upToMs - clock.anchorMs) / clock.intervalMs)
  const oldest = window.afterMs === undefined ? 0 : Math.max(0, Math.floor((window.afterMs - lag - clock.anchorMs) / clock.intervalMs))
  const found: Array<WrittenLine & {endedMs: number; k: number}> = []
  for (let k = newest; k >= oldest; k--) {
    // Enough lines for the tail, and no older request can have been written after the tail's first.
    if (window.tail !== undefined && found.length >= window.tail) {
      const tailFirst = [...found].sort((a, b) => b.flushMs - a.flushMs)[window.tail - 1].flushMs
      if (startOf(k) + lag < tailFirst) break
    }
    for (const r of playRequest(s, traffic[k % traffic.length], Math.floor(k / traffic.length), startOf(k))) {
      if (r.pod.name !== pod.name || r.pod.namespace !== pod.namespace) continue
      const endedMs = Date.parse(r.entry.start_time) + r.entry.duration
      const flushMs = flushAfter(pod, endedMs)
      if (flushMs > window.upToMs || (window.afterMs !== undefined && flushMs <= window.afterMs)) continue
      found.push({entry: r.entry, flushMs, stampMs: flushMs, endedMs, k})
    }
  }
  found.sort((a, b) => a.flushMs - b.flushMs || a.endedMs - b.endedMs || a.k - b.k)
  // The runtime reads a flush's lines one after another: a few µs apart, in the order written.
  let previous = Number.NaN
  let inFlush = 0
  for (const line of found) {
    inFlush = line.flushMs === previous ? inFlush + 1 : 1
    previous = line.flushMs
    line.stampMs = line.flushMs + 0.021 * inFlush
  }
  const kept = window.tail === undefined ? found : found.slice(-window.tail)
  return kept.map(({entry, flushMs, stampMs}) => ({entry, flushMs, stampMs}))
}

/** Whole milliseconds and the microseconds of a fractional epoch-ms time (doubles keep µs, not ns). */
function splitMicros(ms: number): [number, string] {
  const whole = Math.floor(ms)
  return [whole, String(Math.min(999, Math.round((ms - whole) * 1000))).padStart(3, '0')]
}

/** The kubelet's `--timestamps` form: RFC 3339 with nanoseconds (kuberuntime/logs `timeFormatOut`). */
export function kubeletStamp(ms: number): string {
  const [whole, micros] = splitMicros(ms)
  return `${new Date(whole).toISOString().slice(0, -1)}${micros}000Z`
}

/** A log line's own timestamp as Istio's loggers print it (microseconds). */
export function istioLogStamp(ms: number): string {
  const [whole, micros] = splitMicros(ms)
  return `${new Date(whole).toISOString().slice(0, -1)}${micros}Z`
}
