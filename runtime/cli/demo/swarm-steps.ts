import { until } from './context.js'
import type { DemoStep } from './context.js'
import { DmsError, describeError, errorCode } from '../../errors.js'

/** The private swarm's story: create, join, an outsider refused, rotate, revoke (and the member told). */
export const swarmSteps: DemoStep[] = [
  {
    title: 'Private swarm: alice creates one for bob; bob joins; carol asks and is refused',
    run: async ({ nodes, note }) => {
      const [alice, bob, carol] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]]
      const created = await alice.swarm.create([bob.node.peerId])
      note(`alice owns a private network, key ${created.fingerprint} (only its fingerprint is ever shown)`)
      const joined = await bob.swarm.join(alice.node.status().host.addresses[0]!)
      note(`bob asked with a signed request, got the key sealed to his identity, joined: ${joined.state}`)
      const refusal = await carol.swarm.join(alice.node.status().host.addresses[0]!).then(() => undefined, (err: unknown) => err)
      note(`carol asked too: ${describeError(refusal ?? 'joined')}`)
      if (errorCode(refusal) !== 'KEY_DENIED') throw new DmsError('SWARM_FAILED', 'carol was not refused')
      return undefined
    }
  },
  {
    title: 'Rotate the key, then revoke bob',
    run: async ({ nodes, note }) => {
      const [alice, bob] = nodes as [typeof nodes[0], typeof nodes[0]]
      let started = Date.now()
      const rotated = await alice.swarm.rotate()
      await until('bob on the new key', () => bob.swarm.status().fingerprint === rotated.fingerprint && bob.swarm.status().state === 'joined')
      note(`rotated to key ${rotated.fingerprint}; bob followed in ${Date.now() - started} ms`)
      started = Date.now()
      let evictedAfter = -1
      bob.node.on('swarm.evicted', () => { evictedAfter = Date.now() - started })
      await alice.swarm.revoke(bob.node.peerId)
      await until('bob cut off', () => !alice.swarm.status().privatePeers.includes(bob.node.peerId))
      note(`revoked bob: cut off after ${Date.now() - started} ms; his old key no longer connects`)
      await until('bob told he was evicted', () => evictedAfter >= 0)
      note(`bob was told (a signed eviction notice) and left after ${evictedAfter} ms: "${bob.swarm.status().lastError ?? ''}"`)
      return undefined
    }
  }
]
