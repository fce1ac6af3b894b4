import { logger } from '@libp2p/logger'
import type { Logger } from '@libp2p/interface'

export type { Logger }

/**
 * Debug logs of the parts below the node (messenger, discovery, data plane), in
 * libp2p's `debug` namespaces: `DEBUG=dms:*` turns them all on, `DEBUG=dms:swarm*`
 * one concern; each has `.error` and `.trace` levels (`dms:swarm:error`,
 * `dms:swarm:trace`). Features log through the logger the node injects
 * (`components.logger.forComponent(...)`), in the same namespaces. Never log
 * keys or message bodies.
 */
export const log = {
  node: logger('dms:node'),
  messenger: logger('dms:messenger'),
  discovery: logger('dms:discovery'),
  swarm: logger('dms:swarm'),
  vpn: logger('dms:vpn'),
  control: logger('dms:control')
}

/**
 * A `.catch` handler for clean-up whose failure changes nothing for the caller
 * (closing a stream the peer already reset, unregistering from a stopping
 * host): the failure is kept as a trace line, never thrown.
 */
export function traced (to: Logger, doing: string): (err: unknown) => void {
  return (err) => { to.trace('%s failed: %s', doing, err instanceof Error ? err.message : String(err)) }
}

/** A `.catch` handler for a failure the operator should see (`dms:*:error`), that must not stop what runs around it. */
export function logged (to: Logger, doing: string): (err: unknown) => void {
  return (err) => { to.error('%s failed: %s', doing, err instanceof Error ? err.message : String(err)) }
}
