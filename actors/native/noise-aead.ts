import { randomBytes, createCipheriv } from 'node:crypto'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import type { Uint8ArrayList } from 'uint8arraylist'
import { loadAddon } from './addon.js'

/** native/aead.cc: ChaCha20-Poly1305 through the OpenSSL inside Node, with no per-record objects. */
interface AeadAddon {
  seal: (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array | Uint8Array[], out: Uint8Array) => void
  open: (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array | Uint8Array[], tag: Uint8Array, out: Uint8Array) => boolean
}

const TAG_LENGTH = 16
/** The addon takes up to this many parts of a Uint8ArrayList; a longer list is joined first. */
const MAX_PARTS = 64

type Bytes = Uint8Array | Uint8ArrayList

function parts (data: Bytes): Uint8Array | Uint8Array[] {
  if (data instanceof Uint8Array) return data
  const bufs = [...data]
  if (bufs.length === 1) return bufs[0]!
  return bufs.length <= MAX_PARTS ? bufs : data.subarray()
}

/** Whether `out` may receive what is read from `input`: the very same bytes (in place), or no byte in common. */
function writableOver (out: Uint8Array, input: Uint8Array | Uint8Array[]): boolean {
  const apart = (part: Uint8Array): boolean => part.buffer !== out.buffer ||
    part.byteOffset + part.byteLength <= out.byteOffset || out.byteOffset + out.byteLength <= part.byteOffset
  if (input instanceof Uint8Array) return apart(input) || (input.byteOffset === out.byteOffset && input.byteLength === out.byteLength)
  return input.every(apart)
}

function nativeAead (addon: AeadAddon): Pick<ICryptoInterface, 'chaCha20Poly1305Encrypt' | 'chaCha20Poly1305Decrypt'> {
  return {
    chaCha20Poly1305Encrypt (plaintext, nonce, ad, key) {
      const out = Buffer.allocUnsafe(plaintext.byteLength + TAG_LENGTH)
      addon.seal(key, nonce, ad, parts(plaintext), out)
      return out
    },
    // Noise passes `dst` over the ciphertext so that a record is decrypted where it arrived
    chaCha20Poly1305Decrypt (ciphertext, nonce, ad, key, dst) {
      const length = ciphertext.byteLength - TAG_LENGTH
      if (length < 0) throw new Error('Invalid chacha20poly1305 decryption: shorter than its tag')
      const input = parts(ciphertext instanceof Uint8Array ? ciphertext.subarray(0, length) : ciphertext.sublist(0, length))
      const out = dst != null && dst.byteLength === length && writableOver(dst, input) ? dst : Buffer.allocUnsafe(length)
      if (!addon.open(key, nonce, ad, input, ciphertext.subarray(length), out)) throw new Error('Invalid chacha20poly1305 decryption')
      return out
    }
  }
}

/** One record sealed by the addon must equal Node's own: otherwise (no addon, FIPS, another OpenSSL) keep Noise's default. */
function agreesWithNode (aead: ReturnType<typeof nativeAead>): boolean {
  const key = randomBytes(32)
  const nonce = randomBytes(12)
  const ad = randomBytes(32)
  const plaintext = randomBytes(1500)
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH })
  cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
  const expected = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  const sealed = Buffer.from(aead.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key).subarray())
  return sealed.equals(expected) && Buffer.from(aead.chaCha20Poly1305Decrypt(sealed, nonce, ad, key).subarray()).equals(plaintext)
}

let chosen: ICryptoInterface | undefined

/**
 * Noise's crypto for every libp2p host: its default (X25519, SHA-256 and HKDF from
 * Node), with ChaCha20-Poly1305 from native/aead.cc when the addon loads and agrees
 * with Node's cipher; Noise's default cipher otherwise, or when the environment says
 * `DMS_NET_NOISE_CIPHER=node` (to compare, or to rule the addon out). Chosen once per process.
 */
export function noiseCrypto (): ICryptoInterface {
  if (chosen != null) return chosen
  chosen = defaultCrypto
  if (process.env.DMS_NET_NOISE_CIPHER === 'node') return chosen
  try {
    const aead = nativeAead(loadAddon<AeadAddon>('aead'))
    if (agreesWithNode(aead)) chosen = { ...defaultCrypto, ...aead }
  } catch {
    // no addon here (not built, or a Node whose OpenSSL lacks the cipher): nothing is lost, Noise keeps its own
  }
  return chosen
}

/** Which ChaCha20-Poly1305 Noise uses in this process: `native` (native/aead.cc) or `node` (Noise's default). */
export const noiseCipher = (): 'native' | 'node' => noiseCrypto() === defaultCrypto ? 'node' : 'native'
