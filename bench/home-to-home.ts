import { NatNetwork } from '../test/support/nat-network.js'
import type { NatNode } from '../test/support/nat-network.js'
import type { Namespace } from '../runtime/netdev/netns.js'
import type { VpnStatus } from '../runtime/vpn/vpn-service.js'
import type { SwarmStatus } from '../runtime/swarm/swarm-service.js'
import { writeSection, machineLine, percentile, progress } from './report.js'
import { iperf } from './support/iperf.js'
import { until } from './support/until.js'

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b)
const median = (values: number[]): number => percentile(sorted(values), 0.5)

const punched = async (from: NatNode, to: NatNode): Promise<boolean> =>
  (await from.status()).discovery.some((d) => d.network === 'public' && d.punched.some((p) => p.peerId === to.peerId))

/** A request the other node answers with its own error (it leads no VPN): the message got there. */
const answered = async (from: NatNode, to: NatNode): Promise<boolean> =>
  await from.call('request', { peer: to.peerId, type: 'vpn.sync', body: {}, timeoutMs: 5000 }).then(() => true, (err: Error) => /does not lead a VPN/.test(err.message))

interface FirstDirect { upMs: number, reservedMs: number, directMs: number, replyMs: number }

/**
 * Home to home on the NAT topology (test/support/nat-topology.ts): a relay and a STUN server on
 * the wan; homes 1 and 2 behind NATs that keep ports, homes 3 to 6 behind NATs that change
 * them (symmetric), the owner of a private swarm, a public VPN's leader and two public hosts on the wan.
 *
 * 1. Time from both homes starting to the first message over a punched, direct connection
 *    (home 1 dials home 2 by peer id; the punch follows the relayed connection).
 * 2. iperf3 over the VPN: homes 1–2 direct (public network, punched), against the same
 *    VPN between two public hosts; homes 3–4 relayed through the swarm owner (private
 *    swarm), against the same swarm's VPN between two members on the wan; homes 5–6 relayed
 *    through a public VPN's leader, against the public baseline. Paths alternate within each round.
 */
export async function homeToHomeBench (rounds: number, seconds: number): Promise<{ first: FirstDirect[], direct: number[], relayed: number[], leaderRelayed: number[], baseline: number[], privateBaseline: number[] }> {
  const symmetric = { symmetric: true }
  const net = await NatNetwork.create([{}, {}, symmetric, symmetric, symmetric, symmetric], { startHomes: false, publicHosts: 6, stun: true, homeArgs: ['--nat', '--vpn-accept', 'any'] })
  try {
    const first: FirstDirect[] = []
    for (let round = 0; round < rounds; round++) {
      progress(`home to home: first direct message, round ${round + 1} of ${rounds}`)
      const started = performance.now()
      const [a, b] = await Promise.all([net.startHome(0), net.startHome(1)])
      const upMs = performance.now() - started
      const reserved = async (node: NatNode): Promise<boolean> => (await node.status()).discovery.some((d) => d.network === 'public' && d.relay === 'reserved')
      await until('both homes hold a relay reservation', async () => await reserved(a) && await reserved(b), 30_000)
      const reservedMs = performance.now() - started
      await until('home 1 reaches home 2 by id', async () => { await a.call('dial', { target: b.peerId }); return true }, 30_000)
      await until('the punched connection', async () => await punched(a, b), 30_000)
      const directMs = performance.now() - started
      await until('a reply over it', async () => await answered(a, b), 10_000)
      first.push({ upMs, reservedMs, directMs, replyMs: performance.now() - started })
      await Promise.all([a.daemon.stop(), b.daemon.stop()])
    }

    progress('home to home: setting up the three VPNs')
    const [a, b] = await Promise.all([net.startHome(0), net.startHome(1)])
    await until('home 1 reaches home 2 by id', async () => { await a.call('dial', { target: b.peerId }); return true }, 30_000)
    await until('the punched connection', async () => await punched(a, b), 30_000)
    const direct = { from: a, to: b, toIp: (await leadVpn(a, [b], '10.98.0.0/24')).ipOf(b) }

    // the private swarm: its owner, two members at home behind symmetric NATs (relayed through the owner)
    // and two on the wan (directly connected: the same VPN's baseline)
    const owner = await net.startPublic(1, { args: [] })
    const members = await Promise.all([net.startHome(2), net.startHome(3), net.startPublic(2, { args: [] }), net.startPublic(3, { args: [] })])
    await owner.call<SwarmStatus>('swarm.create', { authorised: members.map((m) => m.peerId) })
    for (const member of members) await member.call('swarm.join', { owner: net.publicAddress(1, owner) })
    await until('members reserved on the owner', async () => {
      for (const member of members.slice(0, 2)) if ((await member.call<SwarmStatus>('swarm.status')).relay !== `relayed via ${owner.peerId}`) return false
      return true
    }, 30_000)
    const swarmVpn = await leadVpn(owner, members, '10.97.0.0/24')
    const relayed = { from: members[0]!, to: members[1]!, toIp: swarmVpn.ipOf(members[1]!) }
    const privateBaseline = { from: members[2]!, to: members[3]!, toIp: swarmVpn.ipOf(members[3]!) }

    const [p, q] = await Promise.all([net.startPublic(4, { args: ['--vpn-accept', 'any'] }), net.startPublic(5, { args: ['--vpn-accept', 'any'] })])
    await p.call('dial', { target: net.publicAddress(5, q) })
    const baseline = { from: p, to: q, toIp: (await leadVpn(p, [q], '10.96.0.0/24')).ipOf(q) }

    // a public VPN: its leader on the wan, two members at home behind symmetric NATs, relayed through the leader's own relay
    const vpnLeader = await net.startPublic(6, { args: [] })
    const publicMembers = await Promise.all([4, 5].map(async (i) => await net.startHome(i, ['--bootstrap', net.publicAddress(6, vpnLeader)])))
    await until('the leader knows both homes', async () => (await vpnLeader.status()).peers.filter((peer) => publicMembers.some((m) => m.peerId === peer.peerId)).length === 2, 30_000)
    const publicVpn = await leadVpn(vpnLeader, publicMembers, '10.95.0.0/24')
    await until('both hold a slot on the leader', async () => {
      for (const member of publicMembers) if (!(await member.status()).host.addresses.some((a) => a.includes(`/p2p/${vpnLeader.peerId}/p2p-circuit`))) return false
      return true
    }, 30_000)
    const leaderRelayed = { from: publicMembers[0]!, to: publicMembers[1]!, toIp: publicVpn.ipOf(publicMembers[1]!) }

    const { homes, publicHosts } = net.topology
    const namespaces = new Map<NatNode, Namespace>([
      [a, homes[0]!.ns], [b, homes[1]!.ns], [members[0]!, homes[2]!.ns], [members[1]!, homes[3]!.ns],
      [members[2]!, publicHosts[2]!.ns], [members[3]!, publicHosts[3]!.ns], [p, publicHosts[4]!.ns], [q, publicHosts[5]!.ns],
      [publicMembers[0]!, homes[4]!.ns], [publicMembers[1]!, homes[5]!.ns]
    ])
    const ns = (node: NatNode): Namespace => namespaces.get(node)!
    const paths = { direct, relayed, leaderRelayed, baseline, privateBaseline }
    const results: Record<keyof typeof paths, number[]> = { direct: [], relayed: [], leaderRelayed: [], baseline: [], privateBaseline: [] }
    for (const [name, path] of Object.entries(paths)) { progress(`warm-up: ${name}`); await iperf(ns(path.from), ns(path.to), path.toIp, 2) }
    for (let round = 0; round < rounds; round++) {
      for (const [name, path] of Object.entries(paths) as Array<[keyof typeof paths, typeof direct]>) {
        progress(`iperf3 ${name}, round ${round + 1} of ${rounds}`)
        results[name].push(await iperf(ns(path.from), ns(path.to), path.toIp, seconds))
      }
    }
    return { first, ...results }
  } finally {
    await net.stop()
  }
}

/** `leader` starts a VPN with `peers`; resolves once every peer runs it, with each node's VPN address. */
async function leadVpn (leader: NatNode, peers: NatNode[], subnet: string): Promise<{ ipOf: (node: NatNode) => string }> {
  const started = await leader.call<VpnStatus>('vpn.start', { peers: peers.map((p) => p.peerId), subnet })
  if (started.state !== 'running') throw new Error(`the VPN did not start: ${JSON.stringify(started)}`)
  await until('every peer runs the VPN', async () => {
    for (const peer of peers) if ((await peer.call<VpnStatus>('vpn.status')).state !== 'running') return false
    return true
  }, 30_000)
  return { ipOf: (node) => started.routes.find((r) => r.peer === node.peerId)!.ip }
}

export async function runHomeToHomeBench (options: { write?: boolean, rounds?: number, seconds?: number } = {}): Promise<void> {
  const rounds = options.rounds ?? 5
  const seconds = options.seconds ?? 5
  const result = await homeToHomeBench(rounds, seconds)
  const phase = (key: keyof FirstDirect): string => `${median(result.first.map((f) => f[key])).toFixed(0)} ms`
  const mbit = (values: number[]): string => `${median(values).toFixed(0)} Mbit/s`
  const relayedRatio = median(result.relayed) / median(result.privateBaseline)
  const lines = [
    `The NAT topology (test/support/nat-topology.ts): a relay and a STUN server (coturn) on the wan, homes behind nftables-masquerade`,
    `routers that drop unsolicited packets; ${machineLine()}; ${rounds} rounds, medians. Every node is a \`dms-net node\` daemon`,
    'in its namespace; the homes run `--nat --stun <wan>:3478`.',
    '',
    'From both homes starting (0 ms) to the first message over a direct connection: home 1 dials home 2 by peer id, the',
    'relayed connection that gives is punched (TCP simultaneous open), and home 1\'s request is answered over the direct one.',
    '',
    '| both processes up | both hold a relay reservation | punched, direct | first direct reply |',
    '| --- | --- | --- | --- |',
    `| ${phase('upMs')} | ${phase('reservedMs')} | ${phase('directMs')} | ${phase('replyMs')} |`,
    '',
    `iperf3 TCP over the VPN, ${seconds} s per run, the five paths alternating in each round after a 2 s warm-up run of each:`,
    '',
    '| path | Mbit/s (median) | rounds |',
    '| --- | --- | --- |',
    `| two homes, punched direct connection (public network) | ${mbit(result.direct)} | ${result.direct.map((v) => v.toFixed(0)).join(', ')} |`,
    `| two homes behind symmetric NATs, relayed through the swarm owner (private swarm) | ${mbit(result.relayed)} | ${result.relayed.map((v) => v.toFixed(0)).join(', ')} |`,
    `| two homes behind symmetric NATs, public VPN relayed through its leader (public network) | ${mbit(result.leaderRelayed)} | ${result.leaderRelayed.map((v) => v.toFixed(0)).join(', ')} |`,
    `| two public hosts, direct (public network; the direct path's baseline) | ${mbit(result.baseline)} | ${result.baseline.map((v) => v.toFixed(0)).join(', ')} |`,
    `| two swarm members on the wan, direct (the same private swarm's VPN; the relayed path's baseline) | ${mbit(result.privateBaseline)} | ${result.privateBaseline.map((v) => v.toFixed(0)).join(', ')} |`,
    '',
    `Direct: ${mbit(result.direct)} (target ≥ 250), ${(median(result.direct) / median(result.baseline)).toFixed(2)}× the public baseline. `
      + `Relayed through the owner: ${relayedRatio.toFixed(2)}× the same swarm VPN between two members on the wan (target ≥ 0.3×), `
      + `${(median(result.relayed) / median(result.baseline)).toFixed(2)}× the public baseline. `
      + `Public VPN relayed through its leader: ${(median(result.leaderRelayed) / median(result.baseline)).toFixed(2)}× the public baseline. First direct reply ${phase('replyMs')} after start (target ≤ 5000 ms).`,
    'The relayed path is CPU-bound on 2 cores: the owner decrypts and re-encrypts every packet (swarm key and Noise), and the',
    'members add a second Noise and yamux layer end to end inside the relayed stream.'
  ]
  process.stdout.write(`\nHome to home\n${lines.slice(7).join('\n')}\n`)
  if (options.write !== false) await writeSection('Discovery: home to home (hole punching and the swarm relay)', lines.join('\n'))
}
