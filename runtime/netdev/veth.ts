import { run } from './run.js'
import { configureLink, deleteLink, ipArgs } from './link.js'

export interface VethEnd {
  name: string
  /** Namespace the end lives in. @default the caller's own */
  namespace?: string
  /** Address with prefix, e.g. 10.77.0.1/24. */
  address?: string
}

/** A virtual ethernet pair: whatever enters one end leaves the other. `delete()` removes both ends. */
export interface VethPair {
  readonly a: VethEnd
  readonly b: VethEnd
  delete: () => Promise<void>
}

/**
 * Create a veth pair, each end in its namespace, addressed and up. The pair is
 * created inside `a`'s namespace, so the caller's own interfaces are never touched
 * when both ends live in namespaces.
 */
export async function createVethPair (a: VethEnd, b: VethEnd, init: { mtu?: number } = {}): Promise<VethPair> {
  await run('ip', ipArgs(a, ['link', 'add', a.name, 'type', 'veth', 'peer', 'name', b.name, ...(b.namespace != null ? ['netns', b.namespace] : [])]))
  // deleting one end deletes the other
  const pair: VethPair = { a, b, delete: async () => { await deleteLink(a.name, a) } }
  try {
    await configureLink(a.name, { ...a, ...init })
    await configureLink(b.name, { ...b, ...init })
  } catch (err) {
    await pair.delete()
    throw err
  }
  return pair
}
