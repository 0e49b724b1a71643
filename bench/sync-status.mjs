#!/usr/bin/env node
// Live `meshdbg sync-status` on the simulator's scale scenario (2,000+ proxies across 3 istiods):
// the simulator runs as its own process (node dist/sim/cli.js --scenario scale), and every run is
// the built CLI end to end (spawn to exit: node startup, kubeconfig, pod list, three port-forwards,
// three /debug/syncz bodies, merge, table). Prints median wall time and peak RSS, and PASS/FAIL
// against the 1 s target.
//
//   node bench/sync-status.mjs [--runs 5] [--target-ms 1000] [-- extra sync-status args]
import {existsSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {argErrors, log, median, runCliTimed, startSimulatorProcess, startupFloorMs} from './measure.mjs'

const {fail, positive} = argErrors('bench/sync-status')

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runJs = join(root, 'bin', 'run.js')
const simJs = join(root, 'dist', 'sim', 'cli.js')

function parseArgs(argv) {
  const opts = {runs: Number(process.env.BENCH_RUNS) || 5, targetMs: 1000, extra: []}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      opts.extra = argv.slice(i + 1)
      break
    }
    const value = () => argv[++i] ?? fail(`${arg} needs a value`)
    if (arg === '--runs') opts.runs = positive(value(), arg)
    else if (arg === '--target-ms') opts.targetMs = positive(value(), arg)
    else if (arg === '-h' || arg === '--help') {
      console.log('usage: node bench/sync-status.mjs [--runs N] [--target-ms MS] [-- extra sync-status args]')
      process.exit(0)
    } else fail(`unknown argument ${arg}`)
  }
  return opts
}

/** The scale scenario's simulator, as its own process. */
const startSimulator = () => startSimulatorProcess([simJs, '--scenario', 'scale'])

function runOnce(kubeconfig, extra, time) {
  const run = runCliTimed([runJs, 'sync-status', '--timeout', '10s', ...extra], {kubeconfig, time})
  const rows = run.stdout.split('\n').filter(Boolean).slice(1)
  const istiods = new Set(rows.map((row) => row.trim().split(/\s{2,}/).at(-2)))
  return {...run, rows: rows.length, istiods: istiods.size}
}

const opts = parseArgs(process.argv.slice(2))
if (!existsSync(simJs) || !existsSync(join(root, 'oclif.manifest.json'))) fail('build first: npm run build')
const time = existsSync('/usr/bin/time')
if (!time) log('/usr/bin/time is not available: peak RSS is reported as n/a')

log('starting the simulator (scale scenario)...')
const {child, kubeconfig} = await startSimulator()
const stop = () => child.exitCode === null && child.kill('SIGTERM')
process.on('exit', stop)
try {
  log('warm-up run (not counted)...')
  const warm = runOnce(kubeconfig, opts.extra, false)
  log(`  ${warm.rows} proxies from ${warm.istiods} istiods in ${warm.ms.toFixed(0)} ms`)
  const samples = []
  for (let i = 0; i < opts.runs; i++) {
    const sample = runOnce(kubeconfig, opts.extra, time)
    samples.push(sample)
    log(`  run ${i + 1}/${opts.runs}: ${sample.ms.toFixed(0)} ms, ${sample.rssKb === undefined ? 'n/a' : `${(sample.rssKb / 1024).toFixed(0)} MB`}`)
  }
  // The same CLI doing no I/O, afterwards: what node + oclif startup costs right now.
  const floor = startupFloorMs(runJs, opts.runs)
  const wall = median(samples.map((s) => s.ms))
  const rss = samples.every((s) => s.rssKb !== undefined) ? Math.max(...samples.map((s) => s.rssKb)) : undefined
  const cpu = samples.every((s) => s.cpuS !== undefined) ? median(samples.map((s) => s.cpuS)) : undefined
  const verdict = wall <= opts.targetMs ? 'PASS' : 'FAIL'
  console.log(`sync-status (live, scale scenario): ${samples[0].rows} proxies, ${samples[0].istiods} istiods, ${opts.runs} runs`)
  console.log(`  median wall   ${wall.toFixed(0)} ms   (target <= ${opts.targetMs} ms: ${verdict})`)
  console.log(`  median cpu    ${cpu === undefined ? 'n/a' : `${(cpu * 1000).toFixed(0)} ms`}   (user+system)`)
  console.log(`  peak RSS      ${rss === undefined ? 'n/a' : `${(rss / 1024).toFixed(0)} MB`}`)
  console.log(`  samples       ${samples.map((s) => s.ms.toFixed(0)).join(', ')} ms`)
  console.log(`  startup floor ${floor.toFixed(0)} ms   (median of meshdbg --version, same machine, same moment)`)
  console.log(`  machine       ${cpus().length} cores, load ${loadavg().map((n) => n.toFixed(1)).join(' ')}`)
} finally {
  stop()
}
