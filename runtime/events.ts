// The public events and status types live beside the machines that produce them (machines/contracts.ts).
export type {
  NodeEventMap, NodeEventType, NodeEvent, NetworkKind, PeerConnectedness, PeerStatus, HostState, DiscoveryStatus, NodeStatus
} from '../machines/contracts.js'
