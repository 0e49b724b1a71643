#!/usr/bin/env node
// kubectl's plugin completion (kubectl 1.26+): `kubectl meshdbg <TAB>` runs kubectl_complete-meshdbg with
// the words typed after `kubectl meshdbg` and reads cobra's __complete answer, which meshdbg's own
// hidden `__complete` command prints.
process.argv.splice(2, 0, '__complete', '--')
await import('./run.js')
