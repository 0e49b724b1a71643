import {spawn} from 'node:child_process'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {cliPath, runCli} from '../helpers/cli.js'

const dump = join(import.meta.dirname, '..', 'fixtures', 'clusters', 'dump.json')

// Bad input gets one line on stderr, a documented exit code, no stack trace and no hang.
describe('errors and exit codes', () => {
  it.each([
    ['malformed JSON', ['pc', 'c', '-f', '-'], '{"configs": [{"@type": ', 6, /^Error: stdin: not valid JSON \(truncated\?\)/],
    ['an HTML error page', ['pc', 'c', '-f', '-'], '<!DOCTYPE html><html>502 Bad Gateway</html>', 6, /^Error: stdin: it looks like an HTML page, not JSON/],
    ['an empty file', ['pc', 'c', '-f', '-'], '', 6, /^Error: stdin: it is empty/],
    ['a JSON list', ['pc', 'c', '-f', '-'], '[]', 6, /^Error: stdin: got a JSON list/],
  ])('%s', async (_name, args, input, code, message) => {
    const result = await runCli(args as string[], {input: input as string})
    expect(result.code).toBe(code)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message as RegExp)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('a missing file is a usage error (exit 2)', async () => {
    const result = await runCli(['pc', 'c', '-f', '/nonexistent/dump.json'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: cannot read /nonexistent/dump.json: no such file\n')
  })

  it('neither target nor --file is a usage error (exit 2)', async () => {
    const result = await runCli(['pc', 'c'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: proxy-config cluster requires a pod/workload name or --file\n')
  })

  it('an unsupported -o is a usage error (exit 2)', async () => {
    const result = await runCli(['pc', 'c', '-f', dump, '-o', 'xml'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: output format "xml" not supported (use short, table, wide, json, yaml)\n')
  })

  it('a bad --timeout is a usage error (exit 2)', async () => {
    const result = await runCli(['pc', 'c', '-f', dump, '--timeout', 'soon'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('invalid --timeout "soon"')
  })

  it('an unknown flag is a usage error (exit 2)', async () => {
    const result = await runCli(['pc', 'c', '-f', dump, '--bogus'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--bogus')
  })

  it('--json reports errors as JSON on stdout with the exit code', async () => {
    const result = await runCli(['pc', 'c', '-f', '-', '--json'], {input: 'nope'})
    expect(result.code).toBe(6)
    const body = JSON.parse(result.stdout)
    expect(body.status).toBe(6)
    expect(body.error.kind).toBe('bad-data')
    expect(body.error.message).toMatch(/^stdin: not valid JSON/)
  })

  it('DEBUG=meshdbg adds the stack trace', async () => {
    const result = await runCli(['pc', 'c', '-f', '-'], {input: '[]', env: {DEBUG: 'meshdbg'}})
    expect(result.code).toBe(6)
    expect(result.stderr).toMatch(/^Error: stdin: got a JSON list/)
    expect(result.stderr).toContain('at ')
  })

  it('-f - honours --timeout while stdin stays open (exit 5, no hang)', async () => {
    const child = spawn(process.execPath, [cliPath, 'pc', 'c', '-f', '-', '--timeout', '500ms'], {stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    clearTimeout(killer)
    child.stdin.destroy()
    expect(code).toBe(5)
    expect(stderr).toBe('Error: timed out after 500ms (raise --timeout)\n')
  })

  it('--flag=false works for boolean flags with and without a --no- form', async () => {
    const result = await runCli(['pc', 'c', '-f', dump, '--port', '443', '--no-color=false', '--verbose=false'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('api.example.com')
  })

  it.each([[['--help']], [['proxy-config', 'cluster', '--help']], [['sync-status', '--help']]])('%j documents the exit codes', async (args) => {
    const result = await runCli(args)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/\nEXIT CODES\n  0   success\n[\s\S]*\n  6   unusable data from a proxy or file/)
  })
})
