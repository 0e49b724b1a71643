import type {AllSections} from '../envoy/all-sections.js'
import {renderBootstrapSummary} from './bootstrap-summary.js'
import {renderEdsEndpointTable} from './endpoint-table.js'
import {renderListenerTable} from './listener-table.js'
import {renderClusterTable} from './proxy-config-tables.js'
import {renderRouteTable} from './route-table.js'
import {renderSecretTable} from './secret-table.js'

/** The rendered sections of `proxy-config all` in print order; undefined = not printed. */
export type AllParts = Array<[title: string, text: string | undefined]>

/**
 * `proxy-config all`: bootstrap, clusters, listeners, routes, secrets, endpoints, separated by blank
 * lines, each with a NAME column (`cluster/<name>` ...) and, with --with-headers, a title line.
 * Sections missing from the dump are left out.
 */
export function renderAllSummary(sections: AllSections, options: {withHeaders: boolean; verbose: boolean; withoutBootstrap?: boolean}): string {
  return joinAllParts(renderAllParts(sections, options), options)
}

/** Each section's table; with a partial `sections` (rendered on several threads) the others are undefined. */
export function renderAllParts(sections: Partial<AllSections>, options: {verbose: boolean}): AllParts {
  return [
    ['BOOTSTRAP INFO', sections.bootstrap && renderBootstrapSummary(sections.bootstrap)],
    ['CLUSTER INFO', sections.clusters && renderClusterTable(sections.clusters, {withName: true})],
    ['LISTENER INFO', sections.listeners && renderListenerTable(sections.listeners, {withName: true, verbose: options.verbose})],
    ['ROUTE INFO', sections.routes && renderRouteTable(sections.routes, {withName: true, verbose: options.verbose})],
    ['SECRET INFO', sections.secrets && renderSecretTable(sections.secrets, {withName: true})],
    ['ENDPOINTS INFO', sections.endpoints && renderEdsEndpointTable(sections.endpoints, {withName: true})],
  ]
}

/** `withoutBootstrap`: for --no-headers, whose readers want rows (the bootstrap version lines are not rows). */
export function joinAllParts(parts: AllParts, options: {withHeaders: boolean; withoutBootstrap?: boolean}): string {
  return parts
    .filter((part): part is [string, string] => part[1] !== undefined && !(options.withoutBootstrap && part[0] === 'BOOTSTRAP INFO'))
    .map(([title, text]) => (options.withHeaders ? `------ ${title} ------\n\n${text}` : text))
    .join('\n')
}
