import type { DiscoveryStatus, NodeEvent, NodeStatus, PeerStatus } from '../events.js'
import { safeText } from '../../actors/messenger/safe-text.js'
import { jsonText } from '../json-text.js'

/** `12D3KooWAbc…wxyz`: enough of a peer id to tell peers apart in a table. */
export const shortId = (peerId: string): string => peerId.length > 16 ? `${peerId.slice(0, 10)}…${peerId.slice(-4)}` : peerId

/** Render rows as aligned columns; the first row is the header. */
export function table (rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n')
}

export function peerTable (peers: PeerStatus[], full = false): string {
  if (peers.length === 0) return '(no peers yet)'
  return table([
    ['PEER', 'NETWORK', 'STATE', 'CONNS', 'PROTOCOLS', 'LAST ERROR'],
    ...peers.map((p) => [(full ? p.peerId : shortId(p.peerId)) + (p.bootstrap ? ' (bootstrap)' : ''), p.network, p.state, String(p.connections), String(p.protocols.length), p.lastError ?? ''])
  ])
}

export function statusText (status: NodeStatus): string {
  return [
    `peer id   ${status.peerId}`,
    `host      ${status.host.state}${status.host.error != null ? ` (${status.host.error})` : ''}`,
    ...status.host.addresses.map((address, i) => `${i === 0 ? 'addresses' : '         '} ${address}`),
    ...status.discovery.flatMap(discoveryLines),
    ...(status.jobs ?? []).map((j) => `jobs ${j.network}: ${j.subscribers} peer(s) subscribed to ${j.topic}, ${j.mesh} in the mesh`),
    '',
    peerTable(status.peers)
  ].join('\n')
}

/** The discovery and reachability of one host, a few lines. */
function discoveryLines (d: DiscoveryStatus): string[] {
  const relay = d.relay === 'reserved' ? `reserved on ${d.relays.map(shortId).join(', ')}` : d.relay
  return [
    `discovery ${d.network}: ${d.mechanisms.length > 0 ? d.mechanisms.join(', ') : 'bootstrap only'}`,
    `  reachability ${d.reachability}, relay ${relay}`,
    `  found        ${Object.entries(d.found).map(([source, n]) => `${source} ${n}`).join(', ')}`,
    ...d.punched.map((p) => `  direct       ${shortId(p.peerId)} by TCP hole punch, ${p.remoteAddr.replace(/\/p2p\/[^/]+$/, '')}`),
    ...d.relayedPeers.map((peer) => `  relayed      ${shortId(peer)} (${safeText(d.noDirectPath.find((n) => n.peerId === peer)?.reason ?? noDirectYet(d), 400)})`),
    ...(d.upgradedPeers.length > 0 ? [`  upgraded     ${d.upgradedPeers.map(shortId).join(', ')} (relayed, then direct)`] : []),
    ...(d.rendezvous != null ? [`  rendezvous   ${d.rendezvous.namespace}: ${d.rendezvous.rounds} rounds, ${d.rendezvous.providers} providers, ${d.rendezvous.dialled} dialled${d.rendezvous.lastError != null ? ` (last error: ${d.rendezvous.lastError})` : ''}`] : [])
  ]
}

const noDirectYet = (d: DiscoveryStatus): string => d.mechanisms.some((m) => m.startsWith('stun '))
  ? 'no direct connection yet'
  : 'no direct connection yet; with a STUN server (--stun) two NATs can punch one'

/** One human-readable line per public event. */
export function eventLine (event: NodeEvent): string {
  const time = new Date().toISOString().slice(11, 19)
  const { type, ...rest } = event
  const facts = Object.entries(rest).map(([key, value]) => {
    if (key === 'peerId' && typeof value === 'string') return shortId(value)
    if (Array.isArray(value)) return `${key}=${value.length > 3 ? `${value.length} items` : value.join(',')}`
    // event fields may carry a remote peer's words: never raw control characters on the terminal
    return `${key}=${safeText(typeof value === 'string' ? value : jsonText(value), 400)}`
  })
  return `${time} ${type.padEnd(20)} ${facts.join(' ')}`.trimEnd()
}
