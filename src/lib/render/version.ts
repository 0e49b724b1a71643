import type {ControlPlaneVersion, DataPlaneVersion} from '../istio/version.js'

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
  const lines = [`client version: ${options.short ? report.client.version : `${report.client.version} (${report.client.platform}, node ${report.client.node})`}`]
  const control = report.controlPlane
  if (control && options.short) {
    const byVersion = new Map<string, Set<string>>()
    for (const istiod of control) byVersion.set(istiod.version, (byVersion.get(istiod.version) ?? new Set()).add(istiod.revision))
    const versions = [...byVersion.keys()].sort()
    if (versions.length === 0) lines.push('control plane version: none')
    else if (versions.length === 1) lines.push(`control plane version: ${versions[0]}`)
    else lines.push(`control plane version: ${versions.map((version) => `${version} (revision ${[...byVersion.get(version)!].sort().join(', ')})`).join(', ')}`)
  } else if (control) {
    if (control.length === 0) lines.push('control plane version: none')
    for (const istiod of control) {
      const from = istiod.source === 'image' ? ', from its image' : ''
      lines.push(`control plane version: ${istiod.istiod} (revision ${istiod.revision}${from}): ${istiod.build ?? istiod.version}`)
    }
  }
  if (report.dataPlane) lines.push(`data plane version: ${proxies(report.dataPlane)}`)
  return lines.join('\n') + '\n'
}
