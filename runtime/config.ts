import { resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { DmsError } from './errors.js'
import { parseDiscovery } from './discovery/config.js'
import { defaultDataDir } from './data-dir.js'
import { parsePubsub } from './pubsub-config.js'
import type { PubsubInit } from './pubsub-config.js'
import type { GossipConfig } from '../actors/gossip-options.js'
import type { DiscoveryConfig, DiscoveryInit } from './discovery/config.js'

/** What a caller may give `createNode`; everything is optional. */
export interface NodeConfigInit {
  /** Directory holding the identity and other persisted state. @default $DMS_NET_DATA, else ~/.dms-net */
  dataDir?: string
  /** Multiaddrs to listen on. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** Peers to dial at start and redial with backoff when they drop (multiaddrs with /p2p/). @default [] */
  bootstrap?: string[]
  /** Milliseconds a dial may take, handshake included. @default 5000 */
  dialTimeoutMs?: number
  /** First redial delay for a dropped bootstrap peer; doubles up to `redialMaxMs`. @default 500 */
  redialBaseMs?: number
  /** Longest redial delay. @default 30000 */
  redialMaxMs?: number
  /** A peer (not a bootstrap one) disconnected this long is forgotten: its actor stops and status no longer lists it. @default 300000 */
  forgetPeersAfterMs?: number
  /** Peer actors kept at most; past it, a new peer takes the place of the disconnected one met first (bootstrap peers stay). @default 256 */
  maxKnownPeers?: number
  /** Largest messenger frame, in bytes, either direction. @default 1048576 */
  maxFrameBytes?: number
  /** Default request/response timeout. @default 10000 */
  requestTimeoutMs?: number
  /** Bytes of partly received messenger frames one peer may hold on this node; over it, its stream is reset. @default 4194304 */
  maxBufferedBytesPerPeer?: number
  /** Bytes of partly received messenger frames all peers together may hold. @default 67108864 */
  maxBufferedBytes?: number
  /** A messenger frame must arrive whole within this long of its first byte, however slowly it trickles. @default 10000 */
  frameDeadlineMs?: number
  /** Name of the public channel; key requests for another network are denied. @default 'dms' */
  networkName?: string
  /** Discovery and reachability: DHT, relays, AutoNAT, hole punching, mDNS (docs/discovery.md). */
  discovery?: DiscoveryInit
  /** Gossipsub tuning: IP-colocation whitelist and threshold, peer exchange, flood publish, mesh degree (docs/protocols.md). */
  pubsub?: PubsubInit
}

/** Every option of NodeConfigInit: any other key is refused (a typo must not pass for a default). */
export const CONFIG_KEYS: ReadonlyArray<keyof NodeConfigInit> = [
  'dataDir', 'listen', 'bootstrap', 'dialTimeoutMs', 'redialBaseMs', 'redialMaxMs', 'forgetPeersAfterMs', 'maxKnownPeers',
  'maxFrameBytes', 'requestTimeoutMs', 'maxBufferedBytesPerPeer', 'maxBufferedBytes', 'frameDeadlineMs', 'networkName', 'discovery', 'pubsub'
]

/** A validated configuration with every default filled in. */
export type NodeConfig = Required<Omit<NodeConfigInit, 'discovery' | 'pubsub'>> & { discovery: DiscoveryConfig, pubsub: GossipConfig }

export { defaultDataDir } from './data-dir.js'

/**
 * Validate a configuration and fill defaults. Throws a `DmsError` with code
 * CONFIG_INVALID that names the offending field and value.
 */
export function parseConfig (init: NodeConfigInit = {}, otherKeys: readonly string[] = []): NodeConfig {
  const problems: string[] = []
  if (init == null || typeof init !== 'object' || Array.isArray(init)) throw new DmsError('CONFIG_INVALID', 'invalid configuration: it must be an object')
  const unknown = Object.keys(init).filter((key) => !CONFIG_KEYS.includes(key as keyof NodeConfigInit) && !otherKeys.includes(key))
  if (unknown.length > 0) problems.push(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')}`)
  const addrs = (field: string, values: unknown, needPeerId: boolean): string[] => {
    if (values === undefined) return []
    if (!Array.isArray(values)) { problems.push(`${field} must be a list of multiaddrs`); return [] }
    return values.filter((value): value is string => {
      const problem = checkMultiaddr(value, needPeerId)
      if (problem != null) problems.push(`${field}: ${problem}`)
      return problem == null
    })
  }
  const positive = (field: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) {
      problems.push(`${field} must be a whole number from 1 to ${max} (got ${JSON.stringify(value)})`)
      return fallback
    }
    return value
  }

  const listen = init.listen === undefined ? ['/ip4/127.0.0.1/tcp/0'] : addrs('listen', init.listen, false).filter((address) => {
    const problem = listenProblem(address)
    if (problem != null) problems.push(`listen: ${problem}`)
    return problem == null
  })
  const dataDirOk = init.dataDir === undefined || (typeof init.dataDir === 'string' && init.dataDir !== '')
  if (!dataDirOk) problems.push(`dataDir must be a non-empty path (got ${JSON.stringify(init.dataDir) ?? typeof init.dataDir})`)
  const config: NodeConfig = {
    dataDir: resolve(dataDirOk && init.dataDir !== undefined ? init.dataDir : defaultDataDir()),
    listen,
    bootstrap: addrs('bootstrap', init.bootstrap, true),
    dialTimeoutMs: positive('dialTimeoutMs', init.dialTimeoutMs, 5000, 600_000),
    redialBaseMs: positive('redialBaseMs', init.redialBaseMs, 500, 600_000),
    redialMaxMs: positive('redialMaxMs', init.redialMaxMs, 30_000, 3_600_000),
    forgetPeersAfterMs: positive('forgetPeersAfterMs', init.forgetPeersAfterMs, 300_000, 86_400_000),
    maxKnownPeers: positive('maxKnownPeers', init.maxKnownPeers, 256, 100_000),
    maxFrameBytes: positive('maxFrameBytes', init.maxFrameBytes, 1 << 20, 64 << 20),
    requestTimeoutMs: positive('requestTimeoutMs', init.requestTimeoutMs, 10_000, 3_600_000),
    maxBufferedBytesPerPeer: positive('maxBufferedBytesPerPeer', init.maxBufferedBytesPerPeer, 4 << 20, 1 << 30),
    maxBufferedBytes: positive('maxBufferedBytes', init.maxBufferedBytes, 64 << 20, 8 * 2 ** 30), // not 8 << 30: that is 0 in 32 bits
    frameDeadlineMs: positive('frameDeadlineMs', init.frameDeadlineMs, 10_000, 600_000),
    networkName: init.networkName ?? 'dms',
    discovery: parseDiscovery(init.discovery, problems),
    pubsub: parsePubsub(init.pubsub, problems)
  }
  if (config.redialMaxMs < config.redialBaseMs) {
    problems.push(`redialMaxMs (${config.redialMaxMs}) must not be below redialBaseMs (${config.redialBaseMs})`)
  }
  if (typeof config.networkName !== 'string' || !/^[\w.-]{1,64}$/.test(config.networkName)) {
    problems.push(`networkName must be 1-64 letters, digits, '.', '_' or '-' (got ${JSON.stringify(init.networkName)})`)
  }
  if (problems.length > 0) throw new DmsError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`)
  return config
}

/**
 * Why the node cannot listen on a (well-formed) multiaddr, or undefined when it can: its hosts
 * have the TCP transport, and listen through relays with /p2p-circuit. Said at createNode, not
 * as a libp2p transport error at start().
 */
export function listenProblem (address: string): string | undefined {
  const names = multiaddr(address).getComponents().map((c) => c.name)
  if (names.includes('p2p-circuit')) return undefined
  const transport = names.find((name) => !['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr', 'tcp', 'p2p'].includes(name))
  if (transport != null) return `${address}: this node listens on TCP only (no ${transport})`
  if (!names.includes('tcp')) return `${address} has no /tcp/<port>`
  return undefined
}

/** Why `value` is not a usable multiaddr, or undefined when it is. */
export function checkMultiaddr (value: unknown, needPeerId: boolean): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('/')) return `not a multiaddr: ${JSON.stringify(value)}`
  let parsed
  try {
    parsed = multiaddr(value)
  } catch (err) {
    return `bad multiaddr ${JSON.stringify(value)}: ${(err as Error).message}`
  }
  const components = parsed.getComponents()
  const tcp = components.find((c) => c.name === 'tcp')
  if (tcp != null) {
    const port = Number(tcp.value)
    if (!Number.isInteger(port) || port < 0 || port > 65535) return `bad port in ${value}`
  }
  if (needPeerId && !components.some((c) => c.name === 'p2p')) return `${value} has no /p2p/<peer id>`
  // every /p2p/ part is a peer id: one that cannot be would be dialled, and redialled, forever
  for (const c of components.filter((c) => c.name === 'p2p')) {
    try { peerIdFromString(c.value ?? '') } catch { return `${value}: ${JSON.stringify(c.value)} is not a peer id (peer ids look like 12D3KooW…)` }
  }
  return undefined
}
