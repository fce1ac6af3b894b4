import { logger } from '@libp2p/logger'

/**
 * Debug logs, in libp2p's `debug` namespaces: `DEBUG=dms:*` turns them all on,
 * `DEBUG=dms:swarm*` one concern; each has `.error` and `.trace` levels
 * (`dms:swarm:error`, `dms:swarm:trace`). Never log keys or message bodies.
 */
export const log = {
  node: logger('dms:node'),
  messenger: logger('dms:messenger'),
  swarm: logger('dms:swarm'),
  vpn: logger('dms:vpn'),
  control: logger('dms:control')
}
