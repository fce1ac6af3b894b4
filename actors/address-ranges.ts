import { DmsError } from './errors.js'
/**
 * A set of IP address ranges (CIDR), with the one method gossipsub asks of its
 * colocation whitelist: `has(ip)`. It is a `Set<string>` so gossipsub takes it.
 */
export class AddressRanges extends Set<string> {
  private readonly ranges: Array<{ bits: number, base: bigint, prefix: number }>

  constructor (cidrs: string[]) {
    super(cidrs)
    this.ranges = cidrs.map(parseCidr)
  }

  /** gossipsub asks on every heartbeat for every peer's address: answers are kept (a bounded few). */
  private readonly answers = new Map<string, boolean>()

  override has (ip: string): boolean {
    const known = this.answers.get(ip)
    if (known != null) return known
    const parsed = parseIp(ip)
    const inside = parsed != null && this.ranges.some((r) => r.bits === parsed.bits && (parsed.value >> BigInt(r.bits - r.prefix)) === (r.base >> BigInt(r.bits - r.prefix)))
    if (this.answers.size >= 4096) this.answers.clear()
    this.answers.set(ip, inside)
    return inside
  }
}

/** Parse `a.b.c.d/n` or `x::y/n`; throws on anything else. */
export function parseCidr (cidr: string): { bits: number, base: bigint, prefix: number } {
  const [address, prefixText] = cidr.split('/')
  const ip = parseIp(address ?? '')
  const prefix = Number(prefixText)
  if (ip == null || prefixText == null || !/^\d+$/.test(prefixText) || prefix > ip.bits) throw new DmsError('CONFIG_INVALID', `not an address range: ${JSON.stringify(cidr)} (e.g. 10.0.0.0/8 or fc00::/7)`)
  return { bits: ip.bits, base: ip.value, prefix }
}

/** An IPv4 (32 bits) or IPv6 (128 bits) address as a number; IPv4-mapped IPv6 counts as IPv4. */
export function parseIp (text: string): { bits: number, value: bigint } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text)
  if (mapped != null) return parseIp(mapped[1]!)
  if (/^\d+\.\d+\.\d+\.\d+$/.test(text)) {
    const parts = text.split('.').map(Number)
    if (parts.some((p) => p > 255)) return undefined
    return { bits: 32, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) }
  }
  if (!/^[0-9a-f:]+$/i.test(text) || !text.includes(':')) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] === '' ? [] : halves[0]!.split(':')
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : []
  const missing = 8 - head.length - tail.length
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]
  if (groups.some((g) => g.length === 0 || g.length > 4)) return undefined
  return { bits: 128, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) }
}
