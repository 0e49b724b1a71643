// The entry of the single-file build (Node's single executable application; scripts/package.mjs).
// The executable carries the installed package (dist/, bin/, the production node_modules) as one
// compressed asset. An embedded script may only require Node's built-in modules and cannot
// import() ES modules, so the package is unpacked once per build into a cache directory and
// started from there by an ordinary CommonJS module, which may.
'use strict'
const {createHash} = require('node:crypto')
const fs = require('node:fs')
const {createRequire} = require('node:module')
const os = require('node:os')
const path = require('node:path')
const sea = require('node:sea')
const zlib = require('node:zlib')

const archive = Buffer.from(sea.getAsset('package.bin'))
const hash = createHash('sha256').update(archive).digest('hex').slice(0, 16)
const cacheRoot = process.env.MESHDBG_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'meshdbg')
const dir = path.join(cacheRoot, `sea-${hash}`)

/** Archive: gzip( u32 index length, JSON [[path, size, mode]...], file bytes in index order ). */
function unpack(target) {
  const data = zlib.gunzipSync(archive)
  const indexLength = data.readUInt32BE(0)
  const index = JSON.parse(data.subarray(4, 4 + indexLength).toString('utf8'))
  let offset = 4 + indexLength
  for (const [relative, size, mode] of index) {
    const file = path.join(target, relative)
    // The archive is ours, but a path that leaves the directory is never written.
    if (!file.startsWith(target + path.sep)) throw new Error(`bad path in the embedded package: ${relative}`)
    fs.mkdirSync(path.dirname(file), {recursive: true})
    fs.writeFileSync(file, data.subarray(offset, offset + size), {mode})
    offset += size
  }
}

if (!fs.existsSync(path.join(dir, '.complete'))) {
  fs.mkdirSync(cacheRoot, {recursive: true})
  // Unpacked next to its final place and renamed: two first runs at once never see half a tree.
  const staging = fs.mkdtempSync(path.join(cacheRoot, `.sea-${hash}-`))
  try {
    unpack(staging)
    fs.writeFileSync(path.join(staging, '.complete'), '')
    fs.renameSync(staging, dir)
  } catch (error) {
    fs.rmSync(staging, {recursive: true, force: true})
    if (!fs.existsSync(path.join(dir, '.complete'))) throw error
  }
}
createRequire(path.join(dir, 'package.json'))('./sea-start.cjs')
