import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {secretCertificateRows} from '../../src/lib/envoy/certs.js'
import {parseConfigDump, requireSection} from '../../src/lib/envoy/configdump.js'
import {projectRoot} from '../helpers/cli.js'

/** Certificate rows of one of test/fixtures/certs' secrets dumps, judged at `now`. */
export function certificates(name: string, now: string) {
  return secretCertificateRows(requireSection(parseConfigDump(readFileSync(join(projectRoot, 'test', 'fixtures', 'certs', name), 'utf8'), name), 'Secrets'), {now: new Date(now)})
}

/** webapp's workload certificate early in its 48 h life. */
export const validCertificates = () => certificates('webapp.secrets.json', '2026-06-01T00:00:00Z')
