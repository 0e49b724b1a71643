import {isIP} from 'node:net'

/**
 * Which proxy carries connections to the API server, as kubectl (Go's net/http) decides: the
 * cluster's `proxy-url`, else HTTPS_PROXY (https servers) or HTTP_PROXY (http servers), upper or
 * lower case, unless NO_PROXY names the host or the host is loopback (Go never proxies those).
 */

export const PROXY_SCHEMES = ['http:', 'https:', 'socks5:', 'socks5h:'] as const

export function proxyFromEnvironment(server: string, env: NodeJS.ProcessEnv): string | undefined {
  let url: URL
  try {
    url = new URL(server)
  } catch {
    return undefined
  }
  const pick = (name: string) => env[name] || env[name.toLowerCase()] || undefined
  const proxy = url.protocol === 'https:' ? pick('HTTPS_PROXY') : url.protocol === 'http:' ? pick('HTTP_PROXY') : undefined
  if (!proxy) return undefined
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  if (isLoopback(host)) return undefined
  if (noProxyMatches(pick('NO_PROXY') ?? '', host, port)) return undefined
  // Go accepts a bare host:port as an http proxy.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))
}

/**
 * NO_PROXY as Go reads it: comma-separated; `*` matches everything; `host` and `.host` match the
 * host and its subdomains; an IP or CIDR matches addresses; `:port` restricts an entry to a port.
 */
export function noProxyMatches(noProxy: string, host: string, port: string): boolean {
  for (const raw of noProxy.split(',')) {
    let entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return true
    if (entry.includes('/')) {
      if (inCidr(host, entry)) return true
      continue
    }
    let entryPort: string | undefined
    const portMatch = /^(.*[^:]):(\d+)$/.exec(entry)
    if (portMatch && isIP(entry) !== 6) {
      entry = portMatch[1]
      entryPort = portMatch[2]
    }
    entry = entry.replace(/^\[|\]$/g, '')
    if (entryPort !== undefined && entryPort !== port) continue
    if (isIP(entry)) {
      if (entry === host) return true
      continue
    }
    const domain = entry.replace(/^\*?\./, '')
    if (host === domain || host.endsWith(`.${domain}`)) return true
  }
  return false
}

function inCidr(host: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/')
  const bits = Number(bitsText)
  if (isIP(host) !== 4 || isIP(base) !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) return false
  const toNumber = (ip: string) => ip.split('.').reduce((n, octet) => (n << 8) + Number(octet), 0) >>> 0
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
  return (toNumber(host) & mask) === (toNumber(base) & mask)
}
