import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnNode } from '../../runtime/cli/spawn-node.js'
import type { SpawnedNode } from '../../runtime/cli/spawn-node.js'
import { ControlClient } from '../../runtime/control/client.js'

// A fleet of `dms-net node` daemons on 127.0.0.1, each its own process: a few hubs,
// and every other node bootstrapped to all hubs, as a new user sets one up. Used by
// the scale test and `npm run bench scale`.

export interface FleetMember {
  name: string
  node: SpawnedNode
  /** The first address it listens on, with /p2p/<id>. */
  address: string
}

export interface Fleet {
  members: FleetMember[]
  hubs: FleetMember[]
  /** Milliseconds from the first spawn until every node answered on its control socket. */
  startupMs: number
  /** Resident memory of each daemon now, in MB. */
  rssMb: () => number[]
  stop: () => Promise<void>
}

export interface FleetInit {
  root: string
  nodes: number
  hubs: number
  /** Daemons started at once. @default 8 */
  batch?: number
  extraArgs?: string[]
  /** Called after each node is up (progress output). */
  onUp?: (up: number, total: number) => void
}

export async function startFleet (init: FleetInit): Promise<Fleet> {
  const started = Date.now()
  const members: FleetMember[] = []
  const spawnOne = async (name: string, bootstrap: string[]): Promise<FleetMember> => {
    const node = await spawnNode(['--data', join(init.root, name), '--json', ...bootstrap.flatMap((b) => ['--bootstrap', b]), ...(init.extraArgs ?? [])], { timeoutMs: 60_000 })
    const address = (JSON.parse(node.output().split('\n').find((line) => line.includes('"node.running"'))!) as { addresses: string[] }).addresses[0]!
    const member = { name, node, address }
    members.push(member)
    init.onUp?.(members.length, init.nodes)
    return member
  }
  try {
    const hubs: FleetMember[] = []
    for (let i = 0; i < init.hubs; i++) hubs.push(await spawnOne(`hub${i}`, hubs.map((h) => h.address)))
    const names = Array.from({ length: init.nodes - init.hubs }, (_, i) => `node${i}`)
    const batch = init.batch ?? 8
    for (let i = 0; i < names.length; i += batch) {
      // settle the whole batch before failing, so no daemon is left running unseen
      const results = await Promise.allSettled(names.slice(i, i + batch).map(async (name) => await spawnOne(name, hubs.map((h) => h.address))))
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed != null) throw failed.reason
    }
    return {
      members,
      hubs,
      startupMs: Date.now() - started,
      rssMb: () => members.map((m) => rssMb(m.node.child.pid!)),
      stop: async () => { await Promise.allSettled(members.map(async (m) => await m.node.stop(3000))) }
    }
  } catch (err) {
    await Promise.allSettled(members.map(async (m) => await m.node.stop(1000)))
    throw err
  }
}

/** Resident set size of a process, in MB (Linux). */
export function rssMb (pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return kb == null ? 0 : Number(kb) / 1024
}

/** Publish bid requests from one daemon through its control socket; each carries its send time in a label. */
export async function publishJobs (dataDir: string, count: number, gapMs: number, prefix = 'scale'): Promise<Array<{ jobId: string, sentAt: number, recipients: number }>> {
  const client = await ControlClient.connect(dataDir)
  const sent = []
  try {
    for (let i = 0; i < count; i++) {
      const jobId = `${prefix}-${i}`
      const sentAt = Date.now()
      const { recipients } = await client.call<{ recipients: number }>('publishJob', {
        bid: { jobId, resources: { cpuCores: 1, memoryMb: 128 }, price: { max: 1, currency: 'DMS' }, deadline: Date.now() + 600_000, labels: { sentAt: String(sentAt) } }
      })
      sent.push({ jobId, sentAt, recipients })
      if (i + 1 < count) await new Promise((resolve) => setTimeout(resolve, gapMs))
    }
  } finally {
    client.close()
  }
  return sent
}

/** The bid requests a daemon logged (`--json` job.received lines): job id → receive time. */
export function receivedJobs (member: FleetMember): Map<string, number> {
  const jobs = new Map<string, number>()
  for (const line of member.node.output().split('\n')) {
    if (!line.includes('"job.received"')) continue
    const event = JSON.parse(line) as { time: number, bid: { jobId: string } }
    if (!jobs.has(event.bid.jobId)) jobs.set(event.bid.jobId, event.time)
  }
  return jobs
}
