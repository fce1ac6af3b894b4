import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger } from '@libp2p/interface'
import type { NodeConfigInit } from './config.js'
import type { InspectObserver } from './inspect/sanitized-inspector.js'
import type { MetricsInit } from './metrics.js'
import { DmsError } from './errors.js'
import type { NodeComponents } from './node-components.js'

/**
 * A feature's factory, as js-libp2p takes services: called once, when the node
 * is created, with the node's components; what it returns is
 * `node.features.<name>`. `swarm()` and `vpn()` are the built-in ones.
 */
export type FeatureFactory<T = unknown> = (components: NodeComponents) => T
export type FeatureFactories = Record<string, FeatureFactory>
/** `node.features`: each factory's feature under its name. */
export type FeaturesOf<F extends FeatureFactories> = { readonly [K in keyof F]: ReturnType<F[K]> }

/** What `createNode` takes: the configuration, and what the node gets besides it. */
export interface CreateNodeInit<F extends FeatureFactories = FeatureFactories> extends NodeConfigInit {
  /** Features created with the node: `{ swarm: swarm(), vpn: vpn({ acceptFrom: 'any' }) }`, reached as `node.features.swarm`. */
  features?: F
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
export const NODE_ONLY_KEYS: ReadonlyArray<Exclude<keyof CreateNodeInit, keyof NodeConfigInit>> = ['inspect', 'startTimeoutMs', 'logger', 'metrics', 'features']

/** The embedder's logger, checked the way the configuration is; libp2p's debug logger when none is given. */
export function checkLogger (logger: unknown): ComponentLogger {
  if (logger === undefined) return defaultLogger()
  if (typeof (logger as ComponentLogger | null)?.forComponent !== 'function') throw new DmsError('CONFIG_INVALID', 'invalid configuration: logger must have forComponent(name), as libp2p\'s ComponentLogger')
  return logger as ComponentLogger
}

/** How long start() waits, checked the way the configuration is. */
export function checkStartTimeout (ms: unknown): number {
  if (ms === undefined) return 30_000
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms <= 0 || ms > 3_600_000) throw new DmsError('CONFIG_INVALID', `invalid configuration: startTimeoutMs must be a whole number from 1 to 3600000 (got ${JSON.stringify(ms) ?? typeof ms})`)
  return ms
}

/** The inspector: a function, or an observer with next(event), as xstate's `inspect` takes. */
export function checkInspect (inspect: unknown): InspectObserver | undefined {
  if (inspect == null) return undefined
  if (typeof inspect === 'function' || (typeof inspect === 'object' && typeof (inspect as { next?: unknown }).next === 'function')) return inspect as InspectObserver
  throw new DmsError('CONFIG_INVALID', 'invalid configuration: inspect must be a function of the event, or an observer with next(event)')
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

/** Create each feature with the node's components, in the order given; a factory that is not a function is CONFIG_INVALID. */
export function buildFeatures<F extends FeatureFactories> (factories: F | undefined, components: NodeComponents): FeaturesOf<F> {
  if (factories !== undefined && (factories == null || typeof factories !== 'object' || Array.isArray(factories))) throw new DmsError('CONFIG_INVALID', 'invalid configuration: features must be an object of factories, e.g. { swarm: swarm() }')
  const built: Record<string, unknown> = {}
  for (const [name, factory] of Object.entries(factories ?? {})) {
    if (typeof factory !== 'function') throw new DmsError('CONFIG_INVALID', `invalid configuration: features.${name} must be a factory such as swarm() or vpn() (got ${typeof factory})`)
    built[name] = factory(components)
  }
  return Object.freeze(built) as FeaturesOf<F>
}
