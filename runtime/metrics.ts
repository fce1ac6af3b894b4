import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Label values of one sample, and its value. */
export type Sample = [labels: Record<string, string>, value: number]

export interface MetricsInit {
  /** Register into this prom-client registry (the embedder's own). @default a registry of this node's */
  registry?: Registry
  /**
   * Also the process's own metrics: RSS, heap, event-loop lag, open handles (prom-client's defaults).
   * Off by default: a process that embeds many nodes adds them once (the daemon's `--metrics` does).
   * @default false
   */
  process?: boolean
}

/**
 * The node's metrics catalogue, in Prometheus form (prom-client). Every value is
 * read from the node's live state when a scrape asks (`collect`), so a host
 * restart or a stopped feature never leaves a stale number behind, and nothing
 * costs anything between scrapes. Features add theirs through the `metrics`
 * component. Peer ids are labels only where their number is bounded (VPN
 * members), never for public peers.
 */
export class NodeMetrics {
  readonly registry: Registry

  constructor (init: MetricsInit = {}) {
    this.registry = init.registry ?? new Registry()
    if (init.process === true) collectDefaultMetrics({ register: this.registry })
  }

  /** A gauge whose samples `read` gives at each scrape. */
  gauge (name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    const registers = [this.registry]
    new Gauge({ name, help, labelNames, registers, collect () { this.reset(); for (const [labels, value] of read()) this.set(labels, value) } })
  }

  /** A counter kept elsewhere (a monotonic count the node already holds), read at each scrape. */
  counter (name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    const registers = [this.registry]
    new Counter({ name, help, labelNames, registers, collect () { this.reset(); for (const [labels, value] of read()) if (value > 0) this.inc(labels, value) } })
  }

  /** A histogram the caller observes into (e.g. request latency, in seconds). */
  histogram (name: string, help: string, labelNames: string[], buckets: number[]): Histogram {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] })
  }

  /** The Prometheus text exposition of every metric. */
  async text (): Promise<string> {
    return await this.registry.metrics()
  }

  get contentType (): string {
    return this.registry.contentType
  }
}
