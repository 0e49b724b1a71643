// The fake API server's committed, long-lived TLS certificates (see certs/README.md); the mesh's
// certificates are issued on request by mesh-ca.ts.
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
// Compiled code runs from dist/sim; the PEM files stay in src/sim/certs.
const certDir = [join(here, 'certs'), join(here, '..', '..', 'src', 'sim', 'certs')].find((d) => existsSync(join(d, 'apiserver-ca.pem')))
const cache = new Map<string, string>()

export function readCert(file: string): string {
  if (!certDir) throw new Error('simulator certificates not found (src/sim/certs)')
  let text = cache.get(file)
  if (text === undefined) {
    text = readFileSync(join(certDir, file), 'utf8')
    cache.set(file, text)
  }
  return text
}

export function certPath(file: string): string {
  if (!certDir) throw new Error('simulator certificates not found (src/sim/certs)')
  return join(certDir, file)
}
