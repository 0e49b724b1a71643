import {Args, Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import type {RunContext} from '../lib/context.js'
import {MeshdbgError, usageError} from '../lib/errors.js'
import {istioNamespaceFlag, outputFlag, revisionFlag} from '../lib/flags.js'
import {
  ISTIOD_ENDPOINTS,
  istiodEndpointPath,
  istiodStatusError,
  knowsProxy,
  proxyIdOf,
  queryIstiodsSettled,
  queryProxyIstiod,
  type IstiodEndpoint,
  type IstiodFailure,
  type IstiodResponse,
} from '../lib/istio/istiod.js'
import {messageOf} from '../lib/istio/sync-sources.js'
import {openKube, resolveTargetPod} from '../lib/kube/index.js'
import {escapeTerminalLines} from '../lib/render/escape.js'
import {redactKeyMaterial, redactionNote} from '../lib/envoy/redact.js'
import {toJson, toYaml} from '../lib/render/formats.js'

/** One replica's answer: its body as parsed JSON, or the text itself when it is not JSON (null when empty). */
export interface IstiodAnswer {
  /** The istiod pod that answered. */
  istiod: string
  body: unknown
}

export interface IstiodDebugResult {
  view: IstiodEndpoint
  /** The request path, with its query (proxyID, namespace). */
  path: string
  /** One per replica asked, in pod order (kubectl logs order). */
  answers: IstiodAnswer[]
}

const ENDPOINT_NAMES = Object.keys(ISTIOD_ENDPOINTS) as IstiodEndpoint[]
/** Views that differ per replica (each knows only its own proxies): every replica answers by default. */
const PER_REPLICA_VIEWS: ReadonlySet<IstiodEndpoint> = new Set(['syncz', 'adsz'])

export default class Istiod extends MeshdbgCommand<typeof Istiod> {
  static override summary = 'Read one of istiod\'s debug views (syncz, adsz, edsz, registryz, configz, authorizationz, push-status, config-dump, instances).'
  static override description = `Port-forwards to istiod (-i/--istio-namespace, -r/--revision) and prints the body as 2-space JSON (-o yaml for YAML; a body that is not JSON is printed as it came).
syncz and adsz differ per replica (each istiod knows only the proxies connected to it), so every replica is asked, as sync-status does, and the answers are printed as { "<istiod pod>": <body>, ... }; a replica that fails is reported after the others' answers and sets the exit code. The other views come from the first Running istiod (kubectl's logs order; --json names it in each answer), or from every replica with --all.
Reads port 8080 (loopback: no credentials); when it is refused or closed, port 15014 with a bearer token (a TokenRequest for "default" in the istio namespace, audience istio-ca, or --token / MESHDBG_ISTIOD_TOKEN).
edsz and config-dump need --proxy; adsz takes --proxy to show one connection; the answer then comes from the replica the proxy is connected to. --proxy takes a pod (pod, pod.namespace) or a workload (deploy/x, sts/x...: its first pod in kubectl's logs order). syncz takes -n (istiod 1.20+ filters by namespace).
--json prints {view, path, answers: [{istiod, body}]}, each answer labelled with its replica.
Never triggers a push (adsz?push=true is refused by the transport).

Views:
${ENDPOINT_NAMES.map((name) => `  ${name.padEnd(15)} ${ISTIOD_ENDPOINTS[name].path}`).join('\n')}`

  static override examples = [
    '<%= config.bin %> istiod syncz',
    '<%= config.bin %> istiod config-dump --proxy catalog-5c7f8f8447-f54sj.istioinaction',
    '<%= config.bin %> istiod adsz --proxy deploy/webapp -n istioinaction',
    '<%= config.bin %> istiod push-status -r canary --all -o yaml',
  ]

  static override args = {
    view: Args.string({
      name: 'view',
      description: `The debug view: ${ENDPOINT_NAMES.join(', ')}.`,
      required: true,
      options: ENDPOINT_NAMES,
    }),
  }

  static override flags = {
    ...outputFlag(['json', 'yaml'], 'json'),
    proxy: Flags.string({summary: 'The proxy for edsz, config-dump and adsz: pod, pod.namespace, deploy/x, sts/x... (with optional .namespace).'}),
    all: Flags.boolean({summary: 'Ask every istiod replica and print { "<istiod>": <body> } (the default for syncz and adsz).'}),
    'istio-namespace': istioNamespaceFlag,
    revision: revisionFlag,
    token: Flags.string({summary: 'Bearer token for port 15014 when 8080 is unreachable (default: a TokenRequest for "default" in the istio namespace, audience istio-ca).', env: 'MESHDBG_ISTIOD_TOKEN'}),
  }

  async run(): Promise<IstiodDebugResult> {
    const {args, flags} = this
    const endpoint = args.view as IstiodEndpoint
    const spec = ISTIOD_ENDPOINTS[endpoint]
    if (spec.proxy === 'required' && flags.proxy === undefined) throw usageError(`istiod ${endpoint} needs --proxy <pod>.<namespace> (or deploy/x)`)
    if (spec.proxy === 'none' && flags.proxy !== undefined) throw usageError(`istiod ${endpoint} does not take --proxy`)
    const ctx = this.runContext()
    const proxy = flags.proxy === undefined ? undefined : await proxyIdFor(ctx, flags.proxy)
    const path = istiodEndpointPath(endpoint, {proxy, namespace: flags.namespace})
    const selector = {istioNamespace: flags['istio-namespace'], revision: flags.revision, token: flags.token}
    const everyReplica = flags.all || (proxy === undefined && PER_REPLICA_VIEWS.has(endpoint))

    let responses: IstiodResponse[]
    let failures: IstiodFailure[] = []
    if (proxy !== undefined && !flags.all) {
      const knows = endpoint === 'adsz' ? (response: IstiodResponse) => knowsProxy(response) && hasClients(response.text) : knowsProxy
      responses = [await queryProxyIstiod(ctx, selector, path, proxy, knows)]
    } else {
      const settled = await queryIstiodsSettled(ctx, {...selector, path, all: everyReplica})
      responses = settled.responses.filter((response) => response.status === 200)
      failures = [...settled.failures, ...settled.responses.filter((response) => response.status !== 200).map((response) => ({istiod: response.istiod, error: istiodStatusError(response, path)}))]
      if (responses.length === 0 && failures.length > 0) throw failures[0].error
    }

    const result: IstiodDebugResult = redacted({view: endpoint, path, answers: responses.map((response) => ({istiod: response.istiod, body: bodyOf(response.text)}))}, this.notice)
    if (everyReplica) {
      const labelled = Object.fromEntries(result.answers.map((answer) => [answer.istiod, answer.body]))
      this.write(this.outputFormat === 'yaml' ? toYaml(labelled) : toJson(labelled))
    } else {
      const [answer] = result.answers
      ctx.note(`from istiod ${answer.istiod} (--all asks every replica)`)
      // Not JSON: peer text for a terminal, so escaped like any other human-readable output.
      if (typeof answer.body === 'string') this.write(escapeTerminalLines(responses[0].text))
      else if (answer.body !== null) this.write(this.outputFormat === 'yaml' ? toYaml(answer.body) : toJson(answer.body))
    }
    if (failures.length > 0) {
      for (const failure of failures.slice(1)) ctx.note(`istiod ${failure.istiod} left out: ${messageOf(failure.error)}`)
      const first = failures[0].error instanceof MeshdbgError ? failures[0].error : undefined
      const answered = `${responses.length} of ${responses.length + failures.length} istiods answered`
      throw new MeshdbgError(first?.kind ?? 'connection', `incomplete answer (${answered}): ${messageOf(failures[0].error)}`, {exitCode: first?.exitCode, hint: first?.hint, result})
    }
    return result
  }
}

/** `--proxy` as istiod names proxies (`<pod>.<namespace>`): a pod as given (completed with -n), a workload through the API. */
async function proxyIdFor(ctx: RunContext, target: string): Promise<string> {
  if (target.includes('/')) return proxyIdOf(await resolveTargetPod(ctx, target))
  return target.includes('.') ? target : `${target}.${(await openKube(ctx)).namespace}`
}

function bodyOf(text: string): unknown {
  if (text.trim() === '') return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** istiod's views (config-dump above all) can hold key material: never printed, in any format. */
function redacted(result: IstiodDebugResult, notice: (message: string) => void): IstiodDebugResult {
  const {value, count} = redactKeyMaterial(result)
  if (count > 0) notice(redactionNote(count))
  return value
}

function hasClients(text: string): boolean {
  try {
    const body = JSON.parse(text) as {totalClients?: number; clients?: unknown[]}
    return (body.totalClients ?? body.clients?.length ?? 0) > 0
  } catch {
    return true
  }
}
