import {Flags} from '@oclif/core'

import {MeshdbgCommand} from '../../lib/base-command.js'
import {tableOutputFlags} from '../../lib/flags.js'
import {analyzeWaypoints, renderWaypointList, renderWaypointWarnings, type WaypointReport} from '../../lib/istio/waypoint.js'
import {fetchWaypointInputs} from '../../lib/istio/waypoint-fetch.js'
import {renderStructured} from '../../lib/render/formats.js'

/** The waypoints in scope, who uses each, and the enrolments whose traffic bypasses a waypoint. */
export type WaypointListResult = WaypointReport

export default class WaypointList extends MeshdbgCommand<typeof WaypointList> {
  static override summary = 'List waypoints (Gateways of class istio-waypoint), who uses them, and enrolments that bypass them (istioctl waypoint list).'
  static override description = `Columns as istioctl waypoint list: NAME, REVISION (istio.io/rev, "default" without it), TRAFFIC TYPE (istio.io/waypoint-for, "none" when unset; Istio then serves service traffic), PROGRAMMED (the Gateway's Programmed condition). -o wide adds USED BY: the namespaces, Services and pods whose istio.io/use-waypoint (with istio.io/use-waypoint-namespace) names it.
Warnings follow the table (and are .warnings of -o json): a use-waypoint naming a waypoint that does not exist (waypoint-missing), is not programmed (waypoint-not-programmed), does not admit the enrolment's namespace on its HBONE listener (waypoint-attachment-denied: allowedRoutes.namespaces, Gateway API's default Same), or whose waypoint-for does not serve that kind of enrolment (waypoint-for-mismatch): in each case traffic bypasses the waypoint without an error. Exit 0 whatever the warnings.
-o short (default) | wide | json | yaml.`

  static override examples = [
    '<%= config.bin %> waypoint list -n bookinfo',
    '<%= config.bin %> waypoint list -A -o wide',
    '<%= config.bin %> waypoint list -A -o json | jq \'.warnings[].message\'',
  ]

  static override flags = {
    ...tableOutputFlags(['json', 'yaml'], 'short'),
    'all-namespaces': Flags.boolean({char: 'A', summary: 'Waypoints and enrolments of every namespace.'}),
  }

  async run(): Promise<WaypointListResult> {
    const allNamespaces = this.flags['all-namespaces']
    const {inputs, namespace} = await fetchWaypointInputs(this.runContext(), allNamespaces)
    const report = analyzeWaypoints(inputs, namespace)
    if (this.tableOutput) this.writeTable(renderWaypointList(report, {allNamespaces, wide: this.wideOutput}) + renderWaypointWarnings(report))
    else this.write(renderStructured(report, this.outputFormat as 'json' | 'yaml'))
    return report
  }
}
