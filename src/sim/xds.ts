// Pushes and ACKs of a live mesh. A change in the store bumps istiod's push version after the
// debounce (PILOT_DEBOUNCE_AFTER) and pushes every connected proxy the config the pilot generates
// for it; each proxy then ACKs after its delay, NACKs a type with an error text (Envoy keeps the
// previous config of that type) or never answers (istiod shows STALE). Envoy's /config_dump serves
// what it accepted, istiod's /debug/config_dump what it last sent and /debug/syncz the nonces, so
// the three always agree. Times are wall-clock.
import {createHash} from 'node:crypto'
import type {EdsCluster, MeshView} from './envoy-config.js'
import type {ProxyBehaviour, Scenario, SimPod, XdsType, XdsView} from './model.js'
import {generate, pushContext} from './pilot/index.js'
import type {MeshStore} from './store.js'

type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export const PUSHED_TYPES: XdsType[] = ['cds', 'eds', 'lds', 'rds']

/** One xDS response istiod sent: its version_info, nonce, time and the resources of that type. */
interface Sent {version: string; nonce: string; at: number; resources: J[] | EdsCluster[]}

interface TypeState {sent?: Sent; acked?: Sent; nacked?: {nonce: string; error: string; at: number}}

interface ProxyState {pod: SimPod; types: Partial<Record<XdsType, TypeState>>; neverAnswered: Set<XdsType>}

export interface LiveTypeStatus {sent?: string; acked?: string; error?: string; sentAt: string}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')

/** The pieces of a MeshView each xDS type carries. */
function slice(view: MeshView, type: XdsType): J[] | EdsCluster[] {
  switch (type) {
    case 'cds': return view.clusters
    case 'eds': return view.eds
    case 'lds': return view.listeners
    case 'rds': return view.routes
    default: return []
  }
}

export class XdsServer implements XdsView {
  private pushes = 0
  private proxies = new Map<string, ProxyState>()
  private timers = new Set<NodeJS.Timeout>()
  private debounce?: NodeJS.Timeout
  private unsubscribe: () => void
  private closed = false

  constructor(private scenario: Scenario, store: MeshStore, private clock: () => number = Date.now) {
    this.unsubscribe = store.subscribe(() => this.schedulePush())
    // At start every proxy connects and ACKs the first push; the second (a full push as on any
    // config change) meets each proxy's scripted behaviour, so the mesh starts in its story's state.
    // Nothing changes in between, so the second push reuses the first one's generated config.
    this.push('startup', this.push('connect'))
  }

  private behaviour(pod: SimPod): ProxyBehaviour {
    const live = this.scenario.live
    return live?.proxies[`${pod.name}.${pod.namespace}`] ?? live?.proxies[pod.name] ?? {}
  }

  private connected(): SimPod[] {
    return this.scenario.pods.filter((p) => p.proxy?.istiod && p.phase === 'Running' && p.ip)
  }

  private schedulePush(): void {
    if (this.closed || this.debounce) return
    this.debounce = setTimeout(() => {
      this.debounce = undefined
      this.push('change')
    }, this.scenario.live?.debounceMs ?? 100)
  }

  /**
   * One full push to every connected proxy: on `connect` every proxy ACKs; the `startup` push
   * meets each proxy's NACK/STALE behaviour at once; a `change` push is answered after the delays.
   */
  push(kind: 'connect' | 'startup' | 'change', generated?: Map<SimPod, MeshView>): Map<SimPod, MeshView> {
    const views = new Map<SimPod, MeshView>()
    if (this.closed) return views
    this.pushes++
    const now = this.clock()
    const version = `${iso(now)}/${this.pushes}`
    const ctx = pushContext(this.scenario)
    const seen = new Set<string>()
    for (const pod of this.connected()) {
      const key = `${pod.namespace}/${pod.name}`
      seen.add(key)
      let state = this.proxies.get(key)
      if (!state || state.pod !== pod) {
        state = {pod, types: state?.types ?? {}, neverAnswered: new Set(this.behaviour(pod).neverAck ?? [])}
        this.proxies.set(key, state)
      }
      const view = generated?.get(pod) ?? generate(ctx, pod)
      views.set(pod, view)
      const b = this.behaviour(pod)
      for (const type of PUSHED_TYPES) {
        const sent: Sent = {version, nonce: nonceOf(`${key}/${type}/${this.pushes}`), at: now, resources: slice(view, type)}
        const t = (state.types[type] ??= {})
        t.sent = sent
        if (kind === 'connect' && !state.neverAnswered.has(type)) {
          t.acked = sent
          continue
        }
        this.answer(state, type, sent, kind === 'startup' ? {...b, ackDelayMs: 0} : b)
      }
    }
    for (const key of [...this.proxies.keys()]) if (!seen.has(key)) this.proxies.delete(key)
    return views
  }

  private answer(state: ProxyState, type: XdsType, sent: Sent, b: ProxyBehaviour): void {
    if (state.neverAnswered.has(type) || b.stale?.includes(type)) return
    const apply = () => {
      const t = state.types[type]!
      if (t.sent?.nonce !== sent.nonce) return // superseded by a newer push before this one was answered
      const error = b.nack?.[type]
      if (error) t.nacked = {nonce: sent.nonce, error, at: this.clock()}
      else t.acked = {...sent, at: this.clock()}
    }
    const delay = b.ackDelayMs === 0 ? 0 : b.ackDelayMs ?? this.scenario.live?.ackDelayMs ?? 0
    if (delay <= 0) return apply()
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      apply()
    }, delay)
    this.timers.add(timer)
  }

  private state(pod: SimPod): ProxyState | undefined {
    return this.proxies.get(`${pod.namespace}/${pod.name}`)
  }

  private view(pod: SimPod, pick: (t: TypeState) => Sent | undefined): MeshView | undefined {
    const s = this.state(pod)
    if (!s) return undefined
    const get = (type: XdsType) => (s.types[type] ? pick(s.types[type]!)?.resources : undefined) ?? []
    return {clusters: get('cds') as J[], eds: get('eds') as EdsCluster[], listeners: get('lds') as J[], routes: get('rds') as J[]}
  }

  envoyView(pod: SimPod): MeshView | undefined {
    return this.view(pod, (t) => t.acked)
  }

  istiodView(pod: SimPod): MeshView | undefined {
    return this.view(pod, (t) => t.sent)
  }

  versions(pod: SimPod): {envoy: Partial<Record<XdsType, {version: string; at: string}>>} | undefined {
    const s = this.state(pod)
    if (!s) return undefined
    const envoy: Partial<Record<XdsType, {version: string; at: string}>> = {}
    for (const type of PUSHED_TYPES) {
      const acked = s.types[type]?.acked
      if (acked) envoy[type] = {version: acked.version, at: new Date(acked.at).toISOString()}
    }
    return {envoy}
  }

  /** istiod's nonces for one proxy, per type (what /debug/syncz and ClientConfig report). */
  status(pod: SimPod): Partial<Record<XdsType, LiveTypeStatus>> | undefined {
    const s = this.state(pod)
    if (!s) return undefined
    const out: Partial<Record<XdsType, LiveTypeStatus>> = {}
    for (const type of PUSHED_TYPES) {
      const t = s.types[type]
      if (!t?.sent) continue
      const error = t.nacked?.nonce === t.sent.nonce ? t.nacked.error : undefined
      out[type] = {sent: t.sent.nonce, acked: t.acked?.nonce, error, sentAt: new Date(t.sent.at).toISOString()}
    }
    return out
  }

  /**
   * Moves the mesh's past so that its newest push happened `ageMs` ago (a mesh that has been up a
   * while: istiod's send times and Envoy's last_updated read as an hour old, not as seconds).
   */
  setLastPushAge(ageMs: number): void {
    const times = [...this.proxies.values()].flatMap((s) => Object.values(s.types).map((t) => t?.sent?.at ?? 0))
    const shift = Math.max(0, ...times) - (this.clock() - ageMs)
    for (const s of this.proxies.values()) {
      for (const t of Object.values(s.types)) {
        if (!t) continue
        // Sent objects are shared between `sent` and `acked`: move each one once.
        for (const entry of new Set([t.sent, t.acked, t.nacked])) if (entry) entry.at -= shift
      }
    }
  }

  close(): void {
    this.closed = true
    this.unsubscribe()
    if (this.debounce) clearTimeout(this.debounce)
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}

function nonceOf(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}
