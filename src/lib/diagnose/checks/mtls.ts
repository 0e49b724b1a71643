import {analyzePod} from '../../istio/describe.js'
import {shellArg} from '../../render/shell-quote.js'
import type {Check} from '../types.js'

/**
 * DestinationRule TLS settings against the PeerAuthentication in effect on this pod, as
 * `meshdbg describe pod` reports them (`mtls-conflict`): a DR that sends plaintext to a STRICT
 * port (clients' connections refused), or ISTIO_MUTUAL to a DISABLE port or a pod without sidecar.
 * The pod is the server here: its callers fail, the pod's own proxy sees little.
 */
export const mtlsCheck: Check = {
  id: 'mtls',
  group: 'Security',
  title: 'DestinationRule TLS agrees with the PeerAuthentication in effect',
  async run(facts) {
    const context = await facts.describeContext()
    const pod = context.pods.find((candidate) => candidate.metadata.name === facts.pod.name)
    // The pod list is read after the pod was resolved: a pod deleted since has nothing to judge.
    if (!pod) return [{severity: 'pass', message: `pod ${facts.pod.id} is gone: no mTLS to check`}]
    const conflicts = analyzePod(pod, context).warnings.filter((warning) => warning.id === 'mtls-conflict')
    if (conflicts.length === 0) return [{severity: 'pass', message: 'no DestinationRule TLS setting conflicts with the pod\'s PeerAuthentication'}]
    return conflicts.map((conflict) => ({
      severity: 'fail' as const,
      message: conflict.message,
      hint: 'the DestinationRule\'s trafficPolicy.tls.mode and the PeerAuthentication must agree: ISTIO_MUTUAL (or no tls: auto mTLS) for STRICT, DISABLE only for PERMISSIVE or DISABLE',
      command: `meshdbg describe pod ${shellArg(facts.pod.name, '<pod>')} -n ${shellArg(facts.pod.namespace, '<namespace>')}`,
    }))
  },
}
