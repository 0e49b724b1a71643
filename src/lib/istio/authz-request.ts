import {usageError} from '../errors.js'
import type {AuthzPeer, AuthzRequest} from './authz-eval.js'

/** Istio's default trust domain (MeshConfig.trustDomain); --from-principal covers the others. */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local'
const SPIFFE = 'spiffe://'
// Kubernetes names (RFC 1123 labels/subdomains): what a namespace or service account can be.
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/

export interface CheckFlags {
  check?: string[]
  'from-sa'?: string
  'from-principal'?: string
  'from-namespace'?: string
  'request-principal'?: string
  header?: string[]
  port?: number
}

function peerOf(flags: CheckFlags): AuthzPeer | undefined {
  if (flags['from-sa'] !== undefined) {
    const parts = flags['from-sa'].split('/')
    if (parts.length !== 2 || !parts.every((part) => K8S_NAME.test(part))) {
      throw usageError(`invalid value for --from-sa: expected NAMESPACE/SERVICEACCOUNT but received: ${flags['from-sa']}`)
    }
    return {principal: `${SPIFFE}${DEFAULT_TRUST_DOMAIN}/ns/${parts[0]}/sa/${parts[1]}`}
  }
  if (flags['from-principal'] !== undefined) {
    const principal = flags['from-principal']
    if (principal === '') throw usageError('invalid value for --from-principal: empty')
    return {principal: principal.startsWith(SPIFFE) ? principal : `${SPIFFE}${principal}`}
  }
  if (flags['from-namespace'] !== undefined) {
    if (!K8S_NAME.test(flags['from-namespace'])) throw usageError(`invalid value for --from-namespace: not a namespace name: ${flags['from-namespace']}`)
    return {namespace: flags['from-namespace'], trustDomain: DEFAULT_TRUST_DOMAIN}
  }
  return undefined
}

/** The request --check describes, or undefined without --check; the --from-* and request flags need --check. */
export function parseCheckRequest(flags: CheckFlags): AuthzRequest | undefined {
  if (flags.check === undefined) {
    const stray = (['from-sa', 'from-principal', 'from-namespace', 'request-principal', 'header', 'port'] as const).find((name) => flags[name] !== undefined)
    if (stray) throw usageError(`--${stray} only applies with --check METHOD PATH`)
    return undefined
  }
  // `--check "GET /items"` and `--check GET /items` both work.
  const words = flags.check.flatMap((value) => value.trim().split(/\s+/)).filter(Boolean)
  if (words.length !== 2) {
    throw usageError(`--check takes METHOD PATH (e.g. --check GET /items) but received: ${flags.check.join(' ')}`, 'put TARGET before --check: the flag takes the next two words')
  }
  const [method, path] = words
  if (!/^[A-Za-z]+$/.test(method)) throw usageError(`invalid method for --check: ${method}`)
  if (!path.startsWith('/')) throw usageError(`invalid path for --check: must start with "/": ${path}`)
  const headers: Record<string, string> = {}
  let host: string | undefined
  for (const header of flags.header ?? []) {
    const eq = header.indexOf('=')
    if (eq <= 0) throw usageError(`invalid value for --header: expected NAME=VALUE but received: ${header}`)
    const name = header.slice(0, eq).trim().toLowerCase()
    const value = header.slice(eq + 1)
    if (name === 'host' || name === ':authority') host = value
    else headers[name] = value
  }
  const principal = flags['request-principal']
  const jwt = principal === undefined ? undefined : principal === 'none' ? ('none' as const) : {principal}
  const peer = peerOf(flags)
  return {
    method: method.toUpperCase(),
    path,
    ...(host === undefined ? {} : {host}),
    headers,
    ...(flags.port === undefined ? {} : {port: flags.port}),
    ...(peer ? {peer} : {}),
    ...(jwt ? {jwt} : {}),
  }
}
