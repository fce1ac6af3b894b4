import type { DmsNode } from '../../node.js'
import type { Swarm } from '../../swarm/swarm-service.js'
import { DmsError } from '../../errors.js'

/** What the demo's steps share: the named local nodes and where to say things. */
export interface DemoContext {
  nodes: Array<{ name: string, node: DmsNode, swarm: Swarm }>
  /** Print a detail line under the current step. */
  note: (text: string) => void
  /** Wait for `predicate`, showing the live status board meanwhile when output is a terminal. */
  watch: (what: string, predicate: () => boolean, timeoutMs?: number) => Promise<void>
}

/** One step of `dms-net demo`. Later capabilities add steps to the list in steps.ts. */
export interface DemoStep {
  title: string
  /** Resolve with a short result for the ✓ line; throw to fail the demo. Return 'skip: why' to skip. */
  run: (context: DemoContext) => Promise<string | undefined>
}

/** Resolve when `predicate` holds, polling; throw with `what` after `timeoutMs`. */
export async function until (what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new DmsError('TIMEOUT', `timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
