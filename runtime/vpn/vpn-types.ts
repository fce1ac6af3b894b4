import type { NetworkKind } from '../events.js'
import type { PumpStats } from '../../actors/vpn/packet-pump.js'
import type { Delivery } from './table-publisher.js'
import type { VpnDnsStatus } from './vpn-dns.js'
import type { PublishedPort } from '../../machines/vpn-ports.js'
import type { VpnPolicy } from '../../machines/vpn-policy.js'

/** The VPN device's MTU unless configured: see VpnInit.mtu. */
export const DEFAULT_VPN_MTU = 16000

export interface VpnInit {
  /** TUN device name (at most 15 characters). @default 'dmsvpn0' */
  device?: string
  /**
   * TUN MTU. The packets travel inside a TCP stream, not as datagrams, so the
   * path MTU does not bound it; larger packets mean fewer per-packet costs
   * (see docs/vpn.md for the measurements). At most 65535 (the frame's u16 length). @default 16000
   */
  mtu?: number
  /**
   * TUN offloads: the kernel hands the VPN TCP super-packets of up to 64 KiB and takes them back,
   * so one read, frame and write carries what would be many packets. Members whose nodes also
   * have them exchange super-packets (`/dms/vpn/2.0.0`); others get whole packets, cut here.
   * `false` turns them off (a kernel that refuses them turns them off too). @default true
   */
  offload?: boolean
  /**
   * Whose invitations this node accepts when it is not in a VPN: peer ids, or
   * 'any'. Invitations over the private swarm (only authorised peers reach it)
   * are always accepted. @default []
   */
  acceptFrom?: string[] | 'any'
  /** Also drop traffic from non-member source IPs in the kernel (nftables). @default false */
  firewall?: boolean
  /**
   * Put in place the ports the leader publishes on this member's host (nftables DNAT; it also turns on IPv4
   * forwarding). A member refuses them unless it says so; the leader's own are always its own choice. @default false
   */
  acceptPorts?: boolean
  /** Answer the subnet's names on this member's VPN address (UDP and TCP): `false` turns it off. @default { port: 53 } */
  dns?: false | { port?: number }
}

export interface VpnRoute {
  ip: string
  peer: string
  self: boolean
  /** The relay this node reaches the peer through (the swarm owner, for members behind NAT); absent when connected directly or not at all. */
  via?: string
  /** Bytes of IP packets to and from the peer since this node's data plane started. */
  traffic?: { bytesIn: number, bytesOut: number }
  /** How this node reaches the member now: direct, relayed (a relay without limits), limited (only a limited relay: no VPN traffic) or none. */
  path?: 'direct' | 'relayed' | 'limited' | 'none'
  /** Why the member has no path the VPN can use (limited or none). */
  problem?: string
  /**
   * The data-plane protocol this node sends the member's packets with, while that stream is open:
   * `/dms/vpn/2.0.0` (super-packets) or `/dms/vpn/1.0.0` (whole packets: the member, or this node,
   * has no TUN offloads, or the member runs an older version).
   */
  protocol?: string
}

export interface VpnStatus {
  state: string
  role: 'leader' | 'member' | 'none'
  vpnId?: string
  leader?: string
  subnet?: string
  version?: number
  ip?: string
  device?: string
  mtu?: number
  /** The device hands over and takes TCP super-packets (VpnInit.offload). */
  offload?: boolean
  network?: NetworkKind
  routes: VpnRoute[]
  traffic: PumpStats
  /** Leader: the table version each member confirmed, and the last delivery error. */
  members: Record<string, Delivery>
  /** The table's DNS records: full name → member IP. */
  names?: Record<string, string>
  /** The subnet's domain, and this member's name server. */
  dns?: VpnDnsStatus
  /** Ports published on members' hosts, forwarding into members' services. */
  ports?: PublishedPort[]
  /** Why this member's published ports are not in place. */
  portsError?: string
  /** Rules between members, when the policy is on. */
  policy?: VpnPolicy
  /** Why this member does not enforce the rules. */
  policyError?: string
  lastError?: string
}

