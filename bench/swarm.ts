import '../actors/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { createNode } from '../runtime/node.js'
import { createSwarm } from '../runtime/swarm/swarm-service.js'
import { writeSection, machineLine, percentile } from './report.js'
import { until } from './support/until.js'

/**
 * `npm run bench swarm -- --members 10,50,100`: for each swarm size, rotate (time until every member is
 * connected on the new key) and revoke (time until the revoked peer is cut off), in one process.
 */
export async function runSwarmBench (argv: string[] = []): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { members: { type: 'string' }, rounds: { type: 'string' }, docs: { type: 'boolean' } }, strict: false })
  const sizes = String(values.members ?? '10').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0)
  const rows: string[] = []
  for (const members of sizes) {
    const rounds = Number(values.rounds ?? (members > 20 ? 3 : 5))
    process.stdout.write(`swarm of ${members} members, ${rounds} rounds…\n`)
    const { rotateMs, revokeMs } = await measureSwarm(members, rounds)
    rows.push(`| ${members} | ${percentile(rotateMs, 0.5).toFixed(0)} ms | ${rotateMs.at(-1)!.toFixed(0)} ms | ${percentile(revokeMs, 0.5).toFixed(0)} ms | ${revokeMs.at(-1)!.toFixed(0)} ms |`)
  }
  const lines = [
    `An owner and N members on 127.0.0.1 in one process, ${machineLine()}. "Rotate" runs from \`rotate()\` until every`,
    'member holds the new key and is connected to the owner on it; "revoke" from `revoke()` until the revoked peer has',
    'no connection on the private network (it also rotates everyone else). Targets: rotate < 3 s and revoke < 1 s at 100 members.',
    '',
    '| members | rotate p50 | rotate max | revoke p50 | revoke max |',
    '| --- | --- | --- | --- | --- |',
    ...rows
  ]
  process.stdout.write(`\nPrivate swarm\n${lines.slice(4).join('\n')}\n`)
  await writeSection('Private swarm', lines.join('\n'))
}

async function measureSwarm (members: number, rounds: number): Promise<{ rotateMs: number[], revokeMs: number[] }> {
  const root = await mkdtemp(join(tmpdir(), 'dms-bench-swarm-'))
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
      const revoked = await owner.swarm.revoke(victim.node.peerId)
      await until('the revoked peer cut off', () => !owner.swarm.status().privatePeers.includes(victim.node.peerId), 20_000, 5)
      revokeMs.push(performance.now() - started)
      active = active.slice(0, -1)
      await until('the others on the newest key', () => active.every((p) => p.swarm.status().fingerprint === revoked.fingerprint && p.swarm.status().state === 'joined' &&
        owner.swarm.status().privatePeers.includes(p.node.peerId)), 20_000, 5)
    }
    rotateMs.sort((a, b) => a - b)
    revokeMs.sort((a, b) => a - b)
    return { rotateMs, revokeMs }
  } finally {
    await Promise.allSettled([owner, ...peers].map(async (p) => { await p.node.stop() }))
    await rm(root, { recursive: true, force: true, maxRetries: 5 })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await runSwarmBench(process.argv.slice(2))
