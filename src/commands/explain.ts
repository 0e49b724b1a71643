import {Args} from '@oclif/core'

import {MeshdbgCommand} from '../lib/base-command.js'
import {badDataError, usageError} from '../lib/errors.js'
import {type AccessLogEntry, newParseStats, parseAccessLogLine, recordParse, skippedLinesNote, splitLines} from '../lib/envoy/access-log.js'
import {openInputStream} from '../lib/input.js'
import {explainEntry, type Explanation} from '../lib/istio/explain.js'
import {outputFlag} from '../lib/flags.js'
import {toJson} from '../lib/render/formats.js'
import {renderExplanation} from '../lib/render/access-log-table.js'

export interface ExplainItem {
  line: number
  entry: AccessLogEntry
  explanation: Explanation
}

export interface ExplainResult {
  explanations: ExplainItem[]
  /** Lines that were not access-log entries (Envoy's own logs, blank lines, anything else). */
  skipped: number
}

export default class Explain extends MeshdbgCommand<typeof Explain> {
  static override summary = 'Explain Envoy access-log lines in plain words: response flags, details, and what to run next.'
  static override description = `Give one or more lines as arguments (quote each one), or pipe them on stdin. Istio's default TEXT format (also pre-1.9), JSON encoding, and kubectl --prefix/--timestamps decorations are understood; other lines are skipped and counted on stderr.
-o short (default) | json. Exit code 6 also when no line is an access-log entry.`

  static override examples = [
    `<%= config.bin %> explain '[2025-05-09T08:45:41.636Z] "GET /items HTTP/1.1" 504 UT response_timeout - "-" 0 24 501 - "172.18.0.1" "curl/8.7.1" "cb846eff" "catalog.istioinaction.io:30000" "10.10.0.13:3000" outbound|80|version-v2|catalog.istioinaction.svc.cluster.local 10.10.0.7:58078 10.10.0.7:8080 172.18.0.1:61108 - -'`,
    'kubectl logs deploy/webapp -c istio-proxy --tail 20 | <%= config.bin %> explain',
  ]

  static override strict = false
  static override flags = {...outputFlag(['short', 'json'], 'short')}
  static override args = {
    line: Args.string({description: 'An access-log line (quoted). Without any, lines are read from stdin.', required: false, ignoreStdin: true}),
  }

  async run(): Promise<ExplainResult> {
    const lines = await this.inputLines(this.argvValues)
    const stats = newParseStats()
    const explanations: ExplainItem[] = []
    let number = 0
    for await (const line of lines) {
      number++
      const parsed = parseAccessLogLine(line)
      recordParse(stats, parsed)
      if (parsed.ok) explanations.push({line: number, entry: parsed.entry, explanation: explainEntry(parsed.entry, {namespace: this.flags.namespace})})
    }
    if (stats.skipped > 0) this.runContext().note(skippedLinesNote(stats.skipped))
    if (explanations.length === 0) {
      throw badDataError('no access-log line found in the input', 'give an Envoy access-log line (TEXT or JSON), e.g. from `kubectl logs POD -c istio-proxy`')
    }
    const result: ExplainResult = {explanations, skipped: stats.skipped}
    if (this.outputFormat === 'json') this.write(toJson(result))
    else this.write(explanations.map((item) => renderExplanation(item.entry, item.explanation)).join('\n'))
    return result
  }

  private async inputLines(argv: string[]): Promise<AsyncIterable<string> | Iterable<string>> {
    if (argv.length > 0) return argv.flatMap((arg) => arg.split(/\r?\n/))
    if (process.stdin.isTTY) throw usageError('explain needs access-log lines as arguments or on stdin')
    // Under the deadline like `-f -`: a writer that never closes ends with --timeout, not a hang.
    return splitLines(await openInputStream('-', this.runContext().signal))
  }
}
