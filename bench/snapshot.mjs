#!/usr/bin/env node
// `meshdbg snapshot` of 100 proxies on the scale scenario (the simulator as a separate process):
// wall time, CPU time (user+sys) of the capture and of the simulator, archive size (compressed and
// not), the load average before and after, and one replay from it. Run once per invocation. The
// machine may be shared: CPU time is the steadier figure, wall time follows the load.
//
//   node bench/snapshot.mjs [--pods 100] [--concurrency 8]
//
// Needs a build. Results on stdout and in bench/out/snapshot.json.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'bin', 'run.js')
const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 ? args[at + 1] : fallback
}
const podCount = Number(option('pods', 100))
const concurrency = option('concurrency', '8')

const sim = spawn(process.execPath, [cli, 'sim', '--scenario', 'scale'], {stdio: ['ignore', 'pipe', 'inherit']})
const kubeconfig = await new Promise((resolve, reject) => {
  let out = ''
  sim.stdout.on('data', (chunk) => {
    out += chunk
    const match = /^KUBECONFIG=(.+)$/m.exec(out)
    if (match) resolve(match[1])
  })
  sim.on('exit', () => reject(new Error('meshdbg sim exited')))
})
const work = mkdtempSync(join(tmpdir(), 'meshdbg-bench-snapshot-'))
try {
  const server = /server: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))[1]
  const list = await (await fetch(`${server}/api/v1/pods`, {headers: {authorization: 'Bearer sim-token'}})).json()
  const meshed = list.items.filter((pod) => pod.spec.containers.some((container) => container.name === 'istio-proxy') && pod.status.phase === 'Running')
  const targets = meshed.slice(0, podCount).map((pod) => `pod/${pod.metadata.name}.${pod.metadata.namespace}`)
  const archive = join(work, 'scale.tar.gz')
  const env = {...process.env, KUBECONFIG: kubeconfig}
  // GNU time reports the capture's own CPU time and peak RSS (bench/run.mjs installs it when missing).
  const gnuTime = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'MESHDBG-TIME %U %S %M'] : []
  const loadBefore = loadavg()[0]
  const simCpuBefore = cpuSecondsOf(sim.pid)
  const started = process.hrtime.bigint()
  const [command, ...commandArgs] = [...gnuTime, process.execPath, cli, 'snapshot', ...targets, '-o', archive, '--concurrency', concurrency, '--timeout', '10m', '--json']
  const capture = spawnSync(command, commandArgs, {env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const captureMs = Number(process.hrtime.bigint() - started) / 1e6
  const simCpuAfter = cpuSecondsOf(sim.pid)
  const loadAfter = loadavg()[0]
  const timed = /MESHDBG-TIME (\S+) (\S+) (\d+)/.exec(capture.stderr)
  if (capture.status !== 0) throw new Error(`snapshot failed (${capture.status}) after ${(captureMs / 1000).toFixed(0)} s: ${capture.stderr}`)
  const result = JSON.parse(capture.stdout).result
  const replayStarted = process.hrtime.bigint()
  const replay = spawnSync(process.execPath, [cli, 'sync-status', '--snapshot', archive], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const replayMs = Number(process.hrtime.bigint() - replayStarted) / 1e6
  const summary = {
    proxies: result.proxies.length,
    istiods: result.istiods.length,
    answers: result.entries,
    failedRequests: result.failedRequests,
    captureSeconds: +(captureMs / 1000).toFixed(1),
    captureCpuSeconds: timed ? +(Number(timed[1]) + Number(timed[2])).toFixed(1) : null,
    capturePeakRssMB: timed ? Math.round(Number(timed[3]) / 1024) : null,
    simulatorCpuSeconds: simCpuBefore === null || simCpuAfter === null ? null : +(simCpuAfter - simCpuBefore).toFixed(1),
    compressedMB: +(statSync(archive).size / 1e6).toFixed(2),
    uncompressedMB: +(result.uncompressedBytes / 1e6).toFixed(1),
    replaySyncStatusMs: Math.round(replayMs),
    replayExit: replay.status,
    concurrency: Number(concurrency),
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAfter,
  }
  mkdirSync(join(root, 'bench', 'out'), {recursive: true})
  writeFileSync(join(root, 'bench', 'out', 'snapshot.json'), JSON.stringify(summary, null, 2) + '\n')
  console.log(summary)
} finally {
  sim.kill('SIGTERM')
  rmSync(work, {recursive: true, force: true})
}

/** user+sys CPU seconds of a running process (Linux /proc), or null elsewhere. */
function cpuSecondsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks (100/s on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}
