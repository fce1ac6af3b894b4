// The cli and embedded-fleet benchmarks' embedded node: what a DMS process that embeds
// dms-network holds. It imports the compiled package, creates and starts a node with
// the defaults (no features), bootstrapping to the multiaddrs given as arguments,
// prints {"type":"ready","address"} and idles until killed. The benchmarks read its
// RSS from /proc at fixed times.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../../dist/runtime/index.js'

const node = createNode({ dataDir: mkdtempSync(join(tmpdir(), 'dms-bench-embedded-')), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: process.argv.slice(2) })
await node.start()
process.stdout.write(`${JSON.stringify({ type: 'ready', address: node.status().host.addresses[0] })}\n`)
process.on('SIGTERM', () => { void node.stop().finally(() => process.exit(0)) })
setInterval(() => {}, 60_000)
