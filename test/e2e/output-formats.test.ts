import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'
import YAML from 'yaml'

import {runCli} from '../helpers/cli.js'

const tricky = join(import.meta.dirname, '..', 'fixtures', 'formats', 'tricky-strings.json')

const pyYamlLoad = (text: string): unknown => {
  if (spawnSync('python3', ['-c', 'import yaml']).status !== 0) {
    console.log('notice: python3 with PyYAML not found; the PyYAML round trip is skipped')
    return undefined
  }
  const script = 'import sys,yaml,json; sys.stdout.write(json.dumps(yaml.safe_load(sys.stdin.buffer.read().decode("utf-8"))))'
  return JSON.parse(spawnSync('python3', ['-c', script], {input: text, encoding: 'utf8'}).stdout)
}

describe('-o yaml loads back to the -o json data', () => {
  it.each([
    ['pc all', ['pc', 'all']],
    ['pc cluster', ['pc', 'cluster']],
  ])('%s on a dump full of tricky strings', async (_name, command) => {
    const json = await runCli([...command, '-f', tricky, '-o', 'json'])
    const yaml = await runCli([...command, '-f', tricky, '-o', 'yaml'])
    expect(json.code).toBe(0)
    expect(yaml.code).toBe(0)
    const expected = JSON.parse(json.stdout)
    expect(YAML.parse(yaml.stdout, {version: '1.1'})).toEqual(expected)
    expect(YAML.parse(yaml.stdout, {version: '1.2'})).toEqual(expected)
    const loaded = pyYamlLoad(yaml.stdout)
    if (loaded !== undefined) expect(loaded).toEqual(expected)
  })
})

describe('deeply nested data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdbg-deep-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const deepDump = (levels: number): string => {
    const file = join(dir, `deep-${levels}.json`)
    const metadata = '{"a":'.repeat(levels) + '"x"' + '}'.repeat(levels)
    const section = `{"@type":"type.googleapis.com/envoy.admin.v3.ClustersConfigDump","static_clusters":[{"cluster":{"name":"c","metadata":${metadata}}}]}`
    writeFileSync(file, `{"configs":[${section}]}`)
    return file
  }

  it('-o json prints 6,000 levels', async () => {
    const result = await runCli(['pc', 'cluster', '-f', deepDump(6000), '-o', 'json'], {killAfterMs: 60_000})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    let node = JSON.parse(result.stdout)[0].metadata
    for (let level = 1; level < 6000; level++) node = node.a
    expect(node).toEqual({a: 'x'})
  })

  it('-o yaml at 1,000 levels exits 6 with one line', async () => {
    const result = await runCli(['pc', 'cluster', '-f', deepDump(1000), '-o', 'yaml'])
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('Error: the data is nested too deeply to print as YAML (1002 levels); -o json prints it\n')
  })
})
