import {Args, Flags} from '@oclif/core'

import {usageError} from './errors.js'

/** The optional proxy target of proxy-config subcommands. */
export const targetArg = Args.string({
  name: 'target',
  description: 'Pod or workload: pod, pod.namespace, pod/x, deploy/x, svc/x, sts/x, ds/x, rs/x, job/x (with optional .namespace).',
  required: false,
  // oclif otherwise fills a missing arg from piped stdin, which is where `-f -` reads the dump.
  ignoreStdin: true,
})

export const fileFlag = Flags.string({
  char: 'f',
  summary: 'Read a saved Envoy response from this file instead of a pod ("-" for stdin).',
})

export const proxyAdminPortFlag = Flags.integer({
  summary: 'Envoy admin port (default: from the pod\'s proxy.istio.io/config annotation, else 15000).',
  min: 1,
  max: 65535,
})

/** Exactly one of a target and --file: the check istioctl copied into nine commands, written once. */
export function requireTargetOrFile(command: string, target: string | undefined, file: string | undefined): void {
  if (target && file) throw usageError(`${command}: give either a pod/workload or --file, not both`)
  if (!target && !file) throw usageError(`${command} requires a pod/workload name or --file`)
}
