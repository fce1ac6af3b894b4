// `npm run bench embedded-fleet -- --nodes 50`: the memory of an embedded node among peers.
// N processes each run `createNode()` with the defaults (bench/support/embedded-node.js),
// bootstrapping to the first three, so every node holds connections and a gossipsub mesh.
// Baseline, same run, same topology: N bare js-libp2p + gossipsub processes with the same
// gossipsub options (bench/support/bare-gossip-node.js). RSS is read from /proc once the
// fleet has idled for a minute (V8's memory reducer has run by then). A third fleet runs
// `createNode()` under `node --max-semi-space-size=2`: the V8 young generation an embedder
// may choose (a process-wide flag, so the embedder's choice, not the package's).
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { rssMb } from '../test/support/fleet.js'
import { machineLine, percentile, progress, writeSection } from './report.js'

const HUBS = 3
const SETTLE_MS = 60_000

interface Member { child: ChildProcess, address: string }

const SMALL_YOUNG_GENERATION = ['--max-semi-space-size=2']

async function startMember (script: string, bootstrap: string[], nodeFlags: string[]): Promise<Member> {
  const child = spawn(process.execPath, [...nodeFlags, script, ...bootstrap], { stdio: ['pipe', 'pipe', 'ignore'] })
  let out = ''
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const deadline = Date.now() + 60_000
  for (;;) {
    const ready = out.split('\n').find((line) => line.includes('"ready"'))
    if (ready != null) return { child, address: (JSON.parse(ready) as { address: string }).address }
    if (Date.now() > deadline || child.exitCode != null) { child.kill('SIGKILL'); throw new Error(`${script} did not start`) }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** RSS in MB of every member of an N-process fleet of `script`, after it idled SETTLE_MS. */
async function fleetRss (name: string, script: string, nodes: number, nodeFlags: string[] = []): Promise<number[]> {
  const members: Member[] = []
  try {
    for (let i = 0; i < nodes; i++) {
      members.push(await startMember(script, members.slice(0, HUBS).map((m) => m.address), nodeFlags))
      if ((i + 1) % 10 === 0 || i + 1 === nodes) progress(`${name}: ${i + 1}/${nodes} up`)
    }
    progress(`${name}: idling ${SETTLE_MS / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    return members.map((m) => rssMb(m.child.pid!)).sort((a, b) => a - b)
  } finally {
    for (const m of members) m.child.kill('SIGKILL')
  }
}

export async function runEmbeddedFleetBench (argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string' }, docs: { type: 'boolean' } }, strict: false })
  const sizes = String(values.nodes ?? '50').split(',').map(Number)
  const rows: string[] = []
  for (const nodes of sizes) {
    const embedded = fileURLToPath(new URL('./support/embedded-node.js', import.meta.url))
    const dms = await fleetRss('createNode()', embedded, nodes)
    const small = await fleetRss('createNode(), small young generation', embedded, nodes, SMALL_YOUNG_GENERATION)
    const bare = await fleetRss('bare', fileURLToPath(new URL('./support/bare-gossip-node.js', import.meta.url)), nodes)
    const row = (stack: string, rss: number[]): string => `| ${nodes} | ${stack} | ${percentile(rss, 0.5).toFixed(0)} | ${rss.at(-1)!.toFixed(0)} |`
    const ratio = (a: number[], b: number[]): string => `${(percentile(a, 0.5) / percentile(b, 0.5)).toFixed(2)}×`
    rows.push(row('`createNode()` with the defaults', dms), row(`\`createNode()\` under \`node ${SMALL_YOUNG_GENERATION.join(' ')}\``, small), row('bare js-libp2p + gossipsub (baseline)', bare))
    rows.push(`| | defaults / baseline, median | ${ratio(dms, bare)} | |`, `| | small young generation / baseline, median | ${ratio(small, bare)} | |`)
  }
  const lines = [
    `${machineLine()}. N processes on 127.0.0.1, each bootstrapping to the first ${HUBS}; RSS read after the fleet idled ${SETTLE_MS / 1000} s.`,
    '',
    '| nodes | process | RSS MB median | max |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    'Target (issue 26): an embedded node ≤ 90 MB at N = 50. Most of what an idle node holds above its live heap is V8\'s young',
    'generation (up to 3 × 16 MB by default); `--max-semi-space-size` is a process-wide V8 flag, so it is the embedder\'s to set',
    '(`NODE_OPTIONS=--max-semi-space-size=2`), at some cost in minor GCs when traffic is heavy.'
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  await writeSection('Embedded node memory in a fleet', lines.join('\n'))
}
