#!/usr/bin/env node
// `npm run bench`: offline performance of meshdbg on generated Envoy config dumps (1, 20, 150 MB),
// side by side with two baselines on the same file: jq reading the same section, and a bare
// `node -e` that only JSON.parses the file (the floor for a parse-everything design).
// Runs are interleaved (meshdbg, jq, floor, meshdbg, ...) so machine noise hits all three alike.
// Results: a table on stdout, progress on stderr, everything in bench/out/results.json.
//
//   npm run bench -- [--runs 5] [--big-runs 3] [--sizes 1MB,20MB,150MB] [--commands cluster,listener]
//                    [--seed 1] [--no-live] [--regen]
//   npm run bench -- --fastpath [...]   (bench/fastpath.mjs: layouts (a)-(d) vs JSON.parse, 2 and 1 cores)
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, totalmem} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {argErrors, ensureTools, floorArgv, fmtMb, fmtMs, fmtX, log, runOnce, summarise, table, verdict} from './measure.mjs'

const {fail, positive} = argErrors('bench')

const benchDir = dirname(fileURLToPath(import.meta.url))
const root = join(benchDir, '..')
const outDir = join(benchDir, 'out')
const runJs = join(root, 'bin', 'run.js')
const genJs = join(benchDir, 'gen-dump.mjs')

const COMMANDS = ['cluster', 'listener', 'route', 'endpoint', 'all']
const SECTION = {cluster: 'ClustersConfigDump', listener: 'ListenersConfigDump', route: 'RoutesConfigDump', endpoint: 'EndpointsConfigDump'}
const TARGETS = {jqRatio: 0.5, floorRatio: 1.5, startupMs: 250}
const BIG = 100e6 // dumps at least this large get --big-runs and the PASS/FAIL targets

function parseArgs(argv) {
  const opts = {runs: Number(process.env.BENCH_RUNS) || 5, bigRuns: 3, sizes: ['1MB', '20MB', '150MB'], commands: COMMANDS, seed: 1, live: true, regen: false}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => argv[++i] ?? fail(`${arg} needs a value`)
    if (arg === '--runs') opts.runs = positive(value(), arg)
    else if (arg === '--big-runs') opts.bigRuns = positive(value(), arg)
    else if (arg === '--sizes') opts.sizes = value().split(',').filter(Boolean)
    else if (arg === '--commands') opts.commands = value().split(',').filter(Boolean)
    else if (arg === '--seed') opts.seed = positive(value(), arg)
    else if (arg === '--no-live') opts.live = false
    else if (arg === '--regen') opts.regen = true
    else if (arg === '-h' || arg === '--help') {
      console.log('usage: npm run bench -- [--runs N] [--big-runs N] [--sizes 1MB,20MB,150MB] [--commands cluster,listener,route,endpoint,all] [--seed N] [--no-live] [--regen]')
      process.exit(0)
    } else fail(`unknown argument ${arg}`)
  }
  return opts
}


// ---------------------------------------------------------------------------------------------
// Tools: jq and GNU time (for peak RSS). Installed with apt when missing; absent tools degrade to n/a.

// ---------------------------------------------------------------------------------------------
// Inputs: generated once per (generator source, size, seed), reused while unchanged.

function ensureDump(label, seed, regen) {
  mkdirSync(outDir, {recursive: true})
  const dump = join(outDir, `dump-${label}.json`)
  const clusters = join(outDir, `dump-${label}.clusters.json`)
  const metaFile = join(outDir, `dump-${label}.meta.json`)
  const generator = createHash('sha256').update(readFileSync(genJs)).digest('hex').slice(0, 16)
  let meta
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8'))
  } catch {}
  const fresh = meta && meta.generator === generator && meta.seed === seed && existsSync(dump) && existsSync(clusters) && statSync(dump).size === meta.bytes && statSync(clusters).size === meta.clusterBytes
  if (!fresh || regen) {
    log(`generating ${relative(root, dump)} (${label}) ...`)
    const result = spawnSync(process.execPath, [genJs, '--size', label, '--seed', String(seed), '--out', dump, '--clusters-out', clusters], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
    if (result.status !== 0) fail(`gen-dump failed for ${label}`)
    const services = Number(/(\d+) services/.exec(result.stdout)?.[1])
    meta = {generator, seed, label, services, bytes: statSync(dump).size, clusterBytes: statSync(clusters).size}
    writeFileSync(metaFile, JSON.stringify(meta, null, 1) + '\n')
  }
  return {label, dump, clusters, ...meta}
}

// ---------------------------------------------------------------------------------------------
// Which meshdbg commands exist in this build

function builtCommands() {
  let manifest = {}
  try {
    manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')).commands ?? {}
  } catch {}
  const status = {}
  for (const name of COMMANDS) {
    const id = `proxy-config:${name}`
    const file = join(root, 'dist', 'commands', 'proxy-config', `${name}.js`)
    status[name] = manifest[id] ? 'ok' : existsSync(file) ? 'missing (in dist/ but not in oclif.manifest.json)' : 'missing'
  }
  return status
}

function newestMtime(dir, suffix) {
  let newest = 0
  if (!existsSync(dir)) return 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, suffix))
    else if (entry.name.endsWith(suffix)) newest = Math.max(newest, statSync(full).mtimeMs)
  }
  return newest
}

// ---------------------------------------------------------------------------------------------
// Measurement

const scratch = join(outDir, 'last-stdout.txt')
const meshdbg = (...args) => [process.execPath, runJs, ...args]

function jqArgv(command, input) {
  if (input.kind === 'clusters-json') return ['jq', '.cluster_statuses[]', input.file]
  const filter = command === 'all' ? '.configs[]' : `.configs[] | select(."@type" | endswith(".${SECTION[command]}"))`
  return ['jq', filter, input.file]
}

function benchCommand(command, input, runs, tools) {
  const argv = meshdbg('proxy-config', command, '-f', input.file)
  // The first run checks that the command works (and warms the page cache); it is not counted.
  const probe = runOnce(argv, tools, {keepStdout: true, scratch})
  if (probe.status !== 0) {
    const reason = probe.stderr.split('\n').find((l) => l.trim()) ?? ''
    return {command, input: input.kind, status: `error (exit ${probe.status}${reason ? `: ${reason.slice(0, 100)}` : ''})`}
  }
  const samples = {meshdbg: [], jq: [], floor: []}
  for (let i = 0; i < runs; i++) {
    samples.meshdbg.push(runOnce(argv, tools))
    if (tools.jq) samples.jq.push(runOnce(jqArgv(command, input), tools))
    samples.floor.push(runOnce(floorArgv(input.file), tools))
  }
  const failed = [...samples.meshdbg, ...samples.jq].find((s) => s.status !== 0)
  const row = {
    command, input: input.kind, status: failed ? `unstable (a run exited ${failed.status})` : 'ok', rows: Math.max(0, probe.lines - 1),
    meshdbg: summarise(samples.meshdbg), jq: tools.jq ? summarise(samples.jq) : undefined, floor: summarise(samples.floor),
  }
  row.ratios = {
    timeVsJq: row.jq ? row.meshdbg.medianMs / row.jq.medianMs : undefined,
    timeVsFloor: row.meshdbg.medianMs / row.floor.medianMs,
    cpuVsJq: row.jq && row.meshdbg.cpuMs && row.jq.cpuMs ? row.meshdbg.cpuMs / row.jq.cpuMs : undefined,
    cpuVsFloor: row.meshdbg.cpuMs && row.floor.cpuMs ? row.meshdbg.cpuMs / row.floor.cpuMs : undefined,
    rssVsJq: row.jq && row.meshdbg.peakRssMb && row.jq.peakRssMb ? row.meshdbg.peakRssMb / row.jq.peakRssMb : undefined,
  }
  return row
}

function benchStartup(dump1MB, runs, tools, available) {
  const cases = [
    ['node -e 0 (reference)', [process.execPath, '-e', '0'], false],
    ['meshdbg --version', meshdbg('--version'), true],
  ]
  if (dump1MB && available.cluster === 'ok') cases.push([`proxy-config cluster -f ${dump1MB.label}`, meshdbg('proxy-config', 'cluster', '-f', dump1MB.file), true])
  const count = Math.max(runs, 10)
  const results = []
  for (const [name, argv, target] of cases) {
    const probe = runOnce(argv, tools) // warm-up (module cache, page cache), not counted
    if (probe.status !== 0) {
      results.push({name, status: `error (exit ${probe.status})`})
      continue
    }
    const samples = []
    for (let i = 0; i < count; i++) samples.push(runOnce(argv, tools))
    const summary = summarise(samples)
    results.push({name, status: 'ok', ...summary, target: target ? TARGETS.startupMs : undefined, pass: target ? summary.medianMs <= TARGETS.startupMs : undefined})
  }
  if (!(dump1MB && available.cluster === 'ok')) results.push({name: 'proxy-config cluster -f 1MB', status: dump1MB ? available.cluster : 'not run (no 1MB size)'})
  return results
}

// ---------------------------------------------------------------------------------------------
// Output

function printSize(size, rows) {
  const header = ['command', 'input', 'rows', 'meshdbg', 'jq', 'floor', 'm/jq', 'm/floor', 'cpu m/jq', 'cpu m/floor', 'RSS m', 'RSS jq', 'RSS floor', 'RSS m/jq']
  const body = rows.map((r) =>
    r.status !== 'ok' && !r.meshdbg
      ? [r.command, r.input ?? '', r.status]
      : [r.command, r.input, r.rows, `${fmtMs(r.meshdbg.medianMs)} ±${Math.round(r.meshdbg.spreadPct / 2)}%`, fmtMs(r.jq?.medianMs), fmtMs(r.floor.medianMs), fmtX(r.ratios.timeVsJq), fmtX(r.ratios.timeVsFloor), fmtX(r.ratios.cpuVsJq), fmtX(r.ratios.cpuVsFloor), fmtMb(r.meshdbg.peakRssMb), fmtMb(r.jq?.peakRssMb), fmtMb(r.floor.peakRssMb), fmtX(r.ratios.rssVsJq)],
  )
  console.log(`\n${size.label} dump: ${(size.bytes / 1e6).toFixed(1)} MB, ${size.services} services (clusters json ${(size.clusterBytes / 1e6).toFixed(1)} MB); ${size.runs} runs, medians (meshdbg ±half-spread); load ${size.loadavg.join(' ')}`)
  // Rows with an error span the table; print them after the aligned part.
  const aligned = [header, ...body.filter((b) => b.length === header.length)]
  console.log(table(aligned))
  for (const b of body.filter((b) => b.length !== header.length)) console.log(`${b[0]} (${b[1]}): ${b[2]}`)
}

function targetChecks(sizeResults) {
  const checks = []
  for (const {size, rows} of sizeResults) {
    if (size.bytes < BIG) continue
    for (const r of rows) {
      // The targets are about the dump; /clusters?format=json input is a smaller, different file.
      if (r.input !== 'dump') continue
      if (!r.meshdbg) {
        checks.push({size: size.label, command: r.command, input: r.input, status: r.status})
        continue
      }
      checks.push({
        size: size.label, command: r.command, input: r.input, status: r.status,
        timeVsJq: {value: r.ratios.timeVsJq, limit: TARGETS.jqRatio, pass: r.ratios.timeVsJq === undefined ? undefined : r.ratios.timeVsJq <= TARGETS.jqRatio},
        timeVsFloor: {value: r.ratios.timeVsFloor, limit: TARGETS.floorRatio, pass: r.ratios.timeVsFloor <= TARGETS.floorRatio},
        cpuVsJq: r.ratios.cpuVsJq,
        cpuVsFloor: r.ratios.cpuVsFloor,
        rssBelowJq: {meshdbgMb: r.meshdbg.peakRssMb, jqMb: r.jq?.peakRssMb, pass: r.ratios.rssVsJq === undefined ? undefined : r.meshdbg.peakRssMb < r.jq.peakRssMb},
      })
    }
  }
  return checks
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const tools = ensureTools()
  if (!existsSync(join(root, 'dist'))) fail('dist/ is missing: run `npx tsc -p . && node scripts/manifest.mjs` first')
  const srcNewest = newestMtime(join(root, 'src'), '.ts')
  const distNewest = Math.max(newestMtime(join(root, 'dist'), '.js'), 0)
  const stale = srcNewest > distNewest + 1000
  if (stale) log('warning: src/ is newer than dist/; rebuild with `npx tsc -p . && node scripts/manifest.mjs` to bench the current code')
  const available = builtCommands()
  const version = spawnSync(process.execPath, [runJs, '--version'], {encoding: 'utf8'}).stdout.trim()

  const environment = {
    date: new Date().toISOString(), node: process.version, meshdbg: version, jq: tools.jqVersion ?? 'n/a',
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`, memoryGb: Math.round(totalmem() / 2 ** 30), loadavgStart: loadavg().map((l) => l.toFixed(2)),
    distStale: stale, commands: available,
  }
  console.log(`meshdbg bench: ${version}; node ${process.version}; ${tools.jqVersion ?? 'jq n/a'}; ${environment.cpus}; load ${environment.loadavgStart.join(' ')}`)
  console.log(`commands: ${Object.entries(available).map(([k, v]) => `${k}=${v === 'ok' ? 'ok' : 'MISSING'}`).join(' ')}${stale ? '  (dist/ older than src/)' : ''}`)
  console.log('floor = `node -e` JSON.parse of the same file; jq = jq selecting the same section to /dev/null; times are wall (spawn to exit);')
  console.log('cpu = user+system time; RSS = peak (GNU time %M); ratios are meshdbg/baseline, from runs interleaved with meshdbg\'s')

  const sizes = opts.sizes.map((label) => ensureDump(label, opts.seed, opts.regen))
  const sizeResults = []
  for (const size of sizes) {
    size.runs = size.bytes >= BIG ? opts.bigRuns : opts.runs
    const rows = []
    for (const command of opts.commands) {
      if (!COMMANDS.includes(command)) fail(`unknown command ${command} (use ${COMMANDS.join(', ')})`)
      if (available[command] !== 'ok') {
        rows.push({command, input: 'dump', status: available[command]})
        continue
      }
      // endpoint: the EDS section of the dump, and istioctl's own source, /clusters?format=json.
      const inputs = command === 'endpoint' ? [{kind: 'dump', file: size.dump}, {kind: 'clusters-json', file: size.clusters}] : [{kind: 'dump', file: size.dump}]
      for (const input of inputs) {
        const t0 = Date.now()
        const row = benchCommand(command, input, size.runs, tools)
        rows.push(row)
        log(`  ${size.label} ${command} (${input.kind}): ${row.meshdbg ? `${fmtMs(row.meshdbg.medianMs)} vs jq ${fmtMs(row.jq?.medianMs)}, floor ${fmtMs(row.floor.medianMs)}` : row.status} [${((Date.now() - t0) / 1000).toFixed(0)}s]`)
      }
    }
    size.loadavg = loadavg().map((l) => l.toFixed(1))
    sizeResults.push({size, rows})
    printSize(size, rows)
  }

  const dump1MB = sizes.find((s) => s.label.toUpperCase() === '1MB')
  log('startup ...')
  const startup = benchStartup(dump1MB && {label: dump1MB.label, file: dump1MB.dump}, opts.runs, tools, available)
  console.log(`\nStartup and small dumps (${Math.max(opts.runs, 10)} runs after a warm-up; target: median <= ${TARGETS.startupMs} ms)`)
  console.log(table([['case', 'median', 'min', 'max', 'cpu', 'RSS', 'target'], ...startup.map((s) => (s.status === 'ok' ? [s.name, fmtMs(s.medianMs), fmtMs(s.minMs), fmtMs(s.maxMs), fmtMs(s.cpuMs), fmtMb(s.peakRssMb), s.target ? `${verdict(s.pass)} (<= ${s.target}ms)` : 'reference'] : [s.name, s.status, '', '', '', '', '']))]))

  const checks = targetChecks(sizeResults)
  console.log(`\nTargets on the large dump: time <= ${TARGETS.jqRatio}x jq, time <= ${TARGETS.floorRatio}x floor, peak RSS below jq's (verdicts on wall time; the CPU-time ratio is a cross-check on a busy machine)`)
  if (!checks.length) console.log('(no dump of 100 MB or more in this run)')
  console.log(table([['size', 'command', 'input', 'vs jq', 'vs floor', 'RSS vs jq'], ...checks.map((c) => (c.timeVsJq ? [c.size, c.command, c.input, `${verdict(c.timeVsJq.pass)} ${fmtX(c.timeVsJq.value, 3)} (cpu ${fmtX(c.cpuVsJq)})`, `${verdict(c.timeVsFloor.pass)} ${fmtX(c.timeVsFloor.value, 3)} (cpu ${fmtX(c.cpuVsFloor)})`, `${verdict(c.rssBelowJq.pass)} ${fmtMb(c.rssBelowJq.meshdbgMb)} vs ${fmtMb(c.rssBelowJq.jqMb)}`] : [c.size, c.command, c.input, c.status, '', '']))]))

  // Companion benches for the live paths, each against the simulator in its own process.
  const live = {}
  // diagnose -A reads every check's data from 500 pods: minutes, not seconds, on a busy machine.
  const scriptTimeoutMs = {'diagnose.mjs': 30 * 60_000}
  for (const script of ['live.mjs', 'sync-status.mjs', 'diagnose.mjs', 'snapshot.mjs']) {
    const scriptJs = join(benchDir, script)
    if (!opts.live) break
    if (!existsSync(scriptJs)) {
      console.log(`\n(bench/${script} not present: skipped)`)
      continue
    }
    console.log(`\n== bench/${script} ==`)
    const t0 = Date.now()
    const result = spawnSync(process.execPath, [scriptJs], {cwd: root, encoding: 'utf8', timeout: scriptTimeoutMs[script] ?? 240_000, maxBuffer: 16 << 20})
    const output = `${result.stdout ?? ''}${result.stderr ? `\n${result.stderr}` : ''}`.trim()
    console.log(output || '(no output)')
    if (result.error) console.log(`bench/${script}: ${result.error.code === 'ETIMEDOUT' ? `timed out after ${(scriptTimeoutMs[script] ?? 240_000) / 1000}s` : result.error.message}`)
    else if (result.status !== 0) console.log(`bench/${script} exited ${result.status}`)
    live[script] = {status: result.status, error: result.error?.message, ms: Date.now() - t0, output}
  }

  environment.loadavgEnd = loadavg().map((l) => l.toFixed(2))
  environment.totalSeconds = Math.round((Date.now() - started) / 1000)
  const results = {environment, targets: TARGETS, sizes: sizeResults.map(({size, rows}) => ({size: {label: size.label, bytes: size.bytes, services: size.services, clusterBytes: size.clusterBytes, runs: size.runs, seed: size.seed}, rows})), startup, checks, live}
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(results, null, 1) + '\n')
  console.log(`\nload ${environment.loadavgStart.join(' ')} -> ${environment.loadavgEnd.join(' ')}; ${environment.totalSeconds}s total; wall times include node startup; results in ${relative(root, join(outDir, 'results.json'))}`)
}

// `--fastpath`: the layout/core-count table of bench/fastpath.mjs instead (see bench/README.md).
if (process.argv.includes('--fastpath')) await import('./fastpath.mjs')
else await main()
