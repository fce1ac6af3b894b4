#!/usr/bin/env node
// The dms-net command. It runs the compiled CLI in dist/, which `npm run build`
// writes (the published package ships it; `npm test` builds it first).
const { main } = await import('../dist/runtime/cli/main.js').catch((err) => {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/runtime/cli/main.js')) throw err
  process.stderr.write('dms-net: the compiled CLI is missing (dist/); in a source checkout run: npm run build\n')
  process.exit(1)
})
process.exitCode = await main(process.argv.slice(2))
