import type { NodeEvent, PeerStatus } from '../events.js'
import { safeText } from '../../actors/messenger/safe-text.js'
import { jsonText } from '../json-text.js'
import { wrap } from './terminal.js'

/** `12D3KooWAbc…wxyz`: enough of a peer id to tell peers apart in a table. */
export const shortId = (peerId: string): string => peerId.length > 16 ? `${peerId.slice(0, 10)}…${peerId.slice(-4)}` : peerId

/** Render rows as aligned columns; the first row is the header. */
export function table (rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n')
}

export function peerTable (peers: PeerStatus[], full = false, aliases = new Map<string, string>(), width = 80): string {
  if (peers.length === 0) return '(no peers yet)'
  const alias = (p: PeerStatus): string => aliases.has(p.peerId) ? ` (${aliases.get(p.peerId)!})` : ''
  // --full: the whole id, and the alias beside it
  const name = (p: PeerStatus): string => full ? `${p.peerId}${alias(p)}` : aliases.get(p.peerId) ?? shortId(p.peerId)
  const errors = peers.filter((p) => p.lastError != null)
  const rows = table([
    ['PEER', 'NETWORK', 'STATE', 'CONNS', 'PROTOCOLS'],
    ...peers.map((p) => [name(p) + (p.bootstrap ? ' (bootstrap)' : ''), p.network, p.state, String(p.connections), String(p.protocols.length)])
  ])
  // whole ids do not leave room for a table in a terminal: each id on its line, its facts under it
  const fits = rows.split('\n').every((line) => line.length <= width)
  return [
    fits ? rows : peers.map((p) => `${name(p)}${p.bootstrap ? ' (bootstrap)' : ''}\n  ${p.network}, ${p.state}, ${p.connections} connection(s), ${p.protocols.length} protocol(s)`).join('\n'),
    // a reason is a sentence: below the table, never inside a cell
    ...(errors.length > 0 ? ['', 'last errors:'] : []),
    ...errors.flatMap((p) => wrap(`  ${name(p)}: ${safeText(p.lastError!, 400)}`, width, '    '))
  ].join('\n')
}

/**
 * One human-readable line per public event. With `width` (a terminal), a line
 * that would not fit breaks between its facts, never inside one, the next
 * lines under the first fact.
 */
export function eventLine (event: NodeEvent, width = Infinity): string {
  const time = new Date().toISOString().slice(11, 19)
  const { type, ...rest } = event
  const self = (rest as { peerId?: unknown }).peerId
  // on a terminal, an address drops the peer id the line names already, and shortens any other
  const fit = (text: string): string => width === Infinity ? text : text.replace(/\/p2p\/([1-9A-HJ-NP-Za-km-z]{40,})/g, (_, id: string) => id === self ? '' : `/p2p/${shortId(id)}`)
  const facts = Object.entries(rest).map(([key, value]) => {
    if (key === 'peerId' && typeof value === 'string') return width === Infinity ? value : shortId(value) // a log file has it whole
    if (Array.isArray(value)) return `${key}=${value.length > 3 ? `${value.length} items` : fit(value.join(','))}`
    // event fields may carry a remote peer's words: never raw control characters on the terminal
    return `${key}=${fit(safeText(typeof value === 'string' ? value : jsonText(value), 400))}`
  })
  const lines = [`${time} ${type.padEnd(20)}`]
  const indent = ' '.repeat(11)
  for (const fact of facts) {
    const last = lines.at(-1)!
    if ((lines.length > 1 || last.length > 29) && last.length + 1 + fact.length > width) lines.push(`${indent}${fact}`)
    else lines[lines.length - 1] = `${last} ${fact}`
  }
  return lines.join('\n').trimEnd()
}
