import type { ActorRefFrom } from 'xstate'
import type { peerMachine } from './peer.js'

/** The node's peer actors by `${network}:${peerId}`, in the order they were met. */
type Roster = Record<string, ActorRefFrom<typeof peerMachine>>

/** The first peer (in the order they were met) that is disconnected and not a bootstrap peer. */
export function oldestDeparted (peers: Roster): string | undefined {
  for (const [key, ref] of Object.entries(peers)) {
    const snapshot = ref.getSnapshot()
    if (!snapshot.context.bootstrap && snapshot.hasTag('departed')) return key
  }
  return undefined
}

/** The roster without one peer (a new object: context is never changed in place). */
export function withoutKey (peers: Roster, key: string): Roster {
  const { [key]: _gone, ...rest } = peers
  return rest
}
