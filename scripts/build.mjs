// Build: type-check and compile src/ to dist/, then regenerate oclif.manifest.json.
// `--clean` removes dist/ first (CI starts from a clean clone anyway).
import {execFileSync} from 'node:child_process'
import {readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, relative, resolve as resolvePath, sep} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (process.argv.includes('--clean')) rmSync(join(root, 'dist'), {recursive: true, force: true})
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {stdio: 'inherit'})
// Bundle the live Kubernetes layer (src/lib/kube + src/lib/transport with client-node, undici, ws)
// into one file: importing client-node's 2,700 modules costs ~560 ms, the bundle ~200 ms. Other
// src modules stay external so there is one MeshdbgError class (exit codes rely on instanceof).
// src/lib/kube/load.ts uses the bundle only when its fingerprint matches the tsc output.
const {build: esbuild} = await import('esbuild')
const srcLib = join(root, 'src', 'lib')
const bundledDirs = [join(srcLib, 'kube'), join(srcLib, 'transport')].map((dir) => dir + sep)
// client-node's generated API clients (src/lib/kube/api-clients.ts) are a second bundle, loaded
// only by commands that call them (KubeSession.loadClients): the main one imports client-node's
// config module directly and marks client-node's modules side-effect free, which keeps its ~2,700
// generated models out of every live command's load path.
for (const stale of readdirSync(join(root, 'dist', 'lib')).filter((name) => /^kube-bundle-.*\.js$/.test(name))) {
  rmSync(join(root, 'dist', 'lib', stale))
}
const kubeBundlePlugin = {
  name: 'meshdbg-kube-bundle',
  setup(builder) {
    builder.onResolve({filter: /^\.\.?\//}, (args) => {
      const target = resolvePath(args.resolveDir, args.path)
      if (args.importer.includes(`${sep}@kubernetes${sep}client-node${sep}dist${sep}`)) return {path: target, sideEffects: false}
      if (target === join(srcLib, 'kube', 'api-clients.js')) return {path: './kube-api-bundle.js', external: true}
      if (!target.startsWith(srcLib + sep) || bundledDirs.some((dir) => target.startsWith(dir))) return undefined
      // A shared module (errors, duration, ...): import the tsc output next to the bundle.
      const fromBundle = relative(join(srcLib), target).split(sep).join('/')
      return {path: './' + fromBundle, external: true}
    })
  },
}
const bundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // Smaller to parse (~15% less load time); identifiers stay readable in --verbose stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  banner: {js: "import { createRequire as __bundleRequire } from 'module'; const require = __bundleRequire(import.meta.url);"},
  plugins: [kubeBundlePlugin],
}
await esbuild({...bundleOptions, entryPoints: [join(srcLib, 'kube', 'live.ts')], outfile: join(root, 'dist', 'lib', 'kube-bundle.js')})
await esbuild({...bundleOptions, entryPoints: [join(srcLib, 'kube', 'api-clients.ts')], outfile: join(root, 'dist', 'lib', 'kube-api-bundle.js')})
// The simulator for `meshdbg sim` (src/sim/product.ts) with ws, in one file next to the others:
// the package ships it instead of dist/sim, so an install needs neither ws nor the sim's modules.
await esbuild({...bundleOptions, entryPoints: [join(root, 'src', 'sim', 'product.ts')], outfile: join(root, 'dist', 'lib', 'sim-bundle.js')})
const {liveFingerprint} = await import(new URL('../dist/lib/kube/load.js', import.meta.url).href)
writeFileSync(join(root, 'dist', 'lib', 'kube-bundle.fingerprint'), liveFingerprint() + '\n')
execFileSync(process.execPath, [join(root, 'scripts/manifest.mjs')], {stdio: 'inherit'})
// The simulator's built-in catalog, pre-parsed (src/sim/catalog.ts): tests skip the YAML parser.
;(await import(new URL('../dist/sim/catalog.js', import.meta.url).href)).writeCatalogCache()
