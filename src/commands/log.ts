import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {parseTimerDuration} from '../lib/duration.js'
import {MeshdbgError} from '../lib/errors.js'
import {proxyAdminPortFlag, tableOutputFlags, targetArg} from '../lib/flags.js'
import {CONFIRM_ABOVE_PODS, failureMessage, type LogLevelsResult, runLogLevels} from '../lib/istio/log-levels-live.js'
import {renderStructured} from '../lib/render/formats.js'
import {renderLogLevelsTable} from '../lib/render/log-levels-table.js'

export type {LogLevelsResult} from '../lib/istio/log-levels-live.js'

export default class Log extends MeshdbgCommand<typeof Log> {
  static override summary = 'Read or change Envoy logger levels on live proxies (istioctl proxy-config log), optionally for a limited time.'
  static override description = `Targets: a pod; a workload (deploy/x, svc/x, sts/x...: ALL its pods, as istioctl does); -l SELECTOR; or nothing: every meshed pod of the namespace (changing more than ${CONFIRM_ABOVE_PODS} pods that way, or with -l, needs --yes). Pods that are not Running are skipped.
Without --level or --reset, prints the current levels per pod, grouped by level. --level takes a level (debug), loggers (rbac:debug,http:info) or both (info,rbac:debug); logger names must match the proxy's own list exactly (read with POST /logging from the first pod) and levels one of trace, debug, info, warning (warn), error, critical, off: a bad one is a usage error and nothing changes on any pod. --reset returns each pod to the level it started with (sidecar.istio.io/logLevel, else --proxyLogLevel, else warning) and its start-up component levels (sidecar.istio.io/componentLogLevel, else --proxyComponentLogLevel).
--duration 10m sets the levels, waits, then restores every pod's previous levels; Ctrl-C (SIGINT), SIGTERM, SIGHUP (terminal closed, SSH dropped) or SIGQUIT restores them at once (a second signal gives up). Only the loggers this run changed are restored, and only where they still hold the level it set: a logger someone else (an overlapping run) changed since is left alone and named. The restore has its own 10s deadline; --timeout bounds only the change itself. After SIGKILL or a crash nothing can restore them: run the printed "meshdbg log TARGET --reset" to return them to their start-up levels.
Pods are changed in parallel (--concurrency, default 16); when some fail, the others are still changed, the table shows which failed, and the command exits 4 naming them and why.
-o short (default: POD, RESULT, CHANGED or LEVELS) | json | yaml (the per-pod result: levels, changes, restore).`

  static override hiddenAliases = ['proxy-config:log', 'proxy-config:o', 'pc:log', 'pc:o']
  static override examples = [
    '<%= config.bin %> log deploy/istio-ingressgateway -n istio-system',
    '<%= config.bin %> log deploy/istio-ingressgateway -n istio-system --level http:debug,router:debug,connection:debug,pool:debug --duration 10m',
    '<%= config.bin %> log deploy/webapp -n istioinaction --level rbac:debug',
    '<%= config.bin %> log -l app=catalog -n istioinaction --reset',
    '<%= config.bin %> log -n istioinaction --level warning --yes',
  ]

  static override args = {target: targetArg}
  static override flags = {
    ...tableOutputFlags(['json', 'yaml'], 'short'),
    level: Flags.string({summary: 'Levels to set: LEVEL, LOGGER:LEVEL[,LOGGER:LEVEL...], or both (info,rbac:debug).'}),
    reset: Flags.boolean({char: 'r', summary: 'Return the levels to what the pod started with (default warning).'}),
    selector: Flags.string({char: 'l', summary: 'Label selector for the pods (instead of a target).'}),
    duration: Flags.string({summary: 'Keep the new levels this long (e.g. 10m), then restore the previous ones (also on SIGINT, SIGTERM, SIGHUP, SIGQUIT).'}),
    yes: Flags.boolean({char: 'y', summary: `Confirm changing more than ${CONFIRM_ABOVE_PODS} pods of a namespace or selector.`}),
    concurrency: Flags.integer({summary: 'Pods worked on at the same time.', default: 16, min: 1}),
    'proxy-admin-port': proxyAdminPortFlag,
  }

  async run(): Promise<LogLevelsResult> {
    const {args, flags} = this
    const durationMs = flags.duration === undefined ? undefined : parseTimerDuration(flags.duration, 'duration')
    let printed = false
    const result = await runLogLevels(
      this.runContext(),
      {
        target: args.target,
        selector: flags.selector,
        level: flags.level,
        reset: flags.reset,
        yes: flags.yes,
        concurrency: flags.concurrency,
        proxyAdminPort: flags['proxy-admin-port'],
        durationMs,
      },
      {
        applied: (applied) => {
          // A --duration run shows what it changed now; the restore is reported when it ends.
          if (!this.tableOutput) return
          this.writeTable(renderLogLevelsTable(applied))
          printed = true
        },
      },
    )
    if (this.tableOutput) {
      if (!printed) this.writeTable(renderLogLevelsTable(result))
    } else {
      this.write(renderStructured(result, this.outputFormat as 'json' | 'yaml'))
    }
    const failure = failureMessage(result)
    if (failure) throw new MeshdbgError('connection', failure, {result})
    return result
  }
}
