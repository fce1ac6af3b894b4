// A node's own libp2p host and a raw messenger stream on it: for tests that write bytes no honest node would.
import { peerIdFromString } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'
import { MESSENGER_PROTOCOL } from '../../actors/wire/envelope.js'
import type { DmsNode } from '../../runtime/node.js'
import { componentsOf } from '../../runtime/node-components.js'

/** The node's public libp2p host. */
export const libp2pOf = (node: DmsNode): DmsLibp2p => componentsOf(node).hosts.libp2p('public')!

/** Open a raw messenger stream from `from` to `to`, to write frames on it by hand. */
export async function rawMessengerStream (from: DmsNode, to: DmsNode): Promise<Stream> {
  return await libp2pOf(from).dialProtocol(peerIdFromString(to.peerId), MESSENGER_PROTOCOL)
}
