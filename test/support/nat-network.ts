import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNatTopology } from './nat-topology.js'
import type { HomeInit, NatTopology } from './nat-topology.js'
import { spawnNode } from '../../runtime/cli/spawn-node.js'
import { startStunServer } from './stun-server.js'
import type { StunServer } from './stun-server.js'
import type { SpawnedNode } from '../../runtime/cli/spawn-node.js'
import { ControlClient } from '../../runtime/control/client.js'
import type { DiscoveryStatus, NodeStatus } from '../../runtime/events.js'
import * as assert from 'uvu/assert'
import { passes } from './nodes.js'

export const NODE_PORT = 4001

export interface NatNode {
  dir: string
  daemon: SpawnedNode
  peerId: string
  /** Call a control method of the node (status, dial, request, …). */
  call: <T = unknown>(method: string, params?: Record<string, unknown>) => Promise<T>
  status: () => Promise<NodeStatus>
}

/**
 * A relay/DHT node on the wan and `homes` behind their own NAT routers, each a
 * real `dms-net node` daemon in its namespace (see test/support/nat-topology.ts).
 * `stop()` stops every daemon and deletes every namespace and data dir.
 */
export class NatNetwork {
  readonly nodes: NatNode[] = []
  relay!: NatNode
  homes: NatNode[] = []
  relayAddress = ''
  /** The STUN server on the relay's wan host (`ip:port`), when created with `stun: true`. */
  stun: StunServer | undefined
  private constructor (readonly topology: NatTopology, private readonly root: string) {}

  private homeArgs: string[] = ['--nat']

  /**
   * `homeArgs`: the discovery flags of the home nodes (default `--nat`);
   * `startHomes: false` leaves them to `startHome(i)`; `publicHosts`: wan hosts
   * besides the relay's (for `startPublic(i)`); `stun`: a STUN server (coturn) on
   * the relay's wan host, and `--stun` added to the home flags.
   */
  static async create (homes: HomeInit[], options: { homeArgs?: string[], startHomes?: boolean, publicHosts?: number, stun?: boolean } = {}): Promise<NatNetwork> {
    const topology = await createNatTopology({ publicHosts: 1 + (options.publicHosts ?? 0), homes })
    const network = new NatNetwork(topology, await mkdtemp(join(tmpdir(), 'dms-nat-')))
    if (options.homeArgs != null) network.homeArgs = options.homeArgs
    try {
      if (options.stun === true) {
        network.stun = await startStunServer(topology.publicHosts[0]!.ns, topology.publicHosts[0]!.ip)
        network.homeArgs = [...network.homeArgs, '--stun', network.stun.address]
      }
      network.relay = await network.startRelay()
      network.relayAddress = `/ip4/${topology.publicHosts[0]!.ip}/tcp/${NODE_PORT}/p2p/${network.relay.peerId}`
      if (options.startHomes !== false) network.homes = await Promise.all(topology.homes.map(async (_home, i) => await network.startHome(i)))
      return network
    } catch (err) {
      await network.stop()
      throw err
    }
  }

  /** Start (or restart, same identity) the node of home `index`; `extraArgs` after the home flags. */
  async startHome (index: number, extraArgs: string[] = []): Promise<NatNode> {
    const home = this.topology.homes[index]!
    const node = await this.spawn(`home${index + 1}`, home.ns.name, [
      '--listen', `/ip4/0.0.0.0/tcp/${NODE_PORT}`,
      '--bootstrap', this.relayAddress,
      ...this.homeArgs,
      ...(home.forwardedPort != null ? ['--announce', `/ip4/${home.publicIp}/tcp/${home.forwardedPort}`] : []),
      ...extraArgs
    ])
    this.homes[index] = node
    return node
  }

  /**
   * Start (or restart) a node on wan host `index` (1 and up; 0 is the relay's):
   * public, no NAT. It announces its address unless `announce: false` (then only
   * AutoNAT can tell it is public); `args` replace the home flags.
   */
  async startPublic (index: number, options: { announce?: boolean, args?: string[] } = {}): Promise<NatNode> {
    const host = this.topology.publicHosts[index]!
    return await this.spawn(`public${index}`, host.ns.name, [
      '--listen', `/ip4/${host.ip}/tcp/${NODE_PORT}`,
      ...(options.announce !== false ? ['--announce', `/ip4/${host.ip}/tcp/${NODE_PORT}`] : []),
      '--bootstrap', this.relayAddress, ...(options.args ?? this.homeArgs)
    ])
  }

  /** The full address of a public node started by `startPublic(index)`. */
  publicAddress (index: number, node: NatNode): string {
    return `/ip4/${this.topology.publicHosts[index]!.ip}/tcp/${NODE_PORT}/p2p/${node.peerId}`
  }

  /** Start (or restart, same identity and port) the relay. */
  async startRelay (): Promise<NatNode> {
    const ip = this.topology.publicHosts[0]!.ip
    const relay = await this.spawn('relay', this.topology.publicHosts[0]!.ns.name, [
      '--listen', `/ip4/${ip}/tcp/${NODE_PORT}`, '--announce', `/ip4/${ip}/tcp/${NODE_PORT}`, '--dht', '--relay-server', '--autonat'
    ])
    this.relay = relay
    return relay
  }

  private async spawn (name: string, namespace: string, args: string[]): Promise<NatNode> {
    const dir = join(this.root, name)
    const daemon = await spawnNode(['--data', dir, ...args], { namespace })
    const call = async <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
      const client = await ControlClient.connect(dir)
      try { return await client.call<T>(method, params) } finally { client.close() }
    }
    const node: NatNode = { dir, daemon, peerId: daemon.peerId, call, status: async () => await call<NodeStatus>('status') }
    this.nodes.push(node)
    return node
  }

  /**
   * Wait until homes 1 and 2 each hold a connection to the other that a hole punch made,
   * to the other's public address, with nothing relayed left; returns each side's status.
   */
  async punchedBothWays (timeoutMs = 20_000): Promise<[DiscoveryStatus, DiscoveryStatus]> {
    const [a, b] = this.homes as [NatNode, NatNode]
    const publicIps = this.topology.homes.map((h) => h.publicIp)
    const seen: DiscoveryStatus[] = []
    for (const [self, other, otherIp] of [[a, b, publicIps[1]!], [b, a, publicIps[0]!]] as Array<[NatNode, NatNode, string]>) {
      await passes(async () => {
        const d = (await self.status()).discovery.find((x) => x.network === 'public')!
        const punched = d.punched.find((p) => p.peerId === other.peerId)
        assert.ok(punched != null, JSON.stringify(d))
        assert.match(punched.remoteAddr, new RegExp(`^/ip4/${otherIp.replaceAll('.', '\\.')}/tcp/\\d+`))
        assert.equal(d.relayedPeers, [])
        seen.push(d)
      }, timeoutMs)
    }
    return seen as [DiscoveryStatus, DiscoveryStatus]
  }

  async stop (): Promise<void> {
    await Promise.allSettled(this.nodes.map(async (node) => await node.daemon.stop()))
    await this.stun?.stop()
    await this.topology.destroy()
    await rm(this.root, { recursive: true, force: true })
  }
}
