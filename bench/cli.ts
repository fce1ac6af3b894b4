// `npm run bench cli`: how fast the dms-net command starts and how much memory a daemon holds.
// Baseline in the same run: `node -e ''`, the floor any Node CLI pays.
import { execFile, spawn } from 'node:child_process'
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

/**
 * Seconds after start at which an idle process's RSS is read. V8 gives back the garbage of
 * starting (mostly a young generation grown while modules load) once its memory reducer runs,
 * between about 10 s and a minute into an idle process; the last sample is the idle node.
 */
const IDLE_SAMPLES_S = [1, 15, 60]

/**
 * RSS (MB) of a process at IDLE_SAMPLES_S after it says it is ready (a `"ready"` line
 * on stdout, or at once when `ready` is false). The process is killed afterwards.
 */
async function idleRss (args: string[], ready = true): Promise<number[]> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const deadline = Date.now() + 30_000
    while (ready && !out.includes('"ready"')) {
      if (Date.now() > deadline || child.exitCode != null) throw new Error(`${args.join(' ')} did not start`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const readyAt = Date.now()
    const samples: number[] = []
    for (const seconds of IDLE_SAMPLES_S) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, readyAt + seconds * 1000 - Date.now())))
      samples.push(rssMb(child.pid!))
    }
    return samples
  } finally {
    child.kill('SIGTERM')
  }
}

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
    progress('embedded node memory')
    // the three at once: each only idles after its start
    const [embedded, bare, nodeAlone] = await Promise.all([
      idleRss([fileURLToPath(new URL('support/embedded-node.js', import.meta.url))]),
      idleRss([fileURLToPath(new URL('support/bare-gossip-node.js', import.meta.url))]),
      idleRss(['-e', 'setTimeout(() => {}, 120000)'], false)
    ])
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
      `Daemon memory (RSS): idle ${idle.toFixed(0)} MB (target ≤ 90), with ${connected} connected peers ${with20.toFixed(0)} MB (target ≤ 110 with 20).`,
      '',
      `Embedded node memory (RSS, MB) at ${IDLE_SAMPLES_S.join(' / ')} s after start: \`createNode()\` with the defaults, started (bench/support/embedded-node.js);`,
      'the baseline is bare js-libp2p + gossipsub (TCP, Noise, yamux, identify, ping), and `node` alone, the three started together. V8 gives back',
      'the garbage of starting (mostly a young generation grown while modules load) when its memory reducer runs, 10 s to a minute into an idle',
      'process; the last column is the idle node.',
      '',
      `| process | ${IDLE_SAMPLES_S.map((s) => `${s} s`).join(' | ')} |`,
      `|---|${IDLE_SAMPLES_S.map(() => '---').join('|')}|`,
      ...([['`createNode()` started', embedded], ['bare js-libp2p + gossipsub (baseline)', bare], ['`node` alone', nodeAlone]] as const)
        .map(([name, mb]) => `| ${name} | ${mb.map((m) => m.toFixed(0)).join(' | ')} |`),
      '',
      `Idle embedded node: ${embedded.at(-1)!.toFixed(0)} MB (target ≤ 80), ${(embedded.at(-1)! / bare.at(-1)!).toFixed(2)}× bare js-libp2p + gossipsub; ${(embedded.at(-1)! - nodeAlone.at(-1)!).toFixed(0)} MB above \`node\` alone.`
    ].join('\n')
    process.stdout.write(`${body}\n`)
    await writeSection('CLI start and daemon memory', body)
  } finally {
    await Promise.allSettled(peers.map(async (peer) => { await peer.stop() }))
    await daemon.stop()
    await rm(root, { recursive: true, force: true })
  }
}
