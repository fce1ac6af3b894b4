import { peerIdFromString } from '@libp2p/peer-id'
import type { DmsNode } from '../../runtime/node.js'
import { readOne, writeOne } from '../../actors/swarm/one-shot.js'
import { SWARM_KEY_PROTOCOL, createKeyRequest, openKeyGrant, validateSwarmKeyMessage } from '../../runtime/swarm/key-exchange.js'
import type { KeyGrant } from '../../runtime/swarm/key-exchange.js'
import { componentsOf } from '../../runtime/node-components.js'

/** One raw key request from `from` to the owner `to`, as an attacker's own code would send it: the opened grant's epoch, 'denied', or 'reset'. */
export async function askForKey (from: DmsNode, to: string): Promise<number | 'denied' | 'reset'> {
  try {
    const identity = componentsOf(from).identity.privateKey()
    const request = await createKeyRequest(identity, from.peerId, to, from.config.networkName)
    // a member that left the public network asks over the private one, where the owner also listens
    const { hosts } = componentsOf(from)
    const libp2p = hosts.libp2p('public') ?? hosts.libp2p('private')
    if (libp2p == null) return 'reset'
    const stream = await libp2p.dialProtocol(peerIdFromString(to), SWARM_KEY_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    writeOne(stream, request)
    const answer = validateSwarmKeyMessage(await readOne(stream, 5000))
    await stream.close().catch(() => {})
    if (answer.kind !== 'grant') return 'denied'
    const opened = await openKeyGrant(answer as KeyGrant, { owner: to, request, seed: identity.raw.subarray(0, 32) })
    return opened.ok ? opened.epoch : 'denied'
  } catch {
    return 'reset'
  }
}

/** Ask for the key four at a time until `stop()` says so (then one more round); every answer is kept. */
export function floodKeyRequests (from: DmsNode, to: string): { answers: Array<number | 'denied' | 'reset'>, stop: () => Promise<void> } {
  const answers: Array<number | 'denied' | 'reset'> = []
  let running = true
  const flood = (async () => {
    do {
      answers.push(...await Promise.all([0, 1, 2, 3].map(async () => await askForKey(from, to))))
      // answers that fail at once must not starve the event loop (and the revocation racing them)
      await new Promise((resolve) => setImmediate(resolve))
    } while (running)
    answers.push(...await Promise.all([0, 1, 2, 3].map(async () => await askForKey(from, to))))
  })()
  return { answers, stop: async () => { running = false; await flood } }
}
