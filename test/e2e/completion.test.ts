// Shell completion end to end: the bash script `meshdbg completion bash` prints, sourced into bash,
// its function run with COMP_WORDS as bash sets them, asking the built CLI (and the simulated
// cluster for namespaces, contexts, pods and workloads).
import {spawn} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {cliPath, runCli} from '../helpers/cli.js'

// The 2 s look-up deadline is for people at a shell; a test machine under load may need longer
// (the deadline itself is tested below with an API server that never answers).
const LOADED_MACHINE = {MESHDBG_COMPLETION_TIMEOUT: '20s'}

let sim: Simulator
let bin: string
beforeAll(async () => {
  sim = await startSimulator()
  // The script calls the program as typed (COMP_WORDS[0]): put a `meshdbg` on PATH.
  bin = mkdtempSync(join(tmpdir(), 'meshdbg-completion-'))
  writeFileSync(join(bin, 'meshdbg'), `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`)
  chmodSync(join(bin, 'meshdbg'), 0o755)
  const script = await runCli(['completion', 'bash'])
  expect(script.code).toBe(0)
  writeFileSync(join(bin, 'completion.bash'), script.stdout)
})
afterAll(async () => {
  await sim.close()
  rmSync(bin, {recursive: true, force: true})
})

/** COMPREPLY after pressing TAB on the last word of `words` (the words after `meshdbg`). */
function complete(words: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<string[]> {
  const quoted = ['meshdbg', ...words].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ')
  const script = `source '${join(bin, 'completion.bash')}' && COMP_WORDS=(${quoted}) && COMP_CWORD=${words.length} && _meshdbg && printf '%s\\n' "\${COMPREPLY[@]}"`
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {cwd, env: {...process.env, ...LOADED_MACHINE, KUBECONFIG: sim.kubeconfigPath, PATH: [bin, process.env.PATH].join(delimiter), ...env}})
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(killer)
      if (code !== 0) reject(new Error(`bash exited ${code}: ${err}`))
      else resolve(out.split('\n').filter((line) => line !== ''))
    })
  })
}

// Each case runs bash and the CLI: slow on a loaded machine, so the cases get a minute each.
const shellHere = (name: string) => ['/usr/bin', '/bin', '/usr/local/bin'].some((dir) => existsSync(join(dir, name)))

/** The lines a shell prints for `script`, with the CLI on PATH and the simulator's kubeconfig. */
function shell(name: string, script: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(name, ['-c', script], {env: {...process.env, ...LOADED_MACHINE, KUBECONFIG: sim.kubeconfigPath, PATH: [bin, process.env.PATH].join(delimiter)}})
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(killer)
      if (code !== 0) reject(new Error(`${name} exited ${code}: ${err}`))
      else resolve(out.split('\n').filter((line) => line !== ''))
    })
  })
}

describe('meshdbg completion (live)', {timeout: 60_000}, () => {
  it('completes command names, canonical subcommands under an alias, and a prefix', async () => {
    const root = await complete([''])
    expect(root).toEqual(expect.arrayContaining(['access-log', 'proxy-config', 'sync-status', 'version', 'completion']))
    // Aliases and the hidden back end stay out of the list (they still resolve).
    expect(root).not.toContain('ps')
    expect(root).not.toContain('__complete')
    expect(await complete(['pc', ''])).toEqual(['all', 'bootstrap', 'cluster', 'ecds', 'endpoint', 'listener', 'log', 'route', 'secret'])
    expect(await complete(['proxy-config', 'cl'])).toEqual(['cluster'])
    expect(await complete(['sy'])).toEqual(['sync-status'])
  })

  it('completes flags of the command, leaving out those already given, and -o values per command', async () => {
    const flags = await complete(['pc', 'cluster', '--port', '80', '--'])
    expect(flags).toEqual(expect.arrayContaining(['--fqdn', '--direction', '--namespace', '--output', '--timeout']))
    expect(flags).not.toContain('--port')
    expect(await complete(['pc', 'r', '-o', ''])).toEqual(['short', 'table', 'wide', 'json', 'yaml'])
    expect(await complete(['sync-status', '--output', ''])).toEqual(['short', 'table', 'wide', 'json', 'yaml'])
    expect(await complete(['istiod', 'sy'])).toEqual(['syncz'])
    expect(await complete(['completion', ''])).toEqual(['bash', 'zsh', 'fish'])
  })

  it('completes namespaces and contexts from the kubeconfig and cluster', async () => {
    expect(await complete(['pc', 'r', '-n', ''])).toEqual(['default', 'istio-system', 'istioinaction', 'kube-system'])
    expect(await complete(['sync-status', '-i', 'istio-'])).toEqual(['istio-system'])
    expect(await complete(['log', '--context', ''])).toEqual(['sim'])
  })

  it('completes live targets: pods of the namespace given with -n, kinds, then workloads of a kind', async () => {
    const targets = await complete(['pc', 'r', '-n', 'istioinaction', ''])
    expect(targets).toEqual(['catalog-5c7f8f8447-f54sj', 'catalog-v2-6d4c8b7d9f-8xw2p', 'catalog-v2-6d4c8b7d9f-zqgfl', 'webapp-7c5d7b8c6b-4vzd9', 'deploy/', 'svc/', 'sts/', 'ds/', 'rs/', 'job/', 'pod/'])
    expect(await complete(['pc', 'r', '--namespace=istioinaction', 'deploy/'])).toEqual(['deploy/catalog', 'deploy/catalog-v2', 'deploy/webapp'])
    expect(await complete(['log', '-n', 'istioinaction', 'web'])).toEqual(['webapp-7c5d7b8c6b-4vzd9'])
    // Without -n: the kubeconfig context's namespace (the simulator's is "default").
    expect(await complete(['pc', 'cluster', 'svc/h'])).toEqual(['svc/httpbin'])
    expect(await complete(['pc', 'cluster', 'nosuchkind/'])).toEqual([])
  })

  it('leaves -f to file-name completion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdbg-completion-files-'))
    writeFileSync(join(dir, 'dump.json'), '{}')
    try {
      expect(await complete(['pc', 'cluster', '-f', 'du'], {}, dir)).toEqual(['dump.json'])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('an API server that never answers costs the short deadline, not the shell: static candidates only', async () => {
    const silent: Server = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as {port: number}).port
    const dir = mkdtempSync(join(tmpdir(), 'meshdbg-completion-kc-'))
    const kubeconfig = join(dir, 'config')
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]\ncurrent-context: x\n`)
    try {
      expect(await complete(['pc', 'r', ''], {KUBECONFIG: kubeconfig, MESHDBG_COMPLETION_TIMEOUT: '300ms'})).toEqual(['deploy/', 'svc/', 'sts/', 'ds/', 'rs/', 'job/', 'pod/'])
    } finally {
      silent.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('zsh: the script\'s function offers the back end\'s candidates, and files for -f (when zsh is here)', async (context) => {
    if (!shellHere('zsh')) {
      console.warn('completion test: no zsh here; zsh completion not run')
      context.skip()
    }
    const script = await runCli(['completion', 'zsh'])
    writeFileSync(join(bin, 'completion.zsh'), script.stdout)
    // compadd and _files stubbed to print what zsh would offer (they need a live line editor).
    const zsh = (words: string[]) => shell('zsh', `source '${join(bin, 'completion.zsh')}'; compadd() { local arr=\${@[-1]}; print -l -- \${(P)arr} }; _files() { print FILES }; words=(meshdbg ${words.map((word) => `'${word}'`).join(' ')}); CURRENT=${words.length + 1}; _meshdbg`)
    expect(await zsh(['pc', ''])).toEqual(['all', 'bootstrap', 'cluster', 'ecds', 'endpoint', 'listener', 'log', 'route', 'secret'])
    expect(await zsh(['pc', 'r', '-n', 'istioinaction', 'deploy/'])).toEqual(['deploy/catalog', 'deploy/catalog-v2', 'deploy/webapp'])
    expect(await zsh(['pc', 'c', '-f', ''])).toEqual(['FILES'])
  })

  it('fish: `complete -C` offers the back end\'s candidates (when fish is here)', async (context) => {
    if (!shellHere('fish')) {
      console.warn('completion test: no fish here; fish completion not run')
      context.skip()
    }
    const script = await runCli(['completion', 'fish'])
    writeFileSync(join(bin, 'completion.fish'), script.stdout)
    const fish = (line: string) => shell('fish', `source '${join(bin, 'completion.fish')}'; complete -C '${line}'`)
    expect(await fish('meshdbg sync-status -o ')).toEqual(['json', 'short', 'table', 'wide', 'yaml'])
    expect(await fish('meshdbg pc r -n istioinaction deploy/')).toEqual(['deploy/catalog', 'deploy/catalog-v2', 'deploy/webapp'])
  })

  it('prints zsh and fish scripts that call the same back end', async () => {
    const zsh = await runCli(['completion', 'zsh'])
    expect(zsh.code).toBe(0)
    expect(zsh.stdout).toMatch(/^#compdef meshdbg\n/)
    expect(zsh.stdout).toContain('__complete -- "${(@)words[2,CURRENT]}"')
    expect(zsh.stdout).toContain('compdef _meshdbg meshdbg')
    const fish = await runCli(['completion', 'fish'])
    expect(fish.code).toBe(0)
    expect(fish.stdout).toContain("complete -c meshdbg -f -a '(__meshdbg_complete)'")
    const bad = await runCli(['completion', 'tcsh'])
    expect(bad.code).toBe(2)
  })
})
