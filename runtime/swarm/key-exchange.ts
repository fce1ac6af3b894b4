import { randomBytes } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { encodeValue } from '../wire/codec.js'
import { seal, open } from './sealed-box.js'
import type { SealedBox } from './sealed-box.js'

/** Protocol id of the swarm key exchange (requests on the public host, rotation notices on the private one). */
export const SWARM_KEY_PROTOCOL = '/dms/swarm-key/1.0.0'

/** How far a request's time may be from the owner's clock. */
export const REQUEST_WINDOW_MS = 60_000

export interface KeyRequest { kind: 'request', requester: string, network: string, nonce: Uint8Array, time: number, signature: Uint8Array }
export interface KeyGrant {
  kind: 'grant', owner: string, requester: string, network: string, epoch: number, nonce: Uint8Array, time: number
  /** The owner's private-network addresses, to dial after joining. */
  bootstrap: string[]
  sealed: SealedBox, signature: Uint8Array
}
export type DenialReason = 'not-authorised' | 'bad-signature' | 'wrong-requester' | 'replayed' | 'stale' | 'wrong-network' | 'malformed' | 'no-swarm'
export interface KeyDenial { kind: 'denial', owner: string, requester: string, reason: DenialReason, nonce: Uint8Array, time: number, signature: Uint8Array }
export interface RotationNotice {
  kind: 'rotation', owner: string, member: string, network: string, epoch: number, time: number, bootstrap: string[], sealed: SealedBox, signature: Uint8Array
}
export type SwarmKeyMessage = KeyRequest | KeyGrant | KeyDenial | RotationNotice

type Unsigned<T> = T extends unknown ? Omit<T, 'signature'> : never

/** Canonical bytes to sign: a domain tag and the fields in a fixed order. */
function signedBytes (message: Unsigned<SwarmKeyMessage>): Uint8Array {
  switch (message.kind) {
    case 'request': return encodeValue(['dms-swarm-key/request/1', message.requester, message.network, message.nonce, message.time])
    case 'grant': return encodeValue(['dms-swarm-key/grant/1', message.owner, message.requester, message.network, message.epoch, message.nonce, message.time, message.bootstrap, message.sealed.ephemeral, message.sealed.nonce, message.sealed.ciphertext])
    case 'denial': return encodeValue(['dms-swarm-key/denial/1', message.owner, message.requester, message.reason, message.nonce, message.time])
    case 'rotation': return encodeValue(['dms-swarm-key/rotation/1', message.owner, message.member, message.network, message.epoch, message.time, message.bootstrap, message.sealed.ephemeral, message.sealed.nonce, message.sealed.ciphertext])
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
  if (key?.type !== 'Ed25519') throw new Error(`${peerId} has no Ed25519 key`)
  return key.raw
}

export async function createKeyRequest (key: PrivateKey, requester: string, network: string, now = Date.now()): Promise<KeyRequest> {
  return await sign<KeyRequest>(key, { kind: 'request', requester, network, nonce: new Uint8Array(randomBytes(16)), time: now })
}

/** Remembers recent request nonces, so a captured request cannot be replayed within the time window. */
export class ReplayCache {
  private readonly seen = new Map<string, number>()
  constructor (private readonly windowMs = 2 * REQUEST_WINDOW_MS, private readonly maxEntries = 100_000) {}

  /** True the first time a nonce is seen. */
  remember (nonce: Uint8Array, now = Date.now()): boolean {
    for (const [id, at] of this.seen) { if (now - at <= this.windowMs && this.seen.size < this.maxEntries) break; this.seen.delete(id) }
    const id = Buffer.from(nonce).toString('hex')
    if (this.seen.has(id)) return false
    this.seen.set(id, now)
    return true
  }
}

export interface RequestCheck {
  /** The Noise-authenticated peer id of the stream the request came on. */
  remotePeer: string
  network: string
  authorised: ReadonlySet<string>
  replay: ReplayCache
  now?: number
}

/** The owner's verdict on a request: undefined to grant, or the reason to deny. */
export async function checkKeyRequest (request: KeyRequest, check: RequestCheck): Promise<DenialReason | undefined> {
  const now = check.now ?? Date.now()
  if (request.requester !== check.remotePeer) return 'wrong-requester'
  if (!(await verifySignature(request, request.requester))) return 'bad-signature'
  if (request.network !== check.network) return 'wrong-network'
  if (Math.abs(now - request.time) > REQUEST_WINDOW_MS) return 'stale'
  if (!check.replay.remember(request.nonce, now)) return 'replayed'
  if (!check.authorised.has(request.requester)) return 'not-authorised'
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

export type Opened = { ok: true, key: Uint8Array, epoch: number, bootstrap: string[] } | { ok: false, reason: string }

/** The requester's check of an answer: signed by the expected owner, for this request, and opens with its key. */
export async function openKeyGrant (grant: KeyGrant, expect: { owner: string, request: KeyRequest, seed: Uint8Array }): Promise<Opened> {
  if (grant.owner !== expect.owner || !(await verifySignature(grant, expect.owner))) return { ok: false, reason: 'grant not signed by the owner' }
  if (grant.requester !== expect.request.requester || Buffer.compare(Buffer.from(grant.nonce), Buffer.from(expect.request.nonce)) !== 0) return { ok: false, reason: 'grant answers another request' }
  try {
    const key = open(grant.sealed, expect.seed, sealContext('grant', grant.owner, grant.requester, grant.network, grant.epoch))
    return { ok: true, key, epoch: grant.epoch, bootstrap: grant.bootstrap }
  } catch {
    return { ok: false, reason: 'sealed key does not open (tampered or not for us)' }
  }
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
  const ok = m != null && typeof m === 'object' && bytes(m.signature) && typeof m.time === 'number' && (
    (m.kind === 'request' && str(m.requester) && str(m.network) && bytes(m.nonce, 16)) ||
    (m.kind === 'grant' && str(m.owner) && str(m.requester) && str(m.network) && Number.isInteger(m.epoch) && bytes(m.nonce, 16) && addrs(m.bootstrap) && box(m.sealed)) ||
    (m.kind === 'denial' && str(m.owner) && str(m.requester) && str(m.reason) && bytes(m.nonce)) ||
    (m.kind === 'rotation' && str(m.owner) && str(m.member) && str(m.network) && Number.isInteger(m.epoch) && addrs(m.bootstrap) && box(m.sealed))
  )
  if (!ok) throw new Error('malformed swarm key message')
  return m as unknown as SwarmKeyMessage
}
