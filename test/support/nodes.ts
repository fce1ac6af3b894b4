import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../../runtime/node.js'
import type { CreateNodeInit, DmsNode, FeatureFactories } from '../../runtime/node.js'
import type { NodeEvent } from '../../runtime/events.js'

/** Real nodes on 127.0.0.1 in temp data dirs, all stopped and removed by `cleanup()`. */
export class TestNodes {
  private readonly nodes: Array<DmsNode<FeatureFactories>> = []
  private readonly dirs: string[] = []

  async create<F extends FeatureFactories = {}> (init: CreateNodeInit<F> = {}): Promise<DmsNode<F>> {
    const dataDir = init.dataDir ?? await mkdtemp(join(tmpdir(), 'dms-test-'))
    if (init.dataDir == null) this.dirs.push(dataDir)
    const node = createNode<F>({ dialTimeoutMs: 3000, ...init, dataDir })
    this.nodes.push(node)
    return node
  }

  async started<F extends FeatureFactories = {}> (init: CreateNodeInit<F> = {}): Promise<DmsNode<F>> {
    const node = await this.create(init)
    await node.start()
    return node
  }

  /** Two started nodes, the first dialled to the second. */
  async pair (init: CreateNodeInit = {}): Promise<[DmsNode, DmsNode]> {
    const a = await this.started(init)
    const b = await this.started(init)
    await a.dial(b.status().host.addresses[0]!)
    return [a, b]
  }

  async cleanup (): Promise<void> {
    await Promise.allSettled(this.nodes.map(async (node) => { await node.stop() }))
    await Promise.allSettled(this.dirs.map(async (dir) => { await rm(dir, { recursive: true, force: true }) }))
    this.nodes.length = 0
    this.dirs.length = 0
  }
}

/** Resolve when `predicate` holds, polling; reject with `what` after `timeoutMs`. */
export async function eventually (what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Resolve once `check` stops throwing (it may be async), polling; rethrow its last error after `timeoutMs`. */
export async function passes (check: () => unknown, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

/** Record every public event of a node. */
export function recordEvents (node: DmsNode): NodeEvent[] {
  const events: NodeEvent[] = []
  node.on('*', (event) => { events.push(event) })
  return events
}
