import type {AccessLogEntry} from '../envoy/access-log.js'
import type {CertificateRow} from '../envoy/certs.js'
import type {DescribeContext} from '../istio/describe.js'
import type {LevelSpec} from '../envoy/log-levels.js'
import type {SyncStatusRow} from '../istio/sync-status.js'
import type {PairMemo} from '../pair-memo.js'
import type {ClusterHealth, DumpRouting} from './routing.js'

/**
 * The model of `meshdbg diagnose`: checks read facts about one proxy (fetched once, shared by
 * every check) and return outcomes; the runner turns them into findings with an id, a target and
 * a severity, and orders them so the root cause reads first.
 */

/** fail: something is broken; error: the check could not run (timed out, threw); warn: worth a look. */
export type Severity = 'pass' | 'warn' | 'fail' | 'error'

/** What a check says about one proxy, before the runner adds the check's id and the target. */
export interface CheckOutcome {
  severity: Severity
  /** One line: what is wrong (or what passed). */
  message: string
  /** One line: why, or what fixes it. */
  hint?: string
  /** The next command to run, its arguments shell-quoted. */
  command?: string
  /** The data the outcome rests on (names, counts, log lines), for humans and scripts. */
  evidence?: string[]
}

export interface Finding extends CheckOutcome {
  /** The check's id (`--check ID`, `--skip ID`). */
  id: string
  /** The heading the finding is printed under. */
  group: string
  /** The proxy (`<pod>.<namespace>`) the finding is about; for a cluster that could not be diagnosed, its context. */
  target: string
  /** The kubeconfig context, only with several (--context repeated, --all-contexts). */
  context?: string
}

/** The pod a proxy runs in, as far as the checks need it. */
export interface ProxyPod {
  name: string
  namespace: string
  /** `<pod>.<namespace>`, istiod's proxy ID. */
  id: string
  /** A gateway (`pilot-agent proxy router`) rather than a sidecar. */
  gateway: boolean
  /** The logger levels the proxy started with (annotations, proxy arguments, else warning). */
  startLevels: LevelSpec
}

/** istiod's view of the proxy: its sync row, or why it is missing. */
export interface SyncFacts {
  row?: SyncStatusRow
  /** istiod replicas that did not answer (a missing row may be theirs). */
  failedIstiods: Array<{istiod: string; message: string}>
}

/**
 * Everything a check may ask about one proxy. Each getter fetches on first use and is shared by
 * every check of the run; a getter that fails makes only the checks that called it ERROR.
 */
export interface ProxyFacts {
  readonly pod: ProxyPod
  /** What the routing checks read of Envoy's `/config_dump` (routes, clusters, listeners' warming state). */
  routing(): Promise<DumpRouting>
  /** The clusters without a host that serves traffic (membership gauges, the EDS dump, `/clusters?format=json`: live.ts). */
  clusterHealth(): Promise<ClusterHealth>
  /** Envoy `/ready`: status and body (`LIVE`). */
  envoyReady(): Promise<{status: number; text: string}>
  /** pilot-agent `:15020/healthz/ready`. */
  agentReady(): Promise<{status: number; text: string}>
  /** Envoy's logger levels (`POST /logging` without arguments changes nothing and lists them). */
  logLevels(): Promise<Map<string, string>>
  /** Envoy counters of rejected and warming config (`/stats?filter=`). */
  configStats(): Promise<Map<string, number>>
  /** The proxy's SDS secrets and /certs as certificate rows, judged when fetched. */
  certificates(): Promise<CertificateRow[]>
  /**
   * What `describe` reads about the proxy's namespace: its Services and pods, the Istio resources
   * (cluster-wide, read once per run) and MeshConfig's root namespace. No proxy's clusters.
   */
  describeContext(): Promise<DescribeContext>
  /** The proxy's access-log entries of the last `--since`. */
  accessLog(): Promise<AccessLogEntry[]>
  sync(): Promise<SyncFacts>
  /** The version of the istiod (pod name) that serves the proxy. */
  istiodVersion(istiod: string): Promise<string | undefined>
  /** The pod with this IP, looked for in `namespace` (the upstream's, from its cluster name). */
  podByIp(ip: string, namespace: string | undefined): Promise<string | undefined>
  /**
   * A caller by its IP, as `<pod>.<namespace>`: looked for in the proxy's namespace, then the
   * other diagnosed namespaces and the istio namespace (where gateways run), then cluster-wide.
   */
  peerByIp(ip: string): Promise<string | undefined>
}

export interface CheckOptions {
  /** `--since` in milliseconds, for the access-log check's wording. */
  sinceMs: number
  /** Milliseconds since the epoch. */
  now: number
  /**
   * One copy of each string for the run: findings are kept until the end, and 500 sidecars
   * listing the same 1,000 empty clusters as evidence held half a million copies (~45 MB).
   */
  intern?: (text: string) => string
  /**
   * What `compute` made before of the same two objects, for the run (else it computes now):
   * proxies share facts (one namespace's sidecars, the same used clusters and cluster health),
   * and a check's reading of them need not be repeated 500 times. The value is shared: read-only.
   */
  derived?: PairMemo
}

export interface Check {
  /** Stable, for `--check`/`--skip` and scripts. */
  id: string
  group: string
  /** What the check looks at, for `--help` and the PASS line. */
  title: string
  run(facts: ProxyFacts, options: CheckOptions): Promise<CheckOutcome[]>
}
