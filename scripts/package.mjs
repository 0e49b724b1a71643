// `npm run package`: a standalone single-file build, Node's single executable application
// (https://nodejs.org/api/single-executable-applications.html): this Node binary with the installed
// package injected (postject). Needs a build (`npm run build`); writes build/meshdbg-<platform>-<arch>
// (or --out DIR). Exits 3 with the reason when this Node cannot make one (no node:sea assets).
import {execFileSync} from 'node:child_process'
import {chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outIndex = process.argv.indexOf('--out')
const out = outIndex > 0 ? process.argv[outIndex + 1] : join(root, 'build')
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

function cannot(reason) {
  console.error(`cannot build a single executable here: ${reason}`)
  process.exit(3)
}

const [major, minor] = process.versions.node.split('.').map(Number)
// sea.getAsset arrived in Node 20.12 / 21.7.
if (major < 20 || (major === 20 && minor < 12) || (major === 21 && minor < 7)) cannot(`Node ${process.version} has no single-executable assets (20.12+ needed)`)
if (!['linux', 'darwin', 'win32'].includes(process.platform)) cannot(`unsupported platform ${process.platform}`)
if (!existsSync(join(root, 'dist', 'lib', 'kube-bundle.js')) || !existsSync(join(root, 'oclif.manifest.json'))) cannot('no build: run `npm run build` first')

/** Every file of the installed package: what `npm pack` ships plus the production dependencies. */
function packageFiles() {
  const files = new Map()
  const add = (path) => {
    const stat = statSync(path)
    if (stat.isDirectory()) for (const name of readdirSync(path).sort()) add(join(path, name))
    else if (stat.isFile()) files.set(relative(root, path).split(sep).join('/'), path)
  }
  for (const path of ['package.json', 'oclif.manifest.json', 'bin/run.js', 'bin/kubectl-meshdbg.js']) add(join(root, path))
  for (const name of readdirSync(join(root, 'dist')).filter((name) => name !== 'sim')) add(join(root, 'dist', name))
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'))
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev || !existsSync(join(root, path))) continue
    add(join(root, path))
  }
  return files
}

const files = packageFiles()
const index = []
const contents = []
for (const [path, source] of files) {
  const data = readFileSync(source)
  index.push([path, data.length, statSync(source).mode & 0o777])
  contents.push(data)
}
// The ordinary CommonJS module the executable starts (it may import() the ES module CLI).
const start = Buffer.from("'use strict'\nimport(require('node:url').pathToFileURL(require('node:path').join(__dirname, 'bin', 'run.js')).href)\n")
index.push(['sea-start.cjs', start.length, 0o644])
contents.push(start)
const header = Buffer.from(JSON.stringify(index))
const length = Buffer.alloc(4)
length.writeUInt32BE(header.length)
const archive = gzipSync(Buffer.concat([length, header, ...contents]), {level: 9})

const work = join(out, '.sea')
rmSync(work, {recursive: true, force: true})
mkdirSync(work, {recursive: true})
writeFileSync(join(work, 'package.bin'), archive)
copyFileSync(join(root, 'scripts', 'sea-main.cjs'), join(work, 'main.cjs'))
writeFileSync(join(work, 'sea-config.json'), JSON.stringify({
  main: join(work, 'main.cjs'),
  output: join(work, 'sea-prep.blob'),
  disableExperimentalSEAWarning: true,
  useCodeCache: false,
  assets: {'package.bin': join(work, 'package.bin')},
}))
execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {stdio: ['ignore', 'ignore', 'inherit']})

const binary = join(out, `meshdbg-${process.platform}-${process.arch}${process.platform === 'win32' ? '.exe' : ''}`)
rmSync(binary, {force: true})
copyFileSync(process.execPath, binary)
chmodSync(binary, 0o755)
if (process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', binary])
const {inject} = createRequire(import.meta.url)('postject')
await inject(binary, 'NODE_SEA_BLOB', readFileSync(join(work, 'sea-prep.blob')), {sentinelFuse: SENTINEL, machoSegmentName: process.platform === 'darwin' ? 'NODE_SEA' : undefined})
if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', binary])
rmSync(work, {recursive: true, force: true})
console.log(`${relative(process.cwd(), binary) || binary}: ${(statSync(binary).size / 1024 / 1024).toFixed(1)} MB (Node ${process.version} with ${files.size} package files, ${(archive.length / 1024).toFixed(0)} kB compressed)`)
