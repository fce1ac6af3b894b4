import type { Histogram, Registry } from 'prom-client'
import { DmsError } from './errors.js'

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

/** A histogram the caller observes into; it records once the metrics are loaded. */
export interface Observer { observe: (labels: Record<string, string>, value: number) => void }

// One import for every node: nodes given one registry then register in the order
// they were created (separate import() calls may settle in any order under a loader).
let promClientModule: Promise<typeof import('prom-client')> | undefined
const promClient = async (): Promise<typeof import('prom-client')> => (promClientModule ??= import('prom-client'))

type Definition =
  | { kind: 'gauge' | 'counter', name: string, help: string, labelNames: string[], read: () => Sample[] }
  | { kind: 'histogram', name: string, help: string, labelNames: string[], buckets: number[], into: (histogram: Histogram) => void }

/**
 * The node's metrics catalogue, in Prometheus form (prom-client). Every gauge
 * and counter is read from the node's live state when a scrape asks
 * (`collect`), so a host restart or a stopped feature never leaves a stale
 * number behind. prom-client (11 MB, 40 ms to load) is loaded only when the
 * metrics are first asked for (`text()`), or at once when `createNode` was
 * given `metrics`: an embedded node that is never scraped does not carry it.
 * Histograms count from then on. Features add theirs through the `metrics`
 * component. Peer ids are labels only where their number is bounded (VPN
 * members), never for public peers.
 */
export class NodeMetrics {
  private readonly definitions: Definition[] = []
  private loaded?: { registry: Registry, make: (definition: Definition) => void }
  private loading?: Promise<void>

  constructor (private readonly init: MetricsInit = {}, private readonly eager = false) {
    // a load that fails (a registry another node already fills) is said when the node starts and when the metrics are asked for
    if (eager) this.load().catch(() => {}) // the same error is thrown again by ready() and text()
  }

  /** Resolves once metrics the embedder asked for (`createNode({ metrics })`) are registered; CONFIG_INVALID when they cannot be. */
  async ready (): Promise<void> {
    if (this.eager) await this.load()
  }

  /** A gauge whose samples `read` gives at each scrape. */
  gauge (name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    this.define({ kind: 'gauge', name, help, labelNames, read })
  }

  /** A counter kept elsewhere (a monotonic count the node already holds), read at each scrape. */
  counter (name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    this.define({ kind: 'counter', name, help, labelNames, read })
  }

  /** A histogram the caller observes into (e.g. request latency, in seconds). */
  histogram (name: string, help: string, labelNames: string[], buckets: number[]): Observer {
    let histogram: Histogram | undefined
    this.define({ kind: 'histogram', name, help, labelNames, buckets, into: (made) => { histogram = made } })
    return { observe: (labels, value) => { histogram?.observe(labels, value) } }
  }

  /** The Prometheus text exposition of every metric. */
  async text (): Promise<string> {
    await this.load()
    return await this.loaded!.registry.metrics()
  }

  /** The prom-client registry the metrics are in (loading them if they are not yet). */
  async registry (): Promise<Registry> {
    await this.load()
    return this.loaded!.registry
  }

  /** The exposition's content type (after `text()`). */
  get contentType (): string {
    return this.loaded?.registry.contentType ?? 'text/plain; version=0.0.4; charset=utf-8'
  }

  private define (definition: Definition): void {
    this.definitions.push(definition)
    this.loaded?.make(definition)
  }

  private async load (): Promise<void> {
    this.loading ??= this.loadOnce().catch((err: unknown) => {
      this.loading = undefined
      throw new DmsError('CONFIG_INVALID', `the node's metrics could not be registered: ${(err as Error).message} (give each node its own registry)`)
    })
    await this.loading
  }

  private async loadOnce (): Promise<void> {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = await promClient()
    const registry = this.init.registry ?? new Registry()
    // all or nothing: a registry that holds one of ours already (another node's) gets none of this node's
    const names = [...this.definitions.map((d) => d.name), ...(this.init.process === true ? ['process_resident_memory_bytes'] : [])]
    const taken = names.find((name) => registry.getSingleMetric(name) != null)
    if (taken != null) throw new Error(`A metric with the name ${taken} has already been registered.`)
    if (this.init.process === true) collectDefaultMetrics({ register: registry })
    const make = (d: Definition): void => {
      const common = { name: d.name, help: d.help, labelNames: d.labelNames, registers: [registry] }
      if (d.kind === 'histogram') { d.into(new Histogram({ ...common, buckets: d.buckets })); return }
      const read = d.read
      if (d.kind === 'gauge') new Gauge({ ...common, collect () { this.reset(); for (const [labels, value] of read()) this.set(labels, value) } })
      else new Counter({ ...common, collect () { this.reset(); for (const [labels, value] of read()) if (value > 0) this.inc(labels, value) } })
    }
    for (const definition of this.definitions) make(definition)
    this.loaded = { registry, make }
  }
}
