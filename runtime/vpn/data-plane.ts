import { writeFile } from 'node:fs/promises'
import { openTun } from '../../actors/tun/tun-device.js'
import type { TunDevice } from '../../actors/tun/tun-device.js'
import { createPacketPump } from '../../actors/vpn/packet-pump.js'
import type { PacketPump, PeerTraffic, PumpStats } from '../../actors/vpn/packet-pump.js'
import { parseSubnet, routesOf } from '../../machines/vpn-table.js'
import type { RoutingTable } from '../../machines/vpn-table.js'
import type { VpnDataPlaneInput, VpnDeviceInput, VpnRoutesEvent } from '../../machines/vpn.js'
import { configureLink } from '../netdev/link.js'
import { createVpnFirewall } from '../netdev/nftables.js'
import type { VpnFirewall } from '../netdev/nftables.js'
import { createPortForwards, removeStaleForwards } from '../netdev/port-forward.js'
import type { PortForwards } from '../netdev/port-forward.js'
import { createMemberRules, removeStaleRules } from '../netdev/member-rules.js'
import type { MemberRules } from '../netdev/member-rules.js'
import { inboundRules } from '../../machines/vpn-policy.js'
import type { NodeComponents } from '../node-components.js'
import type { NetworkKind } from '../events.js'
import { learnAddresses } from './peer-addresses.js'
import { log, logged } from '../../actors/log.js'

export const emptyStats = (): PumpStats => ({ packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, drops: { noRoute: 0, spoofed: 0, overload: 0, nonMember: 0, malformed: 0, notForUs: 0, deviceClosed: 0 } })

export interface DataPlaneInit {
  /** Only the hosts: the pump runs on the VPN's host, and follows its restarts. */
  node: Pick<NodeComponents, 'hosts'>
  device: string
  mtu: number
  /** Ask the kernel for TCP super-packets (VpnInit.offload). */
  offload: boolean
  firewall: boolean
  /** Whether this member puts in place a port published on its host (`leader`: the leader published it on itself). */
  acceptPorts: (leader: boolean) => boolean
  report: (message: string) => void
}

/**
 * The VPN's device side, behind the effects the routing machine invokes: the
 * TUN device (up, down), the kernel firewall, and the packet pump that runs
 * while the machine is running and restarts with its host (a key rotation).
 */
export class VpnDataPlane {
  private tun?: TunDevice
  private pump?: PacketPump
  private pumping?: Promise<PacketPump>
  /** The table and host the pump routes by, while the machine's dataPlane actor runs. */
  private running?: VpnDataPlaneInput
  private firewall?: VpnFirewall
  /** This member's published ports (nftables DNAT), once the table publishes one here. */
  private forwards?: PortForwards
  /** The subnet's rules as this member enforces them, while the table has a policy. */
  private rules?: MemberRules
  /** Kernel changes (forwards, rules), one after the other in table order. */
  private kernel: Promise<void> = Promise.resolve()
  /** Why this member's published ports or rules are not in place, if they are not. */
  portsError?: string
  policyError?: string
  /** Traffic of the last pump, kept after it stops so status still shows it. */
  private lastStats = emptyStats()

  constructor (private readonly init: DataPlaneInit) {}

  get stats (): PumpStats {
    return this.pump?.stats ?? this.lastStats
  }

  /** Bytes to and from one member on the running pump (none while it is down). */
  traffic (peer: string): PeerTraffic | undefined {
    return this.pump?.traffic(peer)
  }

  /** The protocol this node sends a member's packets with, while its stream is open. */
  protocolOf (peer: string): string | undefined {
    return this.pump?.protocolOf(peer)
  }

  /** Whether the open device takes and gives TCP super-packets (undefined while none is open). */
  get offload (): boolean | undefined {
    return this.tun?.offload
  }

  /** The host the pump runs on now, for the data-plane attachment. */
  get network (): NetworkKind | undefined {
    return this.running?.network
  }

  /** `bringUp`: open and address the device; the VPN runs on the private host when there is one. */
  async bringUp ({ table, self }: VpnDeviceInput): Promise<NetworkKind> {
    const { prefix } = parseSubnet(table.subnet)
    const network: NetworkKind = this.init.node.hosts.libp2p('private') != null ? 'private' : 'public'
    this.tun = await openTun({ name: this.init.device, mtu: this.init.mtu, offload: this.init.offload })
    try {
      // the VPN carries IPv4 only: no IPv6 chatter (router solicitations) on its device
      // a kernel without IPv6 has no such file, and nothing to switch off
      await writeFile(`/proc/sys/net/ipv6/conf/${this.tun.name}/disable_ipv6`, '1').catch(() => {})
      await configureLink(this.tun.name, { address: `${table.members[self]!.ip}/${prefix}`, mtu: this.init.mtu })
      if (this.init.firewall) this.firewall = await createVpnFirewall({ device: this.tun.name, allowed: [...routesOf(table, self).keys()] })
      await removeStaleForwards(this.tun.name)
      await removeStaleRules(this.tun.name)
    } catch (err) {
      await this.closeDevice()
      throw err
    }
    return network
  }

  /** `dataPlane`: run the pump while the machine is running, and follow its table changes. */
  run (input: VpnDataPlaneInput, receive: (listener: (event: VpnRoutesEvent) => void) => void): () => void {
    this.running = input
    void this.startPump()
    this.applyKernel(input.table, input.self)
    receive((event) => {
      this.running = { ...input, table: event.table }
      this.applyKernel(event.table, input.self)
      this.learn(event.table)
      this.pump?.setRoutes(routesOf(event.table, input.self))
      void this.firewall?.allow([...routesOf(event.table, input.self).keys()]).catch((err: Error) => { this.init.report(err.message) })
    })
    return () => {
      this.running = undefined
      void this.stopPump()
    }
  }

  /** Start the pump on the VPN's host; again whenever that host restarts. */
  async startPump (): Promise<void> {
    const running = this.running
    const libp2p = this.init.node.hosts.libp2p(running?.network ?? 'public')
    if (running == null || this.tun == null || libp2p == null || this.pump != null || this.pumping != null) return
    // a restarted host has an empty peer store: tell it where the members are
    this.learn(running.table)
    const pumping = this.pumping = createPacketPump({
      libp2p, tun: this.tun, routes: routesOf(running.table, running.self), localIp: running.table.members[running.self]?.ip ?? '0.0.0.0',
      addressesOf: (peer) => this.running?.table.members[peer]?.addresses ?? []
    })
    try {
      const pump = await pumping
      if (this.pumping !== pumping || this.running == null) { await pump.close(); return }
      this.pump = pump
      this.lastStats = pump.stats
      pump.setRoutes(routesOf(this.running.table, this.running.self))
    } catch (err) {
      this.init.report(`the VPN data plane did not start: ${(err as Error).message}`)
    } finally {
      if (this.pumping === pumping) this.pumping = undefined
    }
  }

  async stopPump (): Promise<void> {
    this.pumping = undefined
    const pump = this.pump
    this.pump = undefined
    await pump?.close()
  }

  /** Take everything down: pump, firewall, device. */
  async close (): Promise<void> {
    this.running = undefined
    await this.stopPump()
    await this.closeDevice()
  }

  private async closeDevice (): Promise<void> {
    await this.kernel
    await this.forwards?.delete()
    this.forwards = undefined
    await this.rules?.delete()
    this.rules = undefined
    this.portsError = undefined
    this.policyError = undefined
    await this.firewall?.delete()
    this.firewall = undefined
    this.tun?.close()
    this.tun = undefined
  }

  /** Put this member's published ports and the subnet's rules in place for a table version; a failure is reported and kept for status. */
  private applyKernel (table: RoutingTable, self: string): void {
    const here = (table.ports ?? []).filter((p) => p.at === self)
    const mine = this.init.acceptPorts(self === table.leader) ? here.map(({ protocol, port, to }) => ({ protocol, port, to })) : []
    const refused = here.length > mine.length ? `the leader published ${here.map((p) => `${p.protocol}/${p.port}`).join(', ')} on this host: refused (this member does not accept published ports: --vpn-accept-ports)` : undefined
    this.kernel = this.kernel.then(async () => {
      if (this.tun == null) return
      this.portsError = refused
      if (refused != null) this.init.report(refused)
      if (mine.length > 0 || this.forwards != null) {
        try {
          this.forwards ??= await createPortForwards({ device: this.tun.name })
          await this.forwards.apply(mine)
        } catch (err) {
          this.portsError = `published ports not in place: ${(err as Error).message}`
          this.init.report(this.portsError)
        }
      }
      if (table.policy != null || this.rules != null) {
        try {
          this.rules ??= createMemberRules({ device: this.tun.name })
          await this.rules.apply(inboundRules(table, self))
          this.policyError = undefined
        } catch (err) {
          // fail closed: a policy that cannot be put in place lets nothing from the VPN device in
          this.policyError = `the subnet's rules are not in place (all VPN traffic to this member is dropped): ${(err as Error).message}`
          this.init.report(this.policyError)
          await this.rules?.apply([]).catch(logged(log.vpn, 'deny all VPN traffic after a failed policy'))
        }
      }
    })
  }

  private learn (table: RoutingTable): void {
    const running = this.running
    if (running == null) return
    learnAddresses(this.init.node.hosts.libp2p(running.network), table, running.self)
  }
}
