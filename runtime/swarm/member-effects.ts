import { fromCallback, fromPromise } from 'xstate'
import type { ActorRefFrom } from 'xstate'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { readOne, writeOne } from '../../actors/swarm/one-shot.js'
import { swarmMemberMachine } from '../../machines/swarm-member.js'
import type { JoinNetworkInput, JoinOutcome, KeyAnswer, LeaveNetworkInput, RequestKeyInput, SwarmMemberEvent, WatchOwnerInput } from '../../machines/swarm-member.js'
import type { SwarmEffectDeps } from './owner-effects.js'
import { SWARM_KEY_PROTOCOL, checkEvictionNotice, checkKeyDenial, createKeyRequest, createLeaveNotice, openKeyGrant, openRotationNotice, validateSwarmKeyMessage } from './key-exchange.js'
import type { EvictionNotice, KeyDenial, KeyGrant, RotationNotice } from './key-exchange.js'
import { DmsError } from '../errors.js'
import { logged, traced } from '../../actors/log.js'
import { rawConnectionTo } from '../../actors/libp2p-internals.js'

export type MemberActor = ActorRefFrom<typeof swarmMemberMachine>

/** How long a leaving member waits for its owner to take the leave notice, per network. */
const LEAVE_NOTICE_MS = 2000

/** A member's saved swarm, used once by the next `requestKey` instead of asking. */
export interface RestoredMember { key: Uint8Array, epoch: number, bootstrap: string[] }

export interface MemberDeps extends SwarmEffectDeps<RestoredMember, MemberActor> {
  leavePublic: boolean
  rejoinWindowMs: number
}

/** The member's I/O: the effects its machine invokes, and the handler for rotation notices. */
export function memberEffects (deps: MemberDeps) {
  const { node, store, ring } = deps
  const network = (): string => node.config.networkName

  /** Back on the public network with no private host and nothing saved. */
  async function leaveQuietly (): Promise<void> {
    ring.clear()
    await node.hosts.stopPrivateHost()
    await store.clear()
    await node.hosts.resumePublicHost()
  }

  /**
   * Tell the owner, signed, that this member leaves, so that it stops counting it: over the
   * private network while still in it, else the public one. Best effort within a short
   * deadline: an owner that is away (or too old to know the notice) only keeps a stale list.
   */
  async function tellOwner (owner: string, epoch: number): Promise<void> {
    const notice = await createLeaveNotice(node.identity.privateKey(), node.identity.peerId(), owner, network(), epoch)
    if (!(await deps.endpoint.deliver(owner, notice, LEAVE_NOTICE_MS))) deps.log('the owner did not take our leave: it keeps a stale member list')
  }

  /** Dial the owner's private host until it answers or the rejoin window ends (the owner may be restarting). */
  async function reachOwner (bootstrap: string[]): Promise<boolean> {
    const deadline = Date.now() + deps.rejoinWindowMs
    // a newer rotation waiting means the owner moved on: this key will not answer
    const overtaken = (): boolean => deps.actor()?.getSnapshot().context.nextRotation != null
    while (Date.now() < deadline && !overtaken()) {
      for (const address of bootstrap) {
        try {
          await node.dial(address, { network: 'private' })
          return true
        } catch {
          // the owner may be restarting onto a new key: try again shortly
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 150))
    }
    return false
  }

  async function askOwner (input: RequestKeyInput): Promise<KeyAnswer> {
    await node.hosts.resumePublicHost()
    await node.dial(input.ownerAddress)
    const libp2p = deps.endpoint.host('public') ?? node.hosts.libp2p('public')
    if (libp2p == null) throw new DmsError('HOST_NOT_RUNNING', 'the public host is not running')
    const request = await createKeyRequest(node.identity.privateKey(), node.identity.peerId(), input.owner, network())
    const stream = await libp2p.dialProtocol(peerIdFromString(input.owner), SWARM_KEY_PROTOCOL, { signal: AbortSignal.timeout(deps.exchangeTimeoutMs) }).catch((err: Error) => {
      // a node with no swarm does not even speak the key exchange
      if (err.name === 'UnsupportedProtocolError') throw new DmsError('SWARM_FAILED', `${input.owner} owns no private swarm (it does not take key requests)`, { cause: err })
      throw err
    })
    writeOne(stream, request)
    const answer = validateSwarmKeyMessage(await readOne(stream, deps.exchangeTimeoutMs))
    await stream.close().catch(traced(deps.log, 'close a key exchange stream'))
    if (answer.kind === 'denial') {
      const checked = await checkKeyDenial(answer as KeyDenial, { owner: input.owner, request })
      if (!checked.ok) throw new DmsError('SWARM_FAILED', `ignored a denial: ${checked.reason}`)
      return { granted: false, reason: checked.reason }
    }
    if (answer.kind !== 'grant') throw new DmsError('SWARM_FAILED', `unexpected ${answer.kind} from the owner`)
    const opened = await openKeyGrant(answer as KeyGrant, { owner: input.owner, request, seed: node.identity.privateKey().raw.subarray(0, 32) })
    if (!opened.ok) throw new DmsError('SWARM_FAILED', `the owner's grant is unusable: ${opened.reason}`)
    return { granted: true, epoch: opened.epoch, fingerprint: ring.add(opened.epoch, opened.key), bootstrap: opened.bootstrap }
  }

  const actors = {
    requestKey: fromPromise<KeyAnswer, RequestKeyInput>(async ({ input }) => {
      const restored = deps.takeRestored()
      if (restored != null) return { granted: true, epoch: restored.epoch, fingerprint: ring.add(restored.epoch, restored.key), bootstrap: restored.bootstrap }
      try {
        const answer = await askOwner(input)
        if (!answer.granted) await leaveQuietly()
        return answer
      } catch (err) {
        await leaveQuietly().catch(logged(deps.log, 'leave after a failed join'))
        throw err
      }
    }),

    joinNetwork: fromPromise<JoinOutcome, JoinNetworkInput>(async ({ input }) => {
      try {
        const key = ring.get(input.epoch)
        if (key == null) throw new DmsError('SWARM_FAILED', `no key for epoch ${input.epoch}`)
        // a running host takes the key in place; its connection to the owner stays (the owner keeps
        // it too), every other one on the old key is cut
        ring.activate(input.epoch, rawConnectionTo(node.hosts.libp2p('private'), [input.owner]))
        await store.save({ role: 'member', network: network(), epoch: input.epoch, owner: input.owner, ownerAddress: input.ownerAddress, bootstrap: input.bootstrap }, key)
        // a slot on the owner's relay: reachable through the owner from behind NAT
        await node.hosts.startPrivateHost({ relay: 'reserve' })
        if (!(await reachOwner(input.bootstrap))) return { joined: false }
        if (deps.leavePublic) await node.hosts.suspendPublicHost()
        return { joined: true, addresses: node.hosts.libp2p('private')?.getMultiaddrs().map(String) ?? [] }
      } catch (err) {
        await leaveQuietly().catch(logged(deps.log, 'leave after a failed join'))
        throw err
      }
    }),

    /** While joined, notice when the owner's private host stops taking our key (a rotation we missed). */
    watchOwner: fromCallback<SwarmMemberEvent, WatchOwnerInput>(({ input, sendBack }) => {
      let checking = false
      const timer = setInterval(() => {
        const libp2p = node.hosts.libp2p('private')
        if (checking || libp2p == null || libp2p.getConnections(peerIdFromString(input.owner)).length > 0) return
        checking = true
        void reachOwner(input.bootstrap).then((reached) => {
          checking = false
          if (!reached) sendBack({ type: 'swarm.key.rejected' })
        })
      }, 1000)
      timer.unref()
      return () => { clearInterval(timer) }
    }),

    leaveNetwork: fromPromise<void, LeaveNetworkInput>(async ({ input }) => {
      if (input.tellOwner && input.owner != null) await tellOwner(input.owner, input.epoch)
      await leaveQuietly()
    })
  }

  /** A rotation notice from our owner: checked, acknowledged only if the member machine takes it, its key kept for `joinNetwork`. */
  async function takeRotation (stream: Stream, _remotePeer: string, notice: RotationNotice): Promise<void> {
    const member = deps.actor()
    const context = member?.getSnapshot().context
    if (member == null || context?.owner == null) throw new DmsError('SWARM_FAILED', 'not a member')
    const opened = await openRotationNotice(notice, {
      owner: context.owner, member: node.identity.peerId(), network: network(), epoch: context.epoch, seed: node.identity.privateKey().raw.subarray(0, 32)
    })
    if (!opened.ok) throw new DmsError('SWARM_FAILED', opened.reason)
    // the machine decides (joined, and a newer epoch); the key is kept only for a rotation it takes
    const rotation = { type: 'swarm.rotation' as const, epoch: opened.epoch, fingerprint: '', bootstrap: opened.bootstrap }
    if (!member.getSnapshot().can(rotation)) throw new DmsError('SWARM_FAILED', 'this member takes no rotation now')
    writeOne(stream, { kind: 'ack', epoch: opened.epoch })
    await stream.close().catch(traced(deps.log, 'close a key exchange stream'))
    member.send({ ...rotation, fingerprint: ring.add(opened.epoch, opened.key) })
  }

  /** The owner's eviction notice: checked, acknowledged, and the member leaves at once if its machine takes it. */
  async function takeEviction (stream: Stream, _remotePeer: string, notice: EvictionNotice): Promise<void> {
    const member = deps.actor()
    const context = member?.getSnapshot().context
    if (member == null || context?.owner == null) throw new DmsError('SWARM_FAILED', 'not a member')
    const problem = await checkEvictionNotice(notice, { owner: context.owner, member: node.identity.peerId(), network: network(), epoch: context.epoch })
    if (problem != null) throw new DmsError('SWARM_FAILED', problem)
    const evicted = { type: 'swarm.evicted' as const, epoch: notice.epoch }
    if (!member.getSnapshot().can(evicted)) throw new DmsError('SWARM_FAILED', 'this member is not in a swarm now')
    writeOne(stream, { kind: 'ack', epoch: notice.epoch })
    await stream.close().catch(() => { /* acknowledged: the close is a courtesy */ })
    member.send(evicted)
  }

  return { actors, takeRotation, takeEviction }
}
