#!/usr/bin/env node
// The port-forward transport alone: N bodies of S bytes fetched from a simulated Envoy's admin port
// (:15000/config_dump, the body set with the simulator's --config-dump) through meshdbg's
// WebSocket port-forward (v4.channel.k8s.io), each on a forward of its own (a new upgrade per
// fetch, as diagnose -A opens per pod), P at a time. The simulator runs as its own process; the
// client is this process (the built fetchFromPod). Reports per run wall time, the CPU time of the
// client and of the simulator, and MB/s, medians over the runs.
//
// With several --root (built checkouts, e.g. this one and /work/main), each root gets its own
// simulator and the runs alternate between roots (A B A B ...), so a noisy machine hits both alike.
//
//   node bench/transport.mjs [--root DIR]... [--n 40] [--size 3600000] [--parallel 8] [--runs 5]
//     [--sim-cpu-prof DIR]   (writes each simulator's V8 CPU profile there when it stops)
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {argErrors, log, median, startSimulatorProcess} from './measure.mjs'

const {fail, positive} = argErrors('bench/transport')
const here = join(dirname(fileURLToPath(import.meta.url)), '..')

function parseArgs(argv) {
  const opts = {roots: [], n: 40, size: 3_600_000, parallel: 8, runs: 5, simProfile: undefined}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => argv[++i] ?? fail(`${arg} needs a value`)
    if (arg === '--root') opts.roots.push(resolve(value()))
    else if (arg === '--n') opts.n = positive(value(), arg)
    else if (arg === '--size') opts.size = positive(value(), arg)
    else if (arg === '--parallel') opts.parallel = positive(value(), arg)
    else if (arg === '--runs') opts.runs = positive(value(), arg)
    else if (arg === '--sim-cpu-prof') opts.simProfile = resolve(value())
    else if (arg === '-h' || arg === '--help') {
      console.log('usage: node bench/transport.mjs [--root DIR]... [--n N] [--size BYTES] [--parallel P] [--runs R]')
      process.exit(0)
    } else fail(`unknown argument ${arg}`)
  }
  if (opts.roots.length === 0) opts.roots.push(here)
  return opts
}

const POD = {name: 'catalog-5c7f8f8447-f54sj', namespace: 'istioinaction'}

/** A JSON config dump of exactly `size` bytes (a shape Envoy could send; the bytes are what matter). */
function dumpOfSize(size) {
  const head = '{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump","pad":"'
  const tail = '"}]}'
  const fill = Math.max(0, size - head.length - tail.length)
  const unit = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return head + unit.repeat(Math.ceil(fill / unit.length)).slice(0, fill) + tail
}

function cpuSecondsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** One root: its simulator process and its own copy of the client modules. */
async function openRoot(root, dumpFile, simProfile) {
  const profile = simProfile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', simProfile]
  const sim = await startSimulatorProcess([...profile, join(root, 'dist', 'sim', 'cli.js'), '--scenario', 'catalog', '--config-dump', `${POD.name}.${POD.namespace}=${dumpFile}`])
  const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href)
  const [{fetchFromPod, closePodForwards}, {Scope}] = await Promise.all([load('lib/kube/pod-http.js'), load('lib/scope.js')])
  return {root, sim, fetchFromPod, closePodForwards, Scope}
}

/** N fetches, P at a time, each on a forward of its own (its own scope, closed after the fetch). */
async function runOnce(r, opts) {
  const controller = new AbortController()
  let next = 0
  let bytes = 0
  const worker = async () => {
    while (next < opts.n) {
      next++
      const scope = new r.Scope()
      const ctx = {kubeconfig: r.sim.kubeconfig, timeoutMs: 120_000, signal: controller.signal, scope, note() {}, spin: (_t, work) => work}
      try {
        const answer = await r.fetchFromPod(ctx, POD, 15000, '/config_dump')
        const length = answer.bytes?.length ?? Buffer.byteLength(answer.text)
        if (length !== opts.size) throw new Error(`got ${length} bytes, expected ${opts.size}`)
        bytes += length
      } finally {
        await scope.close()
      }
    }
  }
  const simBefore = cpuSecondsOf(r.sim.child.pid)
  const cpuBefore = process.cpuUsage()
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({length: opts.parallel}, worker))
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const cpu = process.cpuUsage(cpuBefore)
  return {ms, clientCpuMs: (cpu.user + cpu.system) / 1000, simCpuMs: (cpuSecondsOf(r.sim.child.pid) - simBefore) * 1000, mbPerS: bytes / 1e6 / (ms / 1000)}
}

const opts = parseArgs(process.argv.slice(2))
const dumpFile = join(mkdtempSync(join(tmpdir(), 'meshdbg-bench-transport-')), 'dump.json')
writeFileSync(dumpFile, dumpOfSize(opts.size))
const roots = []
const stopSimulators = () => roots.forEach((r) => r.sim.child.exitCode === null && r.sim.child.kill('SIGTERM'))
process.on('exit', stopSimulators)
for (const root of opts.roots) roots.push(await openRoot(root, dumpFile, opts.simProfile))
log(`load before: ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
for (const r of roots) await runOnce(r, {...opts, n: Math.min(opts.n, 2 * opts.parallel)}) // warm-up: JIT, the simulator's first answers
const samples = new Map(roots.map((r) => [r.root, []]))
for (let i = 0; i < opts.runs; i++) {
  for (const r of roots) {
    const s = await runOnce(r, opts)
    samples.get(r.root).push(s)
    log(`  run ${i + 1}/${opts.runs} ${r.root}: ${s.ms.toFixed(0)} ms, client cpu ${s.clientCpuMs.toFixed(0)} ms, sim cpu ${s.simCpuMs.toFixed(0)} ms, ${s.mbPerS.toFixed(0)} MB/s`)
  }
}
console.log(`transport: ${opts.n} x ${opts.size} B, ${opts.parallel} at a time, a new forward per fetch; medians of ${opts.runs} runs`)
for (const r of roots) {
  const s = samples.get(r.root)
  const med = (key) => median(s.map((x) => x[key]))
  console.log(`  ${r.root}: wall ${med('ms').toFixed(0)} ms, client cpu ${med('clientCpuMs').toFixed(0)} ms, sim cpu ${med('simCpuMs').toFixed(0)} ms, ${med('mbPerS').toFixed(0)} MB/s`)
}
console.log(`  machine ${cpus().length} cores, load after ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
stopSimulators()
// A profiling simulator writes its profile as it exits: wait for that.
await Promise.all(roots.map((r) => r.sim.child.exitCode === null ? new Promise((done) => r.sim.child.once('exit', done)) : undefined))
process.exit(0)
