import type { RoutingTable } from '../../machines/vpn-table.js'
import { MAX_NAMES, checkDomain, domainOf, normaliseName } from '../../machines/vpn-names.js'
import { startDnsServer } from '../../actors/vpn/dns-server.js'
import type { DnsCounts, DnsServer } from '../../actors/vpn/dns-server.js'
import type { Lookup } from '../../actors/vpn/dns-answer.js'
import type { VpnEdit, VpnState } from '../../machines/vpn.js'
import { DmsError } from '../errors.js'

/** One name the subnet answers for. `record`: in the signed table (a member's label or the DMS's own); `peer`: every member's stable name, its peer id. */
export interface VpnName { name: string, ip: string, kind: 'record' | 'peer' }

export interface VpnDnsStatus {
  domain: string
  /** Where this member answers (its VPN address, port 53), while the VPN runs. */
  server?: string
  /** Why it does not answer (e.g. port 53 taken on that address). */
  error?: string
  queries?: DnsCounts
}

export interface VpnDnsInit {
  /** The current table and this node's peer id. */
  table: () => RoutingTable | undefined
  self: () => string
  /** Leader: apply one change to the table (the machine checks and publishes it). */
  change: (event: VpnEdit) => Promise<void>
  /** Leader only: the change APIs throw VPN_NOT_LEADER / VPN_NOT_RUNNING first. */
  requireLeader: () => void
  report: (message: string) => void
  /** Answer on the VPN address at all (`createVpn(node, { dns: false })` turns it off). */
  enabled: boolean
  /** @default 53 */
  port?: number
}

/**
 * The subnet's names on one node: the API that changes the leader's records,
 * and the name server each member runs on its VPN address while the VPN runs
 * (UDP and TCP 53), answering from the current table only.
 */
export class VpnDns {
  private server?: DnsServer
  private serving?: string
  private error?: string
  /** The address a start failed on: not tried again until the VPN's state changes. */
  private failedOn?: string
  /** Server starts and stops, one after the other. */
  private queue: Promise<void> = Promise.resolve()
  private index?: { key: string, names: Map<string, string>, above: Set<string> }

  constructor (private readonly init: VpnDnsInit) {}

  get enabled (): boolean {
    return this.init.enabled
  }

  /** Leader: point `name` (a label, or a full name in the subnet's domain) at a member's IP. */
  async add (name: string, ip: string): Promise<VpnName[]> {
    this.init.requireLeader()
    const table = this.init.table()!
    const full = nameChecked(() => normaliseName(name, domainOf(table)))
    if (!Object.values(table.members).some((member) => member.ip === ip)) throw new DmsError('VPN_BAD_NAME', `${String(ip).slice(0, 40)} is no member's address in this VPN (dms-net vpn status)`)
    if (this.peerNames(table).has(full)) throw new DmsError('VPN_BAD_NAME', `${full} is a member's stable name`)
    await this.init.change({ type: 'vpn.dns.set', name: full, ip })
    if (this.init.table()?.names?.[full] !== ip) throw new DmsError('VPN_BAD_NAME', `${full} was not added: the VPN stopped, or its table holds ${MAX_NAMES} names already`)
    return this.list()
  }

  /** A name as `add` would store it (throws VPN_BAD_NAME): for callers that check before they change anything. */
  check (name: string): string {
    return nameChecked(() => normaliseName(name, domainOf(this.init.table()!)))
  }

  /** Leader: remove a record. */
  async remove (name: string): Promise<VpnName[]> {
    this.init.requireLeader()
    const table = this.init.table()!
    const full = nameChecked(() => normaliseName(name, domainOf(table)))
    if (table.names?.[full] == null) throw new DmsError('VPN_BAD_NAME', `no name ${full} in this VPN`)
    await this.init.change({ type: 'vpn.dns.remove', name: full })
    return this.list()
  }

  /** Every name the subnet answers for, records first. */
  list (): VpnName[] {
    const table = this.init.table()
    if (table == null) return []
    const records = Object.entries(table.names ?? {}).map(([name, ip]): VpnName => ({ name, ip, kind: 'record' })).sort((a, b) => a.name.localeCompare(b.name))
    return [...records, ...[...this.peerNames(table)].map(([name, ip]): VpnName => ({ name, ip, kind: 'peer' }))]
  }

  /** What a query for `name` finds in the current table. */
  lookup (name: string): Lookup {
    const table = this.init.table()
    if (table == null) return 'not-ours'
    const domain = domainOf(table)
    if (name !== domain && !name.endsWith(`.${domain}`)) return 'not-ours'
    const { names, above } = this.indexOf(table)
    const ip = names.get(name)
    if (ip != null) return { ip }
    // the domain itself and a name with names below it exist, with no address of their own (RFC 8020)
    return above.has(name) ? 'empty' : 'unknown'
  }

  status (): VpnDnsStatus | undefined {
    const table = this.init.table()
    if (table == null) return undefined
    return {
      domain: domainOf(table),
      ...(this.serving != null ? { server: `${this.serving}:${this.init.port ?? 53}`, queries: { ...this.server!.counts } } : {}),
      ...(this.error != null ? { error: this.error } : {})
    }
  }

  /** Told of every state the VPN records: serve while running with an address, stop otherwise. */
  follow (state: VpnState, table: RoutingTable | undefined): void {
    const ip = state === 'running' ? table?.members[this.init.self()]?.ip : undefined
    if (state !== 'running') this.failedOn = undefined
    this.queue = this.queue.then(async () => {
      if (ip === this.serving || (ip != null && ip === this.failedOn)) return
      await this.stop()
      if (ip == null) return
      try {
        this.server = await startDnsServer({ ip, port: this.init.port ?? 53, lookup: (name) => this.lookup(name) })
        this.serving = ip
        this.error = undefined
        this.failedOn = undefined
      } catch (err) {
        this.failedOn = ip
        this.error = `no name server on ${ip}:${this.init.port ?? 53}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
        this.init.report(this.error)
      }
    })
  }

  /** Stop answering (the VPN or the node stops). */
  async close (): Promise<void> {
    this.queue = this.queue.then(async () => { await this.stop() })
    await this.queue
  }

  private async stop (): Promise<void> {
    const server = this.server
    this.server = undefined
    this.serving = undefined
    await server?.close()
  }

  /** For the table's version (built once per version, not per query): name → IP, and every name above one (the domain included). */
  private indexOf (table: RoutingTable): { names: Map<string, string>, above: Set<string> } {
    const key = `${table.vpnId}/${table.version}`
    if (this.index?.key !== key) {
      const names = new Map([...this.peerNames(table), ...Object.entries(table.names ?? {})])
      const above = new Set<string>([domainOf(table)])
      for (const name of names.keys()) for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) above.add(name.slice(dot + 1))
      this.index = { key, names, above }
    }
    return this.index
  }

  private peerNames (table: RoutingTable): Map<string, string> {
    const domain = domainOf(table)
    return new Map(Object.entries(table.members).map(([peer, member]) => [`${peer.toLowerCase()}.${domain}`, member.ip]))
  }
}

/** A pure check of a name or domain, its message as a DmsError VPN_BAD_NAME. */
export function nameChecked<T> (check: () => T): T {
  try {
    return check()
  } catch (err) {
    throw new DmsError('VPN_BAD_NAME', (err as Error).message)
  }
}

/** A subnet domain given to `vpn.start`, checked (VPN_BAD_NAME). */
export const checkedDomain = (domain: string): string => nameChecked(() => checkDomain(domain))
