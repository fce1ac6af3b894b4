import type { DiscoveryStatus, HostStatus, NodeStatus, PeerStatus } from '../events.js'
import type { SwarmStatus } from '../swarm/swarm-status.js'
import type { VpnStatus } from '../vpn/vpn-types.js'
import { safeText } from '../../actors/messenger/safe-text.js'
import { shortId, table } from './format.js'
import { wrap } from './terminal.js'

/** What `dms-net status` shows: the node, and its features when it runs them. */
export interface Overview {
  node: NodeStatus
  swarm?: SwarmStatus
  vpn?: VpnStatus
  /** Local names of peers (dms-net alias). */
  aliases: Map<string, string>
}

/** `127.0.0.1:4001` for TCP over IPv4/6, the multiaddr without its peer id otherwise. */
export function compactAddress (address: string): string {
  const tcp = /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)(\/p2p\/[^/]+)?$/.exec(address)
  if (tcp != null) return tcp[1] === 'ip6' ? `[${tcp[2]!}]:${tcp[3]!}` : `${tcp[2]!}:${tcp[3]!}`
  return address.replace(/\/p2p\/([^/]+)/g, (_, id: string) => `/p2p/${shortId(id)}`)
}

const bytes = (n: number): string => n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KB` : n < 1 << 30 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${(n / (1 << 30)).toFixed(2)} GB`

/**
 * Label, then values: the first on the label's line, the others under it, each wrapped to `width`.
 * When a word cannot fit beside the label (a peer id on a narrow terminal), the values go under it.
 */
function field (label: string, values: string[], width: number): string[] {
  const pad = ' '.repeat(10)
  const longest = Math.max(0, ...values.flatMap((value) => value.split(' ').map((word) => word.length)))
  if (pad.length + longest > width) return [label, ...values.flatMap((value) => wrap(`  ${value}`, width, '    '))]
  return values.flatMap((value, i) => wrap(`${i === 0 ? label.padEnd(10) : pad}${value}`, width, `${pad}  `))
}

function hostLine (host: HostStatus): string {
  return `${host.state}${host.error != null ? ` (${safeText(host.error, 200)})` : ''}`
}

function swarmLine (s: SwarmStatus): string {
  const key = s.fingerprint != null ? `, key ${s.fingerprint}, epoch ${s.epoch}` : ''
  if (s.role === 'owner') return `owner${key}, ${s.members.length} of ${s.authorised.length} authorised member(s) joined`
  return `member of ${s.owner != null ? shortId(s.owner) : '?'}${key}, ${s.state}`
}

function vpnLine (v: VpnStatus): string {
  if (v.ip == null) return `${v.role}, ${v.state}${v.lastError != null ? ` (${safeText(v.lastError, 200)})` : ''}`
  return `${v.ip} on ${v.device ?? '?'}, ${v.role} of ${v.subnet ?? '?'}, table v${v.version ?? 0}`
}

/** One peer's links and VPN traffic, as short facts. */
function peerFacts (peer: PeerStatus, vpn: VpnStatus | undefined): string[] {
  const facts = (peer.links ?? []).map((link) => {
    const relay = /\/p2p\/([^/]+)\/p2p-circuit/.exec(link.address)?.[1]
    const path = link.relayed ? `relayed via ${relay != null ? shortId(relay) : '?'}` : `direct ${compactAddress(link.address)}`
    return `${path} ${link.direction === 'outbound' ? 'out' : 'in'}${link.rttMs != null ? ` ${link.rttMs} ms` : ''}`
  })
  const route = vpn?.routes.find((r) => r.peer === peer.peerId)
  if (route != null) facts.push(`vpn ${route.ip}${route.traffic != null ? ` rx ${bytes(route.traffic.bytesIn)} tx ${bytes(route.traffic.bytesOut)}` : ''}`)
  return facts
}

/** The peers: fixed columns, then the facts wrapped under the last one; errors below the table, never in a cell. */
function peerLines (o: Overview, width: number): string[] {
  if (o.node.peers.length === 0) return ['(no peers yet)']
  const name = (peer: PeerStatus): string => o.aliases.get(peer.peerId) ?? shortId(peer.peerId)
  const rows = o.node.peers.map((peer) => [name(peer), peer.network, peer.state, peerFacts(peer, o.vpn).join(', ') || '-'])
  const head = table([['PEER', 'NETWORK', 'STATE', 'PATH'], ...rows.map((row) => [...row.slice(0, 3), ''])]).split('\n')
  const indent = head[0]!.indexOf('PATH')
  const lines = head.flatMap((line, i) => {
    if (i === 0) return [line]
    return wrap(`${line.padEnd(indent)}${rows[i - 1]![3]!}`, width, ' '.repeat(indent + 2))
  })
  const errors = o.node.peers.filter((peer) => peer.lastError != null)
  return [...lines, ...(errors.length > 0 ? ['', 'last errors:'] : []), ...errors.flatMap((peer) => wrap(`  ${name(peer)}: ${safeText(peer.lastError!, 400)}`, width, '    '))]
}

/** The discovery and reachability of one host, a few lines. */
export function discoveryLines (d: DiscoveryStatus): string[] {
  const relay = d.relay === 'reserved' ? `reserved on ${d.relays.map(shortId).join(', ')}` : d.relay
  return [
    `discovery ${d.network}: ${d.mechanisms.length > 0 ? d.mechanisms.join(', ') : 'bootstrap only'}`,
    `  reachability ${d.reachability}, relay ${relay}`,
    `  found        ${Object.entries(d.found).map(([source, n]) => `${source} ${n}`).join(', ')}`,
    ...d.punched.map((p) => `  direct       ${shortId(p.peerId)} by TCP hole punch, ${p.remoteAddr.replace(/\/p2p\/[^/]+$/, '')}`),
    ...d.relayedPeers.map((peer) => `  relayed      ${shortId(peer)} (${safeText(d.noDirectPath.find((n) => n.peerId === peer)?.reason ?? noDirectYet(d), 400)})`),
    ...(d.upgradedPeers.length > 0 ? [`  upgraded     ${d.upgradedPeers.map(shortId).join(', ')} (relayed, then direct)`] : []),
    ...(d.rendezvous != null ? [`  rendezvous   ${d.rendezvous.namespace}: ${d.rendezvous.rounds} rounds, ${d.rendezvous.providers} providers, ${d.rendezvous.dialled} dialled${d.rendezvous.lastError != null ? ` (last error: ${safeText(d.rendezvous.lastError, 200)})` : ''}`] : [])
  ]
}

const noDirectYet = (d: DiscoveryStatus): string => d.mechanisms.some((m) => m.startsWith('stun '))
  ? 'no direct connection yet'
  : 'no direct connection yet; with a STUN server (--stun) two NATs can punch one'

/** `dms-net status`: one screen, every line at most `width` columns. */
export function overviewText (o: Overview, width = 80): string {
  const { node, swarm, vpn } = o
  const inSwarm = swarm != null && swarm.role !== 'none'
  return [
    ...field('peer id', [node.peerId], width),
    ...field('host', [`${hostLine(node.host)}, public network`], width),
    ...field('addresses', hostAddresses(node.host).map((a) => shownAddress(a, node.peerId)), width),
    ...(node.privateHost != null ? field('private', [`${hostLine(node.privateHost)}, private swarm`, ...hostAddresses(node.privateHost).map((a) => shownAddress(a, node.peerId))], width) : []),
    ...(inSwarm ? field('swarm', [swarmLine(swarm)], width) : []),
    ...(vpn != null && vpn.role !== 'none' ? field('vpn', [vpnLine(vpn)], width) : []),
    ...node.discovery.flatMap(discoveryLines).flatMap((line) => wrap(line, width, '               ')),
    ...(node.jobs ?? []).flatMap((j) => wrap(`jobs ${j.network}: ${j.subscribers} peer(s) subscribed to ${j.topic}, ${j.mesh} in the mesh`, width, '  ')),
    '',
    ...peerLines(o, width)
  ].join('\n')
}

/** An address of a host, and whether it announces it (one it only listens on awaits confirmation). */
export interface HostAddress { address: string, announced: boolean }

/**
 * A host's announced addresses, then those it listens on without announcing them: a public IP
 * given to `--listen` is announced only once AutoNAT confirms it (Kubo's `id` against `swarm addrs local`).
 */
export function hostAddresses (host: HostStatus): HostAddress[] {
  const announced = new Set(host.addresses)
  return [
    ...host.addresses.map((address) => ({ address, announced: true })),
    ...(host.listening ?? []).filter((address) => !announced.has(address)).map((address) => ({ address, announced: false }))
  ]
}

/** Said after an address the host listens on but does not announce. */
export const UNCONFIRMED = '(listening; not announced until confirmed)'

const shownAddress = (a: HostAddress, self: string): string => `${listenAddress(a.address, self)}${a.announced ? '' : ` ${UNCONFIRMED}`}`

/** A listen address as shown: without this node's own id (the first line has it), a relay's id shortened. */
const listenAddress = (address: string, self: string): string =>
  address.replace(new RegExp(`/p2p/${self}$`), '').replace(/\/p2p\/([^/]+)/g, (_, id: string) => `/p2p/${shortId(id)}`)
