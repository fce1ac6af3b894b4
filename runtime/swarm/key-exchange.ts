import { randomBytes } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { encodeValue } from '../../actors/wire/codec.js'
import { seal, open } from './sealed-box.js'
import type { SealedBox } from './sealed-box.js'
import { DmsError } from '../errors.js'

/** Protocol id of the swarm key exchange (requests on the public host, rotation notices on the private one). */
export const SWARM_KEY_PROTOCOL = '/dms/swarm-key/1.0.0'

/** How far a request's time may be from the owner's clock. */
export const REQUEST_WINDOW_MS = 60_000

/** A member's signed request; it names the owner it is for, so it cannot be used against another owner. */
export interface KeyRequest { kind: 'request', requester: string, owner: string, network: string, nonce: Uint8Array, time: number, signature: Uint8Array }
export interface KeyGrant {
  kind: 'grant', owner: string, requester: string, network: string, epoch: number, nonce: Uint8Array, time: number
  /** The owner's private-network addresses, to dial after joining. */
  bootstrap: string[]
  sealed: SealedBox, signature: Uint8Array
}
export type DenialReason = 'not-authorised' | 'bad-signature' | 'wrong-requester' | 'wrong-owner' | 'replayed' | 'stale' | 'wrong-network' | 'malformed' | 'no-swarm' | 'busy'
export interface KeyDenial { kind: 'denial', owner: string, requester: string, reason: DenialReason, nonce: Uint8Array, time: number, signature: Uint8Array }
export interface RotationNotice {
  kind: 'rotation', owner: string, member: string, network: string, epoch: number, time: number, bootstrap: string[], sealed: SealedBox, signature: Uint8Array
}
/** The owner's word to a member it revoked: leave now (its key is being rotated away). */
export interface EvictionNotice { kind: 'eviction', owner: string, member: string, network: string, epoch: number, time: number, signature: Uint8Array }
/** A member's word to its owner that it left (and dropped the key): the owner stops counting it as a member. */
export interface LeaveNotice { kind: 'leave', member: string, owner: string, network: string, epoch: number, time: number, signature: Uint8Array }
export type SwarmKeyMessage = KeyRequest | KeyGrant | KeyDenial | RotationNotice | EvictionNotice | LeaveNotice

type Unsigned<T> = T extends unknown ? Omit<T, 'signature'> : never

/** Canonical bytes to sign: a domain tag and the fields in a fixed order. */
function signedBytes (message: Unsigned<SwarmKeyMessage>): Uint8Array {
  switch (message.kind) {
    case 'request': return encodeValue(['dms-swarm-key/request/2', message.requester, message.owner, message.network, message.nonce, message.time])
    case 'grant': return encodeValue(['dms-swarm-key/grant/1', message.owner, message.requester, message.network, message.epoch, message.nonce, message.time, message.bootstrap, message.sealed.ephemeral, message.sealed.nonce, message.sealed.ciphertext])
    case 'denial': return encodeValue(['dms-swarm-key/denial/1', message.owner, message.requester, message.reason, message.nonce, message.time])
    case 'rotation': return encodeValue(['dms-swarm-key/rotation/1', message.owner, message.member, message.network, message.epoch, message.time, message.bootstrap, message.sealed.ephemeral, message.sealed.nonce, message.sealed.ciphertext])
    case 'eviction': return encodeValue(['dms-swarm-key/eviction/1', message.owner, message.member, message.network, message.epoch, message.time])
    case 'leave': return encodeValue(['dms-swarm-key/leave/1', message.member, message.owner, message.network, message.epoch, message.time])
  }
}

/** What a sealed key is bound to, so a box cannot be moved into another message. */
const sealContext = (kind: string, owner: string, to: string, network: string, epoch: number): Uint8Array =>
  encodeValue(['dms-swarm-key/seal/1', kind, owner, to, network, epoch])

async function sign<T extends SwarmKeyMessage> (key: PrivateKey, message: Unsigned<T>): Promise<T> {
  return { ...message, signature: await key.sign(signedBytes(message as Unsigned<SwarmKeyMessage>)) } as unknown as T
}

/** Does `signer`'s key (embedded in its Ed25519 peer id) sign this message? */
export async function verifySignature (message: SwarmKeyMessage, signer: string): Promise<boolean> {
  try {
    const publicKey = peerIdFromString(signer).publicKey
    if (publicKey == null) return false
    const { signature, ...unsigned } = message
    return await publicKey.verify(signedBytes(unsigned as Unsigned<SwarmKeyMessage>), signature)
  } catch {
    return false
  }
}

const ed25519PublicOf = (peerId: string): Uint8Array => {
  const key = peerIdFromString(peerId).publicKey
  if (key?.type !== 'Ed25519') throw new DmsError('MALFORMED', `${peerId} has no Ed25519 key`)
  return key.raw
}

export async function createKeyRequest (key: PrivateKey, requester: string, owner: string, network: string, now = Date.now()): Promise<KeyRequest> {
  return await sign<KeyRequest>(key, { kind: 'request', requester, owner, network, nonce: new Uint8Array(randomBytes(16)), time: now })
}

export interface RequestCheck {
  /** The Noise-authenticated peer id of the stream the request came on. */
  remotePeer: string
  /** This owner's peer id. */
  self: string
  network: string
  authorised: ReadonlySet<string>
  now?: number
}

/** True for a request that is unauthenticated noise: these are counted, not audited one by one. */
export const isUnauthenticated = (reason: DenialReason): boolean =>
  reason === 'wrong-requester' || reason === 'wrong-owner' || reason === 'wrong-network' || reason === 'stale' || reason === 'not-authorised'

/**
 * The owner's verdict on a request, cheapest checks first (a stranger costs no
 * signature check): undefined to go on (replay check, then the owner machine), or the reason to deny.
 */
export async function checkKeyRequest (request: KeyRequest, check: RequestCheck): Promise<DenialReason | undefined> {
  const now = check.now ?? Date.now()
  if (request.requester !== check.remotePeer) return 'wrong-requester'
  if (request.owner !== check.self) return 'wrong-owner'
  if (request.network !== check.network) return 'wrong-network'
  if (!Number.isFinite(request.time) || Math.abs(now - request.time) > REQUEST_WINDOW_MS) return 'stale'
  if (!check.authorised.has(request.requester)) return 'not-authorised'
  if (!(await verifySignature(request, request.requester))) return 'bad-signature'
  return undefined
}

export async function createKeyGrant (ownerKey: PrivateKey, owner: string, request: KeyRequest, swarmKey: Uint8Array, epoch: number, bootstrap: string[]): Promise<KeyGrant> {
  const sealed = seal(swarmKey, ed25519PublicOf(request.requester), sealContext('grant', owner, request.requester, request.network, epoch))
  return await sign<KeyGrant>(ownerKey, { kind: 'grant', owner, requester: request.requester, network: request.network, epoch, nonce: request.nonce, time: Date.now(), bootstrap, sealed })
}

export async function createKeyDenial (ownerKey: PrivateKey, owner: string, requester: string, nonce: Uint8Array, reason: DenialReason): Promise<KeyDenial> {
  return await sign<KeyDenial>(ownerKey, { kind: 'denial', owner, requester, reason, nonce, time: Date.now() })
}

export async function createRotationNotice (ownerKey: PrivateKey, owner: string, member: string, network: string, swarmKey: Uint8Array, epoch: number, bootstrap: string[]): Promise<RotationNotice> {
  const sealed = seal(swarmKey, ed25519PublicOf(member), sealContext('rotation', owner, member, network, epoch))
  return await sign<RotationNotice>(ownerKey, { kind: 'rotation', owner, member, network, epoch, time: Date.now(), bootstrap, sealed })
}

export async function createEvictionNotice (ownerKey: PrivateKey, owner: string, member: string, network: string, epoch: number): Promise<EvictionNotice> {
  return await sign<EvictionNotice>(ownerKey, { kind: 'eviction', owner, member, network, epoch, time: Date.now() })
}

/**
 * A member's check of an eviction notice: signed by its owner, for it, for the epoch it
 * holds or a later one (an old notice from before a re-authorisation does not count), and fresh.
 */
export async function checkEvictionNotice (notice: EvictionNotice, expect: { owner: string, member: string, network: string, epoch: number, now?: number }): Promise<string | undefined> {
  if (notice.owner !== expect.owner || !(await verifySignature(notice, expect.owner))) return 'eviction not signed by the owner'
  if (notice.member !== expect.member || notice.network !== expect.network) return 'eviction addressed to someone else'
  if (notice.epoch < expect.epoch) return `eviction for epoch ${notice.epoch}, before this member's ${expect.epoch}`
  if (Math.abs((expect.now ?? Date.now()) - notice.time) > REQUEST_WINDOW_MS) return 'eviction is stale'
  return undefined
}

export async function createLeaveNotice (memberKey: PrivateKey, member: string, owner: string, network: string, epoch: number, now = Date.now()): Promise<LeaveNotice> {
  return await sign<LeaveNotice>(memberKey, { kind: 'leave', member, owner, network, epoch, time: now })
}

/**
 * The owner's check of a leave notice, cheapest first: from the member itself (the
 * Noise-authenticated peer of the stream), to this owner, for this swarm, fresh, and
 * signed by the member. Undefined when it holds, else why not.
 */
export async function checkLeaveNotice (notice: LeaveNotice, check: { remotePeer: string, self: string, network: string, now?: number }): Promise<string | undefined> {
  if (notice.member !== check.remotePeer) return 'leave sent for another member'
  if (notice.owner !== check.self || notice.network !== check.network) return 'leave addressed to another swarm'
  if (Math.abs((check.now ?? Date.now()) - notice.time) > REQUEST_WINDOW_MS) return 'leave is stale'
  if (!(await verifySignature(notice, notice.member))) return 'leave not signed by the member'
  return undefined
}

export type Opened = { ok: true, key: Uint8Array, epoch: number, bootstrap: string[] } | { ok: false, reason: string }

/** The requester's check of an answer: signed by the expected owner, for this request, and opens with its key. */
export async function openKeyGrant (grant: KeyGrant, expect: { owner: string, request: KeyRequest, seed: Uint8Array }): Promise<Opened> {
  if (grant.owner !== expect.owner || !(await verifySignature(grant, expect.owner))) return { ok: false, reason: 'grant not signed by the owner' }
  if (grant.requester !== expect.request.requester || Buffer.compare(Buffer.from(grant.nonce), Buffer.from(expect.request.nonce)) !== 0) return { ok: false, reason: 'grant answers another request' }
  if (grant.network !== expect.request.network) return { ok: false, reason: `grant is for network ${JSON.stringify(grant.network)}, not ours` }
  if (!Number.isSafeInteger(grant.epoch) || grant.epoch < 1) return { ok: false, reason: 'grant has no valid epoch' }
  try {
    const key = open(grant.sealed, expect.seed, sealContext('grant', grant.owner, grant.requester, grant.network, grant.epoch))
    return { ok: true, key, epoch: grant.epoch, bootstrap: grant.bootstrap }
  } catch {
    return { ok: false, reason: 'sealed key does not open (tampered or not for us)' }
  }
}

/** The requester's check of a denial: signed by the owner and answering this very request (not a replayed denial). */
export async function checkKeyDenial (denial: KeyDenial, expect: { owner: string, request: KeyRequest }): Promise<{ ok: true, reason: DenialReason } | { ok: false, reason: string }> {
  if (denial.owner !== expect.owner || !(await verifySignature(denial, expect.owner))) return { ok: false, reason: 'denial not signed by the owner' }
  if (denial.requester !== expect.request.requester || Buffer.compare(Buffer.from(denial.nonce), Buffer.from(expect.request.nonce)) !== 0) return { ok: false, reason: 'denial answers another request' }
  return { ok: true, reason: denial.reason }
}

/** A member's check of a rotation notice: signed by its owner, newer than its epoch, and opens. */
export async function openRotationNotice (notice: RotationNotice, expect: { owner: string, member: string, network: string, epoch: number, seed: Uint8Array }): Promise<Opened> {
  if (notice.owner !== expect.owner || !(await verifySignature(notice, expect.owner))) return { ok: false, reason: 'rotation not signed by the owner' }
  if (notice.member !== expect.member || notice.network !== expect.network) return { ok: false, reason: 'rotation addressed to someone else' }
  if (notice.epoch <= expect.epoch) return { ok: false, reason: `rotation epoch ${notice.epoch} is not newer than ${expect.epoch}` }
  try {
    return { ok: true, key: open(notice.sealed, expect.seed, sealContext('rotation', notice.owner, notice.member, notice.network, notice.epoch)), epoch: notice.epoch, bootstrap: notice.bootstrap }
  } catch {
    return { ok: false, reason: 'sealed key does not open (tampered or not for us)' }
  }
}

/** Check the shape of a decoded message before anything reads it. */
export function validateSwarmKeyMessage (value: unknown): SwarmKeyMessage {
  const m = value as Record<string, unknown> | null
  const bytes = (v: unknown, n?: number): boolean => v instanceof Uint8Array && (n == null || v.byteLength === n)
  const str = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length <= 256
  const box = (v: unknown): boolean => { const b = v as Record<string, unknown> | null; return b != null && bytes(b.ephemeral, 32) && bytes(b.nonce, 24) && bytes(b.ciphertext) }
  const addrs = (v: unknown): boolean => Array.isArray(v) && v.length <= 16 && v.every(str)
  // every number from the wire must be finite: NaN passes every window comparison
  const ok = m != null && typeof m === 'object' && !Array.isArray(m) && bytes(m.signature, 64) && typeof m.time === 'number' && Number.isFinite(m.time) && (
    (m.kind === 'request' && str(m.requester) && str(m.owner) && str(m.network) && bytes(m.nonce, 16)) ||
    (m.kind === 'grant' && str(m.owner) && str(m.requester) && str(m.network) && Number.isSafeInteger(m.epoch) && bytes(m.nonce, 16) && addrs(m.bootstrap) && box(m.sealed)) ||
    (m.kind === 'denial' && str(m.owner) && str(m.requester) && str(m.reason) && bytes(m.nonce, 16)) ||
    (m.kind === 'rotation' && str(m.owner) && str(m.member) && str(m.network) && Number.isSafeInteger(m.epoch) && addrs(m.bootstrap) && box(m.sealed)) ||
    (m.kind === 'eviction' && str(m.owner) && str(m.member) && str(m.network) && Number.isSafeInteger(m.epoch)) ||
    (m.kind === 'leave' && str(m.member) && str(m.owner) && str(m.network) && Number.isSafeInteger(m.epoch))
  )
  if (!ok) throw new DmsError('MALFORMED', 'malformed swarm key message')
  return m as unknown as SwarmKeyMessage
}
