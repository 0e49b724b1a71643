import {requireSection, type ConfigDump} from './configdump.js'
import {field, numberField, path, type Json} from './fields.js'

export interface BootstrapSummary {
  /** `node.metadata.ISTIO_VERSION`; "" when absent (the line is then left out). */
  istioVersion: string
  /** `ISTIO_PROXY_SHA`, keeping only the text after the first ':' when there is one. */
  istioProxyVersion: string
  /** Always set: `major.minor.patch[-build.label][/revision.status][/build.type][/ssl.version]`. */
  envoyVersion: string
}

/** The BootstrapConfigDump section as the input has it (the `-o json/yaml` document). */
export function bootstrapSection(dump: ConfigDump): Json {
  return requireSection(dump, 'Bootstrap')
}

function metadataString(metadata: Json, key: string): string | undefined {
  if (metadata === null || typeof metadata !== 'object') return undefined
  const value = metadata[key]
  if (value === undefined || value === null) return undefined
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value)
}

export function summarizeBootstrap(sectionObject: Json): BootstrapSummary {
  const node = path(sectionObject, 'bootstrap', 'node')
  // Struct keys (ISTIO_VERSION, build.type) are data, not proto field names: read them as they are.
  const metadata = field(node, 'metadata')
  const proxySha = metadataString(metadata, 'ISTIO_PROXY_SHA') ?? ''
  const colon = proxySha.indexOf(':')
  const build = field(node, 'user_agent_build_version')
  const version = field(build, 'version')
  const buildMetadata = field(build, 'metadata')
  let envoyVersion = `${numberField(version, 'major_number')}.${numberField(version, 'minor_number')}.${numberField(version, 'patch')}`
  const label = metadataString(buildMetadata, 'build.label')
  if (label !== undefined) envoyVersion += `-${label}`
  for (const key of ['revision.status', 'build.type', 'ssl.version']) {
    const value = metadataString(buildMetadata, key)
    if (value !== undefined) envoyVersion += `/${value}`
  }
  return {
    istioVersion: metadataString(metadata, 'ISTIO_VERSION') ?? '',
    istioProxyVersion: colon >= 0 ? proxySha.slice(colon + 1) : proxySha,
    envoyVersion,
  }
}
