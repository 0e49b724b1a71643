import {describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'

const f = (name: string) => `test/fixtures/certs/${name}`
const AT = ['--at', '2026-06-01T00:00:00Z']

describe('meshdbg certs -f', () => {
  it('lists the chain and exits 0 without --warn-within', async () => {
    const result = await runCli(['certs', '-f', f('webapp.secrets.json'), ...AT])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout.split('\n')[1]).toMatch(/^default +1\/3 +leaf +spiffe:\/\/cluster\.local\/ns\/istioinaction\/sa\/webapp .* 36h +VALID$/)
  })

  it('--warn-within 24h exits 10 naming the certificate that expires in 4h', async () => {
    const result = await runCli(['certs', '-f', f('catalog.secrets.json'), ...AT, '--warn-within', '24h'])
    expect(result.code).toBe(10)
    expect(result.stdout).toMatch(/default +1\/1 +leaf .* 4h +EXPIRING\n/)
    expect(result.stderr).toMatch(/^Error: test\/fixtures\/certs\/catalog\.secrets\.json: 1 certificate expired, not valid or expiring within 24h: default leaf spiffe:\/\/cluster\.local\/ns\/istioinaction\/sa\/catalog expires in 4h\. Hint: /)
    const wider = await runCli(['certs', '-f', f('catalog.secrets.json'), ...AT, '--warn-within', '3h'])
    expect(wider.code).toBe(0)
  })

  it('an expired certificate fails --warn-within on the real clock too', async () => {
    const result = await runCli(['certs', '-f', f('sleep.secrets.json'), '--warn-within', '1m', '--json'])
    expect(result.code).toBe(10)
    const envelope = JSON.parse(result.stdout)
    expect(envelope.status).toBe(10)
    expect(envelope.result.problems).toBe(1)
    expect(envelope.result.certificates[0]).toMatchObject({resource: 'default', role: 'leaf', state: 'EXPIRED'})
    expect(envelope.error.kind).toBe('problems-found')
  })

  it('reads a saved /certs answer', async () => {
    const result = await runCli(['certs', '-f', f('webapp.certs.json'), ...AT, '-o', 'json'])
    expect(result.code).toBe(0)
    const doc = JSON.parse(result.stdout)
    expect(doc.certificates.map((row: {role: string; source: string}) => [row.role, row.source])).toEqual([['leaf', 'certs'], ['ca', 'certs']])
  })

  it('rejects bad clocks, windows and argument mixes with exit 2', async () => {
    for (const args of [['--at', 'yesterday'], ['--warn-within', '1w'], ['--compare-root'], ['extra-target']]) {
      const result = await runCli(['certs', '-f', f('webapp.secrets.json'), ...args])
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    }
  })
})

describe('meshdbg certs --compare-root', () => {
  it('identical roots: exit 0', async () => {
    const result = await runCli(['certs', '--compare-root', '-f', f('webapp.secrets.json'), '-f', f('webapp.secrets.json')])
    expect(result.code).toBe(0)
    expect(result.stdout.split('\n')[0]).toBe('test/fixtures/certs/webapp.secrets.json and test/fixtures/certs/webapp.secrets.json trust the same root')
  })

  it('a root only one side trusts: exit 10, named, with the shared one', async () => {
    const result = await runCli(['certs', '--compare-root', '-f', f('webapp.secrets.json'), '-f', f('catalog.secrets.json')])
    expect(result.code).toBe(10)
    expect(result.stdout).toMatch(/\nboth +O=cluster\.local, CN=meshdbg test root A /)
    expect(result.stdout).toMatch(/\nonly test\/fixtures\/certs\/catalog\.secrets\.json +O=cluster\.local, CN=meshdbg test root B /)
    expect(result.stderr).toContain('they share 1 root, so mTLS between them still verifies')
  })

  it('no root in common: exit 10 and a typed result', async () => {
    const result = await runCli(['certs', '--compare-root', '-f', f('webapp.secrets.json'), '-f', f('sleep.secrets.json'), '--json'])
    expect(result.code).toBe(10)
    const envelope = JSON.parse(result.stdout)
    expect(envelope.result).toMatchObject({identical: false, overlap: false, shared: []})
    expect(envelope.error.message).toContain('they share none, so mTLS between them fails')
  })
})
