// `npm run bench cli`: how fast the dms-net command starts and how much memory a daemon holds.
// Baseline in the same run: `node -e ''`, the floor any Node CLI pays.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { spawnNode } from '../runtime/cli/spawn-node.js'
import { createNode } from '../runtime/node.js'
import type { DmsNode } from '../runtime/node.js'
import { rssMb } from '../test/support/fleet.js'
import { machineLine, percentile, progress, writeSection } from './report.js'

const run = promisify(execFile)
const cli = fileURLToPath(new URL('../bin/dms-net.js', import.meta.url))
const ROUNDS = 15

/** Median and max wall time of a whole command, in ms, over ROUNDS runs (after one warm-up). */
async function time (args: string[]): Promise<{ median: number, max: number }> {
  const times: number[] = []
  for (let i = 0; i <= ROUNDS; i++) {
    const started = process.hrtime.bigint()
    await run(process.execPath, args).catch(() => {})
    if (i > 0) times.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  times.sort((a, b) => a - b)
  return { median: percentile(times, 0.5), max: times.at(-1)! }
}

export async function runCliBench (): Promise<void> {
  process.stdout.write(`${machineLine()}; ${ROUNDS} runs each\n`)
  const root = await mkdtemp(join(tmpdir(), 'dms-bench-cli-'))
  const peers: DmsNode[] = []
  const daemon = await spawnNode(['--data', join(root, 'daemon')])
  try {
    progress('timing commands')
    const floor = await time(['-e', ''])
    const help = await time([cli, '--help'])
    const version = await time([cli, '--version'])
    const status = await time([cli, 'status', '--data', join(root, 'daemon')])
    const badArg = await time([cli, 'ping', 'nope'])
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const idle = rssMb(daemon.child.pid!)
    progress('connecting 20 peers to the daemon')
    const address = /listening on (\S+)/.exec(daemon.output())![1]!
    for (let i = 0; i < 20; i++) {
      const peer = createNode({ dataDir: join(root, `peer${i}`), bootstrap: [address] })
      await peer.start()
      peers.push(peer)
    }
    await new Promise((resolve) => setTimeout(resolve, 5000))
    const with20 = rssMb(daemon.child.pid!)
    const connected = (JSON.parse((await run(process.execPath, [cli, 'peers', '--json', '--data', join(root, 'daemon')])).stdout) as Array<{ state: string }>).filter((p) => p.state === 'identified' || p.state === 'connected').length
    const row = (name: string, t: { median: number, max: number }, target: string): string => `| ${name} | ${t.median.toFixed(0)} | ${t.max.toFixed(0)} | ${(t.median / floor.median).toFixed(1)}× | ${target} |`
    const body = [
      `${machineLine()}; wall time of the whole process, ${ROUNDS} runs after a warm-up.`,
      '',
      '| command | median ms | max ms | vs `node -e \'\'` | target |',
      '|---|---|---|---|---|',
      row('`node -e \'\'` (baseline)', floor, ''),
      row('`dms-net --help`', help, '≤ 300 ms'),
      row('`dms-net --version`', version, ''),
      row('`dms-net status` (running daemon)', status, '≤ 300 ms'),
      row('`dms-net ping nope` (usage error, exit 2)', badArg, ''),
      '',
      `Daemon memory (RSS): idle ${idle.toFixed(0)} MB (target ≤ 90), with ${connected} connected peers ${with20.toFixed(0)} MB (target ≤ 110 with 20).`
    ].join('\n')
    process.stdout.write(`${body}\n`)
    await writeSection('CLI start and daemon memory', body)
  } finally {
    await Promise.allSettled(peers.map(async (peer) => { await peer.stop() }))
    await daemon.stop()
    await rm(root, { recursive: true, force: true })
  }
}
