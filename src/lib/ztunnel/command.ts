import {Args, type Command, Flags} from '@oclif/core'

import {MeshdbgCommand} from '../base-command.js'
import {istioNamespaceFlag, tableOutputFlags} from '../flags.js'
import {readInputText} from '../input.js'
import {parseZtunnelDump, type ZtunnelDump} from './dump.js'
import {checkZtunnelSource, resolveZtunnel, type ZtunnelTarget} from './target.js'

/** What a ztunnel-config command read: the dump and, for an application pod target, that pod. */
export interface LoadedZtunnelDump {
  dump: ZtunnelDump
  /** `<pod>.<namespace>` of the ztunnel, or the file name. */
  origin: string
  workload?: ZtunnelTarget['workload']
}

/**
 * A `ztunnel-config` command: reads one ztunnel's /config_dump (live or `-f FILE|-`) through the
 * same parse from the bytes on. The target rules are istioctl 1.30's (src/lib/ztunnel/target.ts).
 */
export abstract class ZtunnelCommand<T extends typeof Command> extends MeshdbgCommand<T> {
  /** certificate and connections: one ztunnel must be named when several run. */
  static singlePod = false

  static ztunnelArgs = {
    target: Args.string({
      name: 'target',
      description: 'A ztunnel pod, or an application pod (its node\'s ztunnel, narrowed to it): pod, pod.namespace, pod/x, ds/x… (default: daemonset/ztunnel in the istio namespace).',
      required: false,
      ignoreStdin: true,
    }),
  }

  static ztunnelFlags = {
    file: Flags.string({char: 'f', summary: 'Read a saved ztunnel /config_dump from this file instead of a pod ("-" for stdin).'}),
    node: Flags.string({summary: 'Read the ztunnel running on this node.'}),
    'proxy-admin-port': Flags.integer({summary: 'ztunnel admin port (default 15000).', min: 1, max: 65535}),
    'istio-namespace': istioNamespaceFlag,
    ...tableOutputFlags(['json', 'yaml'], 'short'),
  }

  protected async loadZtunnelDump(): Promise<LoadedZtunnelDump> {
    const {target} = this.args as {target?: string}
    const flags = this.flags as {file?: string; node?: string; 'proxy-admin-port'?: number; 'istio-namespace': string}
    checkZtunnelSource({file: flags.file, node: flags.node, target})
    const ctx = this.runContext()
    if (flags.file) {
      const input = await readInputText(flags.file, ctx.signal)
      return {dump: parseZtunnelDump(input), origin: input.origin}
    }
    const ctor = this.ctor as unknown as typeof ZtunnelCommand
    const resolved = await resolveZtunnel(ctx, {target, node: flags.node, istioNamespace: flags['istio-namespace'], singlePod: ctor.singlePod})
    const {fetchAdminFromPod} = await import('../kube/proxy-admin.js')
    const input = await fetchAdminFromPod(ctx, resolved.ztunnel, 'config_dump', {proxyAdminPort: flags['proxy-admin-port']})
    return {dump: parseZtunnelDump(input), origin: input.origin, workload: resolved.workload}
  }
}
