import * as dnsPacket from 'dns-packet'
import type { Answer, Question } from 'dns-packet'

/** What the subnet knows of a name: its member's IP; ours with no address (the domain itself, or a name above others); ours but unknown; not ours. */
export type Lookup = { ip: string } | 'empty' | 'unknown' | 'not-ours'

export type DnsOutcome = 'answered' | 'nodata' | 'nxdomain' | 'refused' | 'malformed' | 'notimp'

const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const
/** Names change with the table: resolvers keep an answer only briefly. */
const TTL_SECONDS = 5
const MAX_QUERY_BYTES = 512

/**
 * Answer one DNS query from a member of the subnet: A records for the
 * subnet's names, authoritative, never recursive. A name outside the subnet's
 * domain is REFUSED (nothing is forwarded); a query that cannot be parsed gets
 * FORMERR when its header can be read, and nothing when not.
 */
export function answerQuery (query: Uint8Array, lookup: (name: string) => Lookup): { reply?: Uint8Array, outcome: DnsOutcome } {
  if (query.byteLength < 12 || query.byteLength > MAX_QUERY_BYTES) return { outcome: 'malformed' }
  const bytes = Buffer.from(query.buffer, query.byteOffset, query.byteLength)
  const id = bytes.readUInt16BE(0)
  const recursion = bytes.readUInt16BE(2) & dnsPacket.RECURSION_DESIRED
  if ((bytes.readUInt16BE(2) & 0x8000) !== 0) return { outcome: 'malformed' } // a response, not a query: never answered (no loops)
  const reply = (rcode: number, questions: Question[] = [], answers: Answer[] = []): Uint8Array =>
    dnsPacket.encode({ type: 'response', id, flags: dnsPacket.AUTHORITATIVE_ANSWER | recursion | rcode, questions, answers })
  let packet: dnsPacket.Packet
  try {
    packet = dnsPacket.decode(bytes)
  } catch {
    return { reply: reply(RCODE.FORMERR), outcome: 'malformed' } // a header, then garbage
  }
  const questions = packet.questions ?? []
  if (((bytes.readUInt16BE(2) >> 11) & 0xf) !== 0) return { reply: reply(RCODE.NOTIMP), outcome: 'notimp' }
  if (questions.length !== 1) return { reply: reply(RCODE.FORMERR), outcome: 'malformed' }
  const question = questions[0]!
  if (question.class !== 'IN' && question.class !== 'ANY') return { reply: reply(RCODE.REFUSED, questions), outcome: 'refused' }
  // a name no subnet name could be is answered without echoing it (no larger reply than the query)
  if (!/^[a-z0-9_.-]{0,253}$/i.test(question.name)) return { reply: reply(RCODE.FORMERR), outcome: 'malformed' }
  const found = lookup(question.name.toLowerCase().replace(/\.$/, ''))
  if (found === 'not-ours') return { reply: reply(RCODE.REFUSED, questions), outcome: 'refused' }
  if (found === 'unknown') return { reply: reply(RCODE.NXDOMAIN, questions), outcome: 'nxdomain' }
  if (found === 'empty' || (question.type !== 'A' && String(question.type) !== 'ANY')) return { reply: reply(RCODE.NOERROR, questions), outcome: 'nodata' }
  return { reply: reply(RCODE.NOERROR, questions, [{ type: 'A', class: 'IN', name: question.name, ttl: TTL_SECONDS, data: found.ip }]), outcome: 'answered' }
}
