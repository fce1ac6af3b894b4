import { DEFAULT_DOMAIN, checkNames, namesWithout } from './vpn-names.js'
import { checkPorts, portsWithout } from './vpn-ports.js'
import { checkPolicy, policyWithout } from './vpn-policy.js'
import type { VpnPolicy } from './vpn-policy.js'
import type { PublishedPort } from './vpn-ports.js'
import { isIpv4 } from './net-values.js'
/**
 * The VPN's routing table and its IP allocation: pure functions over plain
 * data, so the routing machine stays pure and a received table can be checked
 * before it is trusted.
 */

export interface VpnMember {
  /** The member's VPN IPv4 address. */
  ip: string
  /** Where the member's host listens, so other members can reach it without discovery. */
  addresses: string[]
}

/** One version of a VPN's membership; the leader signs every version it publishes. */
export interface RoutingTable {
  /** Names this VPN; tables of another VPN are ignored. */
  vpnId: string
  /** The node that allocates IPs and signs tables. */
  leader: string
  /** IPv4 CIDR the members' addresses come from, e.g. 10.88.0.0/24. */
  subnet: string
  /** Grows by one with every change; a member applies only a newer version. */
  version: number
  /** Peer id → member, the leader included. */
  members: Record<string, VpnMember>
  /** IPs of removed members, handed out again only when no never-used IP is left (oldest first). */
  retired: string[]
  /** The leader stopped the VPN: every member tears down. */
  closed: boolean
  /** The DNS domain of the subnet's names. @default 'dms' */
  domain?: string
  /** DNS records: a full name (lower case, inside the domain) → a member's IP. */
  names?: Record<string, string>
  /** Ports published on a member's host that forward into a member's service. */
  ports?: PublishedPort[]
  /** Rules between members: with a policy, traffic is denied unless a rule allows it. */
  policy?: VpnPolicy
}

export interface Subnet {
  /** Network address as a number. */
  base: number
  prefix: number
  /** First and last assignable host address. */
  first: number
  last: number
}

export const MAX_MEMBERS = 4096
const MAX_ADDRESSES = 8
const PEER_ID = /^[0-9A-Za-z]{1,128}$/

export const ipToNumber = (ip: string): number => ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0)
export const numberToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')


/** Parse an IPv4 CIDR; throws a message naming the problem. Prefixes /8 to /30. */
export function parseSubnet (cidr: string): Subnet {
  const [ip, prefixText, ...rest] = String(cidr).split('/')
  const prefix = Number(prefixText)
  if (rest.length > 0 || !isIpv4(ip) || !/^\d+$/.test(prefixText ?? '') || prefix < 8 || prefix > 30) {
    throw new Error(`subnet must be an IPv4 CIDR from /8 to /30, like 10.88.0.0/24 (got ${JSON.stringify(cidr)})`)
  }
  const mask = (0xffffffff << (32 - prefix)) >>> 0
  const base = (ipToNumber(ip) & mask) >>> 0
  if (base !== ipToNumber(ip)) throw new Error(`subnet ${cidr} has host bits set; did you mean ${numberToIp(base)}/${prefix}?`)
  return { base, prefix, first: base + 1, last: ((base | ~mask) >>> 0) - 1 }
}

/** How many members a subnet can hold. */
export const capacity = (subnet: Subnet): number => subnet.last - subnet.first + 1

/**
 * The IP for one new member: the lowest address never used, else the longest
 * retired one. Returns the table's new `retired` list too. Throws when full.
 */
function nextIp (subnet: Subnet, members: Record<string, VpnMember>, retired: string[]): { ip: string, retired: string[] } {
  const taken = new Set([...Object.values(members).map((m) => ipToNumber(m.ip)), ...retired.map(ipToNumber)])
  for (let n = subnet.first; n <= subnet.last; n++) {
    if (!taken.has(n)) return { ip: numberToIp(n), retired }
  }
  const [reused, ...rest] = retired
  if (reused == null) throw new Error(`the subnet ${numberToIp(subnet.base)}/${subnet.prefix} is full (${capacity(subnet)} members)`)
  return { ip: reused, retired: rest }
}

/** The first table of a VPN: the leader first (so it gets the first address), then `hosts` in order. */
export function createTable (init: { vpnId: string, leader: string, subnet: string, hosts: string[], addresses?: Record<string, string[]>, domain?: string }): RoutingTable {
  let table: RoutingTable = { vpnId: init.vpnId, leader: init.leader, subnet: init.subnet, version: 0, members: {}, retired: [], closed: false, ...(init.domain != null && init.domain !== DEFAULT_DOMAIN ? { domain: init.domain } : {}) }
  table = addMembers(table, [init.leader, ...init.hosts.filter((h) => h !== init.leader)], init.addresses ?? {})
  return { ...table, version: 1 }
}

/** Add peers that are not members yet; existing members keep their IPs. The version grows by one. */
export function addMembers (table: RoutingTable, peers: string[], addresses: Record<string, string[]> = {}): RoutingTable {
  const subnet = parseSubnet(table.subnet)
  const members = { ...table.members }
  let retired = table.retired
  for (const peer of peers) {
    if (members[peer] != null) continue
    const next = nextIp(subnet, members, retired)
    retired = next.retired
    members[peer] = { ip: next.ip, addresses: (addresses[peer] ?? []).slice(0, MAX_ADDRESSES) }
  }
  return { ...table, version: table.version + 1, members, retired }
}

/**
 * Members' new addresses (where they listen, or a slot on the leader's relay). The version grows
 * by one when an address changed; nothing changed, or only non-members named, throws.
 */
export function setAddresses (table: RoutingTable, addresses: Record<string, string[]>): RoutingTable {
  const members = { ...table.members }
  let changed = false
  for (const [peer, list] of Object.entries(addresses)) {
    // own members only: a name like `constructor` is no member, whatever the prototype holds
    const member = Object.hasOwn(members, peer) ? members[peer] : undefined
    const next = list.slice(0, MAX_ADDRESSES)
    if (member == null || (next.length === member.addresses.length && next.every((a, i) => a === member.addresses[i]))) continue
    members[peer] = { ...member, addresses: next }
    changed = true
  }
  if (!changed) throw new Error('no member\'s addresses changed')
  return { ...table, version: table.version + 1, members }
}

/** Remove a member; its IP is retired. The version grows by one. */
export function removeMember (table: RoutingTable, peer: string): RoutingTable {
  const removed = table.members[peer]
  if (removed == null) return table
  const { [peer]: _, ...members } = table.members
  const names = namesWithout(table.names, removed.ip)
  const ports = portsWithout(table.ports, peer, removed.ip)
  const policy = policyWithout(table.policy, peer)
  return { ...table, version: table.version + 1, members, retired: [...table.retired, removed.ip], ...(names != null ? { names } : {}), ...(ports != null ? { ports } : {}), ...(policy != null ? { policy } : {}) }
}

/** The closing version: `closed`, members kept so the leader knows whom to tell. */
export const closeTable = (table: RoutingTable): RoutingTable => ({ ...table, version: table.version + 1, closed: true })

/** VPN IP → peer id of every member but `self`: what the data plane routes by. */
export function routesOf (table: RoutingTable, self: string): Map<string, string> {
  return new Map(Object.entries(table.members).filter(([peer]) => peer !== self).map(([peer, m]) => [m.ip, peer]))
}

/**
 * Why a table from the wire cannot be used, or undefined. Checks shape, sizes,
 * that every IP is inside the subnet, and that no two members share an IP.
 */
export function checkTable (value: unknown): string | undefined {
  if (typeof value !== 'object' || value == null) return 'not an object'
  const t = value as Partial<RoutingTable>
  if (typeof t.vpnId !== 'string' || t.vpnId.length === 0 || t.vpnId.length > 64) return 'bad vpnId'
  if (typeof t.leader !== 'string' || !PEER_ID.test(t.leader)) return 'bad leader'
  if (typeof t.version !== 'number' || !Number.isSafeInteger(t.version) || t.version < 1) return 'bad version'
  if (typeof t.closed !== 'boolean') return 'bad closed flag'
  let subnet: Subnet
  try { subnet = parseSubnet(t.subnet as string) } catch (err) { return (err as Error).message }
  if (!Array.isArray(t.retired) || t.retired.length > MAX_MEMBERS || !t.retired.every(isIpv4)) return 'bad retired list'
  if (typeof t.members !== 'object' || t.members == null || Array.isArray(t.members)) return 'bad members'
  const entries = Object.entries(t.members)
  if (entries.length > MAX_MEMBERS) return `more than ${MAX_MEMBERS} members`
  const seen = new Set<string>()
  for (const [peer, member] of entries) {
    // a peer id is letters and digits (base58 or base32): it becomes a DNS name and a line of status text
    if (!PEER_ID.test(peer)) return 'bad member id'
    if (typeof member !== 'object' || member == null || !isIpv4(member.ip)) return `bad IP for ${peer}`
    const n = ipToNumber(member.ip)
    if (n < subnet.first || n > subnet.last) return `${member.ip} of ${peer} is outside ${t.subnet}`
    if (seen.has(member.ip)) return `IP collision: ${member.ip} is assigned twice`
    seen.add(member.ip)
    if (!Array.isArray(member.addresses) || member.addresses.length > MAX_ADDRESSES || !member.addresses.every((a) => typeof a === 'string' && a.length <= 256)) {
      return `bad addresses for ${peer}`
    }
  }
  if (!Object.hasOwn(t.members, t.leader)) return 'the leader is not a member'
  return checkNames(t, seen) ?? checkPorts(t) ?? checkPolicy(t)
}
