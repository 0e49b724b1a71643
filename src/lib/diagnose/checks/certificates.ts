import {checkWorkloadCertificate, type HealthFinding} from '../../health/checks.js'
import type {Check, CheckOutcome} from '../types.js'

const SEVERITY = {PASS: 'pass', WARN: 'warn', FAIL: 'fail'} as const

/** A `health` finding as a diagnose outcome: the same judgement, so both commands agree. */
export function outcomeOfHealth(finding: HealthFinding): CheckOutcome {
  return {
    severity: SEVERITY[finding.severity],
    message: finding.message,
    ...(finding.hint ? {hint: finding.hint} : {}),
    ...(finding.next ? {command: finding.next} : {}),
  }
}

/**
 * The workload certificate (leaf of the `default` SDS secret), judged as `meshdbg health` does:
 * FAIL when missing, expired or not yet valid; WARN with under a third of its lifetime left,
 * since istio-agent renews at about half and renewal is then failing.
 */
export const certificatesCheck: Check = {
  id: 'certificates',
  group: 'Security',
  title: 'the workload certificate is valid and renewed in time',
  async run(facts) {
    const rows = await facts.certificates()
    return [outcomeOfHealth(checkWorkloadCertificate(rows, {pod: facts.pod.name, namespace: facts.pod.namespace}))]
  },
}
