// The simulator's pods/log as a kubelet answers it: each access-log line stamped when Envoy wrote
// it (START_TIME + DURATION, at its next 1 s flush), one timeline that every read and follower
// shares, and sinceSeconds / sinceTime / tailLines / limitBytes / timestamps applied to those stamps.
import {execFile, spawnSync} from 'node:child_process'
import {promisify} from 'node:util'
import {request} from 'node:http'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startSimulator, type Simulator} from '../../src/sim/index.js'
import {GATEWAY} from './helpers.js'

const hasKubectl = spawnSync('kubectl', ['version', '--client'], {stdio: 'ignore'}).status === 0
let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

const LOG = `/api/v1/namespaces/istio-system/pods/${GATEWAY.pod}/log?container=istio-proxy`
const read = async (query: string) => {
  const response = await fetch(`${sim.url}${LOG}&${query}`)
  return {status: response.status, text: await response.text()}
}

interface Stamped {stamp: number; start: number; duration: number; line: string}
/** `<kubelet stamp> [START_TIME] "..." code flags ... bytes bytes DURATION ...` lines of the TEXT format. */
function accessLines(text: string): Stamped[] {
  return text.split('\n').filter((line) => line.includes(' [')).map((line) => {
    const [, stamp, start, duration] = /^(\S+) \[(\S+)\] "[^"]*" \d+ \S+ \S+ \S+ "[^"]*" \d+ \d+ (\d+) /.exec(line)!
    return {stamp: Date.parse(stamp), start: Date.parse(start), duration: Number(duration), line}
  })
}

describe('pods/log timestamps follow the access log', () => {
  it('each line is stamped at the first 1 s flush after its request ended, in the order written', async () => {
    const {text} = await read('timestamps=true')
    expect(text.split('\n')[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \d{4}-\d\d-\d\dT[\d:.]+Z\tinfo\tFLAG: --concurrency="0"$/)
    const lines = accessLines(text)
    expect(lines.length).toBeGreaterThanOrEqual(160)
    for (const l of lines) {
      const lag = l.stamp - (l.start + l.duration)
      expect(lag).toBeGreaterThan(0)
      expect(lag).toBeLessThanOrEqual(1000)
    }
    const stamps = lines.map((l) => l.stamp)
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b))
    // ~13 minutes of history up to the last few seconds: `--since 5m` has something to read.
    expect(Date.now() - stamps[0]).toBeGreaterThan(12 * 60_000)
    expect(Date.now() - stamps.at(-1)!).toBeLessThan(6000)
  })

  it('sinceSeconds and sinceTime keep the lines stamped from then on; reads agree on the lines they share', async () => {
    const all = accessLines((await read('timestamps=true')).text)
    const asked = Date.now()
    const recent = accessLines((await read('timestamps=true&sinceSeconds=60')).text)
    expect(recent.length).toBeGreaterThanOrEqual(11)
    expect(recent.length).toBeLessThanOrEqual(14)
    for (const l of recent) expect(l.stamp).toBeGreaterThanOrEqual(asked - 60_000)
    const shared = recent.filter((l) => l.stamp <= all.at(-1)!.stamp)
    expect(shared.map((l) => l.line)).toEqual(all.slice(-shared.length).map((l) => l.line))
    const from = all[all.length - 20]
    const sinceTime = accessLines((await read(`timestamps=true&sinceTime=${new Date(from.stamp - 1).toISOString()}`)).text)
    expect(sinceTime.slice(0, 20).map((l) => l.line)).toEqual(all.slice(-20).map((l) => l.line))
  })

  it('tailLines, limitBytes (timestamps counted, a line cut) and the API server\'s validation', async () => {
    const tail = (await read('tailLines=3')).text
    expect(tail.trimEnd().split('\n')).toHaveLength(3)
    const cut = await read('timestamps=true&limitBytes=100')
    expect(Buffer.byteLength(cut.text)).toBe(100)
    expect(cut.text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]{18}Z \d{4}-/)
    expect(cut.text.endsWith('\n')).toBe(false)
    const invalid = await read('limitBytes=0')
    expect(invalid.status).toBe(422)
    expect(JSON.parse(invalid.text).message).toBe(`PodLogOptions "${GATEWAY.pod}" is invalid: limitBytes: Invalid value: 0: must be greater than 0`)
    const both = await read('sinceSeconds=10&sinceTime=2026-01-01T00:00:00Z')
    expect(both.status).toBe(422)
    expect(JSON.parse(both.text).message).toContain('at most one of `sinceTime` or `sinceSeconds` may be specified')
  })

  it('a follower receives the lines a later read returns, with the same stamps', async () => {
    sim.scenario.live!.requestIntervalMs = 100
    try {
      const followed = await new Promise<string>((resolve, reject) => {
        const req = request(`${sim.url}${LOG}&follow=true&tailLines=0&timestamps=true`, (res) => {
          let text = ''
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString()
            if (text.split('\n').length > 4) {
              req.destroy()
              resolve(text.slice(0, text.lastIndexOf('\n') + 1))
            }
          })
        })
        req.on('error', (error) => (error.message.includes('socket hang up') || error.message.includes('aborted') ? undefined : reject(error)))
        req.end()
      })
      const later = (await read('timestamps=true')).text
      for (const line of followed.trimEnd().split('\n')) expect(later).toContain(`${line}\n`)
    } finally {
      delete sim.scenario.live!.requestIntervalMs
    }
  })

  it.skipIf(!hasKubectl)('kubectl logs --since --timestamps --limit-bytes against the simulator', async () => {
    // Asynchronously: the simulator answers from this process.
    const kubectl = (...args: string[]) => promisify(execFile)('kubectl', ['--kubeconfig', sim.kubeconfigPath, '-n', 'istio-system', 'logs', GATEWAY.pod, '-c', 'istio-proxy', ...args], {encoding: 'utf8', timeout: 20_000})
    const since = await kubectl('--since=20s', '--timestamps')
    const lines = accessLines(since.stdout)
    expect(lines.length).toBeGreaterThanOrEqual(3)
    for (const l of lines) expect(l.stamp).toBeGreaterThan(Date.now() - 25_000)
    const limited = await kubectl('--limit-bytes=50')
    expect(Buffer.byteLength(limited.stdout)).toBe(50)
  }, 30_000)
})
