import {SYNC_TYPES, type SyncType} from '../../istio/sync-status.js'
import {shellArg} from '../../render/shell-quote.js'
import type {Check, CheckOutcome} from '../types.js'

/** Types whose NOT SENT is normal: ECDS without extensions, RDS on a proxy without HTTP routes. */
const OPTIONAL_TYPES: ReadonlySet<SyncType> = new Set(['ECDS', 'RDS'])

/**
 * istiod's `/debug/syncz` for the proxy: connected at all, and every type acknowledged.
 * STALE is a push Envoy has not acknowledged (istiod overloaded, a lost connection, or a NACK on
 * Istio before 1.24, whose syncz shows a rejected push only as an unacknowledged nonce).
 */
export const syncCheck: Check = {
  id: 'sync',
  group: 'Control plane',
  title: 'istiod sent the proxy its config and Envoy acknowledged it',
  async run(facts) {
    const {row, failedIstiods} = await facts.sync()
    const id = facts.pod.id
    const command = `meshdbg sync-status ${shellArg(id, '<pod>')}`
    if (!row) {
      if (failedIstiods.length > 0) {
        return [{
          severity: 'error',
          message: `no answering istiod knows ${id}; ${failedIstiods.map((f) => `${f.istiod}: ${f.message}`).join('; ')}`,
          hint: 'the proxy may be connected to the istiod that did not answer',
          command: 'meshdbg sync-status',
        }]
      }
      return [{
        severity: 'fail',
        message: `${id} is not connected to any istiod (it is in no istiod's /debug/syncz)`,
        hint: 'the sidecar cannot reach istiod (port 15012) or is still starting: read its istio-proxy log',
        command: `kubectl logs ${shellArg(facts.pod.name, '<pod>')} -n ${shellArg(facts.pod.namespace, '<namespace>')} -c istio-proxy --tail 50`,
      }]
    }
    const outcomes: CheckOutcome[] = []
    const evidence = SYNC_TYPES.map((type) => `${type} ${row.types[type].display}`)
    const nacked = SYNC_TYPES.filter((type) => row.types[type].state === 'ERROR')
    const never = SYNC_TYPES.filter((type) => row.types[type].state === 'STALE (Never Acknowledged)')
    const stale = SYNC_TYPES.filter((type) => row.types[type].state === 'STALE')
    const notSent = SYNC_TYPES.filter((type) => row.types[type].state === 'NOT SENT' && !OPTIONAL_TYPES.has(type))
    if (nacked.length > 0) {
      outcomes.push({
        severity: 'fail',
        message: `Envoy rejected (NACK) the last ${nacked.join(', ')} push from ${row.istiod}: ${nacked.map((type) => row.types[type].error ?? '').filter(Boolean).join('; ') || 'no error text'}`,
        hint: 'the proxy keeps its previous config of that type: fix the resource the error names',
        command: `meshdbg sync-status ${shellArg(id, '<pod>')}`,
        evidence,
      })
    }
    if (never.length > 0) {
      outcomes.push({
        severity: 'fail',
        message: `${never.join(', ')} never acknowledged by ${id} (istiod ${row.istiod} sent it, Envoy never answered)`,
        hint: 'the proxy may be stuck or rejecting the config: compare its config with istiod\'s view',
        command,
        evidence,
      })
    }
    if (stale.length > 0) {
      outcomes.push({
        severity: 'fail',
        message: `${stale.join(', ')} STALE on ${id}: istiod ${row.istiod} sent an update Envoy has not acknowledged`,
        hint: 'a push in flight clears within seconds; one that stays STALE is rejected config (NACK, shown as STALE before Istio 1.24) or a lost connection',
        command,
        evidence,
      })
    }
    if (notSent.length > 0) {
      outcomes.push({
        severity: 'warn',
        message: `istiod ${row.istiod} has sent ${id} no ${notSent.join(', ')}`,
        hint: 'a proxy that just connected, or an istiod with nothing to send: it usually clears by itself',
        command: 'meshdbg sync-status',
        evidence,
      })
    }
    if (outcomes.length === 0) outcomes.push({severity: 'pass', message: `SYNCED with ${row.istiod}`, evidence})
    return outcomes
  },
}
