import {execFileSync} from 'node:child_process'

import {describe, expect, it} from 'vitest'

import {parseAccessLogLine} from '../../src/lib/envoy/access-log.js'
import {explainEntry} from '../../src/lib/istio/explain.js'
import {shellArg, shellQuote} from '../../src/lib/render/shell-quote.js'

const HOSTILE_WORDS = ['$(touch /tmp/meshdbg-pwned)', '`id`', "it's", 'say "hi"', 'two words', 'a;b&&c|d', '$HOME', 'x\\y', '*', '~root', '']

/**
 * The words sh makes of `line`, with `meshdbg` and `kubectl` defined to print their arguments
 * (placeholders such as <route> are filled in first, as the user would).
 */
function wordsOf(line: string): string[] {
  const script = `meshdbg() { printf '%s\\n' "$@"; }; kubectl() { printf '%s\\n' "$@"; }; ${line.replace(/<[\w-]+>/g, 'FILLED')}`
  return execFileSync('sh', ['-c', script], {encoding: 'utf8'}).split('\n').slice(0, -1)
}

describe('shellQuote', () => {
  it('gives one literal word for $(...), backticks, quotes, spaces, globs and the empty string', () => {
    for (const word of HOSTILE_WORDS) expect(wordsOf(`meshdbg ${shellQuote(word)}`)).toEqual([word])
  })

  it('leaves plain names unquoted', () => {
    expect(shellQuote('catalog.istioinaction.svc.cluster.local')).toBe('catalog.istioinaction.svc.cluster.local')
    expect(shellQuote('outbound|80||a.b')).toBe("'outbound|80||a.b'")
  })

  it('shellArg uses the placeholder for values that would be read as options', () => {
    expect(shellArg('--kubeconfig=/tmp/evil', '<fqdn>')).toBe('<fqdn>')
    expect(shellArg('', '<pod>')).toBe('<pod>')
    expect(shellArg('webapp', '<pod>')).toBe('webapp')
  })
})

describe('explain: every argument of a "Next:" command taken from the line is quoted', () => {
  const EVIL = '$(touch /tmp/meshdbg-pwned)`id`'
  const line = (fields: Record<string, unknown>) => {
    const parsed = parseAccessLogLine(JSON.stringify({start_time: '2025-05-09T08:45:41.636Z', method: 'GET', path: '/', duration: 1, ...fields}))
    if (!parsed.ok) throw new Error('fixture did not parse')
    return parsed.entry
  }

  it('--fqdn, --cluster, kubectl names and namespaces, the pod and -n', () => {
    const entry = line({
      response_code: 503, response_flags: 'UH,UF,NC', response_code_details: 'no_healthy_upstream',
      upstream_cluster: `outbound|80|v1|svc${EVIL}.ns'x.svc.cluster.local`, upstream_host: '10.0.0.1:80',
    })
    const {next} = explainEntry({...entry, source: `pod/web app;rm -rf ~/istio-proxy`}, {namespace: "team 'a'"})
    expect(next.length).toBeGreaterThan(3)
    for (const command of next) {
      const words = wordsOf(command)
      // Nothing ran: every data value came back as one literal word.
      expect(words.join('\n')).not.toMatch(/^uid=/m)
      if (command.includes('--fqdn')) expect(words[words.indexOf('--fqdn') + 1]).toBe(`svc${EVIL}.ns'x.svc.cluster.local`)
      if (command.includes('--cluster')) expect(words[words.indexOf('--cluster') + 1]).toBe(`outbound|80|v1|svc${EVIL}.ns'x.svc.cluster.local`)
      if (command.startsWith('meshdbg')) {
        expect(words[2]).toBe('web app;rm -rf ~')
        expect(words[words.indexOf('-n') + 1]).toBe("team 'a'")
      }
      if (command.startsWith('kubectl get endpoints')) expect(words.slice(2, 5)).toEqual([`svc${EVIL}`, '-n', "ns'x"])
      if (command.startsWith('kubectl get destinationrule')) expect(words.slice(2, 4)).toEqual(['-n', "ns'x"])
    }
  })

  it('the request id in the grep, and the app label in kubectl logs', () => {
    const disconnected = line({response_code: 0, response_flags: 'DC', request_id: `id ${EVIL}`, upstream_cluster: 'inbound|3000||'})
    const grep = explainEntry(disconnected).next.find((command) => command.includes('grep'))!
    expect(wordsOf(grep.replace(/ \| grep /, ' '))).toEqual(['logs', 'FILLED', '-c', 'istio-proxy', `id ${EVIL}`])

    const app503 = line({response_code: 503, response_code_details: 'via_upstream', upstream_cluster: `outbound|80||a b${EVIL}.ns.svc.cluster.local`})
    const logs = explainEntry(app503).next.find((command) => command.startsWith('kubectl logs'))!
    expect(wordsOf(logs)).toEqual(['logs', '-n', 'ns', '-l', `app=a b${EVIL}`])
  })

  it('a value that would be an option becomes the placeholder', () => {
    const entry = line({response_code: 503, response_flags: 'UH', upstream_cluster: 'outbound|80||--kubeconfig=/tmp/x'})
    expect(explainEntry(entry).next).toContain('meshdbg proxy-config cluster <pod> --fqdn <fqdn>  # the cluster exists?')
  })
})
