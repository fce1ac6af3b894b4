import type { Logger } from '../actors/log.js'

/**
 * What a feature (swarm, VPN, an embedder's own) does when its node starts and
 * stops. Its actors run for one run of the node (they are children of the
 * node's root actor); what is not an actor — timers, devices, open files — is
 * the feature's to release in `stop()`, so a node that stops and starts again
 * holds nothing of the run before.
 */
export interface NodeFeature {
  /** Named in the log when a hook fails. */
  readonly name: string
  /** After the public host started (every start of the node). */
  start?: () => Promise<void> | void
  /** Before the hosts stop (every stop of the node): clear timers, close devices, drop this run's actors. */
  stop?: () => Promise<void> | void
}

/** The features of one node, started in the order they were added and stopped in reverse. */
export class FeatureLifecycle {
  private readonly features: NodeFeature[] = []
  /** Between startAll and stopAll: a second start of a running node starts nothing twice. */
  private running = false

  constructor (private readonly log: Logger) {}

  add (feature: NodeFeature): void {
    this.features.push(feature)
  }

  /** A feature that fails to start is logged; the node and the other features run on. */
  async startAll (): Promise<void> {
    if (this.running) return
    this.running = true
    for (const feature of this.features) await this.run(feature, 'start')
  }

  /** Every feature's stop runs, whatever an earlier one threw. */
  async stopAll (): Promise<void> {
    if (!this.running) return
    this.running = false
    for (const feature of [...this.features].reverse()) await this.run(feature, 'stop')
  }

  private async run (feature: NodeFeature, hook: 'start' | 'stop'): Promise<void> {
    try {
      await feature[hook]?.()
    } catch (err) {
      this.log.error('%s did not %s cleanly: %s', feature.name, hook, err instanceof Error ? err.message : String(err))
    }
  }
}
