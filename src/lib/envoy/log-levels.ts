import {badDataError, usageError} from '../errors.js'

/**
 * Envoy's runtime log levels (`POST /logging`): parse the `active loggers:` body, parse and
 * validate a `--level` spec, plan the POSTs, and resolve the level `--reset` returns to. Pure
 * functions; the HTTP part lives with the transport code.
 *
 * Deliberate differences from istioctl (istioctl-behaviour.md 2.11):
 * - a bare level combines with named ones (`http:debug,info` = everything info, then http debug);
 *   istioctl lets a bare level wipe the items before it;
 * - logger names must match the proxy's list exactly; istioctl accepts any substring of the
 *   whole body, so `ttp:debug` passes its check and fails at Envoy;
 * - named loggers are POSTed in the order given, not in Go's random map order.
 */

export const ENVOY_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const
export type EnvoyLevel = (typeof ENVOY_LEVELS)[number]

/** Logger name → level, in the order the proxy lists them. */
export type ActiveLoggers = Map<string, string>

export interface LevelSpec {
  /** The bare level (`debug`, `level=debug`), applied to every logger first. */
  level?: EnvoyLevel
  /** Named loggers in the order given (first mention decides the position). */
  loggers: Array<{name: string; level: EnvoyLevel}>
}

/** Parses the body of `POST /logging` (also found after the usage text of a 400/404 answer). */
export function parseActiveLoggers(text: string): ActiveLoggers {
  const lines = text.split(/\r?\n/)
  const start = lines.findIndex((line) => line.trim() === 'active loggers:')
  if (start === -1) throw badDataError('not an Envoy /logging response: no "active loggers:" line')
  const loggers: ActiveLoggers = new Map()
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') {
      if (loggers.size > 0) break
      continue
    }
    // Fine-grain logging lists file paths; split at the last ": ".
    const colon = line.lastIndexOf(': ')
    if (colon === -1 || !/^\s/.test(line)) break
    loggers.set(line.slice(0, colon).trim(), line.slice(colon + 2).trim())
  }
  return loggers
}

/** `warn` → `warning`, case-insensitive; undefined for anything Envoy would refuse. */
export function normaliseLevel(level: string): EnvoyLevel | undefined {
  const lower = level.trim().toLowerCase()
  const name = lower === 'warn' ? 'warning' : lower
  return (ENVOY_LEVELS as readonly string[]).includes(name) ? (name as EnvoyLevel) : undefined
}

function levelOrThrow(level: string, item: string): EnvoyLevel {
  const normalised = normaliseLevel(level)
  if (!normalised) {
    throw usageError(`unrecognized logging level "${level}" in "${item}": use one of ${ENVOY_LEVELS.join(', ')} (or warn)`)
  }
  return normalised
}

/**
 * Parses `debug`, `rbac:debug`, `http:debug,router:debug`, `name=level`, `level=info`, and
 * namespaced names (`envoy::http:debug` keeps `http`). Levels are checked here; names are checked
 * against the proxy by validateLevelSpec.
 */
export function parseLevelSpec(spec: string): LevelSpec {
  const items = spec.split(',').map((item) => item.trim()).filter((item) => item !== '')
  if (items.length === 0) throw usageError('--level needs a value, e.g. debug or rbac:debug,http:info')
  const result: LevelSpec = {loggers: []}
  for (const item of items) {
    const parts = item.split('::')
    const last = parts[parts.length - 1]
    const separator = last.search(/[:=]/)
    if (separator === -1) {
      setGlobal(result, levelOrThrow(last, item), item)
      continue
    }
    const name = last.slice(0, separator).trim()
    const levelText = last.slice(separator + 1).trim()
    if (name === '' || levelText === '') throw usageError(`invalid --level item "${item}": use name:level`)
    const level = levelOrThrow(levelText, item)
    if (name === 'level') {
      setGlobal(result, level, item)
      continue
    }
    const existing = result.loggers.find((logger) => logger.name === name)
    if (existing && existing.level !== level) throw usageError(`--level sets logger "${name}" twice (${existing.level} and ${level})`)
    if (!existing) result.loggers.push({name, level})
  }
  return result
}

function setGlobal(result: LevelSpec, level: EnvoyLevel, item: string): void {
  if (result.level !== undefined && result.level !== level) {
    throw usageError(`--level has two global levels (${result.level} and "${item}"): give one`)
  }
  result.level = level
}

/** Edit distance counting a swap of neighbours as one edit (typos like rbca), for "did you mean". */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({length: a.length + 1}, (_, i) => Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1)
    }
  }
  return rows[a.length][b.length]
}

/** Known names close to `name`: small edit distance, or one a prefix of the other. Best first. */
export function closeMatches(name: string, known: Iterable<string>, limit = 4): string[] {
  const lower = name.toLowerCase()
  const scored: Array<{candidate: string; score: number}> = []
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase())
    const prefix = candidate.toLowerCase().startsWith(lower) || lower.startsWith(candidate.toLowerCase())
    const allowed = Math.max(1, Math.min(2, Math.floor(lower.length / 3)))
    if (distance <= allowed || (prefix && Math.min(lower.length, candidate.length) >= 2)) {
      scored.push({candidate, score: prefix ? Math.min(distance, 1) : distance})
    }
  }
  return scored.sort((a, b) => a.score - b.score || a.candidate.localeCompare(b.candidate)).slice(0, limit).map((item) => item.candidate)
}

/** Checks every named logger against the proxy's own list, exactly. Throws a usage error (exit 2). */
export function validateLevelSpec(spec: LevelSpec, loggers: ActiveLoggers | Iterable<string>): void {
  const known = loggers instanceof Map ? [...loggers.keys()] : [...loggers]
  const names = new Set(known)
  const unknown = spec.loggers.filter((logger) => !names.has(logger.name))
  if (unknown.length === 0) return
  const parts = unknown.map((logger) => {
    const close = closeMatches(logger.name, known)
    return close.length > 0 ? `"${logger.name}" (did you mean ${close.join(', ')}?)` : `"${logger.name}"`
  })
  throw usageError(`unrecognized logger name${unknown.length > 1 ? 's' : ''} ${parts.join(', ')}`, 'the proxy\'s loggers are listed by `meshdbg log <pod>`')
}

export interface PlannedRequest {
  /** The admin path and query to POST, e.g. `logging?level=debug` or `logging?http=debug`. */
  query: string
}

/**
 * The POSTs that turn `current` into what `spec` asks for: `logging?level=L` first (when a bare
 * level is given), then one `logging?<logger>=<level>` per named logger, in spec order, leaving out
 * those already at that level. An empty spec plans one plain `logging` (read the levels).
 */
export function planLevelChanges(spec: LevelSpec, current: ActiveLoggers): PlannedRequest[] {
  if (spec.level === undefined && spec.loggers.length === 0) return [{query: 'logging'}]
  const plan: PlannedRequest[] = []
  const effective = new Map(current)
  if (spec.level !== undefined) {
    plan.push({query: `logging?level=${spec.level}`})
    for (const name of effective.keys()) effective.set(name, spec.level)
  }
  for (const logger of spec.loggers) {
    if (effective.get(logger.name) === logger.level) continue
    plan.push({query: `logging?${encodeURIComponent(logger.name)}=${logger.level}`})
    effective.set(logger.name, logger.level)
  }
  return plan
}

export interface ResetLevel {
  level: EnvoyLevel
  source: 'annotation' | 'proxy-args' | 'default'
  /** Set when a value was found but unusable, and why it was ignored. */
  ignored?: string
}

interface PodLike {
  metadata?: {annotations?: Record<string, string> | null} | null
  spec?: {
    containers?: ContainerLike[] | null
    initContainers?: ContainerLike[] | null
  } | null
}

interface ContainerLike {
  name?: string
  args?: string[] | null
}

/**
 * The level `--reset` returns a pod's proxy to: the `sidecar.istio.io/logLevel` annotation, else
 * the istio-proxy container's `--proxyLogLevel` argument (as injected; native sidecars live in
 * initContainers), else `warning`. istioctl reads a ConfigMap path that real charts never fill,
 * so it always ends up at `warning`; the pod itself knows better.
 */
export function resetLevelFor(pod: PodLike): ResetLevel {
  const ignored: string[] = []
  const annotation = pod.metadata?.annotations?.['sidecar.istio.io/logLevel']
  if (annotation !== undefined) {
    const level = normaliseLevel(annotation)
    if (level) return {level, source: 'annotation'}
    ignored.push(`annotation sidecar.istio.io/logLevel="${annotation}" is not a level`)
  }
  const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((container) => container.name === 'istio-proxy')
  const args = proxy?.args ?? []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    let value: string | undefined
    if (arg.startsWith('--proxyLogLevel=')) value = arg.slice('--proxyLogLevel='.length)
    else if (arg === '--proxyLogLevel') value = args[i + 1]
    if (value === undefined) continue
    const level = normaliseLevel(value)
    if (level) return {level, source: 'proxy-args', ...(ignored.length > 0 ? {ignored: ignored.join('; ')} : {})}
    ignored.push(`--proxyLogLevel=${value} is not a level`)
  }
  return {level: 'warning', source: 'default', ...(ignored.length > 0 ? {ignored: ignored.join('; ')} : {})}
}

export interface LevelChange {
  logger: string
  before: string | null
  after: string | null
}

/** Loggers whose level differs between two `active loggers:` lists, in the order of `after`. */
export function diffLevels(before: ActiveLoggers, after: ActiveLoggers): LevelChange[] {
  const changes: LevelChange[] = []
  for (const [logger, level] of after) {
    const previous = before.get(logger) ?? null
    if (previous !== level) changes.push({logger, before: previous, after: level})
  }
  for (const [logger, level] of before) {
    if (!after.has(logger)) changes.push({logger, before: level, after: null})
  }
  return changes
}

/**
 * What `--reset` sends to one pod: the start-up level (resetLevelFor) for every logger, then the
 * start-up component levels (`sidecar.istio.io/componentLogLevel`, else the istio-proxy
 * container's `--proxyComponentLogLevel`, e.g. `misc:error`), so the proxy ends as it started.
 * Component names the proxy does not know are dropped (reported in `ignored`).
 */
export function resetSpecFor(pod: PodLike, known?: Iterable<string>): {spec: LevelSpec; reset: ResetLevel; components: string; ignored?: string} {
  const reset = resetLevelFor(pod)
  const ignored: string[] = []
  const annotation = pod.metadata?.annotations?.['sidecar.istio.io/componentLogLevel']
  let components = annotation
  if (components === undefined) {
    const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((container) => container.name === 'istio-proxy')
    const args = proxy?.args ?? []
    for (let i = 0; i < args.length && components === undefined; i++) {
      if (args[i].startsWith('--proxyComponentLogLevel=')) components = args[i].slice('--proxyComponentLogLevel='.length)
      else if (args[i] === '--proxyComponentLogLevel') components = args[i + 1]
    }
  }
  const names = known === undefined ? undefined : new Set(known)
  const loggers: LevelSpec['loggers'] = []
  for (const item of (components ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    const colon = item.lastIndexOf(':')
    const name = colon > 0 ? item.slice(0, colon).trim() : ''
    const level = colon > 0 ? normaliseLevel(item.slice(colon + 1)) : undefined
    if (!name || !level) {
      ignored.push(`component level "${item}" is not name:level`)
      continue
    }
    if (names && !names.has(name)) {
      ignored.push(`component logger "${name}" is unknown to this proxy`)
      continue
    }
    if (!loggers.some((logger) => logger.name === name)) loggers.push({name, level})
  }
  if (reset.ignored) ignored.unshift(reset.ignored)
  return {
    spec: {level: reset.level, loggers},
    reset,
    components: loggers.map((logger) => `${logger.name}:${logger.level}`).join(','),
    ...(ignored.length > 0 ? {ignored: ignored.join('; ')} : {}),
  }
}

/**
 * The fewest POSTs that bring `current` back to `before`: one per differing logger, or a
 * `level=<most common earlier level>` first and then one per logger that had another level,
 * whichever is shorter. Loggers the proxy no longer lists are left alone.
 */
export function planRestore(before: ActiveLoggers, current: ActiveLoggers): PlannedRequest[] {
  const known = [...before].filter(([name]) => current.has(name))
  const differing = known.filter(([name, level]) => current.get(name) !== level)
  if (differing.length === 0) return []
  const counts = new Map<string, number>()
  for (const [, level] of known) counts.set(level, (counts.get(level) ?? 0) + 1)
  const base = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0]
  const exceptions = known.filter(([, level]) => level !== base)
  const single = (name: string, level: string): PlannedRequest => ({query: `logging?${encodeURIComponent(name)}=${level}`})
  if (1 + exceptions.length < differing.length && normaliseLevel(base) === base) {
    return [{query: `logging?level=${base}`}, ...exceptions.map(([name, level]) => single(name, level))]
  }
  return differing.map(([name, level]) => single(name, level))
}

/** Loggers grouped by level, most common first: `warning: 54 loggers; error: misc`. */
export function summarizeLevels(loggers: ActiveLoggers): string {
  if (loggers.size === 0) return '-'
  const groups = new Map<string, string[]>()
  for (const [name, level] of loggers) {
    const names = groups.get(level) ?? []
    names.push(name)
    groups.set(level, names)
  }
  const ordered = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
  return ordered
    .map(([level, names], index) => {
      if (ordered.length === 1) return `all ${level} (${names.length} logger${names.length === 1 ? '' : 's'})`
      const listed = index === 0 ? names.length <= 4 : names.length <= 6
      return `${level}: ${listed ? names.join(',') : `${names.length} loggers`}`
    })
    .join('; ')
}

/**
 * Changes in a few words: `rbac: warning->debug`, `http,router: warning->debug`, or
 * `all -> debug (55 loggers)` when a global level moved (nearly) every logger.
 */
export function summarizeChanges(changes: readonly LevelChange[], after: ActiveLoggers): string {
  if (changes.length === 0) return '-'
  const byAfter = new Map<string, LevelChange[]>()
  for (const change of changes) {
    const key = change.after ?? '(gone)'
    byAfter.set(key, [...(byAfter.get(key) ?? []), change])
  }
  const parts: string[] = []
  for (const [level, group] of byAfter) {
    if (group.length > 4) {
      const others = [...after].filter(([, value]) => value !== level).map(([name]) => name)
      const changed = new Set(changes.map((change) => change.logger))
      const everyOtherChanged = others.every((name) => changed.has(name))
      parts.push(everyOtherChanged ? `all -> ${level} (${group.length} loggers)` : `${group.length} loggers -> ${level}`)
      continue
    }
    const byBefore = new Map<string, string[]>()
    for (const change of group) {
      const key = change.before ?? '(new)'
      byBefore.set(key, [...(byBefore.get(key) ?? []), change.logger])
    }
    for (const [before, names] of byBefore) parts.push(`${names.join(',')}: ${before}->${level}`)
  }
  return parts.join(', ')
}

/** The levels `spec` asks for, applied to `current` (bare level first, then named loggers). */
export function levelsAfter(spec: LevelSpec, current: ActiveLoggers): ActiveLoggers {
  const after: ActiveLoggers = new Map(current)
  if (spec.level !== undefined) for (const name of after.keys()) after.set(name, spec.level)
  for (const logger of spec.loggers) if (after.has(logger.name)) after.set(logger.name, logger.level)
  return after
}

/** A logger this run changed that someone else has changed since: left as it is. */
export interface LeftAlone {
  logger: string
  /** What this run set. */
  set: string
  /** What the proxy holds now. */
  now: string
}

/**
 * The restore of one run (`log --duration`) when other runs may overlap it: only the loggers this
 * run changed (`changes`, before -> after), and only those still at the level this run set; the
 * others are reported as left alone. When nobody else touched the proxy (every other logger is
 * still at its `before` level), this is planRestore's shortest plan.
 */
export function planOwnRestore(before: ActiveLoggers, changes: readonly LevelChange[], current: ActiveLoggers): {plan: PlannedRequest[]; leftAlone: LeftAlone[]} {
  const mine = changes.filter((change) => change.before !== null && change.after !== null && current.has(change.logger))
  const leftAlone = mine
    .filter((change) => current.get(change.logger) !== change.after)
    .map((change) => ({logger: change.logger, set: change.after!, now: current.get(change.logger)!}))
  const changedHere = new Set(mine.map((change) => change.logger))
  const foreign = [...current].some(([name, level]) => !changedHere.has(name) && before.has(name) && before.get(name) !== level)
  if (leftAlone.length === 0 && !foreign) return {plan: planRestore(before, current), leftAlone}
  const plan = mine
    .filter((change) => current.get(change.logger) === change.after)
    .map((change) => ({query: `logging?${encodeURIComponent(change.logger)}=${change.before}`}))
  return {plan, leftAlone}
}
