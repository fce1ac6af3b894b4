import type { RoutingTable } from './vpn-table.js'
import { isPort } from './net-values.js'

/** A port published on one member's host that forwards into a member's service over the VPN. */
export interface PublishedPort {
  /** The member whose host listens (its peer id). */
  at: string
  protocol: 'tcp' | 'udp'
  /** The port on that host, on every address it has outside the VPN device. */
  port: number
  /** The member's service it forwards to. */
  to: { ip: string, port: number }
}

/** Published ports one table holds at most. */
export const MAX_PORTS = 256

/** Two entries for the same port on the same host. */
export const sameSlot = (a: Pick<PublishedPort, 'at' | 'protocol' | 'port'>, b: Pick<PublishedPort, 'at' | 'protocol' | 'port'>): boolean =>
  a.at === b.at && a.protocol === b.protocol && a.port === b.port

/** Why a published port cannot be in this table, or undefined. */
export function portProblem (table: Pick<RoutingTable, 'members'>, entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry == null) return 'a published port is { at, protocol, port, to: { ip, port } }'
  const e = entry as Partial<PublishedPort>
  if (e.protocol !== 'tcp' && e.protocol !== 'udp') return `protocol must be tcp or udp (got ${JSON.stringify(e.protocol)})`
  if (!isPort(e.port)) return `port must be a whole number from 1 to 65535 (got ${JSON.stringify(e.port)})`
  if (typeof e.at !== 'string' || !Object.hasOwn(table.members, e.at)) return `${JSON.stringify(String(e.at).slice(0, 60))} is not a member: a port is published on a member's host`
  if (typeof e.to !== 'object' || e.to == null || !isPort(e.to.port)) return 'to must be { ip, port } with a port from 1 to 65535'
  if (!Object.values(table.members).some((member) => member.ip === e.to!.ip)) return `${JSON.stringify(String(e.to.ip).slice(0, 40))} is no member's address in this VPN`
  return undefined
}

/** Publish a port; the version grows by one. Throws a message when the entry is bad or its port is taken. */
export function publishPort (table: RoutingTable, entry: PublishedPort): RoutingTable {
  const problem = portProblem(table, entry)
  if (problem != null) throw new Error(problem)
  const ports = table.ports ?? []
  const taken = ports.find((p) => sameSlot(p, entry))
  if (taken != null) throw new Error(`${entry.protocol}/${entry.port} on ${entry.at} is published already (to ${taken.to.ip}:${taken.to.port}): unpublish it first`)
  if (ports.length >= MAX_PORTS) throw new Error(`the table holds at most ${MAX_PORTS} published ports`)
  const clean: PublishedPort = { at: entry.at, protocol: entry.protocol, port: entry.port, to: { ip: entry.to.ip, port: entry.to.port } }
  return { ...table, version: table.version + 1, ports: [...ports, clean] }
}

/** Withdraw a published port; the version grows by one. Throws when there is none. */
export function unpublishPort (table: RoutingTable, slot: Pick<PublishedPort, 'at' | 'protocol' | 'port'>): RoutingTable {
  const ports = table.ports ?? []
  if (!ports.some((p) => sameSlot(p, slot))) throw new Error(`no ${slot.protocol}/${slot.port} is published on ${slot.at}`)
  return { ...table, version: table.version + 1, ports: ports.filter((p) => !sameSlot(p, slot)) }
}

/** The published ports left once `peer` (with its IP) is no member any more. */
export function portsWithout (ports: PublishedPort[] | undefined, peer: string, ip: string): PublishedPort[] | undefined {
  return ports?.filter((p) => p.at !== peer && p.to.ip !== ip)
}

/** Why a table's published ports (from the wire) cannot be used, or undefined. */
export function checkPorts (table: Partial<RoutingTable>): string | undefined {
  if (table.ports === undefined) return undefined
  if (!Array.isArray(table.ports) || table.ports.length > MAX_PORTS) return 'bad published ports'
  const seen: PublishedPort[] = []
  for (const entry of table.ports) {
    const problem = portProblem(table as RoutingTable, entry)
    if (problem != null) return problem
    if (seen.some((p) => sameSlot(p, entry))) return `${entry.protocol}/${entry.port} on ${entry.at} is published twice`
    seen.push(entry)
  }
  return undefined
}
