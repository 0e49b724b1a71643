import {Args, Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {usageError} from '../lib/errors.js'
import {
  ISTIOD_ENDPOINTS,
  istiodEndpointPath,
  istiodStatusError,
  knowsProxy,
  queryIstiods,
  queryProxyIstiod,
  type IstiodEndpoint,
  type IstiodResponse,
} from '../lib/istio/istiod.js'
import {openKube} from '../lib/kube/index.js'
import {escapeTerminalLines} from '../lib/render/escape.js'
import {redactKeyMaterial, redactionNote} from '../lib/envoy/redact.js'
import {toJson, toYaml} from '../lib/render/formats.js'

/** A response body: parsed JSON, or the text itself when it is not JSON (null when empty). */
export type IstiodBody = unknown

/** One istiod's body, or with --all `{ "<istiod>": <body> }`. */
export type IstiodDebugResult = IstiodBody | Record<string, IstiodBody>

const ENDPOINT_NAMES = Object.keys(ISTIOD_ENDPOINTS) as IstiodEndpoint[]

export default class Istiod extends MeshdbgCommand<typeof Istiod> {
  static override summary = 'Read one of istiod\'s debug views (syncz, adsz, edsz, registryz, configz, authorizationz, push-status, config-dump, instances).'
  static override description = `Port-forwards to the first Running istiod (kubectl's logs order; -i/--istio-namespace, -r/--revision), or to every replica with --all, and prints the body as 2-space JSON (-o yaml for YAML; a body that is not JSON is printed as it came). With --all: { "<istiod pod>": <body>, ... }.
Reads port 8080 (loopback: no credentials); when it is refused or closed, port 15014 with a bearer token (a TokenRequest for "default" in the istio namespace, audience istio-ca, or --token / MESHDBG_ISTIOD_TOKEN).
edsz and config-dump need --proxy <pod>.<namespace>; the answer comes from the replica the proxy is connected to. adsz takes --proxy to show one connection. syncz takes -n (istiod 1.20+ filters by namespace).
Never triggers a push (adsz?push=true is refused by the transport).

Views:
${ENDPOINT_NAMES.map((name) => `  ${name.padEnd(15)} ${ISTIOD_ENDPOINTS[name].path}`).join('\n')}`

  static override outputFormats = ['json', 'yaml']
  static override defaultOutput = 'json'

  static override examples = [
    '<%= config.bin %> istiod syncz',
    '<%= config.bin %> istiod config-dump --proxy catalog-5c7f8f8447-f54sj.istioinaction',
    '<%= config.bin %> istiod adsz --all -o yaml',
    '<%= config.bin %> istiod push-status -r canary',
  ]

  static override args = {
    endpoint: Args.string({
      name: 'endpoint',
      description: `The debug view: ${ENDPOINT_NAMES.join(', ')}.`,
      required: true,
      options: ENDPOINT_NAMES,
    }),
  }

  static override flags = {
    proxy: Flags.string({summary: 'The proxy (<pod>.<namespace>) for edsz, config-dump and adsz.'}),
    all: Flags.boolean({summary: 'Ask every istiod replica and print { "<istiod>": <body> }.'}),
    'istio-namespace': Flags.string({char: 'i', summary: 'Namespace of the istiod pods.', default: 'istio-system'}),
    revision: Flags.string({char: 'r', summary: 'Only the istiods of this control-plane revision (label istio.io/rev).'}),
    token: Flags.string({summary: 'Bearer token for port 15014 when 8080 is unreachable (default: a TokenRequest for "default" in the istio namespace, audience istio-ca).', env: 'MESHDBG_ISTIOD_TOKEN'}),
  }

  async run(): Promise<IstiodDebugResult> {
    const {args, flags} = this
    const endpoint = args.endpoint as IstiodEndpoint
    const spec = ISTIOD_ENDPOINTS[endpoint]
    if (spec.proxy === 'required' && flags.proxy === undefined) throw usageError(`istiod ${endpoint} needs --proxy <pod>.<namespace>`)
    if (spec.proxy === 'none' && flags.proxy !== undefined) throw usageError(`istiod ${endpoint} does not take --proxy`)
    const ctx = this.runContext()
    // A bare pod name is completed with -n (else the kubeconfig's namespace), as targets are.
    const proxy = flags.proxy === undefined || flags.proxy.includes('.') ? flags.proxy : `${flags.proxy}.${(await openKube(ctx)).namespace}`
    const path = istiodEndpointPath(endpoint, {proxy, namespace: flags.namespace})
    const selector = {istioNamespace: flags['istio-namespace'], revision: flags.revision, token: flags.token}

    let responses: IstiodResponse[]
    if (proxy !== undefined && !flags.all) {
      const knows = endpoint === 'adsz' ? (response: IstiodResponse) => knowsProxy(response) && hasClients(response.text) : knowsProxy
      responses = [await queryProxyIstiod(ctx, selector, path, proxy, knows)]
    } else {
      responses = await queryIstiods(ctx, {...selector, path, all: flags.all})
      if (!flags.all) for (const response of responses) if (response.status !== 200) throw istiodStatusError(response, path)
    }

    let result: IstiodDebugResult
    if (flags.all) {
      result = redacted(Object.fromEntries(responses.map((response) => [response.istiod, bodyOf(response.text)])), this.notice)
      this.write(this.outputFormat === 'yaml' ? toYaml(result) : toJson(result))
    } else {
      result = redacted(bodyOf(responses[0].text), this.notice)
      // Not JSON: peer text for a terminal, so escaped like any other human-readable output.
      if (typeof result === 'string') this.write(escapeTerminalLines(responses[0].text))
      else if (result !== null) this.write(this.outputFormat === 'yaml' ? toYaml(result) : toJson(result))
    }
    return result
  }
}

function bodyOf(text: string): IstiodBody {
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
