import { waitFor } from 'xstate'
import type { Actor } from 'xstate'
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { DmsNode } from '../node.js'
import type { NetworkKind } from '../events.js'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'
import { privateNetwork } from '../../actors/private-network/protector.js'
import { readOne, writeOne } from '../../actors/swarm/one-shot.js'
import { swarmOwnerMachine } from '../../machines/swarm-owner.js'
import { swarmMemberMachine } from '../../machines/swarm-member.js'
import { SwarmStore } from './store.js'
import type { SwarmState } from './store.js'
import { fingerprint, generateSwarmKey } from './key-file.js'
import {
  SWARM_KEY_PROTOCOL, ReplayCache, checkKeyRequest, createKeyDenial, createKeyGrant, createKeyRequest, createRotationNotice,
  openKeyGrant, openRotationNotice, validateSwarmKeyMessage, verifySignature
} from './key-exchange.js'
import type { KeyGrant, KeyDenial, RotationNotice } from './key-exchange.js'

export interface SwarmInit {
  /** A member stops its public host once it is in the private network. @default true */
  leavePublic?: boolean
  /** How long a key request or rotation notice may take. @default 5000 */
  exchangeTimeoutMs?: number
  /** How long a member keeps redialling the owner's private host before it concludes its key was rotated away. @default 6000 */
  rejoinWindowMs?: number
}

export interface SwarmStatus {
  role: 'owner' | 'member' | 'none'
  state: string
  epoch: number
  /** Names the current key; the key itself is never shown. */
  fingerprint?: string
  authorised: string[]
  members: string[]
  owner?: string
  bootstrap: string[]
  privateHost?: string
  privatePeers: string[]
  lastError?: string
}

type OwnerActor = Actor<typeof swarmOwnerMachine>
type MemberActor = Actor<typeof swarmMemberMachine>

/**
 * The private swarm of one node: owner or member. The machines decide; this
 * service does the I/O each state asks for (keys, private host, key exchange,
 * persistence) and reports the outcome back as events.
 */
export class Swarm {
  private readonly store: SwarmStore
  private readonly replay = new ReplayCache()
  private readonly hosts: Partial<Record<NetworkKind, DmsLibp2p>> = {}
  private owner?: OwnerActor
  private member?: MemberActor
  /** The current network key. Lives only here and in swarm.key. */
  private key?: Uint8Array
  /** A key received (grant, rotation, restore) and not yet in use. */
  private nextKey?: { key: Uint8Array, epoch: number, bootstrap: string[] }
  private restoring?: { key: Uint8Array, epoch: number, bootstrap: string[] }
  private watchdog?: NodeJS.Timeout
  private readonly leavePublic: boolean
  private readonly exchangeTimeoutMs: number
  private readonly rejoinWindowMs: number

  constructor (private readonly node: DmsNode, init: SwarmInit = {}) {
    this.store = new SwarmStore(node.config.dataDir)
    this.leavePublic = init.leavePublic ?? true
    this.exchangeTimeoutMs = init.exchangeTimeoutMs ?? 5000
    this.rejoinWindowMs = init.rejoinWindowMs ?? 6000
    node.setPrivateProtector(() => this.key == null ? undefined : privateNetwork({ key: this.key }))
    node.addAttachment({
      name: 'swarm key exchange',
      networks: ['public', 'private'],
      attach: async (libp2p, network) => {
        this.hosts[network] = libp2p
        await libp2p.handle(SWARM_KEY_PROTOCOL, (stream, connection) => { void this.answer(stream, connection) }, { maxInboundStreams: 8 })
      },
      detach: async (network) => {
        const libp2p = this.hosts[network]
        delete this.hosts[network]
        await libp2p?.unhandle(SWARM_KEY_PROTOCOL).catch(() => {})
      }
    })
  }

  // ---- the API -------------------------------------------------------------------------

  /** Owner: create a private network for `authorised` peers and start its bootstrap host. */
  async create (authorised: string[]): Promise<SwarmStatus> {
    for (const peer of authorised) checkPeerId(peer)
    if (this.member != null || this.owner?.getSnapshot().matches('idle') === false) throw new Error('this node is already in a private swarm')
    const owner = this.ownerActor()
    owner.send({ type: 'swarm.create', authorised })
    await this.settle(owner, ['active', 'idle'])
    return this.status()
  }

  /** Owner: allow one more peer to ask for the key. */
  async authorise (peer: string): Promise<SwarmStatus> {
    checkPeerId(peer)
    const owner = this.requireOwner()
    owner.send({ type: 'swarm.authorise', peer })
    await this.persistOwner()
    await this.store.audit({ action: 'authorise', peer })
    return this.status()
  }

  /** Owner: remove a peer and rotate, so it is cut off at once. */
  async revoke (peer: string): Promise<SwarmStatus> {
    checkPeerId(peer)
    const owner = this.requireOwner()
    if (!owner.getSnapshot().context.authorised.includes(peer)) throw new Error(`${peer} is not authorised`)
    await this.store.audit({ action: 'revoke', peer })
    owner.send({ type: 'swarm.revoke', peer })
    await this.settle(owner, ['active'])
    this.node.libp2p('private')?.getConnections(peerIdFromString(peer)).forEach((c) => { void c.close() })
    return this.status()
  }

  /** Owner: move everyone authorised onto a new key. */
  async rotate (): Promise<SwarmStatus> {
    const owner = this.requireOwner()
    owner.send({ type: 'swarm.rotate' })
    await this.settle(owner, ['active'])
    return this.status()
  }

  /** Member: ask the owner (at its public multiaddr, with /p2p/) for the key and join its private network. */
  async join (ownerAddress: string): Promise<SwarmStatus> {
    const owner = multiaddr(ownerAddress).getComponents().findLast((c) => c.name === 'p2p')?.value
    if (owner == null) throw new Error(`${ownerAddress} has no /p2p/<owner peer id>`)
    if (this.owner != null && !this.owner.getSnapshot().matches('idle')) throw new Error('this node owns a private swarm')
    const member = this.memberActor()
    if (!member.getSnapshot().matches('idle')) throw new Error(`already ${String(member.getSnapshot().value)} a private swarm`)
    member.send({ type: 'swarm.join', owner, ownerAddress })
    await this.settle(member, ['joined', 'idle'])
    return this.status()
  }

  /** Member: leave the private network and go back to the public one. */
  async leave (): Promise<SwarmStatus> {
    const member = this.member
    if (member == null || !member.getSnapshot().matches('joined')) throw new Error('this node is not a member of a private swarm')
    member.send({ type: 'swarm.leave' })
    await this.settle(member, ['idle'])
    return this.status()
  }

  /** Come back into the swarm this node was in before a restart (call after `node.start()`). */
  async restore (): Promise<SwarmStatus> {
    const saved = await this.store.load()
    if (saved == null) return this.status()
    this.restoring = { key: saved.key, epoch: saved.state.epoch, bootstrap: saved.state.bootstrap }
    if (saved.state.role === 'owner') {
      const owner = this.ownerActor({ epoch: saved.state.epoch })
      owner.send({ type: 'swarm.create', authorised: saved.state.authorised ?? [] })
      await this.settle(owner, ['active', 'idle'])
    } else if (saved.state.owner != null && saved.state.ownerAddress != null) {
      this.nextKey = { key: saved.key, epoch: saved.state.epoch, bootstrap: saved.state.bootstrap }
      const member = this.memberActor()
      member.send({ type: 'swarm.join', owner: saved.state.owner, ownerAddress: saved.state.ownerAddress })
      await this.settle(member, ['joined', 'idle'])
    }
    return this.status()
  }

  status (): SwarmStatus {
    const privatePeers = [...new Set((this.node.libp2p('private')?.getConnections() ?? []).map((c) => c.remotePeer.toString()))].sort()
    const privateHost = this.node.privateHostState()
    if (this.owner != null) {
      const { value, context } = this.owner.getSnapshot()
      return {
        role: 'owner', state: String(value), epoch: context.epoch, ...(context.fingerprint != null ? { fingerprint: context.fingerprint } : {}),
        authorised: context.authorised, members: context.members, bootstrap: context.bootstrap, privatePeers,
        ...(privateHost != null ? { privateHost } : {}), ...(context.lastError != null ? { lastError: context.lastError } : {})
      }
    }
    if (this.member != null) {
      const { value, context } = this.member.getSnapshot()
      return {
        role: 'member', state: String(value), epoch: context.epoch, ...(context.fingerprint != null ? { fingerprint: context.fingerprint } : {}),
        authorised: [], members: [], ...(context.owner != null ? { owner: context.owner } : {}), bootstrap: context.bootstrap, privatePeers,
        ...(privateHost != null ? { privateHost } : {}), ...(context.lastError != null ? { lastError: context.lastError } : {})
      }
    }
    return { role: 'none', state: 'idle', epoch: 0, authorised: [], members: [], bootstrap: [], privatePeers }
  }

  async auditLog (): Promise<Awaited<ReturnType<SwarmStore['auditLog']>>> {
    return await this.store.auditLog()
  }

  // ---- actors and their I/O -------------------------------------------------------------

  private ownerActor (input: { epoch?: number } = {}): OwnerActor {
    if (this.owner != null) return this.owner
    const owner = this.node.features.run('swarm.owner', swarmOwnerMachine, { input })
    let last = ''
    owner.subscribe((snapshot) => {
      const state = String(snapshot.value)
      if (state === last) return
      last = state
      if (state === 'creating') void this.run(owner, async () => { await this.ownerCreate() })
      if (state === 'rotating') void this.run(owner, async () => { await this.ownerRotate() })
      if (state === 'dissolving') void this.run(owner, async () => { await this.node.stopPrivateHost(); await this.store.clear(); owner.send({ type: 'swarm.dissolved' }) })
    })
    this.owner = owner
    return owner
  }

  private memberActor (): MemberActor {
    if (this.member != null) return this.member
    const member = this.node.features.run('swarm.member', swarmMemberMachine)
    let last = ''
    member.subscribe((snapshot) => {
      const state = String(snapshot.value)
      if (state === last) return
      const from = last
      last = state
      if (state !== 'joined') this.stopWatchdog()
      if (state === 'requesting') void this.run(member, async () => { await this.memberRequest() })
      if (state === 'joining') void this.run(member, async () => { await this.memberJoin() })
      if (state === 'joined') this.startWatchdog()
      if (state === 'leaving') void this.run(member, async () => { await this.memberLeave(); member.send({ type: 'swarm.left' }) })
      if (state === 'idle' && from !== '' && from !== 'leaving') void this.memberLeave().catch(() => {})
    })
    this.member = member
    return member
  }

  /** Run one state's I/O; a failure becomes `swarm.failed` with its message. */
  private async run (actor: OwnerActor | MemberActor, work: () => Promise<void>): Promise<void> {
    try {
      await work()
    } catch (err) {
      (actor as Actor<typeof swarmOwnerMachine>).send({ type: 'swarm.failed', error: (err as Error).message })
    }
  }

  private async ownerCreate (): Promise<void> {
    const restored = this.restoring
    this.restoring = undefined
    this.key = restored?.key ?? generateSwarmKey()
    const epoch = restored?.epoch ?? 1
    // a restored owner listens where its members expect it
    const listen = restored?.bootstrap.map((address) => address.replace(/\/p2p\/[^/]+$/, ''))
    const bootstrap = await this.node.startPrivateHost(listen != null && listen.length > 0 ? { listen } : {})
    await this.store.save({ role: 'owner', network: this.node.config.networkName, epoch, authorised: this.owner!.getSnapshot().context.authorised, bootstrap }, this.key)
    if (restored == null) await this.store.audit({ action: 'create', epoch, fingerprint: fingerprint(this.key) })
    this.owner!.send({ type: 'swarm.created', epoch, fingerprint: fingerprint(this.key), bootstrap })
  }

  private async ownerRotate (): Promise<void> {
    const owner = this.owner!
    const { authorised, epoch: oldEpoch } = owner.getSnapshot().context
    const key = generateSwarmKey()
    const epoch = oldEpoch + 1
    const bootstrap = owner.getSnapshot().context.bootstrap
    const notified = (await Promise.all(authorised.map(async (peer) => await this.notify(peer, key, epoch, bootstrap) ? peer : undefined)))
      .filter((peer): peer is string => peer != null)
    this.key = key
    await this.store.save({ role: 'owner', network: this.node.config.networkName, epoch, authorised, bootstrap }, key)
    await this.store.audit({ action: 'rotate', epoch, fingerprint: fingerprint(key) })
    const addresses = await this.node.restartPrivateHost()
    owner.send({ type: 'swarm.rotated', epoch, fingerprint: fingerprint(key), bootstrap: addresses, notified })
  }

  /** Send one member its rotation notice, over the private network where it is connected, else the public one. */
  private async notify (peer: string, key: Uint8Array, epoch: number, bootstrap: string[]): Promise<boolean> {
    const notice = await createRotationNotice(this.node.identityKey(), this.node.peerId, peer, this.node.config.networkName, key, epoch, bootstrap)
    for (const network of ['private', 'public'] as const) {
      const libp2p = this.hosts[network]
      // dial even without an open connection: the peer store knows the member's addresses
      if (libp2p == null) continue
      try {
        const stream = await libp2p.dialProtocol(peerIdFromString(peer), SWARM_KEY_PROTOCOL, { signal: AbortSignal.timeout(this.exchangeTimeoutMs) })
        writeOne(stream, notice)
        await readOne(stream, this.exchangeTimeoutMs)
        await stream.close().catch(() => {})
        return true
      } catch {
        // try the other network, then give up: the member will ask again
      }
    }
    await this.store.audit({ action: 'notify-failed', peer, epoch })
    return false
  }

  private async memberRequest (): Promise<void> {
    const member = this.member!
    const restored = this.nextKey
    if (restored != null && this.restoring != null) {
      this.restoring = undefined
      member.send({ type: 'swarm.key.granted', epoch: restored.epoch, fingerprint: fingerprint(restored.key), bootstrap: restored.bootstrap })
      return
    }
    const { owner, ownerAddress } = member.getSnapshot().context
    if (this.node.status().host.state !== 'running') await this.node.resumePublicHost()
    await this.node.dial(ownerAddress!)
    const libp2p = this.hosts.public ?? this.node.libp2p('public')
    if (libp2p == null) throw new Error('the public host is not running')
    const request = await createKeyRequest(this.node.identityKey(), this.node.peerId, this.node.config.networkName)
    const stream = await libp2p.dialProtocol(peerIdFromString(owner!), SWARM_KEY_PROTOCOL, { signal: AbortSignal.timeout(this.exchangeTimeoutMs) })
    writeOne(stream, request)
    const answer = validateSwarmKeyMessage(await readOne(stream, this.exchangeTimeoutMs))
    await stream.close().catch(() => {})
    if (answer.kind === 'denial') {
      if (!(await verifySignature(answer, owner!))) throw new Error('the answer was not signed by the owner')
      member.send({ type: 'swarm.key.denied', reason: (answer as KeyDenial).reason })
      return
    }
    if (answer.kind !== 'grant') throw new Error(`unexpected ${answer.kind} from the owner`)
    const opened = await openKeyGrant(answer as KeyGrant, { owner: owner!, request, seed: this.node.identityKey().raw.subarray(0, 32) })
    if (!opened.ok) throw new Error(`the owner's grant is unusable: ${opened.reason}`)
    this.nextKey = { key: opened.key, epoch: opened.epoch, bootstrap: opened.bootstrap }
    member.send({ type: 'swarm.key.granted', epoch: opened.epoch, fingerprint: fingerprint(opened.key), bootstrap: opened.bootstrap })
  }

  private async memberJoin (): Promise<void> {
    const member = this.member!
    const next = this.nextKey
    if (next == null) throw new Error('no key to join with')
    this.nextKey = undefined
    this.key = next.key
    const { owner, ownerAddress } = member.getSnapshot().context
    await this.store.save({ role: 'member', network: this.node.config.networkName, epoch: next.epoch, owner: owner!, ownerAddress: ownerAddress!, bootstrap: next.bootstrap }, next.key)
    if (this.node.privateHostState() === 'running') await this.node.restartPrivateHost()
    else await this.node.startPrivateHost()
    if (!(await this.reachOwner(next.bootstrap))) {
      member.send({ type: 'swarm.key.rejected' })
      return
    }
    if (this.leavePublic) await this.node.suspendPublicHost()
    member.send({ type: 'swarm.joined', addresses: await this.privateAddresses() })
  }

  private async privateAddresses (): Promise<string[]> {
    return this.node.libp2p('private')?.getMultiaddrs().map(String) ?? []
  }

  /** Dial the owner's private host until it answers or the rejoin window ends (the owner may be restarting). */
  private async reachOwner (bootstrap: string[]): Promise<boolean> {
    const deadline = Date.now() + this.rejoinWindowMs
    while (Date.now() < deadline) {
      for (const address of bootstrap) {
        try {
          await this.node.dial(address, { network: 'private' })
          return true
        } catch {
          // the owner may be restarting onto a new key: try again shortly
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 150))
    }
    return false
  }

  private async memberLeave (): Promise<void> {
    this.key = undefined
    await this.node.stopPrivateHost()
    await this.store.clear()
    if (this.node.status().host.state !== 'running') await this.node.resumePublicHost()
  }

  /** While joined, notice when the owner's private host stops taking our key (a rotation we missed). */
  private startWatchdog (): void {
    this.stopWatchdog()
    this.watchdog = setInterval(() => {
      const member = this.member
      const owner = member?.getSnapshot().context.owner
      const libp2p = this.node.libp2p('private')
      if (member == null || owner == null || libp2p == null || libp2p.getConnections(peerIdFromString(owner)).length > 0) return
      this.stopWatchdog()
      void this.reachOwner(member.getSnapshot().context.bootstrap).then((reached) => {
        if (reached) this.startWatchdog()
        else if (member.getSnapshot().matches('joined')) member.send({ type: 'swarm.key.rejected' })
      })
    }, 1000)
    this.watchdog.unref()
  }

  private stopWatchdog (): void {
    clearInterval(this.watchdog)
    this.watchdog = undefined
  }

  private async persistOwner (): Promise<void> {
    const owner = this.owner
    if (owner == null || this.key == null) return
    const { epoch, authorised, bootstrap } = owner.getSnapshot().context
    await this.store.save({ role: 'owner', network: this.node.config.networkName, epoch, authorised, bootstrap } satisfies SwarmState, this.key)
  }

  // ---- the protocol handler ----------------------------------------------------------------

  /** Answer one key request (owner) or rotation notice (member) on a stream. */
  private async answer (stream: Stream, connection: Connection): Promise<void> {
    const remotePeer = connection.remotePeer.toString()
    try {
      const message = validateSwarmKeyMessage(await readOne(stream, this.exchangeTimeoutMs))
      if (message.kind === 'request') await this.answerRequest(stream, remotePeer, message)
      else if (message.kind === 'rotation') await this.answerRotation(stream, message as RotationNotice)
      else stream.abort(new Error(`unexpected ${message.kind}`))
    } catch (err) {
      stream.abort(err as Error)
    }
  }

  private async answerRequest (stream: Stream, remotePeer: string, request: Parameters<typeof checkKeyRequest>[0]): Promise<void> {
    const owner = this.owner
    const active = owner?.getSnapshot().matches('active') === true || owner?.getSnapshot().matches('rotating') === true
    const reason = !active || this.key == null
      ? 'no-swarm' as const
      : await checkKeyRequest(request, { remotePeer, network: this.node.config.networkName, authorised: new Set(owner!.getSnapshot().context.authorised), replay: this.replay })
    if (reason != null) {
      // the audit record is on disk before the peer learns the outcome
      await this.store.audit({ action: 'deny', peer: remotePeer, reason })
      writeOne(stream, await createKeyDenial(this.node.identityKey(), this.node.peerId, remotePeer, request.nonce, reason))
      owner?.send({ type: 'swarm.key.denied', peer: remotePeer, reason })
    } else {
      const { epoch, bootstrap } = owner!.getSnapshot().context
      await this.store.audit({ action: 'grant', peer: remotePeer, epoch, fingerprint: fingerprint(this.key!) })
      writeOne(stream, await createKeyGrant(this.node.identityKey(), this.node.peerId, request, this.key!, epoch, bootstrap))
      owner!.send({ type: 'swarm.key.granted', peer: remotePeer })
    }
    await stream.close().catch(() => {})
  }

  private async answerRotation (stream: Stream, notice: RotationNotice): Promise<void> {
    const member = this.member
    const context = member?.getSnapshot().context
    if (member == null || context?.owner == null || !member.getSnapshot().matches('joined')) throw new Error('not a member')
    const opened = await openRotationNotice(notice, {
      owner: context.owner, member: this.node.peerId, network: this.node.config.networkName, epoch: context.epoch, seed: this.node.identityKey().raw.subarray(0, 32)
    })
    if (!opened.ok) throw new Error(opened.reason)
    writeOne(stream, { kind: 'ack', epoch: opened.epoch })
    await stream.close().catch(() => {})
    this.nextKey = { key: opened.key, epoch: opened.epoch, bootstrap: opened.bootstrap }
    member.send({ type: 'swarm.rotation', epoch: opened.epoch, fingerprint: fingerprint(opened.key), bootstrap: opened.bootstrap })
  }

  private requireOwner (): OwnerActor {
    const owner = this.owner
    if (owner == null || !owner.getSnapshot().matches('active')) throw new Error('this node does not own an active private swarm (create one first)')
    return owner
  }

  /** Wait until the actor rests in one of `states`; throw its last error if it ended idle with one. */
  private async settle (actor: OwnerActor | MemberActor, states: string[]): Promise<void> {
    const snapshot = await waitFor(actor as Actor<typeof swarmMemberMachine>, (s) => states.includes(String(s.value)), { timeout: 30_000 })
    if (String(snapshot.value) === 'idle' && snapshot.context.lastError != null) throw new Error(snapshot.context.lastError)
    if (snapshot.context.lastError != null && states.length === 1 && actor === this.owner) throw new Error(snapshot.context.lastError)
  }
}

function checkPeerId (peer: string): void {
  try {
    peerIdFromString(peer)
  } catch {
    throw new Error(`not a peer id: ${JSON.stringify(peer)}`)
  }
}

/** Give a node a private swarm. Call before `node.init()`/`start()`. */
export function createSwarm (node: DmsNode, init?: SwarmInit): Swarm {
  return new Swarm(node, init)
}
