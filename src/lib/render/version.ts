import type {ControlPlaneVersion, DataPlaneVersion} from '../istio/version.js'
import {tabRow, tabwrite} from './tabwriter.js'

export interface VersionReport {
  client: {version: string; platform: string; node: string}
  controlPlane?: ControlPlaneVersion[]
  dataPlane?: DataPlaneVersion[]
}

const proxies = (versions: readonly DataPlaneVersion[]): string =>
  // istioctl's wording, "(1 proxies)" included: scripts grep these lines.
  versions.length === 0 ? 'none' : versions.map((entry) => `${entry.version} (${entry.proxies} proxies)`).join(', ')

/**
 * `istioctl version`'s lines. Short: one control plane line, the version alone when every istiod
 * agrees, else each version with its revisions. Long: every istiod with its revision and build.
 */
export function renderVersion(report: VersionReport, options: {short: boolean}): string {
  const lines = [clientLine(report, options)]
  const control = report.controlPlane
  if (control) lines.push(...controlPlaneLines(control, options).map((line) => `control plane version: ${line}`))
  if (report.dataPlane) lines.push(`data plane version: ${proxies(report.dataPlane)}`)
  return lines.join('\n') + '\n'
}

function clientLine(report: Pick<VersionReport, 'client'>, options: {short: boolean}): string {
  return `client version: ${options.short ? report.client.version : `${report.client.version} (${report.client.platform}, node ${report.client.node})`}`
}

/** The control plane's versions: one entry when short, else one per istiod. */
function controlPlaneLines(control: readonly ControlPlaneVersion[], options: {short: boolean}): string[] {
  const lines: string[] = []
  if (options.short) {
    const byVersion = new Map<string, Set<string>>()
    for (const istiod of control) byVersion.set(istiod.version, (byVersion.get(istiod.version) ?? new Set()).add(istiod.revision))
    const versions = [...byVersion.keys()].sort()
    if (versions.length === 0) lines.push('none')
    else if (versions.length === 1) lines.push(versions[0])
    else lines.push(versions.map((version) => `${version} (revision ${[...byVersion.get(version)!].sort().join(', ')})`).join(', '))
  } else {
    if (control.length === 0) lines.push('none')
    for (const istiod of control) {
      const from = istiod.source === 'image' ? ', from its image' : ''
      lines.push(`${istiod.istiod} (revision ${istiod.revision}${from}): ${istiod.build ?? istiod.version}`)
    }
  }
  return lines
}

export interface ContextVersionReport {
  context: string
  controlPlane?: ControlPlaneVersion[]
  dataPlane?: DataPlaneVersion[]
}

/**
 * Several clusters: the client line, then one row per context (`CONTEXT CONTROL PLANE DATA PLANE`,
 * tabwriter-aligned); "unknown" where a cluster could not say (its note is on stderr).
 */
export function renderContextVersions(report: Pick<VersionReport, 'client'>, clusters: readonly ContextVersionReport[], options: {short: boolean}): string {
  const rows = clusters.map((cluster) => tabRow([
    cluster.context,
    cluster.controlPlane ? controlPlaneLines(cluster.controlPlane, options).join(', ') : 'unknown',
    cluster.dataPlane ? proxies(cluster.dataPlane) : 'unknown',
  ]))
  return clientLine(report, options) + '\n' + tabwrite([tabRow(['CONTEXT', 'CONTROL PLANE', 'DATA PLANE']), ...rows], {padding: 3})
}
