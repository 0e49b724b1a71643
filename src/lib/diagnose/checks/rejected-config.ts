import {shellArg} from '../../render/shell-quote.js'
import type {Check, CheckOutcome} from '../types.js'

/** `cluster_manager.cds.update_rejected` → `CDS`; RDS counters are per route config (`http.<prefix>.rds.<name>.update_rejected`). */
function typeOfCounter(name: string): string {
  if (name.startsWith('cluster_manager.cds.')) return 'CDS'
  if (name.startsWith('listener_manager.lds.')) return 'LDS'
  if (/\.rds\./.test(name)) return `RDS ${name.replace(/^http\.[^.]*\.rds\./, '').replace(/\.update_rejected$/, '')}`
  return name.replace(/\.update_rejected$/, '')
}

/**
 * Config Envoy refused or has not activated: `update_rejected` counters (a NACK since the proxy
 * started, which syncz only shows from Istio 1.24) and clusters or listeners still warming in the
 * config dump (waiting for their endpoints or secrets).
 */
export const rejectedConfigCheck: Check = {
  id: 'rejected-config',
  group: 'Proxy',
  title: 'no rejected (NACKed) or warming config',
  async run(facts) {
    const [stats, {warmingClusters, warmingListeners}] = await Promise.all([facts.configStats(), facts.routing()])
    const outcomes: CheckOutcome[] = []
    const rejected = [...stats].filter(([name, value]) => name.endsWith('update_rejected') && value > 0)
    if (rejected.length > 0) {
      outcomes.push({
        severity: 'fail',
        message: `Envoy rejected config from istiod: ${rejected.map(([name, value]) => `${typeOfCounter(name)} ${value}×`).join(', ')}`,
        hint: 'a rejected push leaves the proxy on its previous config of that type; the NACK text is in the istio-proxy log ("gRPC config ... rejected")',
        command: `kubectl logs ${shellArg(facts.pod.name, '<pod>')} -n ${shellArg(facts.pod.namespace, '<namespace>')} -c istio-proxy | grep -i rejected`,
        evidence: rejected.map(([name, value]) => `${name}: ${value}`),
      })
    }
    if (warmingClusters.length > 0 || warmingListeners.length > 0) {
      const names = [...warmingClusters.map((name) => `cluster ${name}`), ...warmingListeners.map((name) => `listener ${name}`)]
      outcomes.push({
        severity: 'warn',
        message: `${names.length} resource${names.length === 1 ? '' : 's'} warming (not yet in use): ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`,
        hint: 'warming clusters wait for their endpoints (EDS), warming listeners for their secrets or routes: stuck warming means istiod did not send them',
        command: `meshdbg sync-status ${shellArg(facts.pod.id, '<pod>')}`,
        evidence: names,
      })
    }
    if (outcomes.length === 0) outcomes.push({severity: 'pass', message: 'no rejected config, nothing warming'})
    return outcomes
  },
}
