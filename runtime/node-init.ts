import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger } from '@libp2p/interface'
import type { NodeConfigInit } from './config.js'
import type { InspectObserver } from './inspect/sanitized-inspector.js'
import type { MetricsInit } from './metrics.js'
import { DmsError } from './errors.js'

/** What `createNode` takes: the configuration, and what the node gets besides it. */
export interface CreateNodeInit extends NodeConfigInit {
  /**
   * Sees every actor's events and snapshots, sanitised to plain data (no key
   * material, no libp2p objects) before they leave the runtime.
   */
  inspect?: InspectObserver
  /** How long `start()` waits for the host and its services. @default 30000 */
  startTimeoutMs?: number
  /**
   * Where the node and its libp2p hosts log, as libp2p takes it (`forComponent(name)`).
   * @default libp2p's `debug` logger: `DEBUG=dms:*,libp2p:*`
   */
  logger?: ComponentLogger
  /** Where the node's Prometheus metrics go (`node.metrics`): the embedder's prom-client registry, and whether process metrics are added. */
  metrics?: MetricsInit
}

/** The options of CreateNodeInit beyond the configuration. */
export const NODE_ONLY_KEYS: ReadonlyArray<Exclude<keyof CreateNodeInit, keyof NodeConfigInit>> = ['inspect', 'startTimeoutMs', 'logger', 'metrics']

/** The embedder's logger, checked the way the configuration is; libp2p's debug logger when none is given. */
export function checkLogger (logger: unknown): ComponentLogger {
  if (logger === undefined) return defaultLogger()
  if (typeof (logger as ComponentLogger | null)?.forComponent !== 'function') throw new DmsError('CONFIG_INVALID', 'invalid configuration: logger must have forComponent(name), as libp2p\'s ComponentLogger')
  return logger as ComponentLogger
}

/** The metrics options, checked the way the configuration is. */
export function checkMetrics (metrics: unknown): MetricsInit {
  if (metrics === undefined) return {}
  const init = metrics as MetricsInit | null
  const bad = init == null || typeof init !== 'object' || Array.isArray(init) ||
    (init.registry !== undefined && typeof (init.registry as { metrics?: unknown } | null)?.metrics !== 'function') ||
    (init.process !== undefined && typeof init.process !== 'boolean') ||
    Object.keys(init).some((key) => key !== 'registry' && key !== 'process')
  if (bad) throw new DmsError('CONFIG_INVALID', 'invalid configuration: metrics takes { registry?: a prom-client Registry, process?: boolean }')
  return init
}
