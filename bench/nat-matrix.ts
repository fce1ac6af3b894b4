import { NatNetwork } from '../test/support/nat-network.js'
import type { NatNode } from '../test/support/nat-network.js'
import type { HomeInit } from '../test/support/nat-topology.js'
import { writeSection, machineLine, percentile, progress } from './report.js'
import { until } from './support/until.js'

interface Cell { router: 'drop' | 'reset', nat: 'keeps ports' | 'changes ports', natted: 'both' | 'one' }
interface Outcome { direct: boolean, ms: number, reason?: string }

/** One-way delay between each home router and the wan: the homes are 2 × 20 ms apart, as on the internet. */
const UPLINK_DELAY_MS = 20

const CELLS: Cell[] = (['drop', 'reset'] as const).flatMap((router) => (['keeps ports', 'changes ports'] as const)
  .flatMap((nat) => (['both', 'one'] as const).map((natted) => ({ router, nat, natted }))))

const publicDiscovery = async (node: NatNode): Promise<{ relayedPeers: string[], punched: Array<{ peerId: string }>, noDirectPath: Array<{ peerId: string, reason: string }>, relay: string }> =>
  (await node.status()).discovery.find((d) => d.network === 'public')!

/**
 * One attempt: home 0 starts and takes a relay slot; then the other node starts (the
 * clock starts here), and once it is reachable home 0 dials it by peer id (the two may
 * have found each other through the DHT already). The attempt ends when home 0 has a
 * direct connection to it or says why not. Both are fresh daemons in their namespaces.
 */
async function attempt (net: NatNetwork, cell: Cell): Promise<Outcome> {
  const a = await net.startHome(0)
  let b: NatNode | undefined
  try {
    await until('home 0 holds a relay slot', async () => (await publicDiscovery(a)).relay === 'reserved', 30_000, 100)
    const started = performance.now()
    b = cell.natted === 'both' ? await net.startHome(1) : await net.startPublic(1)
    const other = b
    if (cell.natted === 'both') await until('home 1 holds a relay slot', async () => (await publicDiscovery(other)).relay === 'reserved', 30_000, 100)
    // a node just up may not be in the DHT yet: ask again until the lookup finds it
    await until('home 0 reaches it by id', async () => await a.call('dial', { target: other.peerId }).then(() => true, () => false), 20_000, 200)
    let outcome: Outcome | undefined
    await until('a direct connection or a reason', async () => {
      const d = await publicDiscovery(a)
      const why = d.noDirectPath.find((p) => p.peerId === other.peerId)
      if (!d.relayedPeers.includes(other.peerId)) outcome = { direct: true, ms: performance.now() - started }
      else if (why != null) outcome = { direct: false, ms: performance.now() - started, reason: why.reason }
      return outcome != null
    }, 20_000, 50)
    return outcome!
  } finally {
    await Promise.all([a.daemon.stop(), b?.daemon.stop()])
  }
}

const shortReason = (reason: string): string =>
  /changes ports/.test(reason) ? 'NAT changes ports' : /reset/.test(reason) ? 'router reset the SYN' : reason.slice(0, 40)

/**
 * The NAT matrix of docs/discovery.md: routers that drop or reset unsolicited SYNs, NATs that
 * keep or change ports, one or both sides behind NAT (the other a public host), every router
 * 20 ms from the wan (a delay wire). `attempts` fresh pairs per cell; the time to a direct path is
 * from home 0's dial by peer id.
 */
export async function runNatMatrixBench (options: { attempts?: number, write?: boolean } = {}): Promise<void> {
  const attempts = options.attempts ?? 10
  const rows: string[] = []
  const p50 = new Map<string, number>()
  for (const cell of CELLS) {
    const home: HomeInit = { delayMs: UPLINK_DELAY_MS, resets: cell.router === 'reset', symmetric: cell.nat === 'changes ports' }
    const net = await NatNetwork.create(cell.natted === 'both' ? [home, home] : [home], { startHomes: false, publicHosts: 1, stun: true })
    const outcomes: Outcome[] = []
    try {
      for (let i = 0; i < attempts; i++) {
        progress(`NAT matrix: ${cell.router}, ${cell.nat}, ${cell.natted} NATed: attempt ${i + 1} of ${attempts}`)
        outcomes.push(await attempt(net, cell))
      }
    } finally {
      await net.stop()
    }
    const direct = outcomes.filter((o) => o.direct).map((o) => o.ms).sort((x, y) => x - y)
    const reasons = [...new Set(outcomes.filter((o) => !o.direct).map((o) => shortReason(o.reason ?? '')))]
    if (direct.length > 0) p50.set(`${cell.router} ${cell.nat} ${cell.natted}`, percentile(direct, 0.5))
    const times = direct.length > 0 ? `${percentile(direct, 0.5).toFixed(0)} ms | ${percentile(direct, 0.99).toFixed(0)} ms` : '– | –'
    rows.push(`| ${cell.router} | ${cell.nat} | ${cell.natted} | ${direct.length}/${outcomes.length} direct | ${times} | ${reasons.join('; ') || '–'} |`)
    process.stdout.write(`${rows.at(-1)!}\n`)
  }
  const lines = [
    `Namespaces (test/support/nat-topology.ts), every home router 20 ms from the wan (each way), a relay and coturn on the wan, every node a`,
    `\`dms-net node --nat --stun\` daemon; ${machineLine()}; ${attempts} fresh pairs per cell. "one" NATed: the other node is a public host.`,
    'Time to direct: from the second node\'s start (home 0 already up, holding a relay slot) to home 0\'s direct connection to it',
    '(a punch, or a plain dial of a public node): process start, relay slot, lookup by id and punch.',
    '',
    '| router | NAT | NATed | result | to direct p50 | p99 | relayed because |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...(['drop', 'reset'] as const).map((router) => {
      const punched = p50.get(`${router} keeps ports both`)
      const baseline = p50.get(`${router} keeps ports one`)
      return punched != null && baseline != null
        ? `Routers that ${router}: two NATed homes go direct at p50 ${punched.toFixed(0)} ms, ${(punched / baseline).toFixed(2)}× a NATed home dialling a public node (${baseline.toFixed(0)} ms, the baseline; both times count the second node's start and relay slot).`
        : `Routers that ${router}: no direct path between two NATed homes that keep ports.`
    })
  ]
  process.stdout.write(`\nNAT matrix\n${lines.slice(4).join('\n')}\n`)
  if (options.write !== false) await writeSection('Discovery: NAT matrix', lines.join('\n'))
}
