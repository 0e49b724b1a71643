import type {AllSections} from '../envoy/all-sections.js'
import {renderBootstrapSummary} from './bootstrap-summary.js'
import {renderEdsEndpointTable} from './endpoint-table.js'
import {renderListenerTable} from './listener-table.js'
import {renderClusterTable} from './proxy-config-tables.js'
import {renderRouteTable} from './route-table.js'
import {renderSecretTable} from './secret-table.js'

/**
 * `proxy-config all`: bootstrap, clusters, listeners, routes, secrets, endpoints, separated by blank
 * lines, each with a NAME column (`cluster/<name>` ...) and, with --with-headers, a title line.
 * Sections missing from the dump are left out.
 */
export function renderAllSummary(sections: AllSections, options: {withHeaders: boolean; verbose: boolean}): string {
  const parts: Array<[string, string | undefined]> = [
    ['BOOTSTRAP INFO', sections.bootstrap && renderBootstrapSummary(sections.bootstrap)],
    ['CLUSTER INFO', sections.clusters && renderClusterTable(sections.clusters, {withName: true})],
    ['LISTENER INFO', sections.listeners && renderListenerTable(sections.listeners, {withName: true, verbose: options.verbose})],
    ['ROUTE INFO', sections.routes && renderRouteTable(sections.routes, {withName: true, verbose: options.verbose})],
    ['SECRET INFO', sections.secrets && renderSecretTable(sections.secrets, {withName: true})],
    ['ENDPOINTS INFO', renderEdsEndpointTable(sections.endpoints, {withName: true})],
  ]
  return parts
    .filter((part): part is [string, string] => part[1] !== undefined)
    .map(([title, text]) => (options.withHeaders ? `------ ${title} ------\n\n${text}` : text))
    .join('\n')
}
