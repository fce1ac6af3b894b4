import type { Connection } from '@libp2p/interface'
import { isRelayAddress } from '../machines/reachability-rules.js'

/**
 * An open connection that goes through no relay (and so has no limits): what a hole punch
 * makes, and what the VPN's data plane moves a member's stream onto.
 */
export const isDirect = (connection: Connection): boolean =>
  connection.status === 'open' && connection.limits == null && !isRelayAddress(connection.remoteAddr.toString())
