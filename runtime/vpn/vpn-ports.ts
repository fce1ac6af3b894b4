import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import type { RoutingTable } from '../../machines/vpn-table.js'
import { portProblem, sameSlot } from '../../machines/vpn-ports.js'
import type { PublishedPort } from '../../machines/vpn-ports.js'
import type { VpnEdit } from '../../machines/vpn.js'
import { DmsError } from '../errors.js'

export type { PublishedPort }

/** What `publish` takes: the port on a member's host (this node's by default) and the member service it forwards to. */
export interface PublishInit {
  port: number
  /** @default 'tcp' */
  protocol?: 'tcp' | 'udp'
  to: { ip: string, port: number }
  /** The member whose host listens (a peer id). @default this node (the leader) */
  at?: string
}

/** What `unpublish` takes: the port, its protocol and the member it is published on (this node by default). */
export interface UnpublishInit { port: number, protocol?: 'tcp' | 'udp', at?: string }

export interface VpnPortsInit {
  table: () => RoutingTable | undefined
  self: () => string
  requireLeader: () => void
  /** Apply one change to the table (the machine checks and publishes it). */
  change: (event: VpnEdit) => Promise<void>
}

/**
 * Published ports (leader): a port on a member's host that forwards into a
 * member's service (nftables DNAT and masquerade on that member, in its own
 * table). They travel in the signed table; each member puts in place the ones
 * published on its host, and removes them when the VPN stops.
 */
export class VpnPorts {
  constructor (private readonly init: VpnPortsInit) {}

  async publish (options: PublishInit): Promise<PublishedPort[]> {
    this.init.requireLeader()
    const entry: PublishedPort = { at: options.at ?? this.init.self(), protocol: options.protocol ?? 'tcp', port: options.port, to: options.to }
    const table = this.init.table()!
    const problem = portProblem(table, entry)
    if (problem != null) throw new DmsError('VPN_BAD_PORT', problem)
    const taken = table.ports?.find((p) => sameSlot(p, entry))
    if (taken != null) throw new DmsError('VPN_PORT_IN_USE', `${entry.protocol}/${entry.port} is published already (to ${taken.to.ip}:${taken.to.port}): unpublish it first`)
    // on this host, a port a program listens on is refused: the forward would take its outside traffic
    if (entry.at === this.init.self() && !await isFree(entry.protocol, entry.port)) {
      throw new DmsError('VPN_PORT_IN_USE', `${entry.protocol}/${entry.port} is in use on this host: a program listens there`)
    }
    await this.init.change({ type: 'vpn.port.publish', entry })
    if (!this.list().some((p) => sameSlot(p, entry))) throw new DmsError('VPN_BAD_PORT', `${entry.protocol}/${entry.port} was not published: the VPN stopped, or its table is full`)
    return this.list()
  }

  async unpublish (options: UnpublishInit): Promise<PublishedPort[]> {
    this.init.requireLeader()
    const slot = { at: options.at ?? this.init.self(), protocol: options.protocol ?? 'tcp', port: options.port }
    if (!this.list().some((p) => sameSlot(p, slot))) {
      throw new DmsError('VPN_BAD_PORT', `no ${slot.protocol}/${slot.port} is published on ${slot.at === this.init.self() ? 'this node' : slot.at}`)
    }
    await this.init.change({ type: 'vpn.port.unpublish', ...slot })
    return this.list()
  }

  list (): PublishedPort[] {
    return structuredClone(this.init.table()?.ports ?? [])
  }
}

/** Whether nothing on this host listens on `protocol/port` (any address). */
async function isFree (protocol: 'tcp' | 'udp', port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4')
      socket.once('error', () => { socket.close(); resolve(false) })
      socket.bind(port, () => { socket.close(); resolve(true) })
      return
    }
    const server = createServer()
    server.once('error', () => { resolve(false) })
    server.listen(port, () => { server.close(() => { resolve(true) }) })
  })
}
