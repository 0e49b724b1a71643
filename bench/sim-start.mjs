#!/usr/bin/env node
// How long the simulator takes to start the 2,000-proxy scale scenario, two ways, each in a fresh
// Node process: `startSimulator({scenario: 'scale'})` in-process (import, then start: wall and CPU
// time), and `node dist/sim/cli.js --scenario scale` from spawn until it prints its KUBECONFIG line
// (what a user or bench/sync-status.mjs waits for). Prints medians, the load average, and
// PASS/FAIL against the 2 s target.
//
//   node bench/sim-start.mjs [--runs 5] [--target-ms 2000]
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {log, median} from './measure.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const simIndex = join(root, 'dist', 'sim', 'index.js')
const simCli = join(root, 'dist', 'sim', 'cli.js')

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const i = args.indexOf(name)
  const value = i >= 0 ? Number(args[i + 1]) : fallback
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`)
  return value
}
const runs = option('--runs', 5)
const targetMs = option('--target-ms', 2000)
if (!existsSync(simIndex)) throw new Error('dist/sim is missing: run npm run build first')

/** One fresh process: import the simulator, start the scale scenario, close it; wall and CPU in ms. */
function inProcess() {
  const script = `
    const c0 = process.cpuUsage(), t0 = performance.now()
    const {startSimulator} = await import(${JSON.stringify(simIndex)})
    const t1 = performance.now()
    const sim = await startSimulator({scenario: 'scale'})
    const t2 = performance.now(), c = process.cpuUsage(c0)
    console.log(JSON.stringify({importMs: t1 - t0, startMs: t2 - t1, cpuMs: (c.user + c.system) / 1000}))
    await sim.close()`
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8', timeout: 60_000})
  if (result.status !== 0) throw new Error(`in-process start failed: ${result.stderr.trim().split('\n').pop()}`)
  return JSON.parse(result.stdout.trim().split('\n').pop())
}

/** CPU time (user + system) of a running process so far, in ms, from /proc (Linux; else undefined). */
function processCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10 // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return undefined
  }
}

/** `node dist/sim/cli.js --scenario scale` until its KUBECONFIG line: wall and CPU time in ms. */
function cliReady() {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [simCli, '--scenario', 'scale'], {stdio: ['ignore', 'pipe', 'pipe']})
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes('KUBECONFIG=')) {
        const ms = performance.now() - started
        const cpuMs = processCpuMs(child.pid)
        child.kill('SIGTERM')
        resolve({ms, cpuMs})
      }
    })
    child.on('exit', (code) => {
      clearTimeout(guard)
      if (!out.includes('KUBECONFIG=')) reject(new Error(`dist/sim/cli.js exited ${code} before printing KUBECONFIG`))
    })
  })
}

const samples = {startMs: [], importMs: [], cpuMs: [], cliMs: [], cliCpuMs: []}
for (let i = 1; i <= runs; i++) {
  const one = inProcess()
  const cli = await cliReady()
  samples.startMs.push(one.startMs)
  samples.importMs.push(one.importMs)
  samples.cpuMs.push(one.cpuMs)
  samples.cliMs.push(cli.ms)
  if (cli.cpuMs !== undefined) samples.cliCpuMs.push(cli.cpuMs)
  log(`  run ${i}/${runs}: import ${Math.round(one.importMs)} ms + start ${Math.round(one.startMs)} ms (cpu ${Math.round(one.cpuMs)} ms), cli ready ${Math.round(cli.ms)} ms (cpu ${cli.cpuMs ?? 'n/a'} ms)`)
}
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.length ? Math.round(median(v)) : 'n/a']))
const wall = m.importMs + m.startMs
console.log(`simulator start (scale scenario), ${runs} runs, medians`)
console.log(`  in-process     ${wall} ms wall (import ${m.importMs} + start ${m.startMs}), ${m.cpuMs} ms cpu   (target <= ${targetMs} ms: ${wall <= targetMs ? 'PASS' : 'FAIL'})`)
console.log(`  cli to ready   ${m.cliMs} ms wall, ${m.cliCpuMs} ms cpu   (target <= ${targetMs} ms: ${m.cliMs <= targetMs ? 'PASS' : 'FAIL'})`)
console.log(`  machine        ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
