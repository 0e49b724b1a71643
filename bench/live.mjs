#!/usr/bin/env node
// Live proxy-config against the simulator (a separate process, dist/sim/cli.js), next to `-f` on
// the same bytes, plus what loading the Kubernetes layer costs (esbuild bundle vs plain modules).
//
//   node bench/live.mjs [--runs 5] [--sizes 1MB,20MB]
//
// Needs a build (`npm run build`, which also writes dist/lib/kube-bundle.js). Targets: live adds at
// most 150 ms over -f on 1 MB, and live takes at most 600 ms (medians).
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, statSync, writeFileSync} from 'node:fs'
import {loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, 'bench', 'out')
const cli = join(root, 'bin', 'run.js')
const POD = 'webapp-7c5d7b8c6b-4vzd9'
const NS = 'istioinaction'
const TARGET = `deploy/webapp.${NS}`
const ADMIN_PATH = 'config_dump?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters'
const LIMITS = {liveOverFileMs1MB: 150, liveMs: 600}

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 ? args[at + 1] : fallback
}
const runs = Number(option('runs', process.env.BENCH_RUNS || 5))
const sizes = option('sizes', '1MB,20MB').split(',')

for (const required of ['dist/sim/cli.js', 'dist/commands/proxy-config/cluster.js', 'dist/lib/kube/live.js']) {
  if (!existsSync(join(root, required))) {
    console.error(`bench/live.mjs: ${required} is missing; run npm run build first`)
    process.exit(2)
  }
}
mkdirSync(outDir, {recursive: true})

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function timeRun(argv, env = {}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, argv, {cwd: root, env: {...process.env, NO_COLOR: '1', ...env}, encoding: 'utf8', maxBuffer: 256 << 20})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr.trim().split('\n').pop()}`)
  return {ms, stdout: result.stdout}
}

async function generateDump(size) {
  const file = join(outDir, `live-dump-${size}.json`)
  if (existsSync(file)) return file
  const generator = join(root, 'bench', 'gen-dump.mjs')
  if (existsSync(generator)) {
    const {writeDump, servicesForSize, parseSize} = await import(pathToFileURL(generator).href)
    writeDump(file, {services: servicesForSize(parseSize(size)), seed: 1})
  } else {
    writeFileSync(file, simpleDump(Number(size.replace(/MB$/i, '')) * 1e6))
  }
  return file
}

/** A fallback generator (clusters only) for when bench/gen-dump.mjs is absent. */
function simpleDump(bytes) {
  const clusters = []
  let length = 0
  for (let i = 0; length < bytes; i++) {
    const cluster = {
      version_info: '2026-11-30T00:00:00Z/1',
      cluster: {'@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: `outbound|80||svc-${i}.ns-${i % 50}.svc.cluster.local`, type: 'EDS', eds_cluster_config: {service_name: `outbound|80||svc-${i}.ns-${i % 50}.svc.cluster.local`, eds_config: {ads: {}, resource_api_version: 'V3'}}, connect_timeout: '10s'},
      last_updated: '2026-11-30T00:00:00Z',
    }
    length += JSON.stringify(cluster).length + 2
    clusters.push(cluster)
  }
  return JSON.stringify({configs: [{'@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', version_info: '1', dynamic_active_clusters: clusters}]}, null, 1) + '\n'
}

async function startSimulator(dumpFile) {
  const child = spawn(process.execPath, [join(root, 'dist', 'sim', 'cli.js'), '--config-dump', `${POD}.${NS}=${dumpFile}`], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']})
  const kubeconfig = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = /^KUBECONFIG=(.+)$/m.exec(out)
      if (match) resolve(match[1].trim())
    })
    child.once('exit', (code) => reject(new Error(`simulator exited ${code}`)))
  })
  return {kubeconfig, stop: () => new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })}
}

/** The exact bytes the live command receives (the simulator applies the mask), via the library. */
async function fetchResponseBytes(kubeconfig, file) {
  const {fetchFromPod} = await import(pathToFileURL(join(root, 'dist', 'lib', 'kube', 'live.js')).href)
  const {Scope} = await import(pathToFileURL(join(root, 'dist', 'lib', 'scope.js')).href)
  const scope = new Scope()
  const ctx = {kubeconfig, timeoutMs: 60_000, signal: AbortSignal.timeout(60_000), scope, note: () => {}, spin: (_text, work) => work}
  try {
    const fetchMs = []
    let text = ''
    for (let i = 0; i < 3; i++) {
      const started = performance.now()
      text = (await fetchFromPod(ctx, {name: POD, namespace: NS}, 15000, ADMIN_PATH)).text
      fetchMs.push(performance.now() - started)
    }
    writeFileSync(file, text)
    return {bytes: Buffer.byteLength(text), warmFetchMs: median(fetchMs)}
  } finally {
    await scope.close()
  }
}

function importCost() {
  const measure = (code) => median(Array.from({length: runs}, () => timeRun(['--input-type=module', '-e', code]).ms))
  const base = measure('0')
  const bundle = join(root, 'dist', 'lib', 'kube-bundle.js')
  const rows = {
    'node -e 0': base,
    'client-node (unbundled)': measure(`await import(${JSON.stringify(pathToFileURL(join(root, 'node_modules', '@kubernetes', 'client-node', 'dist', 'index.js')).href)})`),
    'kube layer, modules (dist/lib/kube/live.js)': measure(`await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'lib', 'kube', 'live.js')).href)})`),
  }
  if (existsSync(bundle)) rows['kube layer, esbuild bundle (dist/lib/kube-bundle.js)'] = measure(`await import(${JSON.stringify(pathToFileURL(bundle).href)})`)
  const apiBundle = join(root, 'dist', 'lib', 'kube-api-bundle.js')
  if (existsSync(apiBundle)) rows['+ API clients on demand (dist/lib/kube-api-bundle.js)'] = measure(`await import(${JSON.stringify(pathToFileURL(bundle).href)}); await import(${JSON.stringify(pathToFileURL(apiBundle).href)})`)
  return rows
}

const results = {environment: {node: process.version, loadavg: loadavg().map((x) => x.toFixed(2)), runs}, sizes: [], importCost: {}}
const usesBundle = existsSync(join(root, 'dist', 'lib', 'kube-bundle.fingerprint'))
  && (await import(pathToFileURL(join(root, 'dist', 'lib', 'kube', 'load.js')).href)).liveFingerprint() === String(await import('node:fs').then((fs) => fs.readFileSync(join(root, 'dist', 'lib', 'kube-bundle.fingerprint'), 'utf8'))).trim()
console.log(`live bench: ${runs} runs per row, node ${process.version}, load ${results.environment.loadavg.join(' ')}, kube bundle ${usesBundle ? 'in use' : 'NOT in use (stale or missing: npm run build)'}`)

for (const size of sizes) {
  const dump = await generateDump(size)
  const sim = await startSimulator(dump)
  try {
    const responseFile = join(outDir, `live-response-${size}.json`)
    const {bytes, warmFetchMs} = await fetchResponseBytes(sim.kubeconfig, responseFile)
    const env = {KUBECONFIG: sim.kubeconfig}
    const liveArgs = [cli, 'proxy-config', 'cluster', TARGET]
    const fileArgs = [cli, 'proxy-config', 'cluster', '-f', responseFile]
    // Interleaved, after one warm-up each, so load drifts hit both alike.
    const first = timeRun(liveArgs, env)
    const offline = timeRun(fileArgs)
    if (first.stdout !== offline.stdout) throw new Error(`live and -f output differ for ${size}`)
    const liveMs = []
    const fileMs = []
    for (let i = 0; i < runs; i++) {
      liveMs.push(timeRun(liveArgs, env).ms)
      fileMs.push(timeRun(fileArgs).ms)
    }
    const row = {
      size,
      dumpBytes: statSync(dump).size,
      responseBytes: bytes,
      liveMedianMs: Math.round(median(liveMs)),
      fileMedianMs: Math.round(median(fileMs)),
      warmFetchMs: Math.round(warmFetchMs),
      liveSamples: liveMs.map(Math.round),
      fileSamples: fileMs.map(Math.round),
    }
    row.liveOverFileMs = row.liveMedianMs - row.fileMedianMs
    results.sizes.push(row)
    const checks = [`live ${row.liveMedianMs <= LIMITS.liveMs ? 'PASS' : 'FAIL'} (<= ${LIMITS.liveMs} ms)`]
    if (/^1MB$/i.test(size)) checks.push(`overhead ${row.liveOverFileMs <= LIMITS.liveOverFileMs1MB ? 'PASS' : 'FAIL'} (<= ${LIMITS.liveOverFileMs1MB} ms)`)
    console.log(
      `${size.padEnd(5)} dump ${(row.dumpBytes / 1e6).toFixed(1)} MB, response ${(bytes / 1e6).toFixed(1)} MB: ` +
        `live ${row.liveMedianMs} ms, -f ${row.fileMedianMs} ms, live - f ${row.liveOverFileMs} ms ` +
        `(in-process warm fetch incl. simulator ${row.warmFetchMs} ms) ${checks.join(', ')}`,
    )
  } finally {
    await sim.stop()
  }
}

results.importCost = importCost()
console.log('import cost (median wall time of node -e, spawn to exit):')
for (const [name, ms] of Object.entries(results.importCost)) console.log(`  ${name.padEnd(56)} ${Math.round(ms)} ms`)
writeFileSync(join(outDir, 'live-results.json'), JSON.stringify(results, null, 2) + '\n')
