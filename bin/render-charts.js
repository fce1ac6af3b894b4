#!/usr/bin/env node
// `npm run charts`: render every machine's chart to docs/machines/. With --check, change nothing and
// exit 1 when the committed charts differ from what the machine definitions produce.
import { register } from 'tsx/esm/api'

register()
const { renderChartDocs } = await import('../runtime/inspect/chart-docs.ts')
const check = process.argv.includes('--check')
const stale = await renderChartDocs({ check })
if (check && stale.length > 0) {
  process.stderr.write(`state charts out of date (run npm run charts): ${stale.join(', ')}\n`)
  process.exitCode = 1
} else {
  process.stdout.write(stale.length === 0 ? 'state charts up to date\n' : `wrote ${stale.join(', ')}\n`)
}
