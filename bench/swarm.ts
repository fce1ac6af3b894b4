import '../actors/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createNode } from '../runtime/node.js'
import { createSwarm } from '../runtime/swarm/swarm-service.js'
import { writeSection, machineLine, percentile } from './report.js'
import { until } from './support/until.js'

/** Rotate with 10 members: time until all are connected on the new key; revoke: time until the peer is cut off. */
export async function runSwarmBench (options: { write?: boolean, rounds?: number } = {}): Promise<{ rotateMs: number[], revokeMs: number[] }> {
  const root = await mkdtemp(join(tmpdir(), 'dms-bench-swarm-'))
  const members = 10
  const rounds = options.rounds ?? 5
  const make = (name: string) => {
    const node = createNode({ dataDir: join(root, name), dialTimeoutMs: 3000 })
    return { node, swarm: createSwarm(node, { rejoinWindowMs: 3000 }) }
  }
  const owner = make('owner')
  const peers = Array.from({ length: members + rounds }, (_, i) => make(`m${i}`))
  try {
    await owner.node.start()
    await Promise.all(peers.map(async (p) => { await p.node.start() }))
    await owner.swarm.create(peers.map((p) => p.node.peerId))
    const ownerAddress = owner.node.status().host.addresses[0]!
    for (const peer of peers) await peer.swarm.join(ownerAddress)
    const rotateMs: number[] = []
    const revokeMs: number[] = []
    let active = [...peers]
    for (let round = 0; round < rounds; round++) {
      // measure a rotation with exactly `members` members, then revoke one
      const current = active.slice(0, members + (rounds - round) - 1)
      let started = performance.now()
      const rotated = await owner.swarm.rotate()
      await until('every member on the new key', () => current.every((p) => p.swarm.status().fingerprint === rotated.fingerprint && p.swarm.status().state === 'joined') &&
        current.every((p) => owner.swarm.status().privatePeers.includes(p.node.peerId)), 20_000, 5)
      rotateMs.push(performance.now() - started)
      const victim = active.at(-1)!
      started = performance.now()
      await owner.swarm.revoke(victim.node.peerId)
      await until('the revoked peer cut off', () => !owner.swarm.status().privatePeers.includes(victim.node.peerId), 20_000, 5)
      revokeMs.push(performance.now() - started)
      active = active.slice(0, -1)
      await until('the others connected', () => active.every((p) => owner.swarm.status().privatePeers.includes(p.node.peerId)), 20_000, 5)
    }
    rotateMs.sort((a, b) => a - b)
    revokeMs.sort((a, b) => a - b)
    const lines = [
      `An owner and ${members}–${members + rounds - 1} members on 127.0.0.1 in one process, ${machineLine()}; ${rounds} rounds. "Rotate" runs from`,
      '`rotate()` until every member holds the new key and is connected to the owner on it; "revoke" from `revoke()` until the',
      'revoked peer has no connection on the private network (it also rotates everyone else). Target: under 2 s for 10 members.',
      '',
      '| measure | p50 | max |',
      '| --- | --- | --- |',
      `| rotate, all members reconnected on the new key | ${percentile(rotateMs, 0.5).toFixed(0)} ms | ${rotateMs.at(-1)!.toFixed(0)} ms |`,
      `| revoke, revoked peer cut off | ${percentile(revokeMs, 0.5).toFixed(0)} ms | ${revokeMs.at(-1)!.toFixed(0)} ms |`
    ]
    process.stdout.write(`\nPrivate swarm\n${lines.slice(4).join('\n')}\n`)
    if (options.write !== false) await writeSection('Private swarm', lines.join('\n'))
    return { rotateMs, revokeMs }
  } finally {
    await Promise.allSettled([owner, ...peers].map(async (p) => { await p.node.stop() }))
    await rm(root, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await runSwarmBench()
