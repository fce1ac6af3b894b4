// The cli benchmark's embedded node: what a DMS process that embeds dms-network
// holds. It imports the compiled package, creates and starts a node with the
// defaults (no features), prints {"type":"ready"} and idles until killed. The
// benchmark reads its RSS from /proc at fixed times.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../../dist/runtime/index.js'

const node = createNode({ dataDir: mkdtempSync(join(tmpdir(), 'dms-bench-embedded-')), listen: ['/ip4/127.0.0.1/tcp/0'] })
await node.start()
process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`)
process.on('SIGTERM', () => { void node.stop().finally(() => process.exit(0)) })
setInterval(() => {}, 60_000)
