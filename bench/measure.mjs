// Shared by the bench scripts: tools, one timed run, medians, table output.
import {spawn, spawnSync} from 'node:child_process'
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export const log = (message) => process.stderr.write(message + '\n')

/** A bench script's usage errors: one line naming the script, exit 2. */
export function argErrors(script) {
  const fail = (message) => {
    console.error(`${script}: ${message}`)
    process.exit(2)
  }
  const positive = (text, name) => {
    const n = Number(text)
    if (!Number.isInteger(n) || n < 1) fail(`${name} needs a positive integer, got "${text}"`)
    return n
  }
  return {fail, positive}
}

// ---------------------------------------------------------------------------------------------
// Tools: jq and GNU time (for peak RSS). Installed with apt when missing; absent tools degrade to n/a.

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'}).status === 0
}

export function ensureTools() {
  const missing = []
  if (!have('jq')) missing.push('jq')
  if (!existsSync('/usr/bin/time')) missing.push('time')
  if (missing.length) {
    log(`installing ${missing.join(', ')} with apt-get ...`)
    const sudo = process.getuid?.() === 0 ? '' : 'sudo '
    spawnSync('sh', ['-c', `${sudo}apt-get update -qq && ${sudo}DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`], {stdio: ['ignore', 'ignore', 'inherit']})
  }
  const jq = have('jq')
  const time = existsSync('/usr/bin/time')
  if (!jq) log('jq is not available: the jq baseline is reported as n/a')
  if (!time) log('/usr/bin/time is not available: peak RSS is reported as n/a')
  const jqVersion = jq ? spawnSync('jq', ['--version'], {encoding: 'utf8'}).stdout.trim() : undefined
  return {jq, time, jqVersion}
}

// ---------------------------------------------------------------------------------------------
// Measurement

/**
 * Runs argv once: wall time in ms (spawn to exit), and from GNU time the peak RSS in MB and the CPU
 * time (user + system) in ms, which moves much less than wall time on a busy machine.
 */
export function runOnce(argv, tools, {keepStdout = false, scratch} = {}) {
  const fd = openSync(keepStdout ? scratch : '/dev/null', 'w')
  const full = tools.time ? ['/usr/bin/time', '-f', '%M %U %S', ...argv] : argv
  const started = process.hrtime.bigint()
  const result = spawnSync(full[0], full.slice(1), {stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  closeSync(fd)
  const errLines = (result.stderr ?? '').trimEnd().split('\n')
  let rssMb
  let cpuMs
  if (tools.time) {
    const last = /^(\d+) ([\d.]+) ([\d.]+)$/.exec(errLines.pop() ?? '')
    if (last) {
      rssMb = Number(last[1]) / 1024
      cpuMs = (Number(last[2]) + Number(last[3])) * 1000
    }
    if (/^Command exited with non-zero status/.test(errLines[errLines.length - 1] ?? '')) errLines.pop()
  }
  let lines
  if (keepStdout) {
    const text = readFileSync(scratch, 'utf8')
    lines = text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  }
  return {ms, rssMb, cpuMs, status: result.status ?? -1, stderr: errLines.join('\n').trim(), lines}
}

/**
 * One run of the built CLI against a cluster (the live benches): `argv` after node, `KUBECONFIG`
 * set, colours off. Wall time in ms; with `time` (GNU time present) peak RSS in KB and CPU time
 * (user + system) in s; stdout as text; stderr without GNU time's own lines. A status outside
 * `okStatuses` throws with the command's own last stderr line.
 */
export function runCliTimed(argv, {kubeconfig, time, okStatuses = [0]}) {
  const command = [process.execPath, ...argv]
  const full = time ? ['/usr/bin/time', '-f', '%M %U %S', ...command] : command
  const started = process.hrtime.bigint()
  const result = spawnSync(full[0], full.slice(1), {
    env: {...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1'},
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  let rssKb
  let cpuS
  let stderr = result.stderr ?? ''
  if (time) {
    const lines = stderr.trimEnd().split('\n')
    const match = /^(\d+) ([\d.]+) ([\d.]+)$/.exec(lines[lines.length - 1] ?? '')
    if (match) {
      rssKb = Number(match[1])
      cpuS = Number(match[2]) + Number(match[3])
      // GNU time adds "Command exited with non-zero status N" before its own line: not the command's words.
      stderr = lines.slice(0, -1).filter((line) => !line.startsWith('Command exited with non-zero status')).join('\n')
    }
  }
  if (!okStatuses.includes(result.status)) throw new Error(`${argv[1] ?? argv[0]} exited ${result.status ?? result.signal}: ${stderr.trim().split('\n').pop()}`)
  return {ms, rssKb, cpuS, stdout: result.stdout ?? '', stderr, status: result.status}
}

/** Median wall time of `meshdbg --version` (node + oclif start-up), run `runs` times now. */
export function startupFloorMs(runJs, runs) {
  const samples = []
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint()
    spawnSync(process.execPath, [runJs, '--version'], {encoding: 'utf8'})
    samples.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  return median(samples)
}

export const median = (values) => {
  const sorted = values.filter((v) => v !== undefined).sort((a, b) => a - b)
  if (!sorted.length) return undefined
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function summarise(samples) {
  const ms = samples.map((s) => s.ms)
  const med = median(ms)
  return {
    medianMs: med,
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    spreadPct: med ? ((Math.max(...ms) - Math.min(...ms)) / med) * 100 : 0,
    peakRssMb: median(samples.map((s) => s.rssMb)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    samplesMs: ms.map((v) => Math.round(v * 10) / 10),
  }
}

/** The floor: `node -e` that only JSON.parses the file. */
export const floorArgv = (file) => [process.execPath, '-e', "JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'))", file]

export function table(rows) {
  const widths = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, String(cell).length)))
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? String(cell) : String(cell).padEnd(widths[i]))).join('  ').trimEnd()).join('\n')
}

export const fmtMs = (ms) => (ms === undefined ? 'n/a' : ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${Math.round(ms)}ms`)
export const fmtMb = (mb) => (mb === undefined ? 'n/a' : `${Math.round(mb)}MB`)
export const fmtX = (x, digits = 2) => (x === undefined ? 'n/a' : `${x.toFixed(digits)}x`)
export const verdict = (ok) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL')

/**
 * Starts the simulator as its own process (`argv` after node) and resolves with the child and its
 * KUBECONFIG path once it prints it; rejects if it exits first or prints nothing within 30 s.
 * Its stderr goes to a file, not a pipe: a bench blocked in spawnSync reads no pipe, and a full one
 * would stall the simulator. `died()` says, once the simulator is gone, how it ended (exit code or
 * signal) with its last stderr lines, so a bench can blame the simulator rather than the client.
 */
export function startSimulatorProcess(argv) {
  const dir = mkdtempSync(join(tmpdir(), 'meshdbg-bench-sim-'))
  const stderrPath = join(dir, 'stderr.log')
  const errFd = openSync(stderrPath, 'w')
  const child = spawn(process.execPath, argv, {stdio: ['ignore', 'pipe', errFd]})
  closeSync(errFd)
  const stderrTail = (lines = 5) => {
    try {
      return readFileSync(stderrPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
    } catch {
      return ''
    }
  }
  const died = async () => {
    // spawnSync blocked the event loop: let the exit event of a child that is gone arrive.
    await new Promise((resolve) => setTimeout(resolve, 200))
    if (child.exitCode === null && child.signalCode === null) return undefined
    const how = child.signalCode ? `killed by ${child.signalCode}` : `exited ${child.exitCode}`
    const tail = stderrTail()
    return `the simulator ${how}${tail ? `; its last stderr lines:\n${tail}` : ' (no stderr)'} (full log: ${stderrPath})`
  }
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`the simulator printed no KUBECONFIG line within 30s: ${stderrTail()}`)), 30_000)
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = /^KUBECONFIG=(.+)$/m.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve({child, kubeconfig: match[1].trim(), died})
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`the simulator ${signal ? `was killed by ${signal}` : `exited ${code}`} before printing KUBECONFIG: ${stderrTail()}`))
    })
  })
}
