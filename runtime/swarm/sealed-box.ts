import { ed25519 } from '@noble/curves/ed25519.js'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/** A secret sealed to one Ed25519 identity: only the holder of its private key can open it. */
export interface SealedBox {
  /** Ephemeral X25519 public key of the sender. */
  ephemeral: Uint8Array
  /** XChaCha20-Poly1305 nonce. */
  nonce: Uint8Array
  ciphertext: Uint8Array
}

const INFO = new TextEncoder().encode('dms-network sealed box v1')

// X25519 runs in OpenSSL (node:crypto): the same RFC 7748 function as @noble/curves, about
// twenty times faster, which a rotation that seals one box per member feels.
// Raw 32-byte keys enter node:crypto behind their fixed DER headers.
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex')
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const publicKeyOf = (raw: Uint8Array): KeyObject => createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' })
const privateKeyOf = (raw: Uint8Array): KeyObject => createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' })
const rawPublic = (key: KeyObject): Uint8Array => new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length))
const shared = (privateKey: KeyObject, publicKey: KeyObject): Uint8Array => new Uint8Array(diffieHellman({ privateKey, publicKey }))

function boxKey (shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array): Uint8Array {
  const salt = new Uint8Array(64)
  salt.set(ephemeral, 0)
  salt.set(recipient, 32)
  return hkdf(sha256, shared, salt, INFO, 32)
}

/**
 * Seal `secret` to the X25519 key derived from an Ed25519 public key (32 raw
 * bytes), with an ephemeral key per box; `context` is authenticated, not secret.
 */
export function seal (secret: Uint8Array, recipientEd25519: Uint8Array, context: Uint8Array): SealedBox {
  const recipient = ed25519.utils.toMontgomery(recipientEd25519)
  const pair = generateKeyPairSync('x25519')
  const ephemeral = rawPublic(pair.publicKey)
  const key = boxKey(shared(pair.privateKey, publicKeyOf(recipient)), ephemeral, recipient)
  const nonce = new Uint8Array(randomBytes(24))
  return { ephemeral, nonce, ciphertext: xchacha20poly1305(key, nonce, context).encrypt(secret) }
}

/** Open a box with the recipient's Ed25519 seed (first 32 bytes of its libp2p private key). Throws if tampered. */
export function open (box: SealedBox, recipientSeed: Uint8Array, context: Uint8Array): Uint8Array {
  const secret = privateKeyOf(ed25519.utils.toMontgomerySecret(recipientSeed.subarray(0, 32)))
  const recipient = rawPublic(createPublicKey(secret))
  const key = boxKey(shared(secret, publicKeyOf(box.ephemeral)), box.ephemeral, recipient)
  return xchacha20poly1305(key, box.nonce, context).decrypt(box.ciphertext)
}
