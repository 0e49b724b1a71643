import {basename} from 'node:path'

import type {Hook} from '@oclif/core'

/**
 * The name a user typed to reach meshdbg, for help and usage lines: kubectl runs a plugin as the
 * executable `kubectl-<name>` (kubectl-meshdbg), and the user knows it as `kubectl meshdbg`.
 * Anything else (bin/run.js, the npm `meshdbg` link, a renamed single-file build) keeps `meshdbg`.
 */
export function invokedBinName(scriptPath: string | undefined): string | undefined {
  if (!scriptPath) return undefined
  const name = basename(scriptPath).replace(/\.(c|m)?js$|\.exe$/i, '')
  const plugin = /^kubectl-(.+)$/.exec(name)
  // kubectl maps `-` in the file name to a space and `_` to a dash (kubectl-foo_bar is `kubectl foo-bar`).
  return plugin ? `kubectl ${plugin[1].split('-').join(' ').replaceAll('_', '-')}` : undefined
}

const hook: Hook.Init = async function ({config}) {
  // In a single executable application argv[1] is the executable itself, so this covers it too.
  const bin = invokedBinName(process.argv[1])
  // Config declares bin read-only, but it is a plain field that help reads at render time.
  if (bin) (config as {bin: string}).bin = bin
}

export default hook
