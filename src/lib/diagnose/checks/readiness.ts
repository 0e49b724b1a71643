import {shellArg} from '../../render/shell-quote.js'
import type {Check, CheckOutcome} from '../types.js'

const firstLine = (text: string): string => (text.split('\n').find((line) => line.trim() !== '') ?? '').trim().slice(0, 120)

/**
 * Envoy's `/ready` (200 `LIVE` once initialised) and pilot-agent's `/healthz/ready` on 15020,
 * the readiness probe the injector sets: it also fails while Envoy has no CDS/LDS from istiod.
 */
export const readinessCheck: Check = {
  id: 'readiness',
  group: 'Proxy',
  title: 'Envoy is LIVE and pilot-agent reports ready',
  async run(facts) {
    const [envoy, agent] = await Promise.all([facts.envoyReady(), facts.agentReady()])
    const pod = `${shellArg(facts.pod.name, '<pod>')} -n ${shellArg(facts.pod.namespace, '<namespace>')}`
    const outcomes: CheckOutcome[] = []
    if (envoy.status !== 200) {
      outcomes.push({
        severity: 'fail',
        message: `Envoy is not ready: /ready answered ${envoy.status} ${firstLine(envoy.text)}`,
        hint: 'Envoy is still initialising (waiting for clusters or listeners) or draining',
        command: `kubectl logs ${pod} -c istio-proxy --tail 50`,
      })
    }
    if (agent.status !== 200) {
      outcomes.push({
        severity: 'fail',
        message: `pilot-agent is not ready: :15020/healthz/ready answered ${agent.status} ${firstLine(agent.text)}`,
        hint: 'the readiness probe fails: Envoy has not received its config from istiod, or is not live',
        command: `meshdbg agent ${shellArg(facts.pod.id, '<pod>')} ready`,
      })
    }
    if (outcomes.length === 0) outcomes.push({severity: 'pass', message: 'Envoy LIVE, pilot-agent ready'})
    return outcomes
  },
}
