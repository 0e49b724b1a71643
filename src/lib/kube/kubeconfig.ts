import {existsSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, join} from 'node:path'

import type {Cluster, Context, User} from '@kubernetes/client-node'
// Deep import (the package has no exports map): the index also pulls in the generated API, which
// would put its ~2,700 modules on every live command's load path.
import {KubeConfig} from '@kubernetes/client-node/dist/config.js'

import {usageError} from '../errors.js'
import {PROXY_SCHEMES, proxyFromEnvironment} from './proxy-env.js'

export interface KubeconfigRequest {
  /** --kubeconfig */
  kubeconfig?: string
  /** --context */
  context?: string
  /** -n */
  namespace?: string
  /** --as / --as-group */
  impersonate?: Impersonation
  env?: NodeJS.ProcessEnv
  home?: string
}

export interface LoadedKubeconfig {
  kubeConfig: KubeConfig
  contextName: string
  /** -n, else the context's namespace, else "default". */
  namespace: string
  server: string
  /** The files that were read (empty for in-cluster config), for messages. */
  files: string[]
}

export interface Impersonation {
  user?: string
  groups: readonly string[]
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/** Which kubeconfig files apply: --kubeconfig, else every existing file of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigFiles(request: KubeconfigRequest): {files: string[]; described: string} {
  const env = request.env ?? process.env
  if (request.kubeconfig) {
    if (!isFile(request.kubeconfig)) throw usageError(`kubeconfig ${request.kubeconfig} not found (--kubeconfig)`)
    return {files: [request.kubeconfig], described: request.kubeconfig}
  }
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((file) => file !== '')
  if (list.length > 0) {
    // kubectl skips missing files in the list; only a list with none is an error.
    const files = list.filter((file) => isFile(file))
    if (files.length === 0) {
      throw usageError(`no kubeconfig: none of the files in KUBECONFIG exist (${list.join(delimiter)})`)
    }
    return {files, described: `KUBECONFIG=${list.join(delimiter)}`}
  }
  const home = request.home ?? env.HOME ?? homedir()
  const fallback = join(home, '.kube', 'config')
  return {files: isFile(fallback) ? [fallback] : [], described: fallback}
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/**
 * Loads the kubeconfig as kubectl does (merged $KUBECONFIG list, first definition of a name wins,
 * first non-empty current-context wins) and selects the context. It never falls back to
 * client-node's http://localhost:8080: no kubeconfig or no context is a usage error (exit 2).
 */
export function loadKubeconfig(request: KubeconfigRequest): LoadedKubeconfig {
  const env = request.env ?? process.env
  const {files, described} = kubeconfigFiles(request)
  const kubeConfig = new KubeConfig()
  if (files.length === 0) {
    if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(SERVICE_ACCOUNT_TOKEN)) {
      kubeConfig.loadFromCluster()
      return finish(kubeConfig, request, [], 'in-cluster service account')
    }
    throw usageError(`no kubeconfig found (looked for ${described})`, 'set KUBECONFIG, pass --kubeconfig, or read a saved dump with --file')
  }
  const clusters: Cluster[] = []
  const users: User[] = []
  const contexts: Context[] = []
  let currentContext: string | undefined
  for (const file of files) {
    const part = new KubeConfig()
    if (statSync(file).size === 0) continue
    try {
      part.loadFromFile(file)
    } catch (error) {
      throw usageError(`cannot load kubeconfig ${file}: ${firstLine((error as Error).message)}`)
    }
    addMissing(clusters, part.getClusters())
    addMissing(users, part.getUsers())
    addMissing(contexts, part.getContexts())
    if (!currentContext && part.getCurrentContext()) currentContext = part.getCurrentContext()
  }
  kubeConfig.loadFromOptions({clusters, users, contexts, currentContext: currentContext ?? ''})
  return finish(kubeConfig, request, files, described)
}

function addMissing<T extends {readonly name: string}>(into: T[], from: readonly T[]): void {
  for (const item of from ?? []) if (!into.some((existing) => existing.name === item.name)) into.push(item)
}

function finish(kubeConfig: KubeConfig, request: KubeconfigRequest, files: string[], described: string): LoadedKubeconfig {
  const contextName = request.context ?? kubeConfig.getCurrentContext()
  if (!contextName) {
    throw usageError(`no current context in the kubeconfig (${described})`, 'pass --context, or run kubectl config use-context')
  }
  const context = kubeConfig.getContextObject(contextName)
  if (!context) {
    const names = kubeConfig.getContexts().map((c) => c.name)
    throw usageError(
      `context "${contextName}" not found in the kubeconfig (${described})`,
      names.length > 0 ? `known contexts: ${names.join(', ')}` : undefined,
    )
  }
  const cluster = kubeConfig.getCluster(context.cluster)
  if (!cluster) throw usageError(`context "${contextName}" refers to cluster "${context.cluster}", which is not in the kubeconfig (${described})`)
  if (!cluster.server) throw usageError(`cluster "${cluster.name}" has no server in the kubeconfig (${described})`)

  // client-node refuses http:// unless skip-TLS-verify is set (kubectl does not; there is no TLS
  // to verify) and ignores TLS settings when the context has no user: normalise both.
  let patchedCluster = cluster.server.startsWith('http://') && !cluster.skipTLSVerify ? {...cluster, skipTLSVerify: true} : cluster
  // The proxy goes into the cluster entry, so the REST client, port-forward WebSockets and log
  // streams all use the same one.
  const proxyUrl = effectiveProxy(cluster, request.env ?? process.env, described)
  if (proxyUrl !== cluster.proxyUrl) patchedCluster = {...patchedCluster, proxyUrl}
  const userName = context.user || 'meshdbg-anonymous'
  const user = kubeConfig.getUser(userName)
  if (patchedCluster !== cluster || !user || context.user !== userName) {
    kubeConfig.loadFromOptions({
      clusters: kubeConfig.getClusters().map((c) => (c.name === cluster.name ? patchedCluster : c)),
      users: user ? kubeConfig.getUsers() : [...kubeConfig.getUsers(), {name: userName}],
      contexts: kubeConfig.getContexts().map((c) => (c.name === context.name ? {...c, user: userName} : c)),
      currentContext: contextName,
    })
  }
  kubeConfig.setCurrentContext(contextName)
  if (request.impersonate) impersonate(kubeConfig, request.impersonate)
  return {
    kubeConfig,
    contextName,
    namespace: request.namespace || context.namespace || 'default',
    server: cluster.server.replace(/\/+$/, ''),
    files,
  }
}

/**
 * proxy-url, else HTTPS_PROXY/HTTP_PROXY minus NO_PROXY (kubectl's rules). socks5:// becomes
 * socks5h://: kubectl (Go) lets the proxy resolve the API server's name, and client-node's SOCKS
 * agent does that only for socks5h.
 */
function effectiveProxy(cluster: Cluster, env: NodeJS.ProcessEnv, described: string): string | undefined {
  const configured = cluster.proxyUrl || undefined
  const proxy = configured ?? proxyFromEnvironment(cluster.server, env)
  if (proxy === undefined) return undefined
  const where = configured ? `proxy-url of cluster "${cluster.name}" (${described})` : 'the HTTPS_PROXY/HTTP_PROXY environment variable'
  let url: URL
  try {
    url = new URL(proxy)
  } catch {
    throw usageError(`${where} is not a URL: ${proxy}`)
  }
  if (!(PROXY_SCHEMES as readonly string[]).includes(url.protocol)) {
    throw usageError(`${where} uses ${url.protocol}// (supported: http://, https://, socks5://)`)
  }
  return url.protocol === 'socks5:' ? proxy.replace(/^socks5:/i, 'socks5h:') : proxy
}

/**
 * kubectl's --as/--as-group: Impersonate-* headers on every API request. Every path (client-node's
 * API clients, the REST GETs, port-forward upgrades, log streams) takes its headers from one of
 * these two public methods, so wrapping them on this instance covers them all.
 */
function impersonate(kubeConfig: KubeConfig, {user, groups}: Impersonation): void {
  if (groups.length > 1) throw usageError('only one --as-group is supported')
  if (groups.length > 0 && user === undefined) throw usageError('--as-group needs --as (as in kubectl)')
  const headers: Record<string, string> = {'Impersonate-User': user!, ...(groups.length > 0 ? {'Impersonate-Group': groups[0]} : {})}
  const applyToHTTPSOptions = kubeConfig.applyToHTTPSOptions.bind(kubeConfig)
  kubeConfig.applyToHTTPSOptions = async (opts) => {
    await applyToHTTPSOptions(opts)
    opts.headers = {...opts.headers, ...headers}
  }
  const applySecurityAuthentication = kubeConfig.applySecurityAuthentication.bind(kubeConfig)
  kubeConfig.applySecurityAuthentication = async (context) => {
    await applySecurityAuthentication(context)
    for (const [name, value] of Object.entries(headers)) context.setHeaderParam(name, value)
  }
}

function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim() !== '') ?? text).trim()
}

/**
 * Every context name of the merged kubeconfig (each file of $KUBECONFIG, or --kubeconfig), sorted
 * as `kubectl config get-contexts` lists them: what --all-contexts runs over. Needs no current context.
 */
export function kubeconfigContextNames(request: KubeconfigRequest): string[] {
  const {files, described} = kubeconfigFiles(request)
  if (files.length === 0) throw usageError(`no kubeconfig found (looked for ${described})`, 'set KUBECONFIG or pass --kubeconfig')
  const names = new Set<string>()
  for (const file of files) {
    if (statSync(file).size === 0) continue
    const part = new KubeConfig()
    try {
      part.loadFromFile(file)
    } catch (error) {
      throw usageError(`cannot load kubeconfig ${file}: ${firstLine((error as Error).message)}`)
    }
    for (const context of part.getContexts()) names.add(context.name)
  }
  return [...names].sort()
}
