import { run } from './run.js'
import { configureLink, deleteLink, ipArgs } from './link.js'
import type { InNamespace } from './link.js'

/** A Linux bridge (virtual switch). `attach()` plugs a device in; `delete()` removes the bridge. */
export interface Bridge {
  readonly name: string
  attach: (device: string) => Promise<void>
  delete: () => Promise<void>
}

/** Create a bridge, up, optionally addressed. */
export async function createBridge (name: string, init: InNamespace & { address?: string } = {}): Promise<Bridge> {
  await run('ip', ipArgs(init, ['link', 'add', 'name', name, 'type', 'bridge']))
  const bridge: Bridge = {
    name,
    attach: async (device) => {
      await run('ip', ipArgs(init, ['link', 'set', device, 'master', name]))
      await run('ip', ipArgs(init, ['link', 'set', device, 'up']))
    },
    delete: async () => { await deleteLink(name, init) }
  }
  try {
    await configureLink(name, init)
  } catch (err) {
    await bridge.delete()
    throw err
  }
  return bridge
}
