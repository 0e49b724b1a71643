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

/** The `-o` values that print a table: `short` (istioctl's name) and `table` are the same, `wide` adds columns. */
export const TABLE_OUTPUTS = ['short', 'table', 'wide'] as const

/**
 * The `-o` flag of a command without a table, its values listed in --help (`short` may be prose
 * here: bootstrap's version summary, explain's explanations).
 */
export function outputFlag(formats: readonly string[], defaultFormat: string) {
  return {
    output: Flags.string({char: 'o', summary: 'Output format.', options: [...formats], default: defaultFormat, helpGroup: 'GLOBAL'}),
  }
}

/**
 * `-o` and `--no-headers` of a command that prints a table. `formats` are its other formats (json,
 * yaml); the table takes every spelling kubectl and istioctl users type: short, table and wide
 * (which adds the columns a terminal hides, where the command has any).
 */
export function tableOutputFlags(formats: readonly string[], defaultFormat: string) {
  return {
    output: Flags.string({
      char: 'o',
      summary: 'Output format: short and table are the same table, wide adds columns.',
      options: [...TABLE_OUTPUTS, ...formats],
      default: defaultFormat,
      helpGroup: 'GLOBAL',
    }),
    'no-headers': Flags.boolean({summary: 'Print table rows without the header line (for awk and friends).', helpGroup: 'GLOBAL'}),
  }
}

/** istioctl's `-i/--istioNamespace`, also spelled `--istio-namespace`. */
export const istioNamespaceFlag = Flags.string({
  char: 'i',
  summary: 'Namespace of the istiod pods (also --istioNamespace, as istioctl).',
  default: 'istio-system',
  aliases: ['istioNamespace'],
})

export const revisionFlag = Flags.string({char: 'r', summary: 'Only the istiods of this control-plane revision (label istio.io/rev).'})
