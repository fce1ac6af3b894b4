import type { GossipsubOpts } from '@libp2p/gossipsub'
import { AddressRanges } from './address-ranges.js'

/** How dms-network tunes gossipsub (docs/protocols.md explains each choice). */
export interface GossipConfig {
  /**
   * Address ranges (CIDR) whose peers are never penalised for sharing one IP:
   * labs, data-centre NATs and one-machine tests put whole fleets behind one address.
   */
  colocationWhitelist: string[]
  /** Peers from one address outside the whitelist before the colocation penalty starts. */
  colocationThreshold: number
  /** Weight of that penalty per surplus peer squared (negative; 0 switches it off). */
  colocationWeight: number
  /** Hand pruned peers other peers to connect to (PX), so nodes beyond the hubs join the mesh. */
  peerExchange: boolean
  /** Send our own messages to every subscribed peer, not only our mesh. */
  floodPublish: boolean
  /** Target mesh degree D (gossipsub's Dlo/Dhi follow it). */
  meshDegree: number
}

/** Loopback, RFC 1918, carrier-grade NAT, link-local, IPv6 loopback, ULA and link-local. */
export const PRIVATE_RANGES = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10']

export const defaultGossipConfig: GossipConfig = {
  colocationWhitelist: PRIVATE_RANGES,
  colocationThreshold: 64,
  colocationWeight: -5,
  peerExchange: true,
  floodPublish: true,
  meshDegree: 6
}

/** The app-specific score of a trusted (bootstrap) peer: above gossipsub's acceptPXThreshold (10), so its PX is used. */
const TRUSTED_SCORE = 20

/**
 * Gossipsub options from a `GossipConfig`. `trustedPeers` (the bootstrap peers)
 * get a score that lets their peer exchange through: a node that joins through
 * a hub learns the rest of the mesh from it. `sparseTopics` are scored as
 * low-rate topics whose invalid messages are penalised.
 */
export function gossipsubOptions (config: GossipConfig, trustedPeers: string[], sparseTopics: string[] = []): Partial<GossipsubOpts> {
  const trusted = new Set(trustedPeers)
  const d = config.meshDegree
  return {
    allowPublishToZeroTopicPeers: true,
    fastMsgIdFn: fastMessageId,
    // the messages of one RPC are handled one after another: a copy is then checked against the
    // fast id only after the copy before it was validated, so a peer that packs one valid message
    // many times into an RPC gets one signature check. (Messages wait on nothing but the topic
    // validator, which is synchronous. RPCs are not awaited one by one: a PRUNE's peer exchange
    // dials, and the peer's next messages must not wait for those dials.)
    awaitRpcMessageHandler: true,
    emitSelf: false,
    doPX: config.peerExchange,
    floodPublish: config.floodPublish,
    D: d,
    Dlo: Math.max(1, d - 2),
    Dhi: d * 2,
    Dout: Math.max(1, Math.min(Math.floor(d / 2), d - 2)),
    scoreParams: {
      IPColocationFactorWhitelist: new AddressRanges(config.colocationWhitelist),
      IPColocationFactorThreshold: config.colocationThreshold,
      IPColocationFactorWeight: config.colocationWeight,
      appSpecificScore: (peer) => trusted.has(peer) ? TRUSTED_SCORE : 0,
      appSpecificWeight: 1,
      topics: Object.fromEntries(sparseTopics.map((topic) => [topic, sparseTopicScore]))
    }
  }
}

const NONE = new Uint8Array(0)
const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')

/**
 * The key gossipsub's duplicate check looks a message up by before it validates it: author,
 * sequence number and topic, with the first two lengths so no two field splits give one key.
 * Author and sequence number are what gossipsub's own message id is (StrictSign), so nothing it
 * would keep is dropped. Without it gossipsub verifies the signature of every copy, so each node
 * paid one Ed25519 verification per copy (about 6 a delivery with D = 6), and a peer repeating one
 * valid message made its receiver verify it every time. Only a message that validated is filed
 * under its key, so a forged copy sent first cannot hide the real one; one sent later is dropped as
 * a duplicate. The signature is not in the key: other valid signatures of one message would each
 * be verified and filed again.
 */
export function fastMessageId (message: { from?: Uint8Array, seqno?: Uint8Array, topic?: string }): string {
  const from = message.from ?? NONE
  const seqno = message.seqno ?? NONE
  return `${from.byteLength}.${seqno.byteLength}.${latin1(from)}${latin1(seqno)}${message.topic ?? ''}`
}

/**
 * Score parameters for a sparse topic such as bid requests: a few messages a
 * minute, so no penalty for quiet mesh peers (P3 off); a small reward for
 * delivering first; a heavy penalty for messages our validator rejects.
 */
const sparseTopicScore = {
  topicWeight: 1,
  timeInMeshWeight: 0,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 1,
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 5,
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 1,
  meshMessageDeliveriesThreshold: 1,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 5000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -50,
  invalidMessageDeliveriesDecay: 0.5
}
