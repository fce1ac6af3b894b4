import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnNode } from '../../runtime/cli/spawn-node.js'
import { ControlClient } from '../../runtime/control/client.js'
import { createNode } from '../../runtime/node.js'
import { rssMb } from './fleet.js'
import { startCli } from './cli.js'

// The hostile-peer soak (issue: hardening): a victim daemon that owns a private swarm
// with one member daemon, answers an honest peer's requests (through `dms-net receive
// --reply`), rotates its key every `rotateEveryMs`, and is attacked by a separate
// process with every attack class of docs/security.md. First a quiet phase measures
// the honest round trip without attacks: the baseline of the same run.

const attackerPath = fileURLToPath(new URL('./soak-attacker.ts', import.meta.url))

export interface SoakReport {
  quiet: { requests: number, p50: number, p99: number }
  attacked: { requests: number, failed: number, p50: number, p99: number }
  rss: { baseline: number, max: number, samples: Array<[number, number]> }
  auditBytes: number
  crashes: number
  rotations: { started: number, completed: number }
  attacks: Record<string, number>
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const pct = (values: number[], p: number): number => { const s = [...values].sort((a, b) => a - b); return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]! }

async function call<T> (dataDir: string, method: string, params: Record<string, unknown> = {}): Promise<T> {
  const client = await ControlClient.connect(dataDir)
  try { return await client.call<T>(method, params) } finally { client.close() }
}

async function dirBytes (dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? await dirBytes(path) : (await stat(path)).size
  }
  return total
}

export async function runSoak (options: { durationMs: number, quietMs: number, rotateEveryMs: number, onProgress?: (text: string) => void }): Promise<SoakReport> {
  const progress = options.onProgress ?? (() => {})
  const root = await mkdtemp(join(tmpdir(), 'dms-soak-'))
  const victimDir = join(root, 'victim')
  const victim = await spawnNode(['--data', victimDir, '--json', '--inspect', '0'])
  const member = await spawnNode(['--data', join(root, 'member')])
  const receiver = startCli(['receive', 'soak.echo', '--reply', '{"ok":true}', '--data', victimDir])
  const honest = createNode({ dataDir: join(root, 'honest') })
  let attacker: ReturnType<typeof spawn> | undefined
  let crashes = 0
  victim.child.once('exit', () => { crashes++ })
  try {
    const victimAddress = JSON.parse(victim.output().split('\n').find((l) => l.includes('"node.running"'))!).addresses[0] as string
    const inspector = JSON.parse(victim.output().split('\n').find((l) => l.includes('"inspector"'))!).url as string
    await call(victimDir, 'swarm.create', { authorised: [member.peerId] })
    await call(join(root, 'member'), 'swarm.join', { owner: victimAddress })
    await honest.start()
    await honest.dial(victimAddress)
    const deadline = Date.now() + 5000
    while (!receiver.stderr().includes('receiving') && Date.now() < deadline) await sleep(50)

    // the honest peer: one request every 50 ms, for the whole run
    const rtts: Array<{ at: number, ms: number }> = []
    let failed = 0
    let honestRunning = true
    const honestLoop = (async () => {
      while (honestRunning) {
        const started = performance.now()
        try {
          await honest.request(victim.peerId, 'soak.echo', { at: Date.now() }, { timeoutMs: 5000 })
          rtts.push({ at: Date.now(), ms: performance.now() - started })
        } catch { failed++ }
        await sleep(50)
      }
    })()

    progress(`quiet phase: ${options.quietMs / 1000} s`)
    await sleep(options.quietMs)
    const quietEnd = Date.now()
    const baselineRss = rssMb(victim.child.pid!)
    failed = 0
    progress(`attack phase: ${options.durationMs / 1000} s`)
    // the attacker runs at the lowest CPU priority: its own CPU would be another machine's in the field,
    // here it would otherwise be taken from the victim and the honest peer
    attacker = spawn('nice', ['-n', '19', process.execPath, '--import', 'tsx', attackerPath, JSON.stringify({ victim: victimAddress, dataDir: victimDir, inspector, durationMs: options.durationMs, root })], { stdio: ['ignore', 'pipe', 'inherit'] })
    let attackOutput = ''
    attacker.stdout!.on('data', (chunk: Buffer) => { attackOutput += chunk.toString() })
    const attackerDone = new Promise<void>((resolve) => { attacker!.once('exit', () => { resolve() }) })

    const samples: Array<[number, number]> = []
    let rotationsStarted = 0
    let rotationsCompleted = 0
    const attackStart = Date.now()
    let nextRotation = attackStart + options.rotateEveryMs / 2
    while (Date.now() - attackStart < options.durationMs && victim.child.exitCode == null) {
      samples.push([Math.round((Date.now() - attackStart) / 1000), Math.round(rssMb(victim.child.pid!))])
      if (Date.now() >= nextRotation) {
        nextRotation += options.rotateEveryMs
        rotationsStarted++
        try {
          const rotated = await call<{ fingerprint?: string }>(victimDir, 'swarm.rotate')
          const until = Date.now() + 15_000
          while (Date.now() < until) {
            if ((await call<{ fingerprint?: string }>(join(root, 'member'), 'swarm.status')).fingerprint === rotated.fingerprint) { rotationsCompleted++; break }
            await sleep(200)
          }
        } catch (err) { progress(`rotation failed: ${(err as Error).message}`) }
      }
      await sleep(2000)
    }
    await attackerDone
    honestRunning = false
    await honestLoop
    const quiet = rtts.filter((r) => r.at <= quietEnd).map((r) => r.ms)
    const attacked = rtts.filter((r) => r.at >= attackStart).map((r) => r.ms)
    return {
      quiet: { requests: quiet.length, p50: pct(quiet, 0.5), p99: pct(quiet, 0.99) },
      attacked: { requests: attacked.length, failed, p50: pct(attacked, 0.5), p99: pct(attacked, 0.99) },
      rss: { baseline: baselineRss, max: Math.max(...samples.map(([, mb]) => mb)), samples },
      auditBytes: await dirBytes(join(victimDir, 'swarm')),
      crashes,
      rotations: { started: rotationsStarted, completed: rotationsCompleted },
      attacks: attackOutput.trim() === '' ? {} : JSON.parse(attackOutput.trim().split('\n').at(-1)!) as Record<string, number>
    }
  } finally {
    attacker?.kill('SIGKILL')
    await receiver.stop()
    await honest.stop()
    await Promise.allSettled([victim.stop(), member.stop()])
    await rm(root, { recursive: true, force: true })
  }
}

/** The soak's goals, each with whether this run met it. */
export function soakGoals (r: SoakReport): Array<[string, boolean]> {
  return [
    [`honest p99 ≤ 2× quiet (${r.attacked.p99.toFixed(1)} vs ${r.quiet.p99.toFixed(1)} ms)`, r.attacked.p99 <= 2 * r.quiet.p99],
    [`victim RSS ≤ baseline + 100 MiB (max ${r.rss.max} MB, baseline ${r.rss.baseline.toFixed(0)} MB)`, r.rss.max <= r.rss.baseline + 100],
    [`0 crashes (${r.crashes})`, r.crashes === 0],
    [`0 honest requests failed (${r.attacked.failed} of ${r.attacked.requests})`, r.attacked.failed === 0],
    [`audit log bounded (${r.auditBytes} bytes, cap 4 MiB)`, r.auditBytes <= 4 << 20],
    [`every rotation completes (${r.rotations.completed}/${r.rotations.started})`, r.rotations.started > 0 && r.rotations.completed === r.rotations.started]
  ]
}
