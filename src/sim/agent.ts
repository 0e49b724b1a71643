// pilot-agent: the status server (15020) and, on Istio 1.11-1.24, the XDS debug tap (15004).
import type {IncomingMessage} from 'node:http'
import type {EnvoyAdmin} from './envoy-admin.js'
import {agentReadyAnswer} from './envoy-state.js'
import {nameTable} from './istiod.js'
import type {Scenario, SimPod} from './model.js'
import {clientConfig, connectedProxies, nonce} from './sync.js'

type Send = (code: number, body: string, contentType?: string) => void

export function handleAgent(pod: SimPod, scenario: Scenario, admin: EnvoyAdmin, req: IncomingMessage, send: Send): void {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const path = url.pathname
  if (path === '/healthz/ready') return send(...agentReadyAnswer(pod, scenario))
  if (path === '/stats/prometheus' || path === '/metrics') {
    const agent = [
      '# HELP istio_agent_go_goroutines Number of goroutines that currently exist.',
      '# TYPE istio_agent_go_goroutines gauge',
      'istio_agent_go_goroutines 52',
      '# HELP istio_agent_pilot_xds Number of endpoints connected to this pilot using XDS.',
      '# TYPE istio_agent_pilot_xds gauge',
      `istio_agent_pilot_xds{version="${pod.proxy?.istioVersion ?? ''}"} 1`,
      '# HELP istio_agent_scrapes_total The total number of scrapes.',
      '# TYPE istio_agent_scrapes_total counter',
      'istio_agent_scrapes_total 17',
      '# HELP istio_agent_startup_duration_seconds The time from the process starting to being marked ready.',
      '# TYPE istio_agent_startup_duration_seconds gauge',
      'istio_agent_startup_duration_seconds 1.804337',
      '',
    ].join('\n')
    return send(200, agent + admin.prometheus(), 'text/plain; version=0.0.4; charset=utf-8')
  }
  if (path === '/debug/ndsz') return send(200, JSON.stringify({table: nameTable(scenario, pod.namespace)}), 'application/json')
  const probe = /^\/app-health\/([^/]+)\/(livez|readyz|startupz)$/.exec(path)
  if (probe) {
    return pod.containers.some((c) => c.name === probe[1] && c.name !== 'istio-proxy')
      ? send(200, '')
      : send(400, `app prober config does not exists for ${path}`)
  }
  if (path === '/quitquitquit' || path === '/drain') {
    // Acknowledged but never acted on: the simulated agent keeps running.
    return req.method === 'POST' ? send(200, 'OK') : send(405, 'Method Not Allowed\n')
  }
  return send(404, '404 page not found\n')
}

export function handleAgentDebug(pod: SimPod, scenario: Scenario, req: IncomingMessage, send: Send): void {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const m = /^\/debug\/([a-z_]+)$/.exec(url.pathname)
  if (!m) return send(404, '404 page not found\n')
  const id = `${pod.name}.${pod.namespace}`
  const proxy = connectedProxies(scenario).find((p) => p.id === id)
  if (!proxy) return send(503, 'proxy not connected to Istiod')
  const istiodPod = scenario.pods.find((p) => p.name === proxy.istiod)
  const controlPlane = {identifier: JSON.stringify({Component: 'istiod', ID: proxy.istiod, Info: {version: istiodPod?.istiod?.version ?? proxy.istioVersion, revision: 'default', golang_version: 'go1.20.10', status: 'Clean', tag: istiodPod?.istiod?.version ?? proxy.istioVersion}})}
  const typeUrl = `istio.io/debug/${m[1]}`
  let resources: unknown[]
  if (m[1] === 'syncz') {
    // The agent asks istiod for everything it knows; istiod answers for its own proxies.
    resources = connectedProxies(scenario, proxy.istiod).map((p) => clientConfig(p, scenario.now))
  } else if (m[1] === 'config_dump') {
    resources = []
  } else {
    return send(400, `unknown debug type ${m[1]}`)
  }
  send(200, JSON.stringify({versionInfo: scenario.now, resources, typeUrl, nonce: nonce(`${id}/${typeUrl}`), controlPlane}, null, 2), 'application/json')
}
