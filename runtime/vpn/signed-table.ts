import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { encodeValue } from '../../actors/wire/codec.js'
import { checkTable } from '../../machines/vpn-table.js'
import type { RoutingTable } from '../../machines/vpn-table.js'
import { DmsError } from '../errors.js'

/** A routing table as it travels and is stored: the table and the leader's signature over it. */
export interface SignedTable { table: RoutingTable, signature: Uint8Array }

/**
 * Canonical bytes: a domain tag and the fields in a fixed order, members sorted
 * by peer id. A table with DNS names, published ports or its own domain signs as
 * version 2 (names sorted, ports in table order); one without them stays version 1, which members running an
 * older release still verify.
 */
function tableBytes (t: RoutingTable): Uint8Array {
  const members = Object.keys(t.members).sort().map((peer) => [peer, t.members[peer]!.ip, t.members[peer]!.addresses])
  const names = Object.keys(t.names ?? {}).sort().map((name) => [name, t.names![name]!])
  const ports = (t.ports ?? []).map((p) => [p.at, p.protocol, p.port, p.to.ip, p.to.port])
  const policy = t.policy == null ? null : [Object.keys(t.policy.groups).sort().map((g) => [g, t.policy!.groups[g]!]), t.policy.rules.map((r) => [r.from, r.to, r.protocol, r.ports ?? null])]
  if (names.length === 0 && ports.length === 0 && policy == null && t.domain == null) return encodeValue(['dms-vpn/table/1', t.vpnId, t.leader, t.subnet, t.version, t.closed, members, t.retired])
  return encodeValue(['dms-vpn/table/2', t.vpnId, t.leader, t.subnet, t.version, t.closed, members, t.retired, t.domain ?? null, names, ports, policy])
}

/**
 * The table as far as its signature covers it, and nothing more: an unsigned field someone added
 * on the way (to a member, a port, a rule) never reaches status, the disk or a ruleset.
 */
function signedPart (t: RoutingTable): RoutingTable {
  return {
    vpnId: t.vpnId,
    leader: t.leader,
    subnet: t.subnet,
    version: t.version,
    closed: t.closed,
    members: Object.fromEntries(Object.keys(t.members).map((peer) => [peer, { ip: t.members[peer]!.ip, addresses: [...t.members[peer]!.addresses] }])),
    retired: [...t.retired],
    ...(t.domain != null ? { domain: t.domain } : {}),
    ...(t.names != null ? { names: Object.fromEntries(Object.keys(t.names).map((name) => [name, t.names![name]!])) } : {}),
    ...(t.ports != null ? { ports: t.ports.map((p) => ({ at: p.at, protocol: p.protocol, port: p.port, to: { ip: p.to.ip, port: p.to.port } })) } : {}),
    ...(t.policy != null
      ? {
          policy: {
            groups: Object.fromEntries(Object.keys(t.policy.groups).map((g) => [g, [...t.policy!.groups[g]!]])),
            rules: t.policy.rules.map((r) => ({ from: r.from, to: r.to, protocol: r.protocol, ...(r.ports != null ? { ports: [r.ports[0], r.ports[1]] as [number, number] } : {}) }))
          }
        }
      : {})
  }
}

export async function signTable (key: PrivateKey, table: RoutingTable): Promise<SignedTable> {
  return { table, signature: await key.sign(tableBytes(table)) }
}

/**
 * Check a signed table from the wire or the disk: its shape and sizes, no IP
 * collision, and a valid signature by the leader it names. Returns the
 * table, or throws a message saying what is wrong.
 */
export async function openSignedTable (value: unknown): Promise<RoutingTable> {
  const signed = value as Partial<SignedTable> | null
  if (typeof signed !== 'object' || signed == null || !(signed.signature instanceof Uint8Array) || signed.signature.byteLength > 128) {
    throw new DmsError('VPN_BAD_TABLE', 'malformed VPN table: expected { table, signature }')
  }
  const problem = checkTable(signed.table)
  if (problem != null) throw new DmsError('VPN_BAD_TABLE', `malformed VPN table: ${problem}`)
  const table = signed.table!
  let valid = false
  try {
    const publicKey = peerIdFromString(table.leader).publicKey
    valid = publicKey != null && await publicKey.verify(tableBytes(table), signed.signature)
  } catch {
    valid = false
  }
  if (!valid) throw new DmsError('VPN_BAD_TABLE', `the VPN table is not signed by its leader ${table.leader}`)
  return signedPart(table)
}
