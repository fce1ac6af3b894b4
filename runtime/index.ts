/**
 * dms-network: the networking layer of a Device Management Service.
 *
 * @example
 * import { createNode } from 'dms-network'
 * const node = createNode({ dataDir: '/var/lib/dms', listen: ['/ip4/0.0.0.0/tcp/4001'] })
 * node.on('peer.connected', ({ peerId }) => console.log('connected', peerId))
 * await node.start()
 */
import '../actors/polyfill.js'

export { createNode, DmsNode } from './node.js'
export type { CreateNodeInit, DialOptions, DialResult, FeatureFactories, FeaturesOf } from './node.js'
export type { FeatureFactory } from './node-init.js'
export type { NodeComponents } from './node-components.js'
export type { NodeFeature } from './feature-lifecycle.js'
export type { PingResult } from '../actors/ping-client.js'
export { parseConfig, defaultDataDir } from './config.js'
export type { NodeConfig, NodeConfigInit } from './config.js'
export { DmsError, DMS_ERROR_CODES, errorCode, isDmsErrorCode } from './errors.js'
export type { DmsErrorCode } from './errors.js'
export type { NodeEvent, NodeEventMap, NodeEventType, NodeStatus, PeerStatus, PeerLink, NetworkKind, HostState, HostStatus, PeerConnectedness } from './events.js'
export { NODE_EVENT_TYPES } from './events.js'
export type { RemoteEvent, DeliveryResult, FeatureActorOptions, FeatureActors } from './feature-actors.js'
export { MessageError } from '../actors/messenger/messenger.js'
export type { MessageHandler, MessageMeta, MessengerStats, RequestOptions, SendOptions } from '../actors/messenger/messenger.js'
export { WireError } from '../actors/wire/envelope.js'
export type { WireErrorCode } from '../actors/wire/envelope.js'
export type { BidRequest, BidRequestInit } from '../actors/wire/bid-request.js'
export { nodeMachine } from '../machines/node.js'
export { hostMachine } from '../machines/host.js'
export { peerMachine } from '../machines/peer.js'
export { sanitize } from './inspect/sanitize.js'
export type { SanitizedInspectionEvent, InspectObserver } from './inspect/sanitized-inspector.js'
