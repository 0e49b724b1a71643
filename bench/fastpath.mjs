#!/usr/bin/env node
// `npm run bench -- --fastpath`: the offline proxy-config tables on large generated dumps in the
// layouts real dumps come in, each against a bare JSON.parse of the same file (the "floor"):
//   (a) Envoy's own layout, (b) the same with CRLF line ends, (c) compact JSON, (d) a gateway-like,
//   cluster-dominated dump (~30,000 clusters, no EDS).
// Every run of meshdbg is paired with a floor run right after or before it (the order alternates),
// on 2 cores and pinned to 1 core (`taskset -c 0`), so machine noise hits both alike; the ratio
// reported is the median of the per-pair ratios. Prints numbers only (no verdicts); everything
// also goes to bench/out/fastpath.json.
//
//   npm run bench -- --fastpath [--runs 3] [--size 150MB] [--layouts a,b,c,d] [--commands cluster,all]
//                               [--cores 2,1] [--seed 1] [--regen]
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {argErrors, ensureTools, floorArgv, fmtMb, fmtMs, fmtX, have, log, median, runOnce, summarise, table} from './measure.mjs'

const {fail} = argErrors('bench')

const benchDir = dirname(fileURLToPath(import.meta.url))
const root = join(benchDir, '..')
const outDir = join(benchDir, 'out')
const runJs = join(root, 'bin', 'run.js')
const genJs = join(benchDir, 'gen-dump.mjs')

const COMMANDS = ['cluster', 'listener', 'route', 'endpoint', 'all']
// (d): 12,600 services give ~30,000 clusters (~145 MB) at 150MB; scaled with --size.
const LAYOUTS = {
  a: {name: 'Envoy layout', args: ['--layout', 'envoy']},
  b: {name: 'CRLF', args: ['--layout', 'crlf']},
  c: {name: 'compact JSON', args: ['--layout', 'compact']},
  d: {name: 'cluster-dominated', args: ['--cluster-heavy'], servicesAt150MB: 12_600, skip: {endpoint: 'no EDS in this shape'}},
}

function parseArgs(argv) {
  const opts = {runs: 3, size: '150MB', layouts: Object.keys(LAYOUTS), commands: COMMANDS, cores: ['2', '1'], seed: 1, regen: false}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => argv[++i] ?? fail(`${arg} needs a value`)
    const list = () => value().split(',').filter(Boolean)
    if (arg === '--runs') opts.runs = Number(value())
    else if (arg === '--size') opts.size = value()
    else if (arg === '--layouts') opts.layouts = list()
    else if (arg === '--commands') opts.commands = list()
    else if (arg === '--cores') opts.cores = list()
    else if (arg === '--seed') opts.seed = Number(value())
    else if (arg === '--regen') opts.regen = true
    else if (arg === '--fastpath') continue
    else if (arg === '-h' || arg === '--help') {
      console.log('usage: npm run bench -- --fastpath [--runs 3] [--size 150MB] [--layouts a,b,c,d] [--commands cluster,listener,route,endpoint,all] [--cores 2,1] [--seed 1] [--regen]')
      process.exit(0)
    } else fail(`unknown argument ${arg}`)
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) fail('--runs needs a positive integer')
  for (const layout of opts.layouts) if (!LAYOUTS[layout]) fail(`unknown layout ${layout} (use ${Object.keys(LAYOUTS).join(', ')})`)
  for (const command of opts.commands) if (!COMMANDS.includes(command)) fail(`unknown command ${command} (use ${COMMANDS.join(', ')})`)
  for (const cores of opts.cores) if (cores !== '1' && cores !== '2') fail(`--cores takes 1 and/or 2, got ${cores}`)
  return opts
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')

/** Generated once per (generator source, layout, size, seed) into bench/out/, reused while unchanged. */
function ensureDump(layout, size, seed, regen) {
  mkdirSync(outDir, {recursive: true})
  const file = join(outDir, `fastpath-${layout}-${size}.json`)
  const metaFile = file.replace(/\.json$/, '.meta.json')
  const generator = createHash('sha256').update(readFileSync(genJs)).digest('hex').slice(0, 16)
  let meta
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8'))
  } catch {}
  if (!regen && meta && meta.generator === generator && meta.seed === seed && existsSync(file) && statSync(file).size === meta.bytes) return {layout, file, ...meta}
  const spec = LAYOUTS[layout]
  const sizeArgs = spec.servicesAt150MB ? ['--services', String(Math.max(2, Math.round((spec.servicesAt150MB * parseSize(size)) / 150e6)))] : ['--size', size]
  log(`generating ${relative(root, file)} (${spec.name}, ${size}) ...`)
  const result = spawnSync(process.execPath, [genJs, ...sizeArgs, ...spec.args, '--seed', String(seed), '--out', file, '--no-clusters'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
  if (result.status !== 0) fail(`gen-dump failed for layout ${layout}`)
  meta = {generator, seed, size, services: Number(/(\d+) services/.exec(result.stdout)?.[1]), bytes: statSync(file).size}
  writeFileSync(metaFile, JSON.stringify(meta, null, 1) + '\n')
  return {layout, file, ...meta}
}

function parseSize(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB)?$/i.exec(text)
  if (!match) fail(`bad size ${text}`)
  return Number(match[1]) * {KB: 1e3, MB: 1e6, GB: 1e9}[(match[2] ?? 'MB').toUpperCase()]
}

const pinned = (argv, cores) => (cores === '1' ? ['taskset', '-c', '0', ...argv] : argv)

/** meshdbg and the floor, run after run, alternating which goes first; ratios per pair. */
function measurePair(command, dump, cores, runs, tools) {
  const argv = pinned([process.execPath, runJs, 'proxy-config', command, '-f', dump.file], cores)
  const floor = pinned(floorArgv(dump.file), cores)
  const probe = runOnce(argv, tools, {keepStdout: true, scratch: join(outDir, 'last-stdout.txt')})
  if (probe.status !== 0) return {status: `error (exit ${probe.status}: ${probe.stderr.split('\n')[0].slice(0, 100)})`}
  const samples = {meshdbg: [], floor: []}
  const ratios = []
  const cpuRatios = []
  const rssRatios = []
  for (let i = 0; i < runs; i++) {
    const first = i % 2 === 0
    const a = first ? runOnce(argv, tools) : undefined
    const f = runOnce(floor, tools)
    const m = a ?? runOnce(argv, tools)
    samples.meshdbg.push(m)
    samples.floor.push(f)
    ratios.push(m.ms / f.ms)
    if (m.cpuMs && f.cpuMs) cpuRatios.push(m.cpuMs / f.cpuMs)
    if (m.rssMb && f.rssMb) rssRatios.push(m.rssMb / f.rssMb)
  }
  return {status: 'ok', rows: Math.max(0, probe.lines - 1), meshdbg: summarise(samples.meshdbg), floor: summarise(samples.floor), ratio: median(ratios), ratios, cpuRatio: median(cpuRatios), rssRatio: median(rssRatios)}
}

function startup(dump, tools) {
  const cases = [
    ['node -e 0 (reference)', [process.execPath, '-e', '0']],
    [`proxy-config cluster -f (${(dump.bytes / 1e6).toFixed(1)} MB dump)`, [process.execPath, runJs, 'proxy-config', 'cluster', '-f', dump.file]],
  ]
  return cases.map(([name, argv]) => {
    runOnce(argv, tools)
    const samples = []
    for (let i = 0; i < 10; i++) samples.push(runOnce(argv, tools))
    return {name, ...summarise(samples)}
  })
}

function main() {
  const opts = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const tools = ensureTools()
  if (opts.cores.includes('1') && !have('taskset')) {
    log('taskset is not available (util-linux): the 1-core variant is left out')
    opts.cores = opts.cores.filter((c) => c !== '1')
  }
  if (!existsSync(join(root, 'dist'))) fail('dist/ is missing: run `npm run build` first')
  const version = spawnSync(process.execPath, [runJs, '--version'], {encoding: 'utf8'}).stdout.trim()
  const loadStart = load()
  console.log(`meshdbg fast-path bench: ${version}; node ${process.version}; ${cpus().length} x ${cpus()[0]?.model ?? '?'}; load ${loadStart}`)
  console.log('floor = `node -e` JSON.parse of the same file; times are wall medians (spawn to exit); m/floor = median of per-pair ratios;')
  console.log('cpu = user+system time (moves less than wall on a busy machine); RSS = peak (GNU time %M); 1 core = both pinned with `taskset -c 0`')

  const dumps = opts.layouts.map((layout) => ensureDump(layout, opts.size, opts.seed, opts.regen))
  const small = ensureDump('a', '1MB', opts.seed, opts.regen)
  const results = []
  for (const cores of opts.cores) {
    for (const dump of dumps) {
      const blockLoad = load()
      for (const command of opts.commands) {
        const skipped = LAYOUTS[dump.layout].skip?.[command]
        if (skipped) {
          results.push({layout: dump.layout, layoutName: LAYOUTS[dump.layout].name, mb: dump.bytes / 1e6, command, cores, loadBefore: blockLoad, status: `n/a (${skipped})`})
          continue
        }
        const t0 = Date.now()
        const r = {layout: dump.layout, layoutName: LAYOUTS[dump.layout].name, mb: dump.bytes / 1e6, command, cores, loadBefore: blockLoad, ...measurePair(command, dump, cores, opts.runs, tools)}
        results.push(r)
        log(`  (${dump.layout}) ${command}, ${cores} core(s): ${r.status === 'ok' ? `${fmtMs(r.meshdbg.medianMs)} vs floor ${fmtMs(r.floor.medianMs)} = ${fmtX(r.ratio)}` : r.status} [${((Date.now() - t0) / 1000).toFixed(0)}s, load ${load()}]`)
      }
    }
  }
  const header = ['layout', 'MB', 'command', 'cores', 'rows', 'meshdbg', 'floor', 'm/floor', 'pairs', 'cpu m/floor', 'RSS m', 'RSS floor', 'RSS m/floor', 'load']
  const measured = results.filter((r) => r.status === 'ok')
  const body = measured.map((r) => [`(${r.layout}) ${r.layoutName}`, r.mb.toFixed(0), r.command, r.cores, r.rows, fmtMs(r.meshdbg.medianMs), fmtMs(r.floor.medianMs), fmtX(r.ratio), r.ratios.map((x) => x.toFixed(2)).join(' '), fmtX(r.cpuRatio), fmtMb(r.meshdbg.peakRssMb), fmtMb(r.floor.peakRssMb), fmtX(r.rssRatio), r.loadBefore])
  console.log('\n' + table([header, ...body]))
  // Rows without numbers (errors, shapes without that section) would stretch the table: listed after it.
  for (const r of results.filter((r) => r.status !== 'ok')) console.log(`(${r.layout}) ${r.layoutName} ${r.command}, ${r.cores} core(s): ${r.status}`)

  const boot = startup(small, tools)
  console.log(`\nStartup (10 runs after a warm-up)\n${table([['case', 'median', 'min', 'max'], ...boot.map((b) => [b.name, fmtMs(b.medianMs), fmtMs(b.minMs), fmtMs(b.maxMs)])])}`)
  const loadEnd = load()
  const seconds = Math.round((Date.now() - started) / 1000)
  writeFileSync(join(outDir, 'fastpath.json'), JSON.stringify({date: new Date().toISOString(), version, node: process.version, loadStart, loadEnd, seconds, opts, results, startup: boot}, null, 1) + '\n')
  console.log(`\nload ${loadStart} -> ${loadEnd}; ${seconds}s total; results in ${relative(root, join(outDir, 'fastpath.json'))}`)
}

main()
