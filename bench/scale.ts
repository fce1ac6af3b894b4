// `npm run bench scale -- --nodes N --jobs K`: N `dms-net node` daemons on 127.0.0.1
// (each its own process, a few hubs everyone bootstraps to) receive K bid requests
// published by one of them. Baseline, same run, same topology, same gossipsub
// options: N bare js-libp2p + gossipsub processes.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startFleet, publishJobs, receivedJobs, rssMb } from '../test/support/fleet.js'
import { machineLine, percentile, progress, writeSection } from './report.js'
import { until } from './support/until.js'

const bareNodePath = fileURLToPath(new URL('./support/bare-gossip-node.js', import.meta.url))

interface Outcome {
  startupMs: number
  delivered: number
  expected: number
  latencies: number[]
  rss: number[]
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function runDms (nodes: number, hubs: number, jobs: number, settleMs: number): Promise<Outcome> {
  const root = await mkdtemp(join(tmpdir(), 'dms-bench-scale-'))
  const fleet = await startFleet({ root, nodes, hubs, onUp: (up, total) => { if (up % 10 === 0 || up === total) progress(`dms: ${up}/${total} daemons up`) } })
  try {
    await sleep(settleMs)
    const publisher = fleet.members.at(-1)!
    progress(`dms: publishing ${jobs} bid requests from ${publisher.name}`)
    const sent = await publishJobs(join(root, publisher.name), jobs, 250)
    const receivers = fleet.members.filter((m) => m !== publisher)
    const count = (): number => receivers.reduce((sum, m) => sum + [...receivedJobs(m).keys()].filter((id) => id.startsWith('scale-')).length, 0)
    // delivery is measured as it stands after the wait, complete or not
    await until('every job delivered', () => count() >= receivers.length * jobs, 30_000, 200).catch(() => {})
    const latencies: number[] = []
    for (const member of receivers) {
      const got = receivedJobs(member)
      for (const job of sent) { const at = got.get(job.jobId); if (at != null) latencies.push(at - job.sentAt) }
    }
    return { startupMs: fleet.startupMs, delivered: latencies.length, expected: receivers.length * jobs, latencies: latencies.sort((a, b) => a - b), rss: fleet.rssMb() }
  } finally {
    await fleet.stop()
    await rm(root, { recursive: true, force: true })
  }
}

interface BareNode { child: ChildProcess, address: string, lines: () => string[] }

async function spawnBare (bootstrap: string[]): Promise<BareNode> {
  const child = spawn(process.execPath, [bareNodePath, ...bootstrap], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const deadline = Date.now() + 60_000
  while (!out.includes('"ready"')) {
    if (Date.now() > deadline || child.exitCode != null) throw new Error('a bare gossipsub node did not start')
    await sleep(20)
  }
  const address = (JSON.parse(out.split('\n').find((l) => l.includes('"ready"'))!) as { address: string }).address
  return { child, address, lines: () => out.split('\n').filter(Boolean) }
}

async function runBare (nodes: number, hubs: number, jobs: number, settleMs: number): Promise<Outcome> {
  const started = Date.now()
  const all: BareNode[] = []
  try {
    const hubNodes: BareNode[] = []
    for (let i = 0; i < hubs; i++) { const hub = await spawnBare(hubNodes.map((h) => h.address)); hubNodes.push(hub); all.push(hub) }
    for (let i = hubs; i < nodes; i += 8) {
      all.push(...await Promise.all(Array.from({ length: Math.min(8, nodes - i) }, async () => await spawnBare(hubNodes.map((h) => h.address)))))
      if (all.length % 10 < 8) progress(`bare: ${all.length}/${nodes} processes up`)
    }
    const startupMs = Date.now() - started
    await sleep(settleMs)
    const publisher = all.at(-1)!
    const sent: Array<{ jobId: string, sentAt: number }> = []
    for (let i = 0; i < jobs; i++) {
      const job = { jobId: `scale-${i}`, sentAt: Date.now() }
      sent.push(job)
      publisher.child.stdin!.write(`publish ${JSON.stringify({ jobId: job.jobId })}\n`)
      await sleep(250)
    }
    const receivers = all.filter((n) => n !== publisher)
    const received = (n: BareNode): Map<string, number> => new Map(n.lines().map((l) => JSON.parse(l) as { type: string, jobId: string, time: number }).filter((e) => e.type === 'recv').map((e) => [e.jobId, e.time]))
    await until('every job delivered', () => receivers.every((n) => received(n).size >= jobs), 30_000, 200).catch(() => {})
    const latencies: number[] = []
    for (const node of receivers) { const got = received(node); for (const job of sent) { const at = got.get(job.jobId); if (at != null) latencies.push(at - job.sentAt) } }
    return { startupMs, delivered: latencies.length, expected: receivers.length * jobs, latencies: latencies.sort((a, b) => a - b), rss: all.map((n) => rssMb(n.child.pid!)) }
  } finally {
    for (const node of all) node.child.kill('SIGTERM')
    await sleep(500)
    for (const node of all) if (node.child.exitCode == null) node.child.kill('SIGKILL')
  }
}

const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 0.5)

export async function runScaleBench (argv: string[] = []): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string' }, jobs: { type: 'string' }, hubs: { type: 'string' }, settle: { type: 'string' }, docs: { type: 'boolean' } }, strict: false })
  const nodes = Number(values.nodes ?? 100)
  const jobs = Number(values.jobs ?? 20)
  const hubs = Number(values.hubs ?? 3)
  const settleMs = Number(values.settle ?? 10_000)
  process.stdout.write(`${machineLine()}; ${nodes} processes, ${hubs} hubs, ${jobs} jobs, ${settleMs} ms to settle before publishing\n`)
  const dms = await runDms(nodes, hubs, jobs, settleMs)
  const bare = await runBare(nodes, hubs, jobs, settleMs)
  const row = (name: string, o: Outcome): string => `| ${name} | ${(100 * o.delivered / o.expected).toFixed(1)} % (${o.delivered}/${o.expected}) | ${percentile(o.latencies, 0.5) ?? '-'} | ${percentile(o.latencies, 0.99) ?? '-'} | ${o.latencies.at(-1) ?? '-'} | ${(o.startupMs / 1000).toFixed(1)} | ${median(o.rss).toFixed(0)} / ${Math.max(...o.rss).toFixed(0)} |`
  const p99 = (o: Outcome): number => percentile(o.latencies, 0.99) ?? Infinity
  const body = [
    `${machineLine()}. ${nodes} processes on 127.0.0.1, ${hubs} hubs that every other node bootstraps to; ${jobs} bid requests published 250 ms apart by one non-hub node, ${settleMs / 1000} s after the last node came up. Baseline: bare js-libp2p + gossipsub processes, same topology and the same gossipsub options.`,
    '',
    '| | delivered | p50 ms | p99 ms | max ms | all up, s | RSS MB median / max |',
    '|---|---|---|---|---|---|---|',
    row('dms-net node daemons', dms),
    row('bare libp2p + gossipsub', bare),
    '',
    `p99 ratio dms / bare: ${(p99(dms) / p99(bare)).toFixed(2)}×. Targets at N = 100: 100 % delivered, p99 ≤ 2 s and ≤ 1.2× bare, median daemon RSS ≤ 90 MB, all up in ≤ 60 s.`
  ].join('\n')
  process.stdout.write(`${body}\n`)
  await writeSection(`Scale: bid requests to ${nodes} processes`, body)
}
