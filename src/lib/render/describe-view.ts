// The human view of `describe pod` / `describe service`: istioctl `x describe`'s layout and
// wording (Pod, Service, DestinationRule, VirtualService blocks between dashed lines, warnings
// under the object they are about), plus the effective mTLS and gateway exposure. Every line goes
// through escapeTerminal: names and hosts come from the cluster.
import type {
  DescribePodAnalysis,
  DescribeServiceAnalysis,
  DescribeWarning,
  DescribedService,
  DescribedVirtualService,
  EffectiveMtls,
  GatewayExposure,
  MtlsSource,
} from '../istio/describe.js'
import type {DescribedAmbient} from '../istio/describe-ambient.js'
import type {WaypointBinding} from '../istio/waypoint.js'
import {escapeTerminal} from './escape.js'

const SEPARATOR = '--------------------'
const L1 = '   '
const L2 = '      '

/** Warnings by subject, each printed once: under its object's block, or at the end. */
class WarningSink {
  private readonly pending: DescribeWarning[]
  constructor(warnings: readonly DescribeWarning[]) {
    this.pending = [...warnings]
  }
  take(subject: string): DescribeWarning[] {
    const taken = this.pending.filter((w) => w.subject === subject)
    for (const w of taken) this.pending.splice(this.pending.indexOf(w), 1)
    return taken
  }
  rest(): DescribeWarning[] {
    return this.pending.splice(0)
  }
}

/** istioctl's kname: the bare name in the namespace being described, `name.namespace` elsewhere. */
const named = (meta: {name: string; namespace: string}, namespace: string) => (meta.namespace === namespace ? meta.name : `${meta.name}.${meta.namespace}`)

function sourceText(source: MtlsSource): string {
  switch (source.level) {
    case 'default':
      return 'no PeerAuthentication: the default'
    case 'mesh':
      return `mesh-wide PeerAuthentication ${source.policy}`
    case 'namespace':
      return `namespace PeerAuthentication ${source.policy}`
    case 'workload':
      return `workload PeerAuthentication ${source.policy}`
    default:
      return `port-level mTLS of PeerAuthentication ${source.policy}`
  }
}

function mtlsLines(mtls: EffectiveMtls): string[] {
  const lines = ['Effective PeerAuthentication:', `${L1}Workload mTLS mode: ${mtls.mode} (${sourceText(mtls.source)})`]
  const portLevel = mtls.ports.filter((p) => p.source.level === 'port')
  if (portLevel.length > 0) {
    lines.push(`${L1}Port Level mTLS mode:`)
    for (const p of portLevel) lines.push(`${L2}${p.port}: ${p.mode}`)
  }
  if (mtls.applied.length > 0) lines.push('Applied PeerAuthentication:', `${L1}${mtls.applied.join(', ')}`)
  return lines
}

function warningLines(warnings: readonly DescribeWarning[], indent: string): string[] {
  return warnings.map((w) => `${indent}Warning: ${w.message}`)
}

function virtualServiceLines(vs: DescribedVirtualService, knownSubsets: ReadonlySet<string>, namespace: string, sink: WarningSink): string[] {
  const lines = [`VirtualService: ${named(vs, namespace)}`]
  const warnings = sink.take(`VirtualService ${vs.name}.${vs.namespace}`)
  const toService = vs.routes.filter((r) => r.destinations.some((d) => d.toService))
  if (toService.length > 0 && !vs.reachesPod) {
    const http = vs.routes.filter((r) => r.kind === 'http').length
    const tcp = vs.routes.filter((r) => r.kind === 'tcp').length
    if (http > 0) lines.push(`${L1}WARNING: No destinations match pod subsets (checked ${http} HTTP routes)`)
    if (tcp > 0) lines.push(`${L1}WARNING: No destinations match pod subsets (checked ${tcp} TCP routes)`)
    for (const route of toService) {
      for (const d of route.destinations.filter((x) => x.toService && x.subset !== undefined && x.subsetMatchesPod === false && knownSubsets.has(x.subset))) {
        lines.push(`${L2}Route to non-matching subset ${d.subset} for (${route.match.length > 0 ? route.match.join(', ') : 'everything'})`)
      }
    }
    lines.push(...warningLines(warnings, L2))
    return lines
  }
  for (const route of vs.routes.filter((r) => r.reachesPod)) {
    for (const d of route.destinations.filter((x) => x.weight > 0)) {
      lines.push(`${L1}Route to host "${d.host}"${d.subset ? ` subset "${d.subset}"` : ''} with weight ${d.weight}%${d.toService && d.subset && !d.subsetMatchesPod ? ' (non-matching subset)' : ''}`)
    }
    const facts = [...(route.fault ? ['Fault injection'] : []), ...(route.timeout ? [`Timeout ${route.timeout}`] : []), ...route.match]
    if (facts.length > 0) lines.push(`${L1}${facts.join(', ')}`)
  }
  const others = vs.routes.length - vs.routes.filter((r) => r.reachesPod).length
  if (others > 0) lines.push(`${L1}${others} additional destination(s) that will not reach this pod`)
  lines.push(...warningLines(warnings, L1))
  return lines
}

/** Which waypoint, and the istio.io/use-waypoint label that decided (on the object or its namespace). */
function waypointText(binding: WaypointBinding, namespace: string): string {
  const where = binding.labelOn === 'namespace' ? `namespace ${namespace}'s istio.io/use-waypoint` : `the ${binding.labelOn === 'service' ? 'Service' : 'pod'}'s istio.io/use-waypoint`
  if (binding.waypoint) return `${binding.waypoint} (from ${where})`
  if (binding.wanted === 'none') return `none (${where} is "none")`
  if (binding.note) return `none (named by ${where}; ${binding.note})`
  if (binding.problem) return `none (${where} names ${binding.wanted}, which does not take effect: see the warning)`
  return 'none'
}

function ambientLines(ambient: DescribedAmbient, namespace: string): string[] {
  // Sidecar pods keep istioctl's layout exactly.
  if (ambient.dataplane === 'sidecar') return []
  if (ambient.dataplane === 'none') return [`${L1}Ambient: not enrolled (${ambient.reason})`]
  const lines = [`${L1}Ambient: enrolled (${ambient.reason})`]
  const z = ambient.ztunnel
  if (z) {
    const sync = z.sync ? (z.sync.connected ? `; istiod ${z.sync.istiod}: ${Object.entries(z.sync.types).map(([type, state]) => `${type} ${state}`).join(', ')}` : '; not connected to istiod') : ''
    lines.push(`${L1}ztunnel: ${z.pod} on node ${z.node} (${z.ready ? 'Ready' : `not Ready, phase ${z.phase}`}${sync})`)
  } else {
    lines.push(`${L1}ztunnel: none${ambient.node ? ` on node ${ambient.node}` : ''}`)
  }
  lines.push(`${L1}Workload waypoint: ${ambient.workloadWaypoint ? waypointText(ambient.workloadWaypoint, namespace) : 'none'}`)
  return lines
}

/** `ambient`: the pods behind the service are captured by ztunnel, so "no waypoint" is worth saying. */
function serviceLines(service: DescribedService, namespace: string, sink: WarningSink, ambient = false): string[] {
  const lines = [`Service: ${named(service, namespace)}`]
  for (const port of service.ports) {
    lines.push(`${L1}Port: ${port.name ? `${port.name} ` : ''}${port.port}/${port.protocol} targets pod port ${port.targetPort ?? '<unresolved>'}`)
  }
  if (service.waypoint || ambient) lines.push(`${L1}Waypoint: ${service.waypoint ? waypointText(service.waypoint, service.namespace) : 'none'}`)
  lines.push(...warningLines(sink.take(`Service ${service.name}.${service.namespace}`), L1))
  const dr = service.destinationRule
  if (dr) {
    lines.push(`DestinationRule: ${named(dr, namespace)} for "${dr.host}"`)
    const matching = dr.subsets.filter((s) => s.matchesPod).map((s) => s.name)
    const nonMatching = dr.subsets.filter((s) => !s.matchesPod).map((s) => s.name)
    if (dr.subsets.length > 0) {
      if (matching.length === 0) lines.push(`${L1}WARNING POD DOES NOT MATCH ANY SUBSETS.  (Non matching subsets ${nonMatching.join(',')})`)
      lines.push(`${L1}Matching subsets: ${matching.join(',')}`)
      if (nonMatching.length > 0) lines.push(`${L2}(Non-matching subsets ${nonMatching.join(',')})`)
    }
    if (!dr.tlsMode && dr.policies.length === 0 && dr.portTlsModes.length === 0) lines.push(`${L1}No Traffic Policy`)
    if (dr.tlsMode) lines.push(`${L1}Traffic Policy TLS Mode: ${dr.tlsMode}`)
    if (dr.policies.length > 0) lines.push(`${L1}Policies: ${dr.policies.join('/')}`)
    for (const p of dr.portTlsModes) lines.push(`${L1}Port ${p.port} TLS Mode: ${p.mode}`)
    lines.push(...warningLines(sink.take(`DestinationRule ${dr.name}.${dr.namespace}`), L1))
  }
  const knownSubsets = new Set(dr?.subsets.map((s) => s.name))
  for (const vs of service.virtualServices) lines.push(...virtualServiceLines(vs, knownSubsets, namespace, sink))
  return lines
}

const SCHEMES: Readonly<Record<string, [string, number]>> = {HTTP: ['http', 80], HTTP2: ['http', 80], GRPC: ['http', 80], HTTPS: ['https', 443], TLS: ['tls', 443], TCP: ['tcp', 0]}

function exposureLines(exposure: readonly GatewayExposure[], sink: WarningSink, target: string): string[] {
  const lines: string[] = []
  for (const e of exposure) {
    const [scheme, defaultPort] = SCHEMES[e.protocol] ?? [e.protocol.toLowerCase(), 0]
    const urls = e.hosts.map((host) => `${scheme}://${host}${e.port === defaultPort ? '' : `:${e.port}`}`).join(', ')
    lines.push(`Exposed on Ingress Gateway ${urls}`)
    lines.push(`${L1}Gateway ${e.gateway} port ${e.port}/${e.protocol}, VirtualService ${e.virtualService}${e.reachesPod ? '' : ` (its routes do not reach ${target})`}`)
    lines.push(`${L1}Gateway pods: ${e.gatewayPods.join(', ')}${e.addresses.length > 0 ? `; address ${e.addresses.join(', ')}` : ''}`)
    lines.push(...warningLines(sink.take(`Gateway ${e.gateway}`), L1))
  }
  return lines
}

function finish(blocks: string[][], sink: WarningSink): string {
  const rest = sink.rest()
  if (rest.length > 0) blocks.push(['Warnings:', ...rest.map((w) => `${L1}${w.message}`)])
  return blocks.filter((b) => b.length > 0).map((b) => b.map(escapeTerminal).join('\n')).join(`\n${SEPARATOR}\n`) + '\n'
}

export function renderDescribePod(result: DescribePodAnalysis): string {
  const sink = new WarningSink(result.warnings)
  const {pod} = result
  const ns = pod.namespace
  const head = [`Pod: ${pod.name}.${pod.namespace}`]
  if (pod.revision) head.push(`${L1}Pod Revision: ${pod.revision}`)
  const ports = pod.ports.map((p) => `${p.port}${p.protocol === 'TCP' ? '' : `/${p.protocol}`} (${p.container})`)
  head.push(ports.length > 0 ? `${L1}Pod Ports: ${ports.join(', ')}` : `${L1}Pod does not expose ports`)
  head.push(...ambientLines(result.ambient, ns))
  const podWarnings = sink.take(`Pod ${pod.name}.${pod.namespace}`)
  // istioctl prints its own two at the left margin, in its capitals.
  head.push(...podWarnings.map((w) => (w.id === 'pod-not-meshed' || w.id === 'container-not-ready' ? `WARNING: ${w.message}` : `Warning: ${w.message}`)))
  const blocks = [head, ...result.services.map((s) => serviceLines(s, ns, sink, result.ambient.dataplane === 'ambient'))]
  if (result.mtls) blocks.push(mtlsLines(result.mtls))
  else if (pod.gateway) blocks.push(['Gateway pod: PeerAuthentication does not apply (its Gateway servers\' TLS settings do)'])
  const policyLines: string[] = []
  if (result.authorizationPolicies.length > 0) {
    policyLines.push('AuthorizationPolicies (evaluated CUSTOM, DENY, ALLOW; with an ALLOW policy, a request matching none is denied):')
    for (const p of result.authorizationPolicies) policyLines.push(`${L1}${p.action} ${named(p, ns)} (${p.scope}, ${p.rules} rule${p.rules === 1 ? '' : 's'})`)
  }
  if (result.sidecar) policyLines.push(`Sidecar: ${named(result.sidecar, ns)} (egress: ${result.sidecar.egressHosts.join(', ') || 'every service'})`)
  blocks.push(policyLines)
  blocks.push(exposureLines(result.exposure, sink, 'this pod'))
  return finish(blocks, sink)
}

export function renderDescribeService(result: DescribeServiceAnalysis): string {
  const sink = new WarningSink(result.warnings)
  const ns = result.service.namespace
  const blocks = [serviceLines(result.service, ns, sink, result.pods.some((p) => p.dataplane === 'ambient'))]
  if (result.pods.length > 0) {
    blocks[0].push(`Pods: ${result.pods.map((p) => `${p.name}${p.dataplane === 'ambient' ? ' (ambient)' : p.meshed ? '' : ' (no sidecar)'}${p.ready ? '' : ' (not ready)'}`).join(', ')}`)
  }
  if (result.mtls) blocks.push(mtlsLines(result.mtls))
  blocks.push(exposureLines(result.exposure, sink, 'its pods'))
  return finish(blocks, sink)
}
