import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../../lib/base-command.js'
import {tableOutputFlags} from '../../lib/flags.js'
import {analyzeWaypoints, renderWaypointStatus, renderWaypointWarnings, type WaypointReport} from '../../lib/istio/waypoint.js'
import {fetchWaypointInputs} from '../../lib/istio/waypoint-fetch.js'
import {renderStructured} from '../../lib/render/formats.js'

/** As waypoint list: the status view of the same report. */
export type WaypointStatusResult = WaypointReport

export default class WaypointStatus extends MeshdbgCommand<typeof WaypointStatus> {
  static override summary = 'Show each waypoint\'s Programmed status, reason and message (istioctl waypoint status).'
  static override description = `Columns as istioctl waypoint status: NAME, STATUS, TYPE, REASON, MESSAGE of the Gateway's Programmed condition when it is True, else of its last condition (istioctl's loop leaves that one). It reads once and does not wait (istioctl's --wait is not offered). Warnings as waypoint list.
-o short (default) | json | yaml: the same typed result as waypoint list.`

  static override examples = [
    '<%= config.bin %> waypoint status -n bookinfo',
    '<%= config.bin %> waypoint status -A',
  ]

  static override flags = {
    ...tableOutputFlags(['json', 'yaml'], 'short'),
    'all-namespaces': Flags.boolean({char: 'A', summary: 'Waypoints and enrolments of every namespace.'}),
  }

  async run(): Promise<WaypointStatusResult> {
    const allNamespaces = this.flags['all-namespaces']
    const {inputs, namespace} = await fetchWaypointInputs(this.runContext(), allNamespaces)
    const report = analyzeWaypoints(inputs, namespace)
    if (this.tableOutput) this.writeTable(renderWaypointStatus(report, {allNamespaces}) + renderWaypointWarnings(report))
    else this.write(renderStructured(report, this.outputFormat as 'json' | 'yaml'))
    return report
  }
}
