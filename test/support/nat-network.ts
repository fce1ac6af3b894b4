import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNatTopology } from '../../runtime/netdev/nat.js'
import type { HomeInit, NatTopology } from '../../runtime/netdev/nat.js'
import { spawnNode } from '../../runtime/cli/spawn-node.js'
import type { SpawnedNode } from '../../runtime/cli/spawn-node.js'
import { ControlClient } from '../../runtime/control/client.js'
import type { NodeStatus } from '../../runtime/events.js'

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
 * real `dms-net node` daemon in its namespace (see runtime/netdev/nat.ts).
 * `stop()` stops every daemon and deletes every namespace and data dir.
 */
export class NatNetwork {
  readonly nodes: NatNode[] = []
  relay!: NatNode
  homes: NatNode[] = []
  relayAddress = ''
  private constructor (readonly topology: NatTopology, private readonly root: string) {}

  /** `homeArgs`: the discovery flags of the home nodes (default `--nat`). */
  static async create (homes: HomeInit[], options: { homeArgs?: string[] } = {}): Promise<NatNetwork> {
    const topology = await createNatTopology({ publicHosts: 1, homes })
    const network = new NatNetwork(topology, await mkdtemp(join(tmpdir(), 'dms-nat-')))
    try {
      const relayIp = topology.publicHosts[0]!.ip
      network.relay = await network.startRelay()
      network.relayAddress = `/ip4/${relayIp}/tcp/${NODE_PORT}/p2p/${network.relay.peerId}`
      network.homes = await Promise.all(topology.homes.map(async (home, i) => await network.spawn(`home${i + 1}`, home.ns.name, [
        '--listen', `/ip4/0.0.0.0/tcp/${NODE_PORT}`,
        '--bootstrap', network.relayAddress,
        ...(options.homeArgs ?? ['--nat']),
        ...(home.forwardedPort != null ? ['--announce', `/ip4/${home.publicIp}/tcp/${home.forwardedPort}`] : []),
      ])))
      return network
    } catch (err) {
      await network.stop()
      throw err
    }
  }

  /** Start (or restart, same identity and port) the relay. */
  async startRelay (): Promise<NatNode> {
    const ip = this.topology.publicHosts[0]!.ip
    const relay = await this.spawn('relay', this.topology.publicHosts[0]!.ns.name, [
      '--listen', `/ip4/${ip}/tcp/${NODE_PORT}`, '--announce', `/ip4/${ip}/tcp/${NODE_PORT}`, '--dht', '--relay-server'
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

  async stop (): Promise<void> {
    await Promise.allSettled(this.nodes.map(async (node) => await node.daemon.stop()))
    await this.topology.destroy()
    await rm(this.root, { recursive: true, force: true })
  }
}
