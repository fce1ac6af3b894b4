import { randomUUID } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { checkMultiaddr } from '../config.js'
import { multiaddr } from '@multiformats/multiaddr'
import { componentsOf } from '../node-components.js'
import type { NodeComponents } from '../node-components.js'
import type { DmsNode } from '../node.js'
import type { FeatureFactory } from '../node-init.js'
import { privateNetwork } from '../../actors/private-network/protector.js'
import { swarmOwnerMachine } from '../../machines/swarm-owner.js'
import { swarmMemberMachine } from '../../machines/swarm-member.js'
import { SwarmStore } from './store.js'
import type { AuditEntry, AuditLimits } from './store.js'
import { KeyRing } from './key-ring.js'
import { ReplayStore } from './replay-store.js'
import { KeyEndpoint } from './key-endpoint.js'
import type { KeyEndpointLimits } from './key-endpoint.js'
import { ownerEffects } from './owner-effects.js'
import type { OwnerActor, RestoredOwner } from './owner-effects.js'
import { memberEffects } from './member-effects.js'
import type { MemberActor, RestoredMember } from './member-effects.js'
import { awaitCommand } from './commands.js'
import { SwarmError } from './swarm-error.js'
import { registerSwarmMetrics, swarmStatus } from './swarm-status.js'
import type { SwarmStatus } from './swarm-status.js'
import { logged } from '../../actors/log.js'
import type { Logger } from '../../actors/log.js'

export type { SwarmStatus }

export interface SwarmInit {
  /** A member stops its public host once it is in the private network. @default true */
  leavePublic?: boolean
  /** How long a key request or rotation notice may take. @default 5000 */
  exchangeTimeoutMs?: number
  /** How long a member keeps redialling the owner's private host before it concludes its key was rotated away. @default 6000 */
  rejoinWindowMs?: number
  /** Rate limits and deadlines of the key exchange (docs/security.md). */
  limits?: KeyEndpointLimits
  /** Size cap and rotation of audit.log. */
  audit?: AuditLimits
}

/** How long an API call waits for its command; a rotation notifies every member (in parallel batches). */
const COMMAND_TIMEOUT_MS = 60_000
/** Unauthenticated denials are summarised in the audit log at most this often. */
const DENIAL_SUMMARY_MS = 60_000

/**
 * The private swarm of one node: owner or member. The machines decide and
 * serialise; the effects they invoke (owner-effects.ts, member-effects.ts) do
 * the I/O, and the keys live only in the key ring and swarm.key.
 */
export class Swarm {
  private readonly store: SwarmStore
  private readonly ring = new KeyRing()
  private readonly endpoint: KeyEndpoint
  private readonly ownerSide: ReturnType<typeof ownerEffects>
  private readonly memberSide: ReturnType<typeof memberEffects>
  private owner?: OwnerActor
  private member?: MemberActor
  private restoredOwner?: RestoredOwner
  private restoredMember?: RestoredMember
  private summaryTimer?: NodeJS.Timeout
  private readonly log: Logger

  constructor (private readonly node: NodeComponents, init: SwarmInit = {}) {
    this.log = node.logger.forComponent('dms:swarm')
    this.store = new SwarmStore(node.config.dataDir, init.audit)
    this.endpoint = new KeyEndpoint(init.limits, this.log)
    const exchangeTimeoutMs = init.exchangeTimeoutMs ?? 5000
    this.ownerSide = ownerEffects({
      node, log: this.log, store: this.store, ring: this.ring, replay: new ReplayStore(this.store.dir), endpoint: this.endpoint, exchangeTimeoutMs,
      takeRestored: () => { const restored = this.restoredOwner; this.restoredOwner = undefined; return restored },
      actor: () => this.owner
    })
    this.memberSide = memberEffects({
      node, log: this.log, store: this.store, ring: this.ring, endpoint: this.endpoint, exchangeTimeoutMs,
      leavePublic: init.leavePublic ?? true, rejoinWindowMs: init.rejoinWindowMs ?? 6000,
      takeRestored: () => { const restored = this.restoredMember; this.restoredMember = undefined; return restored },
      actor: () => this.member
    })
    node.hosts.setPrivateProtector(() => this.ring.active == null ? undefined : privateNetwork({ keys: this.ring.switch }))
    node.hosts.addAttachment({
      name: 'swarm key exchange',
      networks: ['public', 'private'],
      attach: async (libp2p, network) => { await this.endpoint.attach(libp2p, network) },
      detach: async (network) => {
        await this.endpoint.detach(network)
        if (network === 'public') await this.ownerSide.flushDenials().catch(logged(this.log, 'write the denial summary to audit.log'))
      }
    })
    // the actors of a run stop with the node: forget them, so a command after a restart meets NOT_OWNER at once, not a stopped actor
    node.lifecycle.add({ name: 'swarm', stop: () => { clearInterval(this.summaryTimer); this.owner = undefined; this.member = undefined } })
    // a peer on the owner's private host holds the key: members that come back after the owner restarted count again
    node.events.on('peer.connected', ({ network, peerId }) => { if (network === 'private') this.owner?.send({ type: 'swarm.member.seen', peer: peerId }) })
    registerSwarmMetrics(node.metrics, () => this.status())
  }

  // ---- the API -------------------------------------------------------------------------

  /** Owner: create a private network for `authorised` peers and start its bootstrap host. */
  async create (authorised: string[]): Promise<SwarmStatus> {
    for (const peer of authorised) this.checkOtherPeer(peer)
    if (!this.ownerIsFree() || !this.memberIsFree()) throw new SwarmError('SWARM_BUSY', 'this node is already in a private swarm')
    await this.run(this.ownerActor(), { type: 'swarm.create', authorised })
    return this.status()
  }

  /** Owner: allow one more peer to ask for the key (saved before this returns). */
  async authorise (peer: string): Promise<SwarmStatus> {
    this.checkOtherPeer(peer)
    await this.run(this.requireOwner({ type: 'swarm.authorise', peer }), { type: 'swarm.authorise', peer })
    return this.status()
  }

  /**
   * Owner: remove a peer and rotate, so it is cut off at once. The smaller list
   * is saved before the rotation starts, and no key request is answered in
   * between: the peer can never be sealed the key that follows its revocation.
   */
  async revoke (peer: string): Promise<SwarmStatus> {
    checkPeerId(peer)
    const owner = this.requireOwner({ type: 'swarm.revoke', peer })
    if (!owner.getSnapshot().context.authorised.includes(peer)) throw new SwarmError('NOT_AUTHORISED', `${peer} is not authorised`)
    await this.run(owner, { type: 'swarm.revoke', peer })
    const status = this.status()
    this.node.events.emit({ type: 'swarm.revoked', peer, epoch: status.epoch })
    return status
  }

  /** Owner: move everyone authorised onto a new key. */
  async rotate (): Promise<SwarmStatus> {
    await this.run(this.requireOwner({ type: 'swarm.rotate' }), { type: 'swarm.rotate' })
    return this.status()
  }

  /** Owner: take the private network down and forget it. */
  async dissolve (): Promise<SwarmStatus> {
    await this.run(this.requireOwner({ type: 'swarm.dissolve' }), { type: 'swarm.dissolve' })
    await this.endpoint.serve({})
    return this.status()
  }

  /** Member: ask the owner (at its public multiaddr, with /p2p/) for the key and join its private network. */
  async join (ownerAddress: string): Promise<SwarmStatus> {
    // a multiaddr whose /p2p/ parts are peer ids, with one at least: the last is the owner
    const problem = checkMultiaddr(ownerAddress, true)
    if (problem != null) throw new SwarmError('BAD_ADDRESS', problem)
    const owner = multiaddr(ownerAddress).getComponents().findLast((c) => c.name === 'p2p')!.value!
    if (!this.ownerIsFree()) throw new SwarmError('SWARM_BUSY', 'this node owns a private swarm')
    if (!this.memberIsFree()) throw new SwarmError('SWARM_BUSY', `already ${this.status().state} a private swarm`)
    await this.run(this.memberActor(), { type: 'swarm.join', owner, ownerAddress })
    return this.status()
  }

  /** Member: leave the private network and go back to the public one. */
  async leave (): Promise<SwarmStatus> {
    const member = this.member
    if (member?.getSnapshot().can({ type: 'swarm.leave', id: '' }) !== true) {
      // on its way in (asking for the key, switching to it) or out, there is nothing to leave yet
      const state = this.status().state
      if (state === 'leaving') throw new SwarmError('SWARM_BUSY', 'this node is already leaving the private swarm')
      if (!this.memberIsFree()) throw new SwarmError('SWARM_BUSY', `this node's membership is ${state}, not joined: leave when \`dms-net swarm status\` shows joined`)
      if (!this.ownerIsFree()) throw new SwarmError('NOT_A_MEMBER', 'this node owns the private swarm: an owner does not leave it, it dissolves it (dms-net swarm dissolve)')
      throw new SwarmError('NOT_A_MEMBER', 'this node is not a member of a private swarm')
    }
    await this.run(member, { type: 'swarm.leave' })
    await this.endpoint.serve({})
    return this.status()
  }

  /** Come back into the swarm this node was in before a restart (call after `node.start()`). */
  async restore (): Promise<SwarmStatus> {
    const saved = await this.store.load()
    if (saved == null) return this.status()
    const { state, key } = saved
    if (state.role === 'owner') {
      this.restoredOwner = { key, epoch: state.epoch, bootstrap: state.bootstrap, rotationDue: state.rotationDue === true }
      await this.run(this.ownerActor(), { type: 'swarm.create', authorised: state.authorised ?? [] })
    } else if (state.owner != null && state.ownerAddress != null) {
      this.restoredMember = { key, epoch: state.epoch, bootstrap: state.bootstrap }
      await this.run(this.memberActor(), { type: 'swarm.join', owner: state.owner, ownerAddress: state.ownerAddress })
    }
    return this.status()
  }

  status (): SwarmStatus {
    return swarmStatus({ hosts: this.node.hosts, owner: this.owner?.getSnapshot(), member: this.member?.getSnapshot(), ownerIsFree: this.ownerIsFree(), memberIsFree: this.memberIsFree(), keyExchange: { ...this.endpoint.stats, denied: this.ownerSide.denials() } })
  }

  /** A page of the audit log, oldest first (the newest `limit` entries by default). */
  async auditLog (page: { limit?: number, skip?: number } = {}): Promise<AuditEntry[]> {
    return await this.store.auditLog(page)
  }

  // ---- actors ---------------------------------------------------------------------------

  private ownerActor (): OwnerActor {
    // an actor of an earlier run of the node stopped with it: this run gets its own
    if (this.owner != null && this.owner.getSnapshot().status === 'active') return this.owner
    clearInterval(this.summaryTimer)
    this.owner = this.node.actors.run('swarm.owner', swarmOwnerMachine.provide({ actors: this.ownerSide.actors }))
    this.summaryTimer = setInterval(() => { void this.ownerSide.flushDenials().catch(logged(this.log, 'write the denial summary to audit.log')) }, DENIAL_SUMMARY_MS)
    this.summaryTimer.unref()
    return this.owner
  }

  private memberActor (): MemberActor {
    if (this.member != null && this.member.getSnapshot().status === 'active') return this.member
    this.member = this.node.actors.run('swarm.member', swarmMemberMachine.provide({ actors: this.memberSide.actors }))
    // the member's embedder hears what happens to its membership, whoever caused it
    this.member.on('swarm.member.changed', ({ change, owner, epoch }) => { this.node.events.emit({ type: `swarm.${change}`, owner, epoch }) })
    return this.member
  }

  /** A peer the owner may authorise: a peer id, and not the owner's own (it is in its swarm already). */
  private checkOtherPeer (peer: string): void {
    checkPeerId(peer)
    if (peer === this.node.identity.peerId()) throw new SwarmError('BAD_PEER_ID', `${peer} is this node: the owner is in its swarm already; authorise the other peers`)
  }

  // The API asks the machines whether they would take a command now (`snapshot.can`); it never
  // reads their state names, so the machines alone decide what each state accepts.

  /** No swarm owned (or none being created or dissolved): the owner machine would take a create. */
  private ownerIsFree (): boolean {
    return this.owner == null || this.owner.getSnapshot().can({ type: 'swarm.create', id: '', authorised: [] })
  }

  /** Not a member of a swarm (nor joining, rejoining or leaving one): the member machine would take a join. */
  private memberIsFree (): boolean {
    return this.member == null || this.member.getSnapshot().can({ type: 'swarm.join', id: '', owner: '', ownerAddress: '' })
  }

  /** The owner machine, if it would take `command` now (it takes owner commands only while it runs a swarm). */
  private requireOwner (command: OwnerCommand): OwnerActor {
    const owner = this.owner
    if (owner == null || !owner.getSnapshot().can({ ...command, id: '' })) {
      throw new SwarmError('NOT_OWNER', 'this node does not own an active private swarm (create one first)')
    }
    return owner
  }

  /** Serve the key exchange for this role, send one command and wait for its outcome; a failure becomes a SwarmError with the machine's reason. */
  private async run (actor: OwnerActor | MemberActor, command: { type: string } & Record<string, unknown>): Promise<void> {
    const serving = actor === this.owner
      ? { request: this.ownerSide.answerRequest, leave: this.ownerSide.takeLeave }
      : { rotation: this.memberSide.takeRotation, eviction: this.memberSide.takeEviction, isOwner: (peer: string) => peer === this.member?.getSnapshot().context.owner }
    await this.endpoint.serve(serving)
    const outcome = await awaitCommand(actor, { ...command, id: randomUUID() }, COMMAND_TIMEOUT_MS)
    if (!outcome.ok) {
      const reason = outcome.error ?? 'failed'
      throw new SwarmError(outcome.code ?? 'SWARM_FAILED', reason)
    }
  }
}

/** An owner command as the API sends it (the id is added per command). */
type OwnerCommand = { type: 'swarm.authorise' | 'swarm.revoke', peer: string } | { type: 'swarm.rotate' | 'swarm.dissolve' }

function checkPeerId (peer: string): void {
  try {
    peerIdFromString(peer)
  } catch {
    throw new SwarmError('BAD_PEER_ID', `not a peer id: ${JSON.stringify(String(peer).slice(0, 80))}`)
  }
}

/** The private swarm as a feature created with the node: `createNode({ features: { swarm: swarm() } })`, then `node.features.swarm`. */
export function swarm (init?: SwarmInit): FeatureFactory<Swarm> {
  return (components) => new Swarm(components, init)
}

/** Give a node created without it a private swarm (the same as `swarm()` at creation). Call before `node.start()`. */
export function createSwarm (node: DmsNode, init?: SwarmInit): Swarm {
  return swarm(init)(componentsOf(node))
}
