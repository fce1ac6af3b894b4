#!/usr/bin/env node
// The dms-net command: loads the TypeScript sources through tsx, then runs the CLI.
import { register } from 'tsx/esm/api'

register()
await import('../runtime/polyfill.ts')
const { main } = await import('../runtime/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
