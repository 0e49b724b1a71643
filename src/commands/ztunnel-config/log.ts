import {Args, Flags} from '@oclif/core'

import {MeshdbgCommand} from '../../lib/base-command.js'
import {usageError} from '../../lib/errors.js'
import {parseTimerDuration} from '../../lib/duration.js'
import {istioNamespaceFlag, tableOutputFlags} from '../../lib/flags.js'
import {renderStructured} from '../../lib/render/formats.js'
import {renderZtunnelLogTable, validateZtunnelLevel} from '../../lib/ztunnel/log-level.js'
import {runZtunnelLog, ztunnelLogFailure, type ZtunnelLogResult} from '../../lib/ztunnel/log-live.js'

export type {ZtunnelLogResult} from '../../lib/ztunnel/log-live.js'

export default class ZtunnelConfigLog extends MeshdbgCommand<typeof ZtunnelConfigLog> {
  static override summary = 'Read or change ztunnel log levels, optionally for a limited time (istioctl ztunnel-config log).'
  static override description = `Targets: a ztunnel pod, --node NODE (its ztunnel), or nothing: every ztunnel pod of daemonset/ztunnel in the istio namespace.
--level takes ztunnel's own syntax: a level (off, error, warn, info, debug, trace) and/or target=level clauses, e.g. "ztunnel::proxy=debug,info" or "access=debug". It is checked before anything is sent: Envoy-style "access:debug" (which istioctl forwards and ztunnel rejects with a bare 400) is a usage error saying "did you mean access=debug". --reset returns to ztunnel's start-up filter (info, hickory_server::server=off).
--duration 10m sets the levels, waits, then restores each pod's previous filter; Ctrl-C (SIGINT), SIGTERM, SIGHUP or SIGQUIT restores at once (a second signal gives up). A pod whose filter someone changed since is left alone and named. After SIGKILL or a crash, run "meshdbg zc log --reset".
-o short (default: POD LEVELS, or POD RESULT LEVELS after a change) | json | yaml.`

  static override hiddenAliases = ['ztunnel-config:o', 'zc:log', 'zc:o']
  static override examples = [
    '<%= config.bin %> ztunnel-config log',
    '<%= config.bin %> zc log --node ambient-worker --level access=debug,info --duration 10m',
    '<%= config.bin %> zc log ztunnel-abcde -n istio-system --reset',
  ]

  static override args = {
    target: Args.string({name: 'target', description: 'A ztunnel pod (pod, pod.namespace, pod/x); default: every ztunnel pod.', required: false, ignoreStdin: true}),
  }

  static override flags = {
    ...tableOutputFlags(['json', 'yaml'], 'short'),
    level: Flags.string({summary: 'Levels to set: LEVEL and/or TARGET=LEVEL clauses, comma-separated (ztunnel::proxy=debug,info).'}),
    reset: Flags.boolean({char: 'r', summary: 'Return to ztunnel\'s start-up levels.'}),
    node: Flags.string({summary: 'The ztunnel on this node.'}),
    duration: Flags.string({summary: 'Keep the new levels this long (e.g. 10m), then restore the previous ones (also on SIGINT, SIGTERM, SIGHUP, SIGQUIT).'}),
    'proxy-admin-port': Flags.integer({summary: 'ztunnel admin port (default 15000).', min: 1, max: 65535}),
    'istio-namespace': istioNamespaceFlag,
  }

  async run(): Promise<ZtunnelLogResult> {
    const {args, flags} = this
    const level = flags.level === undefined ? undefined : validateZtunnelLevel(flags.level)
    const durationMs = flags.duration === undefined ? undefined : parseTimerDuration(flags.duration, 'duration')
    if (args.target && flags.node) throw usageError('give either a ztunnel pod or --node, not both')
    const changed = level !== undefined || flags.reset
    let printed = false
    const result = await runZtunnelLog(
      this.runContext(),
      {target: args.target, node: flags.node, istioNamespace: flags['istio-namespace'], level, reset: flags.reset, durationMs, proxyAdminPort: flags['proxy-admin-port']},
      (applied) => {
        // A --duration run shows what it set now; the restore is reported on stderr when it ends.
        if (!this.tableOutput) return
        this.writeTable(renderZtunnelLogTable(applied.pods, true))
        printed = true
      },
    )
    if (this.tableOutput) {
      if (!printed) this.writeTable(renderZtunnelLogTable(result.pods, changed))
    } else {
      this.write(renderStructured(result, this.outputFormat as 'json' | 'yaml'))
    }
    const failure = ztunnelLogFailure(result)
    if (failure) throw failure
    return result
  }
}
