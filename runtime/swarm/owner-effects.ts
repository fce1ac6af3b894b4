import { randomUUID } from 'node:crypto'
import { fromPromise } from 'xstate'
import type { ActorRefFrom } from 'xstate'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { NodeComponents } from '../node-components.js'
import { writeOne } from '../../actors/swarm/one-shot.js'
import { swarmOwnerMachine } from '../../machines/swarm-owner.js'
import type {
  AnswerRequestInput, CreateNetworkInput, DistributeKeyInput, EvictMemberInput, KeyDistributed, NetworkCreated, SaveOwnerInput
} from '../../machines/swarm-owner.js'
import type { SwarmStore } from './store.js'
import type { KeyRing } from './key-ring.js'
import type { ReplayStore } from './replay-store.js'
import type { KeyEndpoint } from './key-endpoint.js'
import { generateSwarmKey } from './key-file.js'
import { checkKeyRequest, checkLeaveNotice, createEvictionNotice, createKeyDenial, createKeyGrant, createRotationNotice, isUnauthenticated } from './key-exchange.js'
import type { DenialReason, KeyRequest, LeaveNotice } from './key-exchange.js'
import type { DenialCounts } from './swarm-status.js'
import { awaitCommand } from './commands.js'
import { DmsError } from '../errors.js'
import { traced } from '../../actors/log.js'
import { mapBounded } from '../../actors/map-bounded.js'
import { rawConnectionTo } from '../../actors/libp2p-internals.js'
import type { Logger } from '../../actors/log.js'

export type OwnerActor = ActorRefFrom<typeof swarmOwnerMachine>

/** How long a revocation waits for the revoked member to take its eviction notice before it rotates. */
const EVICTION_WAIT_MS = 500
/**
 * Rotation notices in flight at once: enough that a hundred members hear within a few
 * round trips, few enough that a thousand do not open a thousand dials together.
 */
const NOTIFY_CONCURRENCY = 32

/** An owner's saved swarm, handed to `createNetwork` once after a restart. */
export interface RestoredOwner { key: Uint8Array, epoch: number, bootstrap: string[], rotationDue: boolean }

/** What both sides' effects work with; `takeRestored` hands the saved swarm to the next create or join once. */
/** What the swarm's effects use of the node: its configuration, identity, hosts and dial. */
export type SwarmEffectComponents = Pick<NodeComponents, 'config' | 'identity' | 'hosts' | 'dial'>

export interface SwarmEffectDeps<Restored, Role> {
  node: SwarmEffectComponents
  /** The swarm's scoped logger. */
  log: Logger
  store: SwarmStore
  ring: KeyRing
  endpoint: KeyEndpoint
  exchangeTimeoutMs: number
  takeRestored: () => Restored | undefined
  actor: () => Role | undefined
}

export interface OwnerDeps extends SwarmEffectDeps<RestoredOwner, OwnerActor> {
  replay: ReplayStore
}


/**
 * The owner's I/O: the effects its machine invokes, and the desk that turns an
 * incoming key request into a queued `swarm.key.requested`. Requests from
 * strangers are answered at the desk (cheap checks, a signed denial, a counter)
 * and never reach the machine or the disk one by one.
 */
export function ownerEffects (deps: OwnerDeps) {
  const { node, store, ring, replay } = deps
  const network = (): string => node.config.networkName
  const waiting = new Map<string, { stream: Stream, request: KeyRequest }>()
  const counted: DenialCounts = {}
  const totals: DenialCounts = {}

  async function deny (stream: Stream, peer: string, request: KeyRequest, reason: DenialReason, epoch?: number): Promise<void> {
    totals[reason] = (totals[reason] ?? 0) + 1
    if (isUnauthenticated(reason)) counted[reason] = (counted[reason] ?? 0) + 1
    // an authenticated member's denial is on disk before it learns of it
    else await store.audit({ action: 'deny', peer, reason, ...(epoch != null ? { epoch } : {}) })
    writeOne(stream, await createKeyDenial(node.identity.privateKey(), node.identity.peerId(), peer, request.nonce, reason))
    await stream.close().catch(traced(deps.log, 'close a key exchange stream'))
  }

  /** Write the denial counters as one audit line (called on a timer and when the swarm ends). */
  async function flushDenials (): Promise<void> {
    if (Object.keys(counted).length === 0) return
    const counts = { ...counted } as Record<string, number>
    for (const reason of Object.keys(counted)) delete counted[reason as DenialReason]
    await store.audit({ action: 'deny-summary', counts })
  }

  async function answerRequest (stream: Stream, peer: string, request: KeyRequest): Promise<void> {
    const owner = deps.actor()
    const snapshot = owner?.getSnapshot()
    // the owner machine takes key requests only while it runs a swarm
    if (owner == null || snapshot?.can({ type: 'swarm.key.requested', id: '', peer }) !== true) { await deny(stream, peer, request, 'no-swarm'); return }
    const reason = await checkKeyRequest(request, { remotePeer: peer, self: node.identity.peerId(), network: network(), authorised: new Set(snapshot.context.authorised) })
    if (reason != null) { await deny(stream, peer, request, reason); return }
    if (!(await replay.remember(request.nonce))) { await deny(stream, peer, request, 'replayed'); return }
    const id = randomUUID()
    waiting.set(id, { stream, request })
    try {
      const outcome = await awaitCommand(owner, { type: 'swarm.key.requested', id, peer }, deps.exchangeTimeoutMs * 4)
      if (!outcome.ok && outcome.error === 'busy') await deny(stream, peer, request, 'busy')
    } finally {
      waiting.delete(id)
    }
  }

  /**
   * A member's word that it left: checked, audited, acknowledged, and the member is no longer
   * counted (it stays authorised and may join again). Only a peer this swarm knows reaches the
   * audit log: a stranger's leave is refused like any message the owner does not take.
   */
  async function takeLeave (stream: Stream, peer: string, notice: LeaveNotice): Promise<void> {
    const owner = deps.actor()
    const context = owner?.getSnapshot().context
    const left = { type: 'swarm.member.left' as const, peer }
    if (owner == null || context == null || owner.getSnapshot().can(left) !== true) throw new DmsError('SWARM_FAILED', 'this node runs no swarm now')
    if (!context.members.includes(peer) && !context.authorised.includes(peer)) throw new DmsError('SWARM_FAILED', 'not a member of this swarm')
    const problem = await checkLeaveNotice(notice, { remotePeer: peer, self: node.identity.peerId(), network: network() })
    if (problem != null) throw new DmsError('SWARM_FAILED', problem)
    // a peer not counted now (read after the signature check's await) has nothing to leave: acknowledged, but neither audited nor counted again
    if (owner.getSnapshot().context.members.includes(peer)) {
      await store.audit({ action: 'leave', peer, epoch: notice.epoch })
      owner.send(left)
    }
    writeOne(stream, { kind: 'ack', epoch: notice.epoch })
    await stream.close().catch(() => { /* acknowledged: the close is a courtesy */ })
  }

  /** Send one member its rotation notice. Never throws: the key is switched when it runs, so a failure is only the member's. */
  async function notify (peer: string, key: Uint8Array, epoch: number, bootstrap: string[]): Promise<boolean> {
    try {
      const notice = await createRotationNotice(node.identity.privateKey(), node.identity.peerId(), peer, network(), key, epoch, bootstrap)
      if (await deps.endpoint.deliver(peer, notice, deps.exchangeTimeoutMs)) return true
    } catch (err) {
      deps.log.error('rotation notice to %s failed: %e', peer, err)
    }
    await store.audit({ action: 'notify-failed', peer, epoch }).catch(traced(deps.log, 'audit a failed rotation notice'))
    return false
  }

  const actors = {
    createNetwork: fromPromise<NetworkCreated, CreateNetworkInput>(async ({ input }) => {
      const restored = deps.takeRestored()
      let key = restored?.key ?? generateSwarmKey()
      let epoch = restored?.epoch ?? 1
      // a revocation saved before a crash: never open the old key again, start on a fresh one
      // (members that were not revoked find the old key refused and ask again)
      if (restored?.rotationDue === true) { key = generateSwarmKey(); epoch += 1 }
      const fingerprint = ring.add(epoch, key)
      ring.activate(epoch)
      // a restored owner listens where its members expect it
      const listen = restored?.bootstrap.map((address) => address.replace(/\/p2p\/[^/]+$/, ''))
      // the owner relays for its members, without limits (members behind NAT reach each other through it)
      const bootstrap = await node.hosts.startPrivateHost({ relay: 'serve', ...(listen != null && listen.length > 0 ? { listen } : {}) })
      await store.save({ role: 'owner', network: network(), epoch, authorised: input.authorised, bootstrap }, key)
      if (restored == null || restored.rotationDue) await store.audit({ action: restored == null ? 'create' : 'rotate', epoch, fingerprint })
      return { epoch, fingerprint, bootstrap }
    }),

    answerKeyRequest: fromPromise<{ granted: boolean }, AnswerRequestInput>(async ({ input }) => {
      const entry = waiting.get(input.id)
      if (entry == null) return { granted: false }
      // revoked while the request waited its turn
      if (!input.authorised) { await deny(entry.stream, input.peer, entry.request, 'not-authorised', input.epoch); return { granted: false } }
      const key = ring.get(input.epoch, input.fingerprint)
      if (key == null) throw new DmsError('SWARM_FAILED', `no key for epoch ${input.epoch}`)
      await store.audit({ action: 'grant', peer: input.peer, epoch: input.epoch, fingerprint: input.fingerprint })
      writeOne(entry.stream, await createKeyGrant(node.identity.privateKey(), node.identity.peerId(), entry.request, key, input.epoch, input.bootstrap))
      await entry.stream.close().catch(traced(deps.log, 'close a key exchange stream'))
      return { granted: true }
    }),

    saveOwnerState: fromPromise<void, SaveOwnerInput>(async ({ input }) => {
      await store.saveState({ role: 'owner', network: network(), epoch: input.epoch, authorised: input.authorised, bootstrap: input.bootstrap, rotationDue: input.rotationDue })
      await store.audit(input.audit)
    }),

    evictMember: fromPromise<void, EvictMemberInput>(async ({ input }) => {
      const notice = await createEvictionNotice(node.identity.privateKey(), node.identity.peerId(), input.peer, network(), input.epoch)
      // the rotation waits at most this long: a member that is not connected learns it when it asks again
      let timer: NodeJS.Timeout | undefined
      const delivered = await Promise.race([deps.endpoint.deliver(input.peer, notice, EVICTION_WAIT_MS), new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false) }, EVICTION_WAIT_MS) })])
      clearTimeout(timer)
      await store.audit({ action: 'evict', peer: input.peer, epoch: input.epoch, delivered })
    }),

    distributeKey: fromPromise<KeyDistributed, DistributeKeyInput>(async ({ input }) => {
      const key = generateSwarmKey()
      const fingerprint = ring.add(input.epoch, key)
      // the new key is on disk before anyone hears of it: a crash from here on restarts on it
      await store.save({ role: 'owner', network: network(), epoch: input.epoch, authorised: input.authorised, bootstrap: input.bootstrap }, key)
      await store.audit({ action: 'rotate', epoch: input.epoch, fingerprint })
      // the running host takes the new key in place (the listener and its addresses stay): every
      // connection on the old key is cut at once, a revoked peer's too, but for the established ones
      // of authorised members (Noise authenticated them), which carry their notices and go on
      const privateHost = node.hosts.libp2p('private')
      ring.activate(input.epoch, rawConnectionTo(privateHost, input.authorised))
      const delivered = await mapBounded(input.authorised, NOTIFY_CONCURRENCY, async (peer) => await notify(peer, key, input.epoch, input.bootstrap))
      const notified = input.authorised.filter((_, i) => delivered[i])
      // a member that did not take its notice is not left on the old key: cut, it finds the key refused and asks again
      const missed = input.authorised.filter((_, i) => !delivered[i])
      await Promise.all(missed.map(async (peer) => { await privateHost?.hangUp(peerIdFromString(peer)).catch(traced(deps.log, 'cut a member that missed its rotation')) }))
      const bootstrap = await node.hosts.startPrivateHost({ relay: 'serve' })
      return { epoch: input.epoch, fingerprint, bootstrap, notified }
    }),

    dissolveNetwork: fromPromise<void, void>(async () => {
      await flushDenials()
      ring.clear()
      await node.hosts.stopPrivateHost()
      await store.clear()
    })
  }

  return { actors, answerRequest, takeLeave, flushDenials, denials: (): DenialCounts => ({ ...totals }) }
}
