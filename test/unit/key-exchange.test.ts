import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import {
  createKeyRequest, checkKeyRequest, createKeyGrant, openKeyGrant, createKeyDenial, createRotationNotice, openRotationNotice,
  checkKeyDenial, verifySignature, validateSwarmKeyMessage, createLeaveNotice, checkLeaveNotice
} from '../../runtime/swarm/key-exchange.js'
import { ReplayStore } from '../../runtime/swarm/replay-store.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeValue, decodeValue } from '../../actors/wire/codec.js'
import { generateSwarmKey } from '../../runtime/swarm/key-file.js'

interface Who { key: PrivateKey, id: string }
const who = async (): Promise<Who> => { const key = await generateKeyPair('Ed25519'); return { key, id: peerIdFromPrivateKey(key).toString() } }
const seed = (w: Who): Uint8Array => w.key.raw.subarray(0, 32)
const contains = (haystack: Uint8Array, needle: Uint8Array): boolean => Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0

test('happy path: signed request → sealed grant the requester opens; the key never appears in the bytes', async () => {
  const owner = await who()
  const member = await who()
  const swarmKey = generateSwarmKey()
  const request = await createKeyRequest(member.key, member.id, owner.id, 'dms')
  const verdict = await checkKeyRequest(request, { remotePeer: member.id, self: owner.id, network: 'dms', authorised: new Set([member.id]) })
  assert.is(verdict, undefined)
  const grant = await createKeyGrant(owner.key, owner.id, request, swarmKey, 3, ['/ip4/127.0.0.1/tcp/1'])
  const wire = encodeValue(grant)
  assert.not.ok(contains(wire, swarmKey), 'plaintext key not on the wire')
  assert.not.ok(contains(wire, new TextEncoder().encode(Buffer.from(swarmKey).toString('hex'))))
  const opened = await openKeyGrant(validateSwarmKeyMessage(decodeValue(wire)) as typeof grant, { owner: owner.id, request, seed: seed(member) })
  assert.ok(opened.ok)
  if (opened.ok) {
    assert.equal(Array.from(opened.key), Array.from(swarmKey))
    assert.is(opened.epoch, 3)
    assert.equal(opened.bootstrap, ['/ip4/127.0.0.1/tcp/1'])
  }
})

test('the owner denies: unauthorised, forged, wrong requester, wrong owner, stale, NaN time, wrong network', async () => {
  const owner = await who()
  const member = await who()
  const other = await who()
  const base = { remotePeer: member.id, self: owner.id, network: 'dms', authorised: new Set([member.id]) }
  assert.is(await checkKeyRequest(await createKeyRequest(member.key, member.id, owner.id, 'dms'), base), undefined)
  assert.is(await checkKeyRequest(await createKeyRequest(other.key, other.id, owner.id, 'dms'), { ...base, remotePeer: other.id }), 'not-authorised')
  const forged = { ...(await createKeyRequest(other.key, other.id, owner.id, 'dms')), requester: member.id }
  assert.is(await checkKeyRequest(forged, base), 'bad-signature')
  assert.is(await checkKeyRequest(await createKeyRequest(member.key, member.id, owner.id, 'dms'), { ...base, remotePeer: other.id }), 'wrong-requester')
  assert.is(await checkKeyRequest(await createKeyRequest(member.key, member.id, other.id, 'dms'), base), 'wrong-owner', 'a request made for another owner')
  assert.is(await checkKeyRequest(await createKeyRequest(member.key, member.id, owner.id, 'dms', Date.now() - 120_000), base), 'stale')
  // NaN compares false with everything: it must not pass the window
  assert.is(await checkKeyRequest(await createKeyRequest(member.key, member.id, owner.id, 'dms', Number.NaN), base), 'stale')
  assert.throws(() => validateSwarmKeyMessage({ ...forged, time: Number.NaN }), /malformed/)
  assert.throws(() => validateSwarmKeyMessage({ ...forged, time: Infinity }), /malformed/)
  assert.is(await checkKeyRequest(await createKeyRequest(member.key, member.id, owner.id, 'other-net'), base), 'wrong-network')
})

test('replays are refused, also by a new ReplayStore on the same dir (an owner restart)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dms-replay-'))
  try {
    const nonce = new Uint8Array(16).fill(7)
    assert.ok(await new ReplayStore(dir).remember(nonce))
    const restarted = new ReplayStore(dir)
    assert.not.ok(await restarted.remember(nonce), 'remembered across a restart')
    assert.ok(await restarted.remember(new Uint8Array(16).fill(8)))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a member accepts only a denial signed by its owner for its own request', async () => {
  const owner = await who()
  const member = await who()
  const mallory = await who()
  const request = await createKeyRequest(member.key, member.id, owner.id, 'dms')
  const denial = await createKeyDenial(owner.key, owner.id, member.id, request.nonce, 'not-authorised')
  assert.ok((await checkKeyDenial(denial, { owner: owner.id, request })).ok)
  const older = await createKeyDenial(owner.key, owner.id, member.id, new Uint8Array(16), 'not-authorised')
  assert.not.ok((await checkKeyDenial(older, { owner: owner.id, request })).ok, 'a replayed denial of an older request')
  const forged = await createKeyDenial(mallory.key, mallory.id, member.id, request.nonce, 'not-authorised')
  assert.not.ok((await checkKeyDenial({ ...forged, owner: owner.id }, { owner: owner.id, request })).ok, 'signed by someone else')
})

test('a grant from someone other than the owner, for another request, or tampered, is refused', async () => {
  const owner = await who()
  const mallory = await who()
  const member = await who()
  const request = await createKeyRequest(member.key, member.id, owner.id, 'dms')
  const fromMallory = await createKeyGrant(mallory.key, mallory.id, request, generateSwarmKey(), 1, [])
  assert.not.ok((await openKeyGrant(fromMallory, { owner: owner.id, request, seed: seed(member) })).ok)
  const impersonating = { ...fromMallory, owner: owner.id }
  assert.not.ok((await openKeyGrant(impersonating, { owner: owner.id, request, seed: seed(member) })).ok)
  const grant = await createKeyGrant(owner.key, owner.id, request, generateSwarmKey(), 1, [])
  const otherRequest = await createKeyRequest(member.key, member.id, owner.id, 'dms')
  const otherNetwork = await createKeyGrant(owner.key, owner.id, { ...request, network: 'elsewhere' }, generateSwarmKey(), 1, [])
  assert.not.ok((await openKeyGrant(otherNetwork, { owner: owner.id, request, seed: seed(member) })).ok, 'a grant for another network')
  assert.not.ok((await openKeyGrant(grant, { owner: owner.id, request: otherRequest, seed: seed(member) })).ok)
  const tampered = { ...grant, sealed: { ...grant.sealed, ciphertext: grant.sealed.ciphertext.map((b, i) => i === 0 ? b ^ 1 : b) } }
  assert.not.ok((await openKeyGrant(tampered, { owner: owner.id, request, seed: seed(member) })).ok)
  const stolen = await openKeyGrant(grant, { owner: owner.id, request, seed: seed(mallory) })
  assert.not.ok(stolen.ok, 'another peer cannot open a grant sealed to the member')
})

test('denials are signed; rotation notices must be newer, owner-signed and addressed to us', async () => {
  const owner = await who()
  const member = await who()
  const denial = await createKeyDenial(owner.key, owner.id, member.id, new Uint8Array(16), 'not-authorised')
  assert.ok(await verifySignature(denial, owner.id))
  assert.not.ok(await verifySignature({ ...denial, reason: 'stale' }, owner.id))
  const key = generateSwarmKey()
  const notice = await createRotationNotice(owner.key, owner.id, member.id, 'dms', key, 5, [])
  const expect = { owner: owner.id, member: member.id, network: 'dms', seed: seed(member) }
  const opened = await openRotationNotice(notice, { ...expect, epoch: 4 })
  assert.ok(opened.ok && Buffer.compare(Buffer.from(opened.key), Buffer.from(key)) === 0)
  assert.not.ok((await openRotationNotice(notice, { ...expect, epoch: 5 })).ok, 'not newer')
  const mallory = await who()
  const fake = await createRotationNotice(mallory.key, mallory.id, member.id, 'dms', key, 9, [])
  assert.not.ok((await openRotationNotice({ ...fake, owner: owner.id }, { ...expect, epoch: 4 })).ok)
  assert.throws(() => validateSwarmKeyMessage({ kind: 'grant', owner: 'x' }), /malformed/)
})

test('generated: a leave notice with any one field changed (300 seeds) is refused; unchanged, it is taken', async () => {
  const member = await generateKeyPair('Ed25519')
  const other = await generateKeyPair('Ed25519')
  const memberId = peerIdFromPrivateKey(member).toString()
  const otherId = peerIdFromPrivateKey(other).toString()
  const ownerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const check = { remotePeer: memberId, self: ownerId, network: 'dms' }
  const notice = await createLeaveNotice(member, memberId, ownerId, 'dms', 4)
  assert.is(await checkLeaveNotice(notice, check), undefined)
  let seed = 26
  const next = (below: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % below }
  const hostile: Array<(n: typeof notice) => typeof notice> = [
    (n) => ({ ...n, member: [otherId, ownerId, 'x', ''][next(4)]! }),
    (n) => ({ ...n, owner: [otherId, memberId, 'x'][next(3)]! }),
    (n) => ({ ...n, network: ['dms2', '', 'DMS', 'dms '][next(4)]! }),
    (n) => ({ ...n, epoch: n.epoch + 1 + next(1000) }),
    (n) => ({ ...n, time: n.time + [-1, 1][next(2)]! * (1 + next(10 ** 8)) }),
    (n) => { const signature = Uint8Array.from(n.signature); const at = next(64); signature[at] = signature[at]! ^ (1 << next(8)); return { ...n, signature } }
  ]
  for (let i = 0; i < 300; i++) {
    const changed = hostile[next(hostile.length)]!(notice)
    assert.type(await checkLeaveNotice(changed, check), 'string', `seed step ${i}: ${JSON.stringify({ ...changed, signature: undefined })}`)
  }
  // signed by another key but naming the member, or the member's own notice on another peer's stream
  assert.type(await checkLeaveNotice(await createLeaveNotice(other, memberId, ownerId, 'dms', 4), check), 'string')
  assert.type(await checkLeaveNotice(notice, { ...check, remotePeer: otherId }), 'string')
})

test.run()
