#!/usr/bin/env node
// Live `meshdbg diagnose -A` on the simulator's scale scenario (500 pods, ~2,000-cluster sidecar
// dumps of ~11 MB each, 3 istiods): the simulator runs as its own process (node dist/sim/cli.js
// --scenario scale), and every run is the built CLI end to end (every check on every meshed pod:
// Envoy admin, pilot-agent, access logs, istiod syncz and versions). Exit 11 (failures found: the
// scenario has every sync state) counts as a completed run. Prints median wall time and peak RSS,
// and PASS/FAIL against the 10 s and 300 MB targets.
//
//   node bench/diagnose.mjs [--runs 3] [--target-ms 10000] [--target-mb 300] [-- extra diagnose args]
import {existsSync, readFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {argErrors, log, median, runCliTimed, startSimulatorProcess, startupFloorMs} from './measure.mjs'

const {fail, positive} = argErrors('bench/diagnose')

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runJs = join(root, 'bin', 'run.js')
const simJs = join(root, 'dist', 'sim', 'cli.js')

function parseArgs(argv) {
  const opts = {runs: 3, targetMs: 10_000, targetMb: 300, extra: []}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      opts.extra = argv.slice(i + 1)
      break
    }
    const value = () => argv[++i] ?? fail(`${arg} needs a value`)
    if (arg === '--runs') opts.runs = positive(value(), arg)
    else if (arg === '--target-ms') opts.targetMs = positive(value(), arg)
    else if (arg === '--target-mb') opts.targetMb = positive(value(), arg)
    else if (arg === '-h' || arg === '--help') {
      console.log('usage: node bench/diagnose.mjs [--runs N] [--target-ms MS] [--target-mb MB] [-- extra diagnose args]')
      process.exit(0)
    } else fail(`unknown argument ${arg}`)
  }
  return opts
}

/** The scale scenario's simulator, as its own process. */
const startSimulator = () => startSimulatorProcess([simJs, '--scenario', 'scale'])

/** A process's CPU time so far (user + system) in seconds, from /proc; undefined elsewhere. */
function cpuSecondsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

/** A process's peak RSS so far in MB (VmHWM), from /proc; undefined elsewhere. */
function peakRssMbOf(pid) {
  try {
    return Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024 || undefined
  } catch {
    return undefined
  }
}

function runOnce(kubeconfig, extra, time) {
  const run = runCliTimed([runJs, 'diagnose', '-A', '--short', '--timeout', '30m', ...extra], {kubeconfig, time, okStatuses: [0, 10, 11]})
  // The summary line: "Diagnosed 495 proxies: 12 failed, 0 errors, 3 warnings, 3900 passed".
  // --short ends with hints and next commands, so find the summary line rather than take the last one.
  const summary = run.stdout.split('\n').findLast((line) => line.startsWith('Diagnosed ')) ?? ''
  const errors = Number(/, (\d+) errors?,/.exec(summary)?.[1] ?? NaN)
  return {...run, summary, errors}
}

const opts = parseArgs(process.argv.slice(2))
if (!existsSync(simJs) || !existsSync(join(root, 'oclif.manifest.json'))) fail('build first: npm run build')
const time = existsSync('/usr/bin/time')
if (!time) log('/usr/bin/time is not available: peak RSS is reported as n/a')

log('starting the simulator (scale scenario)...')
const {child, kubeconfig, died} = await startSimulator()
const stop = () => child.exitCode === null && child.kill('SIGTERM')
process.on('exit', stop)
/** A failed run: blame the simulator when it is gone (diagnose then only saw ECONNREFUSED). */
async function failed(error) {
  const death = await died()
  console.error(`bench/diagnose: ${death ?? error.message}`)
  process.exit(1)
}
try {
  log('warm-up run (not counted: the simulator generates each proxy\'s config on its first request)...')
  const warm = runOnce(kubeconfig, opts.extra, false)
  log(`  ${warm.summary} in ${warm.ms.toFixed(0)} ms`)
  const samples = []
  for (let i = 0; i < opts.runs; i++) {
    // The simulator's own CPU during the run: it stands in for 500 Envoys and shares the machine.
    const simBefore = cpuSecondsOf(child.pid)
    const sample = runOnce(kubeconfig, opts.extra, time)
    const simAfter = cpuSecondsOf(child.pid)
    sample.simCpuS = simBefore === undefined || simAfter === undefined ? undefined : simAfter - simBefore
    samples.push(sample)
    log(`  run ${i + 1}/${opts.runs}: ${sample.ms.toFixed(0)} ms, ${sample.rssKb === undefined ? 'n/a' : `${(sample.rssKb / 1024).toFixed(0)} MB`}`)
  }
  // The same CLI doing no I/O, afterwards: what node + oclif startup costs right now.
  const floor = startupFloorMs(runJs, opts.runs)
  const wall = median(samples.map((s) => s.ms))
  const rss = samples.every((s) => s.rssKb !== undefined) ? Math.max(...samples.map((s) => s.rssKb)) : undefined
  const cpu = samples.every((s) => s.cpuS !== undefined) ? median(samples.map((s) => s.cpuS)) : undefined
  const verdict = wall <= opts.targetMs ? 'PASS' : 'FAIL'
  const rssVerdict = rss === undefined ? 'n/a' : rss / 1024 <= opts.targetMb ? 'PASS' : 'FAIL'
  console.log(`diagnose -A (live, scale scenario): ${opts.runs} runs; last: ${samples.at(-1).summary}`)
  console.log(`  median wall   ${wall.toFixed(0)} ms   (target <= ${opts.targetMs} ms: ${verdict})`)
  const simCpu = samples.every((s) => s.simCpuS !== undefined) ? median(samples.map((s) => s.simCpuS)) : undefined
  console.log(`  median cpu    ${cpu === undefined ? 'n/a' : `${(cpu * 1000).toFixed(0)} ms`}   (user+system)`)
  console.log(`  simulator cpu ${simCpu === undefined ? 'n/a' : `${(simCpu * 1000).toFixed(0)} ms`}   (user+system of the simulator process during the runs, median)`)
  const simRss = peakRssMbOf(child.pid)
  console.log(`  simulator RSS ${simRss === undefined ? 'n/a' : `${simRss.toFixed(0)} MB`}   (the simulator's peak, warm-up included: it caches every proxy's answers)`)
  console.log(`  peak RSS      ${rss === undefined ? 'n/a' : `${(rss / 1024).toFixed(0)} MB`}   (target <= ${opts.targetMb} MB: ${rssVerdict})`)
  console.log(`  ERROR findings ${samples.map((s) => s.errors).join(', ')}   (checks that hit --check-timeout or could not fetch their data)`)
  console.log(`  samples       ${samples.map((s) => s.ms.toFixed(0)).join(', ')} ms`)
  console.log(`  startup floor ${floor.toFixed(0)} ms   (median of meshdbg --version, same machine, same moment)`)
  console.log(`  machine       ${cpus().length} cores, load ${loadavg().map((n) => n.toFixed(1)).join(' ')}`)
} catch (error) {
  await failed(error)
} finally {
  stop()
}
