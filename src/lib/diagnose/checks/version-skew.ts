import {shellArg} from '../../render/shell-quote.js'
import type {Check} from '../types.js'

/** `1.17.8` → [1, 17]; undefined for builds without a release number (dev builds, digests). */
function minorOf(version: string): [number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec(version)
  return match ? [Number(match[1]), Number(match[2])] : undefined
}

/**
 * The proxy's Istio version (ISTIO_VERSION in istiod's syncz) against the version of the istiod
 * that serves it. A proxy newer than its control plane is not supported by Istio; an older one is
 * normal during an upgrade (data plane updated after the control plane) but should not last.
 */
export const versionSkewCheck: Check = {
  id: 'version-skew',
  group: 'Control plane',
  title: 'the proxy runs the Istio version of its istiod',
  async run(facts) {
    const {row} = await facts.sync()
    if (!row) return [{severity: 'pass', message: 'not connected to an istiod: nothing to compare (see the sync check)'}]
    const proxyVersion = row.version.replace(/\*$/, '')
    const istiodVersion = await facts.istiodVersion(row.istiod)
    if (!istiodVersion || !proxyVersion) return [{severity: 'pass', message: `versions not comparable (proxy ${proxyVersion || 'unknown'}, istiod ${istiodVersion ?? 'unknown'})`}]
    const proxy = minorOf(proxyVersion)
    const istiod = minorOf(istiodVersion)
    const evidence = [`proxy ${proxyVersion}`, `istiod ${row.istiod} ${istiodVersion}`]
    if (!proxy || !istiod || (proxy[0] === istiod[0] && proxy[1] === istiod[1])) {
      return [{severity: 'pass', message: `proxy ${proxyVersion}, istiod ${istiodVersion}`, evidence}]
    }
    const newer = proxy[0] > istiod[0] || (proxy[0] === istiod[0] && proxy[1] > istiod[1])
    const restart = `kubectl rollout restart deployment -n ${shellArg(facts.pod.namespace, '<namespace>')} <workload>`
    return [{
      severity: newer ? 'fail' : 'warn',
      message: newer
        ? `the proxy (${proxyVersion}) is newer than its istiod ${row.istiod} (${istiodVersion}): Istio does not support a data plane ahead of its control plane`
        : `the proxy runs ${proxyVersion}, its istiod ${row.istiod} ${istiodVersion}: restart the workload to pick up the new sidecar`,
      hint: newer ? 'upgrade the control plane first, or point the namespace at a matching revision' : 'proxies are updated by re-injection: restart the workload after a control-plane upgrade',
      command: newer ? 'meshdbg version' : restart,
      evidence,
    }]
  },
}
