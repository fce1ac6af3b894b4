import type { AnyStateMachine } from 'xstate'
import { nodeMachine } from '../../machines/node.js'
import { hostMachine } from '../../machines/host.js'
import { peerMachine } from '../../machines/peer.js'
import { swarmOwnerMachine } from '../../machines/swarm-owner.js'
import { swarmMemberMachine } from '../../machines/swarm-member.js'
import { vpnMachine } from '../../machines/vpn.js'
import { discoveryMachine } from '../../machines/discovery.js'
import { messengerMachine } from '../../machines/messenger.js'

export interface CatalogEntry {
  machine: AnyStateMachine
  /** What the machine is for, in a paragraph: shown beside its chart in docs/machines and in the inspector. */
  about: string
}

/** Every machine of the runtime: the docs' charts and the inspector page are drawn from this list. */
export const machineCatalog: CatalogEntry[] = [
  {
    machine: nodeMachine,
    about: 'The root actor of a node and of its one actor system. Two parallel regions, `public` and `private`: each runs a host (the private one only while the node is in a private swarm) and the services attached to it. The root spawns one peer actor per known peer and network, and the features as children under their systemId (`feature.spawn`): the messenger and discovery of each running host, the swarm owner or member, the VPN, and an embedder\'s own actors. It routes host replies and bridge facts to the right child, reports a failed child as `actor.failed`, and reports readiness and failures to the runtime.'
  },
  {
    machine: hostMachine,
    about: 'One libp2p host: configured → creating → live (starting → running) → stopping → stopped, or failed with the error in words. Dial and listen run as child actors keyed by request id and are answered with `host.reply`; in any other state they are refused at once. `host.restart` comes back on the same ports (how a private host takes a rotated key).'
  },
  {
    machine: peerMachine,
    about: 'One remote peer on one network, fed by the libp2p bridge: disconnected → dialing → connected → identified, with its open connections, protocols, addresses and last error. Bootstrap peers are redialled with exponential backoff; other peers are forgotten after five minutes disconnected.'
  },
  {
    machine: swarmOwnerMachine,
    about: 'The owner of a private swarm: creating (key and bootstrap host) → running, where one queue in context serialises all work: answering (one key request, sealed with exactly the current epoch), authorising, revoking (the smaller list is saved, then it rotates), rotating (every authorised member gets the new key); dissolving takes the private network down. Every effect is an invoked actor the runtime provides.'
  },
  {
    machine: swarmMemberMachine,
    about: 'A member of a private swarm: requesting the key from the owner (a signed request, a sealed answer) → joining the private network → joined (watching the owner); a rotation notice rekeys it, a key that stops working sends it back to requesting, and leaving returns it to the public network. When it finds its way back on its own and the owner does not answer (restarting, say), it waits in `rejoining` and asks again every 2 s until the owner answers or denies it. Every effect is an invoked actor the runtime provides.'
  },
  {
    machine: vpnMachine,
    about: 'VPN routing on one node, with the routing table as context: stopped → starting (TUN device up) → running (the packet pump follows every table change) → stopping → stopped, or failed. The leader allocates IPs and signs each version; a member applies only newer versions from its leader and stops when a version closes the VPN or leaves it out.'
  },
  {
    machine: messengerMachine,
    about: 'The messenger of one running host, as an actor under the node: idle while no peer channel is open, active while one is, with the open channels, the requests waiting for a reply and the frame, byte and error counters in context (sampled once a second when they change). Messages do not pass through the machine: a message costs a few microseconds and an actor event more than that (docs/architecture.md).'
  },
  {
    machine: discoveryMachine,
    about: 'Discovery and reachability of one host, in three parallel regions. `reachability`: unknown → public (a direct public address is announced: AutoNAT confirmed it, or it was given with announce) or private (only private or relayed addresses). `relay`: off, or searching → reserved while a relay holds a reservation for the host (relay lost goes back to searching). `rendezvous`: off, or running rounds that advertise and look up the namespace in the DHT. Its context counts the peers each source found and which peers are reached through a relay or were upgraded to a direct connection.'
  }
]
