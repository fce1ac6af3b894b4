// The VPN data plane's protocol ids, on their own so that status and the CLI can name them
// without loading the data plane. Framing: actors/vpn/vpn-frames.ts; docs/protocols.md.

/** The VPN data plane before TUN offloads: batches of `[u16 length][IPv4 packet]`. Still spoken to and served for older peers. */
export const VPN_PROTOCOL_V1 = '/dms/vpn/1.0.0'

/**
 * With TUN offloads on both sides: batches of `[u16 length][u16 segment size][IPv4 packet]`.
 * Segment size 0 is a whole packet; n > 0 is a TCP super-packet of up to 64 KiB that the
 * receiver's kernel takes as n-byte segments (its TCP checksum is partial, as the
 * sender's kernel left it).
 */
export const VPN_PROTOCOL_V2 = '/dms/vpn/2.0.0'
