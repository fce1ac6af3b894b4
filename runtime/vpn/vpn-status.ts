import type { RoutingTable } from '../../machines/vpn-table.js'
import type { NetworkKind } from '../events.js'
import type { PumpStats, PeerTraffic } from '../../actors/vpn/packet-pump.js'
import type { Delivery } from './table-publisher.js'
import type { VpnDnsStatus } from './vpn-dns.js'
import type { VpnStatus } from './vpn-types.js'
import { pathProblem } from './peer-addresses.js'
import type { MemberPath } from './peer-addresses.js'

export interface VpnStatusSources {
  state: string
  self: string
  table?: RoutingTable
  network?: NetworkKind
  lastError?: string
  device: string
  mtu: number
  offload?: boolean
  traffic: PumpStats
  peerTraffic: (peer: string) => PeerTraffic | undefined
  protocolOf: (peer: string) => string | undefined
  relayOf: (peer: string) => string | undefined
  pathOf: (peer: string) => MemberPath
  deliveries: () => Record<string, Delivery>
  dns?: VpnDnsStatus
  portsError?: string
  policyError?: string
}

/** A VPN's status from its machine's context and the data plane's counters (no I/O). */
export function vpnStatusOf (s: VpnStatusSources): VpnStatus {
  const { table, self } = s
  // the device and MTU are said in every state: what a stopped VPN would use is worth knowing
  const base: VpnStatus = { state: s.state, role: 'none', device: s.device, mtu: s.mtu, routes: [], members: {}, traffic: structuredClone(s.traffic), ...(s.lastError != null ? { lastError: s.lastError } : {}) }
  if (table == null) return base
  return {
    ...base,
    role: table.leader === self ? 'leader' : 'member',
    vpnId: table.vpnId,
    leader: table.leader,
    subnet: table.subnet,
    version: table.version,
    ...(table.members[self] != null ? { ip: table.members[self]!.ip } : {}),
    ...(s.offload != null ? { offload: s.offload } : {}),
    ...(s.network != null ? { network: s.network } : {}),
    routes: Object.entries(table.members).map(([peer, m]) => {
      const via = peer === self ? undefined : s.relayOf(peer)
      const traffic = peer === self ? undefined : s.peerTraffic(peer)
      const path = peer === self ? undefined : s.pathOf(peer)
      const problem = path == null ? undefined : pathProblem(path)
      const protocol = peer === self ? undefined : s.protocolOf(peer)
      return { ip: m.ip, peer, self: peer === self, ...(via != null ? { via } : {}), ...(traffic != null ? { traffic } : {}), ...(path != null ? { path } : {}), ...(problem != null ? { problem } : {}), ...(protocol != null ? { protocol } : {}) }
    }).sort((a, b) => ipOrder(a.ip) - ipOrder(b.ip)),
    members: table.leader === self ? s.deliveries() : {},
    ...(table.names != null && Object.keys(table.names).length > 0 ? { names: table.names } : {}),
    ...(s.dns != null ? { dns: s.dns } : {}),
    ...(table.ports != null && table.ports.length > 0 ? { ports: table.ports } : {}),
    ...(s.portsError != null ? { portsError: s.portsError } : {}),
    ...(table.policy != null ? { policy: table.policy } : {}),
    ...(s.policyError != null ? { policyError: s.policyError } : {})
  }
}

const ipOrder = (ip: string): number => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0)
