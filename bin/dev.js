#!/usr/bin/env node
// Development entry: runs the compiled commands after a fresh `npm run build`.
// (TypeScript sources are compiled by scripts/build.mjs; there is no on-the-fly transpiler.)
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
