import type { NodeMetrics, Observer, Sample } from './metrics.js'
import type { HostControl } from './host-control.js'
import type { MessengerStats } from '../actors/messenger/messenger.js'
import type { NetworkKind } from './events.js'
import { isRelayed } from '../actors/ping-client.js'
import { meshPeerCount } from '../actors/libp2p-internals.js'
import type { PeerStatus } from './events.js'
import type { EventBus } from './event-bus.js'

const NETWORKS: NetworkKind[] = ['public', 'private']

export interface NodeMetricSources {
  hosts: HostControl
  messengerStats: () => Record<NetworkKind, MessengerStats>
  /** Peer actors by network and connectedness. */
  peers: () => Sample[]
  /** The node's events: bid requests received are counted as they come. */
  events: Pick<EventBus, 'on'>
}

/** The node's own metrics: connections and streams per host, peers, the messengers, gossipsub's mesh. */
export function registerNodeMetrics (metrics: NodeMetrics, sources: NodeMetricSources): void {
  const { hosts } = sources
  const running = (): Array<[NetworkKind, NonNullable<ReturnType<HostControl['libp2p']>>]> =>
    NETWORKS.flatMap((network) => { const libp2p = hosts.libp2p(network); return libp2p == null ? [] : [[network, libp2p]] })

  metrics.gauge('dms_connections', 'Open connections, by host, direction and path.', ['network', 'direction', 'path'], () => {
    const counts = new Map<string, Sample>()
    for (const [network, libp2p] of running()) {
      for (const connection of libp2p.getConnections()) {
        const labels = { network, direction: connection.direction, path: isRelayed(connection) ? 'relayed' : 'direct' }
        const key = Object.values(labels).join('/')
        const sample = counts.get(key) ?? [labels, 0]
        sample[1]++
        counts.set(key, sample)
      }
    }
    return [...counts.values()]
  })
  metrics.gauge('dms_streams', 'Open streams, by host and protocol.', ['network', 'protocol'], () => {
    const counts = new Map<string, Sample>()
    for (const [network, libp2p] of running()) {
      for (const connection of libp2p.getConnections()) {
        for (const stream of connection.streams) {
          const protocol = stream.protocol === '' || stream.protocol == null ? 'negotiating' : stream.protocol
          const sample = counts.get(`${network}/${protocol}`) ?? [{ network, protocol }, 0]
          sample[1]++
          counts.set(`${network}/${protocol}`, sample)
        }
      }
    }
    return [...counts.values()]
  })
  metrics.gauge('dms_peers', 'Known peers (peer actors), by host and connectedness.', ['network', 'state'], sources.peers)

  const perNetwork = (pick: (stats: MessengerStats) => Sample[]): () => Sample[] => () => {
    const all = sources.messengerStats()
    return NETWORKS.flatMap((network) => pick(all[network]).map(([labels, value]): Sample => [{ network, ...labels }, value]))
  }
  metrics.counter('dms_messenger_frames_total', 'Messenger frames (messages, requests and replies), by host and direction.', ['network', 'direction'],
    perNetwork((s) => [[{ direction: 'in' }, s.framesIn], [{ direction: 'out' }, s.framesOut]]))
  metrics.counter('dms_messenger_bytes_total', 'Messenger bytes, by host and direction.', ['network', 'direction'],
    perNetwork((s) => [[{ direction: 'in' }, s.bytesIn], [{ direction: 'out' }, s.bytesOut]]))
  metrics.counter('dms_messenger_errors_total', 'Messenger errors and refusals, by host and code.', ['network', 'code'],
    perNetwork((s) => Object.entries(s.errors).map(([code, count]): Sample => [{ code }, count])))
  metrics.gauge('dms_messenger_open_channels', 'Open messenger channels, by host.', ['network'], perNetwork((s) => [[{}, s.openChannels]]))
  metrics.gauge('dms_messenger_pending_requests', 'Requests waiting for a reply, by host.', ['network'], perNetwork((s) => [[{}, s.pendingRequests]]))

  let jobsReceived = 0
  sources.events.on('job.received', () => { jobsReceived++ })
  metrics.counter('dms_jobs_received_total', 'Valid bid requests delivered to this node (invalid ones count as dms_messenger_errors_total{code="BAD_JOB"}).', [], () => [[{}, jobsReceived]])
  metrics.gauge('dms_gossipsub_mesh_peers', 'Gossipsub mesh peers, by host and topic.', ['network', 'topic'], () =>
    running().flatMap(([network, libp2p]) => libp2p.services.pubsub.getTopics().map((topic): Sample => [{ network, topic }, meshPeerCount(libp2p.services.pubsub, topic)])))
}

/** Request latency buckets, in seconds: from a loopback round trip to the default 10 s timeout. */
const REQUEST_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** `dms_messenger_request_seconds`, which the message router observes into. */
export function requestHistogram (metrics: NodeMetrics): Observer {
  return metrics.histogram('dms_messenger_request_seconds', 'Time from a request to its reply or failure, by outcome (ok or the error code).', ['outcome'], REQUEST_SECONDS_BUCKETS)
}

/** Peer actors counted by network and connectedness, for `dms_peers`. */
export function peerCounts (peers: PeerStatus[]): Sample[] {
  const counts = new Map<string, Sample>()
  for (const { network, state } of peers) {
    const sample = counts.get(`${network}/${state}`) ?? [{ network, state }, 0]
    sample[1]++
    counts.set(`${network}/${state}`, sample)
  }
  return [...counts.values()]
}
